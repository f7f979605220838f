package basket

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// Input is the kind of dataset the model was mined from: a customer's
// history there is a basket.
func (MinedKind) Input(model any) (string, []string) {
	return model.(*Mined).Source.Kind, nil
}

// Output is a recommendations score set with the rule of every offer, and
// the offered item's name when the dataset names items.
func (MinedKind) Output(model any) (string, []scoreset.Column) {
	cols := []scoreset.Column{{Name: "rank", Type: scoreset.Int}, {Name: "item", Type: scoreset.String},
		{Name: "score", Type: scoreset.Float}, {Name: "rule", Type: scoreset.String}}
	if m, ok := model.(*Mined); ok && m.Names != nil {
		cols = append(cols, scoreset.Column{Name: "name", Type: scoreset.String})
	}
	return proto.ScoresRecommendations, cols
}

// histories reads a shard of the model's source kind as every customer's
// (or user's) items: keys, and items[k] the distinct items of keys[k].
func histories(b []byte, src Source) (keys []string, items [][]string, err error) {
	switch src.Kind {
	case proto.KindInteractions:
		s, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, nil, err
		}
		items = make([][]string, len(s.Keys))
		for u := range s.Keys {
			for k := s.Ptr[u]; k < s.Ptr[u+1]; k++ {
				if !src.ExcludeReturns || s.Value == nil || s.Value[k] > 0 {
					items[u] = append(items[u], s.Other[k])
				}
			}
		}
		return s.Keys, items, nil
	case proto.KindTransactions:
		s, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, nil, err
		}
		if s.Item == nil {
			return nil, nil, errorf(ErrBaskets, "the transactions shard has no item column")
		}
		items = make([][]string, len(s.Keys))
		for c := range s.Keys {
			var have []string
			for r := s.Ptr[c]; r < s.Ptr[c+1]; r++ {
				if s.Item[r] != "" && !(src.ExcludeReturns && s.Return[r]) {
					have = append(have, s.Item[r])
				}
			}
			slices.Sort(have)
			items[c] = slices.Compact(have)
		}
		return s.Keys, items, nil
	}
	return nil, nil, errorf(ErrBaskets, "scoring a %s dataset is not supported", src.Kind)
}

// offerer returns the model's Offerer, built once per worker and model.
func offerer(sh job.Shard, m *Mined, t *score.Task) (*Offerer, error) {
	v, err := sh.Cached("basket.offerer|"+t.Model.Object+"@"+t.Model.SHA256, func() (any, int64, error) {
		o := NewOfferer(m.Model())
		return o, int64(len(o.rules))*64 + int64(len(o.items))*24, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Offerer), nil
}

// Score writes every customer's next-best offers: the top t.Top items the
// rules firing for the customer's items offer (their confidence as the
// score, the rule that gave it), leaving out items the customer has. A
// customer no rule fires for is unscored.
func (MinedKind) Score(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, func(), error) {
	m, ok := model.(*Mined)
	if !ok {
		return nil, nil, fmt.Errorf("basket: not a basket model")
	}
	o, err := offerer(sh, m, t)
	if err != nil {
		return nil, nil, err
	}
	ref := sh.Ref()
	b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
	if err != nil {
		return nil, nil, err
	}
	keys, hist, err := histories(b, m.Source)
	if err != nil {
		return nil, nil, err
	}
	_, cols := MinedKind{}.Output(m)
	top := cmp.Or(t.Top, proto.DefaultTop)
	tab := scoreset.NewTable(t.Key, cols, 0)
	texts := make(map[int]string)
	counts := map[string]int64{}
	var (
		offers []Offer
		scr    Scratch
	)
	for u, user := range keys {
		offers = o.Offers(offers, hist[u], top, &scr)
		if len(offers) == 0 {
			tab.Unscored = append(tab.Unscored, user)
			continue
		}
		for rank, off := range offers {
			text, ok := texts[off.Rule]
			if !ok {
				text = RuleText(m.Rules[off.Rule])
				texts[off.Rule] = text
			}
			tab.Keys = append(tab.Keys, user)
			tab.Ints[0] = append(tab.Ints[0], int64(rank+1))
			tab.Strings[1] = append(tab.Strings[1], off.Item)
			tab.Floats[2] = append(tab.Floats[2], off.Confidence)
			tab.Strings[3] = append(tab.Strings[3], text)
			if len(cols) > 4 {
				tab.Strings[4] = append(tab.Strings[4], m.Names[off.Item])
			}
			counts[off.Item]++
			sp.Values.Add(off.Confidence)
		}
		sp.Scored++
	}
	sp.Unscored = int64(len(tab.Unscored))
	for id, n := range counts {
		sp.Items = append(sp.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(sp.Items, func(a, b proto.ItemCount) int { return cmp.Compare(a.Item, b.Item) })
	return tab, nil, nil
}

// ItemOutput is an item neighbours score set: rank, neighbour, score (the
// pair's lift), baskets (holding both), by (lift when a rule links the
// items, else co-occurrence), and the neighbour's name when the model has
// names.
func (MinedKind) ItemOutput(model any) []scoreset.Column {
	cols := []scoreset.Column{{Name: "rank", Type: scoreset.Int}, {Name: "neighbour", Type: scoreset.String},
		{Name: "score", Type: scoreset.Float}, {Name: "baskets", Type: scoreset.Int}, {Name: "by", Type: scoreset.String}}
	if m, ok := model.(*Mined); ok && m.Names != nil {
		cols = append(cols, scoreset.Column{Name: "name", Type: scoreset.String})
	}
	return cols
}

// ScoreItems writes the t.Top neighbours (what `mathcrm similar` prints)
// of every frequent item that ShardOf places in this shard, items
// ascending; a frequent item in no frequent pair is unscored.
func (MinedKind) ScoreItems(ctx context.Context, sh job.Shard, model any, t *score.Task, sp *score.Partial) (*scoreset.Table, error) {
	m, ok := model.(*Mined)
	if !ok {
		return nil, fmt.Errorf("basket: not a basket model")
	}
	top := cmp.Or(t.Top, proto.DefaultTop)
	v, err := sh.Cached(fmt.Sprintf("basket.neighbours|%s@%s|%d", t.Model.Object, t.Model.SHA256, top), func() (any, int64, error) {
		all := m.Model().AllNeighbours(top)
		return all, int64(len(all)) * int64(top+1) * 64, nil
	})
	if err != nil {
		return nil, err
	}
	all := v.(map[string]Neighbourhood)
	var items []string
	for it := range all {
		if partition.ShardOf(it, t.Shards) == sh.Ref().Index {
			items = append(items, it)
		}
	}
	slices.Sort(items)
	cols := MinedKind{}.ItemOutput(m)
	tab := scoreset.NewTable(t.Key, cols, len(items)*top)
	counts := map[string]int64{}
	for _, it := range items {
		nh := all[it]
		if len(nh.Items) == 0 {
			tab.Unscored = append(tab.Unscored, it)
			continue
		}
		by := "co-occurrence"
		if nh.ByLift {
			by = "lift"
		}
		for rank, x := range nh.Items {
			tab.Keys = append(tab.Keys, it)
			tab.Ints[0] = append(tab.Ints[0], int64(rank+1))
			tab.Strings[1] = append(tab.Strings[1], x.Item)
			tab.Floats[2] = append(tab.Floats[2], x.Lift)
			tab.Ints[3] = append(tab.Ints[3], x.Count)
			tab.Strings[4] = append(tab.Strings[4], by)
			if len(cols) > 5 {
				tab.Strings[5] = append(tab.Strings[5], x.Name)
			}
			counts[x.Item]++
			sp.Values.Add(x.Lift)
		}
		sp.Scored++
	}
	sp.Unscored = int64(len(tab.Unscored))
	for id, n := range counts {
		sp.Items = append(sp.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(sp.Items, func(a, b proto.ItemCount) int { return cmp.Compare(a.Item, b.Item) })
	return tab, nil
}
