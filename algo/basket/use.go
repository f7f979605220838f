package basket

import (
	"cmp"
	"slices"
)

// Offer is an item a model recommends for a basket: the rule that gave its
// best score, and that rule's confidence and lift.
type Offer struct {
	Item       string  `json:"item"`
	Confidence float64 `json:"confidence"`
	Lift       float64 `json:"lift"`
	Rule       int     `json:"rule"` // index in Model.Rules
}

// Neighbour is an item bought with another: the lift and count of the pair.
type Neighbour struct {
	Item  string  `json:"item"`
	Name  string  `json:"name,omitempty"`
	Lift  float64 `json:"lift"`
	Count int64   `json:"count"`
}

func (m *Model) itemCount(item string) (int64, bool) {
	i, ok := slices.BinarySearchFunc(m.Itemsets, item, func(is Itemset, it string) int {
		if len(is.Items) != 1 {
			return 1 // singles come first
		}
		return cmp.Compare(is.Items[0], it)
	})
	if !ok {
		return 0, false
	}
	return m.Itemsets[i].Count, true
}

func (m *Model) unknown(item string) error {
	return errorf(ErrUnknownItem, "item %q is not a frequent item of this model (in at least %d of %d baskets)", item, m.MinCount, m.Baskets)
}

// Recommend ranks the items the rules that fire for a basket holding have
// (every antecedent item in have) offer, leaving out items in have: each by
// the best confidence of the rules offering it, then their lift, then id.
// It returns at most n offers. An item of have that the model does not know
// is an error: a typo must not silently yield no offers.
func (m *Model) Recommend(have []string, n int) ([]Offer, error) {
	in := map[string]bool{}
	for _, it := range have {
		if _, ok := m.itemCount(it); !ok {
			return nil, m.unknown(it)
		}
		in[it] = true
	}
	best := map[string]Offer{}
	for ri, r := range m.Rules {
		fires := true
		for _, a := range r.Antecedent {
			fires = fires && in[a]
		}
		if !fires {
			continue
		}
		for _, c := range r.Consequent {
			if in[c] {
				continue
			}
			o := Offer{Item: c, Confidence: r.Confidence, Lift: r.Lift, Rule: ri}
			if b, ok := best[c]; !ok || better(o, b) {
				best[c] = o
			}
		}
	}
	out := make([]Offer, 0, len(best))
	for _, o := range best {
		out = append(out, o)
	}
	slices.SortFunc(out, func(x, y Offer) int {
		if better(x, y) {
			return -1
		}
		if better(y, x) {
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))], nil
}

// better orders offers: confidence, then lift, descending, then item id
// and rule ascending, a total order.
func better(x, y Offer) bool {
	if c := cmp.Or(cmp.Compare(y.Confidence, x.Confidence), cmp.Compare(y.Lift, x.Lift),
		cmp.Compare(x.Item, y.Item), cmp.Compare(x.Rule, y.Rule)); c != 0 {
		return c < 0
	}
	return false
}

// Similar returns the items most often bought with item: those of the
// frequent pairs holding it, by the pair's lift, then count, descending,
// then id; at most n.
func (m *Model) Similar(item string, n int) ([]Neighbour, error) {
	ci, ok := m.itemCount(item)
	if !ok {
		return nil, m.unknown(item)
	}
	var out []Neighbour
	for _, is := range m.Itemsets {
		if len(is.Items) != 2 || is.Items[0] != item && is.Items[1] != item {
			continue
		}
		other := is.Items[0]
		if other == item {
			other = is.Items[1]
		}
		co, _ := m.itemCount(other)
		lift := float64(is.Count) * float64(m.Baskets) / (float64(ci) * float64(co))
		out = append(out, Neighbour{Item: other, Name: m.Names[other], Lift: lift, Count: is.Count})
	}
	slices.SortFunc(out, func(x, y Neighbour) int {
		return cmp.Or(cmp.Compare(y.Lift, x.Lift), cmp.Compare(y.Count, x.Count), cmp.Compare(x.Item, y.Item))
	})
	return out[:min(n, len(out))], nil
}
