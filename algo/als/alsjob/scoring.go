package alsjob

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// Kind is the ALS model kind: a factorization that scores the users of an
// interactions dataset into their top items.
type Kind struct{}

// Decode reads a model blob.
func (Kind) Decode(b []byte) (any, error) {
	m := new(Factorization)
	if err := blob.Decode(b, ModelKind, m); err != nil {
		return nil, err
	}
	return m, nil
}

// New returns an empty model to decode into.
func (Kind) New() any { return new(Factorization) }

// Input is the kind of the training dataset, interactions or transactions:
// the model scores its users (customers) and reads no column by name.
func (Kind) Input(model any) (string, []string) {
	if m, ok := model.(*Factorization); ok && m.Source == proto.KindTransactions {
		return proto.KindTransactions, nil
	}
	return proto.KindInteractions, nil
}

// Output is a recommendations score set: rank, item, score, and the item's
// name when the model has names (one trained on transactions that name
// their items).
func (Kind) Output(model any) (string, []scoreset.Column) {
	cols := []scoreset.Column{{Name: "rank", Type: scoreset.Int}, {Name: "item", Type: scoreset.String},
		{Name: "score", Type: scoreset.Float}}
	if m, ok := model.(*Factorization); ok && m.ItemNames != nil {
		cols = append(cols, scoreset.Column{Name: "name", Type: scoreset.String})
	}
	return proto.ScoresRecommendations, cols
}

// Score writes the top t.Top items of every user of a by-user shard.
func (Kind) Score(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, func(), error) {
	m, ok := model.(*Factorization)
	if !ok {
		return nil, nil, fmt.Errorf("als: not an ALS model")
	}
	_, cols := Kind{}.Output(m)
	tab, err := recommend(ctx, sh, t, m, cols, sp)
	return tab, nil, err
}

// modelTables holds every user and item factor of an ALS model, and the
// items packed for ranking.
type modelTables struct {
	users, items *als.Table
	ranker       *als.Ranker
}

// tablesOf loads a model's factors once per worker and model.
func tablesOf(ctx context.Context, sh job.Shard, t *score.Task, m *Factorization) (*modelTables, error) {
	v, err := sh.Cached(modelKeyPrefix+t.Model.Object+"@"+t.Model.SHA256, func() (any, int64, error) {
		var out modelTables
		var size int64
		for _, side := range []struct {
			dst  **als.Table
			refs []als.FactorRef
		}{{&out.users, m.Summary.Users}, {&out.items, m.Summary.Items}} {
			tab, n, err := loadTable(ctx, sh, side.refs)
			if err != nil {
				return nil, 0, err
			}
			*side.dst, size = tab, size+n
		}
		out.ranker = als.NewRanker(out.items)
		return &out, size + out.ranker.Size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*modelTables), nil
}

// recommend scores one by-user interactions shard with an ALS model: the
// top items of every user, excluding the items the user has. The users
// with a trained factor are ranked together (als.Ranker, which returns
// what als.TopN returns for each); the others get the popular items. Its
// memory is the shard's output table and exclusions, whatever the number
// of shards scored.
func recommend(ctx context.Context, sh job.Shard, t *score.Task, m *Factorization, cols []scoreset.Column, sp *score.Partial) (*scoreset.Table, error) {
	var blk *als.Block
	if src := m.txSource(); src != nil {
		b, err := txBlockFor(ctx, sh, src, als.Users)
		if err != nil {
			return nil, err
		}
		blk = b.blk
	} else {
		var err error
		if blk, err = block(ctx, sh); err != nil {
			return nil, err
		}
	}
	tabs, err := tablesOf(ctx, sh, t, m)
	if err != nil {
		return nil, err
	}
	top := cmp.Or(t.Top, proto.DefaultTop)
	// The trained users' factors and exclusions (item positions, ascending;
	// an item the model does not know cannot be recommended anyway).
	var (
		rows  []int
		users [][]float64
		exEnd []int
		ex    = make([]int32, 0, len(blk.Other))
	)
	for r, user := range blk.IDs {
		i, ok := tabs.users.Index(user)
		if !ok || tabs.users.Count[i] == 0 {
			continue
		}
		lo := len(ex)
		for k := blk.Ptr[r]; k < blk.Ptr[r+1]; k++ {
			if p, ok := tabs.items.Index(blk.Other[k]); ok {
				ex = append(ex, int32(p))
			}
		}
		own := ex[lo:]
		slices.Sort(own)
		ex = ex[:lo+len(slices.Compact(own))]
		rows = append(rows, r)
		users = append(users, tabs.users.Row(i))
		exEnd = append(exEnd, len(ex))
	}
	excl := make([][]int32, len(rows))
	lo := 0
	for j, hi := range exEnd {
		excl[j], lo = ex[lo:hi], hi
	}
	ends := make([]int, len(rows))
	ranked := tabs.ranker.TopN(nil, ends, users, excl, top, &als.RankScratch{})

	tab := scoreset.NewTable(t.Key, cols, len(blk.IDs)*top)
	named := len(cols) > 3
	counts := map[string]int64{}
	var recs, pop []als.Scored
	var seen []string
	next, from := 0, 0
	for r, user := range blk.IDs {
		if next < len(rows) && rows[next] == r {
			recs = ranked[from:ends[next]]
			from = ends[next]
			next++
		} else {
			seen = seen[:0]
			for k := blk.Ptr[r]; k < blk.Ptr[r+1]; k++ {
				if o := blk.Other[k]; len(seen) == 0 || seen[len(seen)-1] != o {
					seen = append(seen, o)
				}
			}
			pop = als.PopularTopN(pop, m.Summary.Popular, seen, top)
			recs = pop
		}
		for rank, rec := range recs {
			tab.Keys = append(tab.Keys, user)
			tab.Ints[0] = append(tab.Ints[0], int64(rank+1))
			tab.Strings[1] = append(tab.Strings[1], rec.ID)
			tab.Floats[2] = append(tab.Floats[2], rec.Score)
			if named {
				tab.Strings[3] = append(tab.Strings[3], m.ItemNames[rec.ID])
			}
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

// ItemOutput is an item neighbours score set: rank, neighbour, score (the
// cosine), and the neighbour's name when the model has names.
func (Kind) ItemOutput(model any) []scoreset.Column {
	cols := []scoreset.Column{{Name: "rank", Type: scoreset.Int}, {Name: "neighbour", Type: scoreset.String},
		{Name: "score", Type: scoreset.Float}}
	if m, ok := model.(*Factorization); ok && m.ItemNames != nil {
		cols = append(cols, scoreset.Column{Name: "name", Type: scoreset.String})
	}
	return cols
}

// loadTable reads one side's factor shards into a table, and the memory
// it takes (each shard's bytes twice: decoded and in the table).
func loadTable(ctx context.Context, sh job.Shard, refs []als.FactorRef) (*als.Table, int64, error) {
	shards := make([]*als.Factors, len(refs))
	var size int64
	for i, r := range refs {
		f, err := factors(ctx, sh, r)
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
	return tab, size, nil
}

// neighbourerOf loads a model's item factors and prepares their
// neighbours once per worker and model.
func neighbourerOf(ctx context.Context, sh job.Shard, t *score.Task, m *Factorization) (*als.Neighbourer, error) {
	v, err := sh.Cached("alsneighbours|"+t.Model.Object+"@"+t.Model.SHA256, func() (any, int64, error) {
		tab, size, err := loadTable(ctx, sh, m.Summary.Items)
		if err != nil {
			return nil, 0, err
		}
		nb := als.NewNeighbourer(tab)
		return nb, size + nb.Size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Neighbourer), nil
}

// ScoreItems writes the t.Top nearest items (cosine of the item factors,
// what `mathcrm similar` prints) of every item of the model that ShardOf
// places in this shard, items ascending; an item without a trained factor
// is unscored.
func (Kind) ScoreItems(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, error) {
	m, ok := model.(*Factorization)
	if !ok {
		return nil, fmt.Errorf("als: not an ALS model")
	}
	nb, err := neighbourerOf(ctx, sh, t, m)
	if err != nil {
		return nil, err
	}
	unit := nb.Table()
	shard := sh.Ref().Index
	var rows []int
	for i, id := range unit.IDs {
		if partition.ShardOf(id, t.Shards) == shard {
			rows = append(rows, i)
		}
	}
	slices.SortFunc(rows, func(a, b int) int { return cmp.Compare(unit.IDs[a], unit.IDs[b]) })
	top := cmp.Or(t.Top, proto.DefaultTop)
	ends := make([]int, len(rows))
	recs := nb.Neighbours(nil, ends, rows, top, 0)
	cols := Kind{}.ItemOutput(m)
	tab := scoreset.NewTable(t.Key, cols, len(recs))
	counts := map[string]int64{}
	from := 0
	for k, r := range rows {
		id := unit.IDs[r]
		if ends[k] == from {
			tab.Unscored = append(tab.Unscored, id)
			continue
		}
		for rank, rec := range recs[from:ends[k]] {
			tab.Keys = append(tab.Keys, id)
			tab.Ints[0] = append(tab.Ints[0], int64(rank+1))
			tab.Strings[1] = append(tab.Strings[1], rec.ID)
			tab.Floats[2] = append(tab.Floats[2], rec.Score)
			if len(cols) > 3 {
				tab.Strings[3] = append(tab.Strings[3], m.ItemNames[rec.ID])
			}
			counts[rec.ID]++
			sp.Values.Add(rec.Score)
		}
		from = ends[k]
		sp.Scored++
	}
	sp.Unscored = int64(len(tab.Unscored))
	for id, n := range counts {
		sp.Items = append(sp.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(sp.Items, func(a, b proto.ItemCount) int { return cmp.Compare(a.Item, b.Item) })
	return tab, nil
}
