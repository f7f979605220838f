// Package score scores every row of a dataset version with a model into a
// new score set version, for any model kind that implements Scorer: one pass
// that writes a score shard per dataset shard, preceded, for a Ranker (one
// number per row: a prediction, a probability), by the passes that find the
// exact decile cuts of its scores across the whole dataset, and for a Cutter
// by the passes of its own search across the whole dataset (value tiers).
package score

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// Name is the algorithm's name in job specs.
const Name = proto.ScoreAlgo

// Stages of a scoring job.
const (
	StageCuts   = "cuts"   // find the decile cuts of the scores
	StageWrite  = "write"  // score every row and write the score shards
	StageSearch = "search" // a Cutter's search over the whole dataset
)

// Model is a model kind that scores datasets: a Scorer or a Ranker.
type Model interface {
	job.ModelKind
	// Input is the kind of dataset the model scores and the columns it
	// reads (nil: none named, as when it scores interactions).
	Input(model any) (datasetKind string, columns []string)
	// Output is the score set kind it writes and its columns.
	Output(model any) (kind string, columns []scoreset.Column)
}

// Scorer is a model kind that scores a shard into its score rows.
type Scorer interface {
	Model
	// Score scores one shard in the write pass: the score shard's table,
	// with sp's counts and summary filled in, and a function (or nil) that
	// takes back what the table borrowed once the shard is written.
	Score(ctx context.Context, sh job.Shard, model any, t *Task, sp *Partial) (*scoreset.Table, func(), error)
}

// ItemScorer is a model kind whose items have neighbours: a scoring job
// with ScoreSpec.Items writes every item's t.Top nearest items, keyed by
// item (ItemKey), each shard the items ShardOf(item, t.Shards) places in
// it.
type ItemScorer interface {
	Model
	// ItemOutput is the columns of an item neighbours score set.
	ItemOutput(model any) []scoreset.Column
	// ScoreItems writes the neighbours of the model's items of one shard,
	// with sp's counts and summary filled in; an item without neighbours
	// (no trained factor) is unscored.
	ScoreItems(ctx context.Context, sh job.Shard, model any, t *Task, sp *Partial) (*scoreset.Table, error)
}

// ItemKey is the key column of an item neighbours score set.
const ItemKey = "item"

// Ranker is a Scorer that gives one number per row (a prediction, a
// probability): the job cuts them into deciles over the whole dataset, and
// writes them with their decile when the score set has a second column.
type Ranker interface {
	Model
	// Values scores a shard: the kept rows' keys and scores, and the keys
	// of the rows it could not score (a missing input).
	Values(ctx context.Context, sh job.Shard, model any, t *Task) (*Values, error)
}

// Values are one shard's scores.
type Values struct {
	Keys     []string
	Values   []float64
	Unscored []string
}

func (v *Values) size() int64 {
	return int64(len(v.Keys)+len(v.Unscored))*40 + int64(len(v.Values))*8
}

// Task is the task of one pass of a scoring job.
type Task struct {
	// Kind is the model's kind.
	Kind string `json:"kind"`
	// Model is the model's blob.
	Model proto.BlobRef `json:"model"`
	// Key is the scored dataset's key column, the first column written.
	Key string `json:"key"`
	// Levels are the dictionaries of the scored version's categorical
	// columns, in code order: a model's one-hot column "c=v" is 1 where
	// column c holds v, whatever code v has in this version.
	Levels map[string][]string `json:"levels,omitempty"`
	Stage  string              `json:"stage"`
	// Quantile is the cut search task of a cuts pass.
	Quantile *quantile.Task `json:"quantile,omitempty"`
	// Cuts are the decile cuts of the scores, for a Ranker's write pass.
	Cuts []float64 `json:"cuts,omitempty"`
	// Top is the number of items per row of a recommendations score set.
	Top int `json:"top,omitempty"`
	// Prefix names the written shards: Prefix/shard-NNNN-<random>.parquet.
	Prefix string `json:"prefix"`
	// Search is the task of a Cutter's search pass, Found what its search
	// found, for the write pass.
	Search json.RawMessage `json:"search,omitempty"`
	Found  json.RawMessage `json:"found,omitempty"`
	// Horizon and DiscountRate are the job's, for a Tuner.
	Horizon      *float64 `json:"horizon,omitempty"`
	DiscountRate *float64 `json:"discount_rate,omitempty"`
	// Items asks for the model's item neighbours (ItemScorer), over
	// Shards shards.
	Items  bool `json:"items,omitempty"`
	Shards int  `json:"shards,omitempty"`
}

// Partial is one shard's summary of a scoring pass: small, its size set by
// the model (segments, deciles, items), not by the rows.
type Partial struct {
	Scored   int64 `json:"scored"`
	Unscored int64 `json:"unscored"`
	// Quantile is the shard's result in a cuts pass.
	Quantile *quantile.Result `json:"quantile,omitempty"`
	// Segments counts rows per segment.
	Segments []int64 `json:"segments,omitempty"`
	// Deciles sums the scores of each decile (a Ranker's).
	Deciles []proto.DecileSums `json:"deciles,omitempty"`
	// Items counts how often each item was recommended, by item id.
	Items []proto.ItemCount `json:"items,omitempty"`
	// Values summarises the score column.
	Values proto.Moments `json:"values"`
	// Search is the shard's answer in a Cutter's search pass.
	Search []byte `json:"search,omitempty"`
	// Tiers sums the values of each value tier, in the summary's order.
	Tiers []proto.ValueTier `json:"tiers,omitempty"`
}

// MaxHorizon bounds ScoreSpec.Horizon, in any time unit.
const MaxHorizon = 100000

// Algorithm is the scoring algorithm.
type Algorithm struct{}

// DatasetKind is decided by the model's kind.
func (Algorithm) DatasetKind() string { return "" }

// CheckParams checks a scoring spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	var p proto.ScoreSpec
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%w: score parameters: %v", proto.ErrParam, err)
	}
	if p.Top != nil {
		if err := proto.IntParam("score.top", "--top", *p.Top, 1, proto.MaxTop); err != nil {
			return err
		}
	}
	if h := p.Horizon; h != nil {
		if err := proto.FloatParam("score.horizon", "--horizon", *h, *h > 0 && *h <= MaxHorizon, fmt.Sprintf("a number above 0, at most %d", MaxHorizon)); err != nil {
			return err
		}
	}
	if r := p.DiscountRate; r != nil {
		return proto.FloatParam("score.discount_rate", "--discount-rate", *r, *r >= 0 && *r <= 10, "a number from 0 to 10")
	}
	return nil
}

// DecodeTask decodes a pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// Params returns a scoring spec's parameters.
func Params(spec *proto.JobSpec) (*proto.ScoreSpec, error) {
	p := new(proto.ScoreSpec)
	return p, job.Params(spec, p)
}

// Spec is a scoring job's spec.
func Spec(dataset string, p proto.ScoreSpec) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}
