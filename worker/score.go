package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// Cache key prefixes of scoring entries.
const (
	modelKeyPrefix  = "model|"
	scoredKeyPrefix = "scored|"
	alsTabKeyPrefix = "alsmodel|"
)

// scoringModel is a decoded model blob.
type scoringModel struct {
	kmeans *proto.KMeansModel
	sup    *proto.SupervisedModel
	als    *proto.ALSModel
}

func (w *Worker) scoringModel(ctx context.Context, ref proto.BlobRef, kind string) (*scoringModel, error) {
	v, err := w.data.loadOnce(modelKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := w.store.Get(ctx, ref)
		if err != nil {
			return nil, 0, err
		}
		m := &scoringModel{}
		switch kind {
		case "kmeans":
			m.kmeans = new(proto.KMeansModel)
			err = blob.Decode(b, proto.KMeansModelKind, m.kmeans)
		case "linear", "logistic":
			m.sup = new(proto.SupervisedModel)
			err = blob.Decode(b, proto.SupervisedModelKind, m.sup)
		case "als":
			m.als = new(proto.ALSModel)
			err = blob.Decode(b, proto.ALSModelKind, m.als)
		default:
			err = fmt.Errorf("worker: cannot score a %s model", kind)
		}
		if err != nil {
			return nil, 0, err
		}
		return m, int64(len(b)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*scoringModel), nil
}

// scoreColumn returns a model input column of a shard: a stored column, or
// the one-hot column "c=v" of a categorical column c, 1 where the row holds
// v, 0 elsewhere (also when this version has no row with v) and NaN where c
// is missing.
func scoreColumn(s *partition.Shard, levels map[string][]string, name string) ([]float64, error) {
	if c, ok := s.Column(name); ok {
		return c, nil
	}
	col, val, ok := strings.Cut(name, "=")
	codes, found := s.Column(col)
	if !ok || !found {
		return nil, fmt.Errorf("%w: the scored dataset has no column %q", ErrColumn, name)
	}
	code := slices.Index(levels[col], val)
	out := make([]float64, len(codes))
	for i, c := range codes {
		switch {
		case math.IsNaN(c):
			out[i] = math.NaN()
		case code >= 0 && int(c) == code:
			out[i] = 1
		}
	}
	return out, nil
}

// scoreRows turns a shard into the model's input rows: the named columns,
// standardised when mean and scale are given, for every row with all of
// them, with the rows' keys, and the keys of the rows with a missing value.
func scoreRows(s *partition.Shard, levels map[string][]string, names []string, mean, scale []float64) (x []float64, keys, unscored []string, err error) {
	d := len(names)
	cols := make([][]float64, d)
	for j, n := range names {
		if cols[j], err = scoreColumn(s, levels, n); err != nil {
			return nil, nil, nil, err
		}
	}
	x = make([]float64, 0, s.Rows()*d)
	keys = make([]string, 0, s.Rows())
rows:
	for i := range s.Rows() {
		for j := range d {
			if math.IsNaN(cols[j][i]) {
				unscored = append(unscored, s.Keys[i])
				continue rows
			}
		}
		for j := range d {
			v := cols[j][i]
			if mean != nil {
				v = (v - mean[j]) / scale[j] // as BuildMatrix standardises
			}
			x = append(x, v)
		}
		keys = append(keys, s.Keys[i])
	}
	return x, keys, unscored, nil
}

// scored is one shard's linear or logistic model output before it is
// written: a prediction or probability per kept row, and the keys of the
// rows left out.
type scored struct {
	keys     []string
	values   []float64
	unscored []string
}

func (s *scored) size() int64 {
	return int64(len(s.keys)+len(s.unscored))*40 + int64(len(s.values))*8
}

// score computes a features shard's linear or logistic scores, once per
// shard and model however many passes (decile cuts, then write) read them.
func (w *Worker) score(ctx context.Context, t *proto.ScoreTask, ref proto.ShardRef, m *scoringModel) (*scored, error) {
	v, err := w.data.loadOnce(scoredKeyPrefix+ref.Object+"@"+ref.SHA256+"|"+t.Model.Object, func() (any, int64, error) {
		sh, err := w.shard(ctx, ref)
		if err != nil {
			return nil, 0, err
		}
		out := &scored{}
		switch {
		case m.sup != nil:
			x, keys, unscored, err := scoreRows(sh, t.Levels, m.sup.Features, nil, nil)
			if err != nil {
				return nil, 0, err
			}
			out.keys, out.unscored = keys, unscored
			out.values = make([]float64, len(keys))
			d := len(m.sup.Features)
			for i := range keys {
				row := x[i*d : (i+1)*d]
				if m.sup.Linear != nil {
					out.values[i] = m.sup.Linear.Predict(row)
				} else {
					out.values[i] = m.sup.Logistic.Probability(row)
				}
			}
		default:
			return nil, 0, fmt.Errorf("worker: model kind %s does not score features", t.Kind)
		}
		return out, out.size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*scored), nil
}

// stepScore runs one pass of a scoring job on one shard.
func (w *Worker) stepScore(ctx context.Context, job string, t *proto.ScoreTask, ref proto.ShardRef, p *proto.Partial) error {
	m, err := w.scoringModel(ctx, t.Model, t.Kind)
	if err != nil {
		return err
	}
	cols, err := scoreset.Schema(scoreSetKind(t.Kind))
	if err != nil {
		return err
	}
	sp := &proto.ScorePartial{Values: proto.Moments{Min: math.Inf(1), Max: math.Inf(-1)}}
	var tab *scoreset.Table
	if m.als != nil {
		if t.Stage != proto.ScoreStageWrite {
			return fmt.Errorf("worker: an ALS model has no %s pass", t.Stage)
		}
		if tab, err = w.recommend(ctx, t, ref, m.als, cols, sp); err != nil {
			return err
		}
	} else if m.kmeans != nil {
		if t.Stage != proto.ScoreStageWrite {
			return fmt.Errorf("worker: a k-means model has no %s pass", t.Stage)
		}
		sh, err := w.shard(ctx, ref)
		if err != nil {
			return err
		}
		if tab, err = scoreKMeans(sh, t.Levels, m.kmeans, t.Key, cols, sp); err != nil {
			return err
		}
		defer releaseKMeansColumns(tab)
	} else {
		s, err := w.score(ctx, t, ref, m)
		if err != nil {
			return err
		}
		sp.Scored, sp.Unscored = int64(len(s.keys)), int64(len(s.unscored))
		if t.Stage == proto.ScoreStageCuts {
			if t.Quantile == nil {
				return fmt.Errorf("worker: a cuts pass without a quantile task")
			}
			if sp.Quantile, err = quantile.RunTask(t.Quantile, s.values); err != nil {
				return err
			}
			p.Score, p.Rows = sp, int64(len(s.keys))
			return nil
		}
		tab = scoreset.NewTable(t.Key, cols, len(s.keys))
		tab.Keys = append(tab.Keys, s.keys...)
		tab.Unscored = s.unscored
		switch t.Kind {
		case "linear", "logistic":
			if len(t.Cuts) != 9 {
				return fmt.Errorf("worker: %d decile cuts, want 9", len(t.Cuts))
			}
			sp.Deciles = make([]proto.DecileSums, 10)
			for i := range sp.Deciles {
				sp.Deciles[i].Min, sp.Deciles[i].Max = math.Inf(1), math.Inf(-1)
			}
			for _, v := range s.values {
				dec := quantile.Bucket(t.Cuts, v, true)
				tab.Floats[0] = append(tab.Floats[0], v)
				if t.Kind == "logistic" {
					tab.Ints[1] = append(tab.Ints[1], int64(dec))
				}
				ds := &sp.Deciles[dec-1]
				ds.Rows++
				ds.Sum += v
				ds.Min, ds.Max = min(ds.Min, v), max(ds.Max, v)
				sp.Values.Add(v)
			}
		}
	}
	bp := encodeBufs.Get().(*[]byte)
	defer encodeBufs.Put(bp)
	b, err := scoreset.MarshalTo(*bp, tab)
	if err != nil {
		return err
	}
	*bp = b
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("%s/shard-%04d-%s.parquet", t.Prefix, ref.Index, hex.EncodeToString(r[:]))
	bref, err := w.store.Put(ctx, proto.BucketShards, name, b)
	if err != nil {
		return err
	}
	p.Output = &proto.ShardRef{Index: ref.Index, Object: name, Size: bref.Size, SHA256: bref.SHA256, Rows: int64(tab.Rows())}
	p.Score, p.Rows = sp, int64(tab.Rows())
	return nil
}

// encodeBufs holds the buffers score shards are encoded into. Their bytes
// are sent to the object store and not kept, so the next shard can use the
// buffer again: fresh megabytes a shard cost more in page faults than
// encoding them did.
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// scoreSetKind is the score set kind a model kind writes.
func scoreSetKind(modelKind string) string {
	switch modelKind {
	case "kmeans":
		return proto.ScoresSegments
	case "linear":
		return proto.ScoresPredictions
	case "logistic":
		return proto.ScoresProbabilities
	case "als":
		return proto.ScoresRecommendations
	}
	return modelKind
}
