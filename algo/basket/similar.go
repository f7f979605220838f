package basket

import (
	"cmp"
	"slices"
)

// Neighbours returns the items most associated with item, at most n:
// those a rule links to it (a rule item → Y or Y → item) by the pair's
// lift, then count, descending; when no rule holds for item, those of its
// frequent pairs by co-occurrence (the pair's count, then lift). byLift
// says which. Every lift is of counts of at least MinCount: never NaN.
// An item the model does not know is ErrUnknownItem.
func (m *Model) Neighbours(item string, n int) (out []Neighbour, byLift bool, err error) {
	pairs, err := m.Similar(item, len(m.Itemsets))
	if err != nil {
		return nil, false, err
	}
	ruled := map[string]bool{}
	for _, r := range m.Rules {
		if len(r.Antecedent)+len(r.Consequent) != 2 {
			continue
		}
		if r.Antecedent[0] == item {
			ruled[r.Consequent[0]] = true
		} else if r.Consequent[0] == item {
			ruled[r.Antecedent[0]] = true
		}
	}
	if len(ruled) > 0 {
		for _, p := range pairs { // by lift, then count, then id
			if ruled[p.Item] {
				out = append(out, p)
			}
		}
		return out[:min(n, len(out))], true, nil
	}
	slices.SortFunc(pairs, func(x, y Neighbour) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(y.Lift, x.Lift), cmp.Compare(x.Item, y.Item))
	})
	return pairs[:min(n, len(pairs))], false, nil
}

// Neighbourhood is one item's neighbours, as Neighbours returns them.
type Neighbourhood struct {
	Items  []Neighbour
	ByLift bool
}

// AllNeighbours returns every frequent item's n nearest items, what
// Neighbours returns for each, in one pass over the itemsets and rules
// rather than one per item.
func (m *Model) AllNeighbours(n int) map[string]Neighbourhood {
	counts := map[string]int64{}
	for _, is := range m.Itemsets {
		if len(is.Items) == 1 {
			counts[is.Items[0]] = is.Count
		}
	}
	pairs := make(map[string][]Neighbour, len(counts))
	for _, is := range m.Itemsets {
		if len(is.Items) != 2 {
			continue
		}
		a, b := is.Items[0], is.Items[1]
		lift := float64(is.Count) * float64(m.Baskets) / (float64(counts[a]) * float64(counts[b]))
		pairs[a] = append(pairs[a], Neighbour{Item: b, Name: m.Names[b], Lift: lift, Count: is.Count})
		pairs[b] = append(pairs[b], Neighbour{Item: a, Name: m.Names[a], Lift: lift, Count: is.Count})
	}
	ruled := map[[2]string]bool{}
	hasRule := map[string]bool{}
	for _, r := range m.Rules {
		if len(r.Antecedent)+len(r.Consequent) != 2 {
			continue
		}
		a, c := r.Antecedent[0], r.Consequent[0]
		ruled[[2]string{a, c}], ruled[[2]string{c, a}] = true, true
		hasRule[a], hasRule[c] = true, true
	}
	out := make(map[string]Neighbourhood, len(counts))
	for item := range counts {
		ps := pairs[item]
		if hasRule[item] {
			slices.SortFunc(ps, func(x, y Neighbour) int {
				return cmp.Or(cmp.Compare(y.Lift, x.Lift), cmp.Compare(y.Count, x.Count), cmp.Compare(x.Item, y.Item))
			})
			var kept []Neighbour
			for _, p := range ps {
				if ruled[[2]string{item, p.Item}] {
					kept = append(kept, p)
				}
			}
			out[item] = Neighbourhood{Items: kept[:min(n, len(kept))], ByLift: true}
			continue
		}
		slices.SortFunc(ps, func(x, y Neighbour) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(y.Lift, x.Lift), cmp.Compare(x.Item, y.Item))
		})
		out[item] = Neighbourhood{Items: ps[:min(n, len(ps))]}
	}
	return out
}
