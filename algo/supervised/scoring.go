package supervised

import (
	"context"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// Kind is the model kind of linear and logistic models: a model that
// scores a features dataset, one number per row (score.Ranker) — a
// prediction, or a probability written with its decile.
type Kind struct{}

// Decode reads a model blob.
func (Kind) Decode(b []byte) (any, error) {
	m := new(Model)
	if err := blob.Decode(b, ModelKind, m); err != nil {
		return nil, err
	}
	return m, nil
}

// New returns an empty model to decode into.
func (Kind) New() any { return new(Model) }

// Input is a features dataset with the model's features.
func (Kind) Input(model any) (string, []string) {
	return proto.KindFeatures, model.(*Model).Features
}

// Output is a predictions score set for a linear model, a probabilities
// score set (probability, decile) for a logistic one.
func (Kind) Output(model any) (string, []scoreset.Column) {
	if m, ok := model.(*Model); ok && m.Logistic != nil {
		return proto.ScoresProbabilities, []scoreset.Column{{Name: "probability", Type: scoreset.Float}, {Name: "decile", Type: scoreset.Int}}
	}
	return proto.ScoresPredictions, []scoreset.Column{{Name: "prediction", Type: scoreset.Float}}
}

// Values computes a shard's predictions or probabilities, for every row
// that has all the model's features.
func (Kind) Values(ctx context.Context, sh job.Shard, model any, t *score.Task) (*score.Values, error) {
	m, ok := model.(*Model)
	if !ok || (m.Linear == nil && m.Logistic == nil) {
		return nil, fmt.Errorf("supervised: not a linear or logistic model")
	}
	s, err := sh.Features(ctx)
	if err != nil {
		return nil, err
	}
	x, keys, unscored, err := feature.ScoreRows(s, t.Levels, m.Features, nil, nil)
	if err != nil {
		return nil, err
	}
	out := &score.Values{Keys: keys, Unscored: unscored, Values: make([]float64, len(keys))}
	d := len(m.Features)
	for i := range keys {
		row := x[i*d : (i+1)*d]
		if m.Linear != nil {
			out.Values[i] = m.Linear.Predict(row)
		} else {
			out.Values[i] = m.Logistic.Probability(row)
		}
	}
	return out, nil
}

// The interfaces the registry, the scoring job and the describers look for.
var (
	_ score.Ranker  = Kind{}
	_ job.Describer = Kind{}
	_ job.Modeler   = Linear{}
	_ job.Modeler   = Logistic{}
	_ job.Algorithm = Linear{}
	_ job.Algorithm = Logistic{}
)
