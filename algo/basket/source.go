package basket

import (
	"slices"
	"strconv"

	"github.com/mathcrm/mathcrm/partition"
)

// Where a job's baskets come from.
const (
	// BasketUser makes one basket of each user of an interactions dataset.
	BasketUser = "user"
	// BasketInvoice makes one basket of each invoice of a transactions
	// dataset.
	BasketInvoice = "invoice"
	// BasketCustomer makes one basket of each customer's purchases on one
	// day (UTC) of a transactions dataset.
	BasketCustomer = "customer"
)

// Source says how a shard's rows become baskets: the dataset kind, what a
// basket is, and whether returns are left out. It travels with every task,
// and the worker caches a shard's baskets under it.
type Source struct {
	Kind           string `json:"kind"`
	Basket         string `json:"basket"`
	ExcludeReturns bool   `json:"exclude_returns,omitempty"`
}

func (s Source) key() string {
	k := s.Kind + "|" + s.Basket
	if s.ExcludeReturns {
		k += "|-returns"
	}
	return k
}

// FromInteractions makes one basket of each user of a by-user interactions
// shard: the distinct items of the user's interactions. With
// excludeReturns an interaction with a value of 0 or less (a return, a
// cancelled line) is left out, and a user left with no item makes no
// basket.
func FromInteractions(s *partition.Interactions, excludeReturns bool) *Baskets {
	keep := func(k int) bool { return !excludeReturns || s.Value == nil || s.Value[k] > 0 }
	items := make([]string, 0, len(s.Other))
	for k, it := range s.Other {
		if keep(k) {
			items = append(items, it)
		}
	}
	slices.Sort(items)
	items = slices.Compact(items)
	index := make(map[string]int32, len(items))
	for i, it := range items {
		index[it] = int32(i)
	}
	b := &Baskets{Items: items, Ptr: make([]int32, 1, len(s.Keys)+1), Idx: make([]int32, 0, len(s.Other))}
	for u := range s.Keys {
		lo := len(b.Idx)
		for k := s.Ptr[u]; k < s.Ptr[u+1]; k++ {
			if !keep(int(k)) {
				continue
			}
			// A user's items are ascending, so their positions are; a
			// repeated interaction is adjacent.
			i := index[s.Other[k]]
			if len(b.Idx) == lo || b.Idx[len(b.Idx)-1] != i {
				b.Idx = append(b.Idx, i)
			}
		}
		if len(b.Idx) > lo {
			b.Ptr = append(b.Ptr, int32(len(b.Idx)))
		}
	}
	return b
}

// FromTransactions makes baskets of a transactions shard whose rows carry
// an item each (items[r] is row r's; "" is a row without one, left out):
// one per invoice with BasketInvoice (rows without an invoice id fall back
// to their customer's day), one per customer and UTC day with
// BasketCustomer. With excludeReturns, return rows are left out. A basket
// holds the distinct items of its rows; one left with none is no basket.
func FromTransactions(s *partition.Transactions, items []string, by string, excludeReturns bool) *Baskets {
	var lists [][]string
	for c := range s.Keys {
		groups := map[string]int{} // basket id → position in lists
		for r := s.Ptr[c]; r < s.Ptr[c+1]; r++ {
			if items[r] == "" || excludeReturns && s.Return[r] {
				continue
			}
			id := ""
			if by == BasketInvoice && s.Invoice != nil && s.Invoice[r] != "" {
				id = "i" + s.Invoice[r]
			} else {
				day := s.Time[r] / 86400
				if s.Time[r] < 0 && s.Time[r]%86400 != 0 {
					day-- // floor: the day a time before 1970 falls on
				}
				id = "d" + strconv.FormatInt(day, 10)
			}
			g, ok := groups[id]
			if !ok {
				g = len(lists)
				groups[id] = g
				lists = append(lists, nil)
			}
			lists[g] = append(lists[g], items[r])
		}
	}
	return FromLists(lists)
}
