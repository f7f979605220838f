package basket

import (
	"slices"
	"strings"
)

// Baskets are one shard's baskets. Items is the shard's item dictionary, ids
// strictly ascending; basket b holds the items Items[i] for i in
// Idx[Ptr[b]:Ptr[b+1]], strictly ascending (an item is in a basket or not).
type Baskets struct {
	Items []string
	Ptr   []int32
	Idx   []int32
	// Names are the display names of items, where the dataset has them.
	Names map[string]string
}

// Len is the number of baskets.
func (b *Baskets) Len() int { return max(len(b.Ptr)-1, 0) }

// FromLists builds Baskets from lists of item ids, one list a basket; an id
// repeated in a list counts once, and an empty list is an empty basket.
func FromLists(lists [][]string) *Baskets {
	var items []string
	for _, l := range lists {
		items = append(items, l...)
	}
	slices.Sort(items)
	items = slices.Compact(items)
	b := &Baskets{Items: items, Ptr: make([]int32, 1, len(lists)+1)}
	var row []int32
	for _, l := range lists {
		row = row[:0]
		for _, it := range l {
			i, _ := slices.BinarySearch(items, it)
			row = append(row, int32(i))
		}
		slices.Sort(row)
		row = slices.Compact(row)
		b.Idx = append(b.Idx, row...)
		b.Ptr = append(b.Ptr, int32(len(b.Idx)))
	}
	return b
}

// check reports the first structural problem of b.
func (b *Baskets) check() error {
	if b == nil {
		return errorf(ErrBaskets, "nil shard")
	}
	for i := 1; i < len(b.Items); i++ {
		if strings.Compare(b.Items[i-1], b.Items[i]) >= 0 {
			return errorf(ErrBaskets, "item ids not strictly ascending: %q after %q", b.Items[i], b.Items[i-1])
		}
	}
	if len(b.Ptr) == 0 {
		if len(b.Idx) != 0 {
			return errorf(ErrBaskets, "%d item entries and no basket pointers", len(b.Idx))
		}
		return nil
	}
	if b.Ptr[0] != 0 || int(b.Ptr[len(b.Ptr)-1]) != len(b.Idx) {
		return errorf(ErrBaskets, "pointers run from %d to %d over %d entries", b.Ptr[0], b.Ptr[len(b.Ptr)-1], len(b.Idx))
	}
	for k := 0; k+1 < len(b.Ptr); k++ {
		lo, hi := b.Ptr[k], b.Ptr[k+1]
		if hi < lo {
			return errorf(ErrBaskets, "basket %d: pointers decrease (%d, %d)", k, lo, hi)
		}
		for j := lo; j < hi; j++ {
			if b.Idx[j] < 0 || int(b.Idx[j]) >= len(b.Items) {
				return errorf(ErrBaskets, "basket %d: item index %d outside a dictionary of %d", k, b.Idx[j], len(b.Items))
			}
			if j > lo && b.Idx[j] <= b.Idx[j-1] {
				return errorf(ErrBaskets, "basket %d: items not strictly ascending", k)
			}
		}
	}
	return nil
}
