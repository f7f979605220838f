package score

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"sync"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// Cache key prefixes of scoring entries.
const (
	modelKeyPrefix  = "model|"
	valuesKeyPrefix = "scored|"
)

// model returns the task's model decoded, once per worker and model.
func model(ctx context.Context, sh job.Shard, t *Task) (Model, any, error) {
	k, ok := sh.Kind(t.Kind)
	if !ok {
		return nil, nil, fmt.Errorf("score: this worker does not know %s models", t.Kind)
	}
	sc, ok := k.(Model)
	if !ok {
		return nil, nil, fmt.Errorf("score: a %s model does not score datasets", t.Kind)
	}
	v, err := sh.Cached(modelKeyPrefix+t.Model.Object+"@"+t.Model.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, t.Model)
		if err != nil {
			return nil, 0, err
		}
		m, err := k.Decode(b)
		if err != nil {
			return nil, 0, err
		}
		return m, int64(len(b)), nil
	})
	return sc, v, err
}

// values scores a shard with a Ranker, once per shard and model however
// many passes (decile cuts, then write) read them.
func values(ctx context.Context, sh job.Shard, r Ranker, m any, t *Task) (*Values, error) {
	ref := sh.Ref()
	v, err := sh.Cached(valuesKeyPrefix+ref.Object+"@"+ref.SHA256+"|"+t.Model.Object, func() (any, int64, error) {
		v, err := r.Values(ctx, sh, m, t)
		if err != nil {
			return nil, 0, err
		}
		return v, v.size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Values), nil
}

// RunShard runs one pass of a scoring job on one shard.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*Task)
	sc, m, err := model(ctx, sh, t)
	if err != nil {
		return err
	}
	_, cols := sc.Output(m)
	sp := &Partial{Values: proto.Moments{Min: math.Inf(1), Max: math.Inf(-1)}}
	var tab *scoreset.Table
	if t.Stage == StageSearch {
		c, ok := sc.(Cutter)
		if !ok || t.Search == nil {
			return fmt.Errorf("score: a %s model has no search pass", t.Kind)
		}
		ans, err := c.SearchShard(ctx, sh, m, t)
		if err != nil {
			return err
		}
		sp.Search = ans
		return job.Encode(p, Name, sp)
	}
	if t.Items {
		is, ok := sc.(ItemScorer)
		if !ok || t.Stage != StageWrite || t.Shards <= sh.Ref().Index {
			return fmt.Errorf("score: a %s model has no item neighbours (%s pass over %d shards)", t.Kind, t.Stage, t.Shards)
		}
		if tab, err = is.ScoreItems(ctx, sh, m, t, sp); err != nil {
			return err
		}
		return writeShard(ctx, sh, t, tab, p, sp)
	}
	switch sc := sc.(type) {
	case Scorer:
		if t.Stage != StageWrite {
			return fmt.Errorf("score: a %s model has no %s pass", t.Kind, t.Stage)
		}
		var release func()
		if tab, release, err = sc.Score(ctx, sh, m, t, sp); err != nil {
			return err
		}
		if release != nil {
			defer release()
		}
	case Ranker:
		s, err := values(ctx, sh, sc, m, t)
		if err != nil {
			return err
		}
		sp.Scored, sp.Unscored = int64(len(s.Keys)), int64(len(s.Unscored))
		if t.Stage == StageCuts {
			if t.Quantile == nil {
				return fmt.Errorf("score: a cuts pass without a quantile task")
			}
			if sp.Quantile, err = quantile.RunTask(t.Quantile, s.Values); err != nil {
				return err
			}
			p.Rows = int64(len(s.Keys))
			return job.Encode(p, Name, sp)
		}
		if tab, err = rank(t, s, cols, sp); err != nil {
			return err
		}
	default:
		return fmt.Errorf("score: a %s model neither scores nor ranks", t.Kind)
	}
	return writeShard(ctx, sh, t, tab, p, sp)
}

// writeShard stores a pass's score shard and reports it in p.
func writeShard(ctx context.Context, sh job.Shard, t *Task, tab *scoreset.Table, p *proto.Partial, sp *Partial) error {
	bp := encodeBufs.Get().(*[]byte)
	defer encodeBufs.Put(bp)
	b, err := scoreset.MarshalTo(*bp, tab)
	if err != nil {
		return err
	}
	*bp = b
	ref := sh.Ref()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("%s/shard-%04d-%s.parquet", t.Prefix, ref.Index, hex.EncodeToString(r[:]))
	bref, err := sh.Put(ctx, proto.BucketShards, name, b)
	if err != nil {
		return err
	}
	p.Output = &proto.ShardRef{Index: ref.Index, Object: name, Size: bref.Size, SHA256: bref.SHA256, Rows: int64(tab.Rows())}
	p.Rows = int64(tab.Rows())
	return job.Encode(p, Name, sp)
}

// rank writes a Ranker's scores with their deciles: the score column, and
// the decile column when the score set has one.
func rank(t *Task, s *Values, cols []scoreset.Column, sp *Partial) (*scoreset.Table, error) {
	if len(t.Cuts) != 9 {
		return nil, fmt.Errorf("score: %d decile cuts, want 9", len(t.Cuts))
	}
	tab := scoreset.NewTable(t.Key, cols, len(s.Keys))
	tab.Keys = append(tab.Keys, s.Keys...)
	tab.Unscored = s.Unscored
	sp.Deciles = make([]proto.DecileSums, 10)
	for i := range sp.Deciles {
		sp.Deciles[i].Min, sp.Deciles[i].Max = math.Inf(1), math.Inf(-1)
	}
	withDecile := len(cols) > 1
	for _, v := range s.Values {
		dec := quantile.Bucket(t.Cuts, v, true)
		tab.Floats[0] = append(tab.Floats[0], v)
		if withDecile {
			tab.Ints[1] = append(tab.Ints[1], int64(dec))
		}
		ds := &sp.Deciles[dec-1]
		ds.Rows++
		ds.Sum += v
		ds.Min, ds.Max = min(ds.Min, v), max(ds.Max, v)
		sp.Values.Add(v)
	}
	return tab, nil
}

// encodeBufs holds the buffers score shards are encoded into. Their bytes
// are sent to the object store and not kept, so the next shard can use the
// buffer again: fresh megabytes a shard cost more in page faults than
// encoding them did.
var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}
