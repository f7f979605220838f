package worker

import (
	"cmp"
	"context"
	"slices"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
)

// alsModelTables holds every user and item factor of an ALS model.
type alsModelTables struct {
	users, items *als.Table
}

func (w *Worker) alsModel(ctx context.Context, t *proto.ScoreTask, m *proto.ALSModel) (*alsModelTables, error) {
	v, err := w.data.loadOnce(alsTabKeyPrefix+t.Model.Object+"@"+t.Model.SHA256, func() (any, int64, error) {
		var out alsModelTables
		var size int64
		for _, side := range []struct {
			dst  **als.Table
			refs []als.FactorRef
		}{{&out.users, m.Summary.Users}, {&out.items, m.Summary.Items}} {
			shards := make([]*als.Factors, len(side.refs))
			for i, r := range side.refs {
				f, err := w.factors(ctx, r)
				if err != nil {
					return nil, 0, err
				}
				shards[i] = f
				size += 2 * r.Size
			}
			tab, err := als.NewTable(nil, shards)
			if err != nil {
				return nil, 0, err
			}
			*side.dst = tab
		}
		return &out, size, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*alsModelTables), nil
}

// recommend scores one by-user interactions shard with an ALS model: the
// top items of every user, excluding the items the user has.
func (w *Worker) recommend(ctx context.Context, t *proto.ScoreTask, ref proto.ShardRef, m *proto.ALSModel, cols []scoreset.Column, sp *proto.ScorePartial) (*scoreset.Table, error) {
	blk, err := w.block(ctx, ref)
	if err != nil {
		return nil, err
	}
	tabs, err := w.alsModel(ctx, t, m)
	if err != nil {
		return nil, err
	}
	top := cmp.Or(t.Top, 10)
	tab := scoreset.NewTable(t.Key, cols, len(blk.IDs)*top)
	counts := map[string]int64{}
	var recs []als.Scored
	var seen []string
	for r, user := range blk.IDs {
		seen = seen[:0]
		for k := blk.Ptr[r]; k < blk.Ptr[r+1]; k++ {
			if o := blk.Other[k]; len(seen) == 0 || seen[len(seen)-1] != o {
				seen = append(seen, o)
			}
		}
		if i, ok := tabs.users.Index(user); ok && tabs.users.Count[i] > 0 {
			recs = als.TopN(recs[:0], tabs.users.Row(i), tabs.items, seen, top)
		} else {
			recs = als.PopularTopN(recs[:0], m.Summary.Popular, seen, top)
		}
		for rank, rec := range recs {
			tab.Keys = append(tab.Keys, user)
			tab.Ints[0] = append(tab.Ints[0], int64(rank+1))
			tab.Strings[1] = append(tab.Strings[1], rec.ID)
			tab.Floats[2] = append(tab.Floats[2], rec.Score)
			counts[rec.ID]++
			sp.Values.Add(rec.Score)
		}
		sp.Scored++
	}
	for id, n := range counts {
		sp.Items = append(sp.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(sp.Items, func(a, b proto.ItemCount) int { return cmp.Compare(a.Item, b.Item) })
	return tab, nil
}
