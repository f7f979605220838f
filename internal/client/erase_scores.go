package client

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// scoreTopItems is how many most recommended items a recommendations score
// set's summary lists, as the leader lists them when it commits one.
const scoreTopItems = 20

// scores erases the keys from one score set version; nil when it held none.
// A score set has one shard per shard of the scored dataset version, so a
// key is in the shard it hashes to.
func (e *eraser) scores(ctx context.Context, ss *proto.ScoreSet) (t *proto.EraseTouched, err error) {
	if len(ss.Shards) == 0 {
		return nil, nil
	}
	cols, err := scoreset.SchemaOf(ss.Kind, ss.Columns)
	if err != nil {
		return nil, err
	}
	var stored []string
	defer func() {
		if err != nil {
			e.discard(stored)
		}
	}()
	what := fmt.Sprintf("score set %s version %d", ss.Name, ss.Version)
	removedKeys := map[string]bool{}
	var rw []*rewritten
	for _, i := range e.targets(len(ss.Shards)) {
		ref := ss.Shards[i]
		b, err := shardBytes(ctx, e.st, ref)
		if err != nil {
			return nil, err
		}
		tab, err := scoreset.Decode(b, ss.Key, cols)
		if err != nil {
			return nil, fmt.Errorf("%s shard %d: %w", what, i, err)
		}
		kept, removed := e.filterTable(tab, removedKeys)
		if removed == 0 {
			continue
		}
		data, err := scoreset.Marshal(kept)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		name := fmt.Sprintf("scores/%s/erase-%s-v%d/shard-%04d.parquet", ss.Name, e.id, ss.Version, i)
		r, err := e.put(ctx, ref, name, data, int64(kept.Rows()), removed, hex.EncodeToString(sum[:]), &stored)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		rw = append(rw, r)
	}
	if len(rw) == 0 {
		return nil, nil
	}
	swap := proto.EraseScores{Name: ss.Name, Version: ss.Version, Scored: ss.Scored - int64(len(removedKeys))}
	t = &proto.EraseTouched{Scores: ss.Name, Version: ss.Version, Shards: len(rw)}
	for _, r := range rw {
		swap.Shards = append(swap.Shards, r.swap)
		t.Rows += r.removed
	}
	// The summary is recomputed from every shard, the rewritten ones read
	// back, one shard in memory at a time.
	refs := append([]proto.ShardRef(nil), ss.Shards...)
	for _, r := range rw {
		refs[r.swap.New.Index] = r.swap.New
	}
	sum := newScoreSummary(ss)
	for i, ref := range refs {
		b, err := shardBytes(ctx, e.st, ref)
		if err != nil {
			return nil, err
		}
		tab, err := scoreset.Decode(b, ss.Key, cols)
		if err != nil {
			return nil, fmt.Errorf("%s shard %d: %w", what, i, err)
		}
		swap.Rows += int64(tab.Rows())
		if err := sum.add(tab); err != nil {
			return nil, fmt.Errorf("%s shard %d: %w", what, i, err)
		}
	}
	swap.Summary = sum.summary()
	err = e.c.Call(ctx, proto.APIEraseScores, swap, nil)
	if notFound(err) {
		e.discard(stored) // the version was deleted meanwhile
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	e.say("%s@%d: %d score rows removed, %d shards rewritten", ss.Name, ss.Version, t.Rows, t.Shards)
	return t, nil
}

// filterTable returns t without the erased keys' rows and how many it
// left out, noting each key it left out in removed and e.found.
func (e *eraser) filterTable(t *scoreset.Table, removed map[string]bool) (*scoreset.Table, int64) {
	out := scoreset.NewTable(t.Key, t.Columns, t.Rows())
	var n int64
	for i, k := range t.Keys {
		if e.keys[k] {
			e.found[k], removed[k] = true, true
			n++
			continue
		}
		out.Keys = append(out.Keys, k)
		for j, c := range t.Columns {
			switch c.Type {
			case scoreset.Float:
				out.Floats[j] = append(out.Floats[j], t.Floats[j][i])
			case scoreset.Int:
				out.Ints[j] = append(out.Ints[j], t.Ints[j][i])
			case scoreset.String:
				out.Strings[j] = append(out.Strings[j], t.Strings[j][i])
			}
		}
	}
	return out, n
}

// scoreSummary recomputes a score set's summary from its shards in shard
// order, in the shape of the summary it replaces: the segment sizes, the
// decile table (a row stays in the decile whose range held it, as the
// decile cuts are not kept), the most recommended items, and the moments of
// the score column.
type scoreSummary struct {
	kind    string
	old     proto.ScoreSummary
	out     proto.ScoreSummary
	deciles []proto.DecileSums
	items   map[string]int64
}

func newScoreSummary(ss *proto.ScoreSet) *scoreSummary {
	s := &scoreSummary{kind: ss.Kind, old: ss.Summary, items: map[string]int64{}}
	if ss.Summary.Segments != nil {
		s.out.Segments = make([]int64, len(ss.Summary.Segments))
	}
	if ss.Summary.Deciles != nil {
		s.deciles = make([]proto.DecileSums, len(ss.Summary.Deciles))
		for d := range s.deciles {
			s.deciles[d] = proto.DecileSums{Min: newMoments().Min, Max: newMoments().Max}
		}
	}
	s.out.Hist = ss.Summary.Hist
	s.out.TopShare = ss.Summary.TopShare // its cut is not kept: as before the erasure
	for _, t := range ss.Summary.Tiers {
		s.out.Tiers = append(s.out.Tiers, proto.ValueTier{Tier: t.Tier, Min: newMoments().Min, Max: newMoments().Max})
	}
	return s
}

// decileOf is the decile whose range in the old summary holds v.
func (s *scoreSummary) decileOf(v float64) (int, error) {
	for d, row := range s.old.Deciles {
		if row.Rows > 0 && row.Min <= v && v <= row.Max {
			return d, nil
		}
	}
	return 0, fmt.Errorf("score %v is in no decile of the score set", v)
}

func (s *scoreSummary) add(t *scoreset.Table) error {
	m := newMoments()
	var values []float64
	switch s.kind {
	case proto.ScoresSegments:
		values = t.Floats[1]
		for _, seg := range t.Ints[0] {
			if seg < 0 || int(seg) >= len(s.out.Segments) {
				return fmt.Errorf("segment %d of %d", seg, len(s.out.Segments))
			}
			s.out.Segments[seg]++
		}
	case proto.ScoresPredictions, proto.ScoresProbabilities:
		values = t.Floats[0]
		for i, v := range values {
			if s.deciles == nil {
				break
			}
			d, err := s.decileOf(v)
			if s.kind == proto.ScoresProbabilities {
				d, err = int(t.Ints[1][i])-1, nil
			}
			if err != nil {
				return err
			}
			if d < 0 || d >= len(s.deciles) {
				return fmt.Errorf("decile %d of %d", d+1, len(s.deciles))
			}
			ds := &s.deciles[d]
			ds.Rows++
			ds.Sum += v
			ds.Min, ds.Max = min(ds.Min, v), max(ds.Max, v)
		}
	case proto.ScoresValues:
		values = t.Floats[3]
		for i, tier := range t.Strings[4] {
			for j := range s.out.Tiers {
				if vt := &s.out.Tiers[j]; vt.Tier == tier {
					v := values[i]
					vt.Rows++
					vt.Sum += v
					vt.Min, vt.Max = min(vt.Min, v), max(vt.Max, v)
				}
			}
		}
	case proto.ScoresRecommendations:
		values = t.Floats[2]
		for _, it := range t.Strings[1] {
			s.items[it]++
		}
	}
	for _, v := range values {
		m.Add(v)
	}
	s.out.Moments.Merge(m)
	return nil
}

func (s *scoreSummary) summary() proto.ScoreSummary {
	out := s.out
	for d, ds := range s.deciles {
		row := proto.Decile{Decile: d + 1, Rows: ds.Rows}
		if ds.Rows > 0 {
			row.Min, row.Max, row.Mean = ds.Min, ds.Max, ds.Sum/float64(ds.Rows)
		}
		out.Deciles = append(out.Deciles, row)
	}
	for id, n := range s.items {
		out.Items = append(out.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(out.Items, func(a, b proto.ItemCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Item, b.Item))
	})
	if len(out.Items) > scoreTopItems {
		out.Items = out.Items[:scoreTopItems]
	}
	if out.Moments.Count == 0 {
		out.Moments.Min, out.Moments.Max = 0, 0
	}
	for i := range out.Tiers {
		if out.Tiers[i].Rows == 0 {
			out.Tiers[i].Min, out.Tiers[i].Max = 0, 0
		}
	}
	return out
}
