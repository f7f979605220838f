package als

import (
	"cmp"
	"math"
	"slices"
)

// Similar returns the n items most like item: those whose trained factors
// have the highest cosine with item's, cos = v·w / (‖v‖‖w‖) (dot's
// summation order), best first, ties to the smaller id; item itself and
// items with no trained factor or a zero factor are left out. It appends to
// dst[:0]. An item the model does not know or did not train is
// ErrUnknownID, naming it.
func (m *Model) Similar(dst []Scored, item string, n int) ([]Scored, error) {
	it := m.Items
	i, ok := it.Index(item)
	if !ok {
		return nil, errorf(ErrUnknownID, "item %q is not in the model", item)
	}
	if it.Count != nil && it.Count[i] == 0 {
		return nil, errorf(ErrUnknownID, "item %q has no trained factor (no training interaction)", item)
	}
	v := it.Row(i)
	nv := math.Sqrt(dot(v, v))
	if nv == 0 {
		return nil, errorf(ErrUnknownID, "item %q has a zero factor", item)
	}
	dst = dst[:0]
	for j := 0; j < it.Len(); j++ {
		if j == i || it.Count != nil && it.Count[j] == 0 {
			continue
		}
		w := it.Row(j)
		nw := math.Sqrt(dot(w, w))
		if nw == 0 {
			continue
		}
		dst = append(dst, Scored{ID: it.IDs[j], Score: dot(v, w) / (nv * nw)})
	}
	slices.SortFunc(dst, func(a, b Scored) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) })
	return dst[:min(n, len(dst))], nil
}
