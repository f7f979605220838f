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
