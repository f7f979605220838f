package als

import (
	"math"
	"runtime"
	"sync"
)

// Item neighbours. The cosine of two items is the dot product of their
// factors scaled to unit length, û·v̂ with û = u/‖u‖, ‖u‖ = √dot(u, u):
// Similar ranks one item's neighbours with TopN over the unit table, and
// Neighbours every item's with a Ranker over it, which returns what TopN
// returns bit for bit. So an item's neighbours are the same numbers
// whichever asks.

// Unit returns a table of t's rows scaled to unit length (each factor
// divided by the row's norm). A row without a trained factor, or whose
// factor is zero, gets count 0: it is nobody's neighbour and has none.
// The table shares t's ids and index.
func Unit(t *Table) *Table {
	u := &Table{Rank: t.Rank, IDs: t.IDs, F: make([]float64, len(t.F)), Count: make([]int32, t.Len()), Start: t.Start, lay: t.lay}
	for i := range t.Len() {
		if t.Count != nil && t.Count[i] == 0 {
			continue
		}
		v := t.Row(i)
		nv := math.Sqrt(dot(v, v))
		if nv == 0 || math.IsInf(nv, 0) || math.IsNaN(nv) {
			continue
		}
		w := u.Row(i)
		for k, x := range v {
			w[k] = x / nv
		}
		u.Count[i] = 1
		if t.Count != nil {
			u.Count[i] = t.Count[i]
		}
	}
	return u
}

// Similar returns the n items most like item: those whose trained factors
// have the highest cosine with item's (see Unit), best first, ties to the
// smaller id; item itself and items with no trained factor or a zero
// factor are left out. It appends to dst[:0]. An item the model does not
// know, did not train or trained to zero is ErrUnknownID, naming it.
func (m *Model) Similar(dst []Scored, item string, n int) ([]Scored, error) {
	i, err := similarIndex(m.Items, item)
	if err != nil {
		return nil, err
	}
	unit := Unit(m.Items)
	if unit.Count[i] == 0 {
		return nil, errorf(ErrUnknownID, "item %q has a zero factor", item)
	}
	return TopN(dst, unit.Row(i), unit, []string{item}, n), nil
}

func similarIndex(it *Table, item string) (int, error) {
	i, ok := it.Index(item)
	if !ok {
		return 0, errorf(ErrUnknownID, "item %q is not in the model", item)
	}
	if it.Count != nil && it.Count[i] == 0 {
		return 0, errorf(ErrUnknownID, "item %q has no trained factor (no training interaction)", item)
	}
	return i, nil
}

// Neighbourer finds the nearest items of many items at once: a Ranker over
// the unit table, each item's own unit factor as the query and the item
// itself excluded. It is safe for concurrent use.
type Neighbourer struct {
	unit *Table
	rk   *Ranker
}

// NewNeighbourer prepares the neighbours of items' rows.
func NewNeighbourer(items *Table) *Neighbourer {
	u := Unit(items)
	return &Neighbourer{unit: u, rk: NewRanker(u)}
}

// Size returns the bytes the Neighbourer holds beyond items.
func (nb *Neighbourer) Size() int64 { return int64(len(nb.unit.F))*8 + nb.rk.Size() }

// Table is the unit table.
func (nb *Neighbourer) Table() *Table { return nb.unit }

// Neighbours finds the n nearest items of each of the table positions
// rows: what Similar returns for each, bit for bit. A row without a
// neighbourhood (no trained factor, a zero factor) gets none. It appends
// to dst[:0] row after row and sets ends[i] to the end of rows[i]'s items;
// the rows are split between up to workers goroutines (≤ 0: GOMAXPROCS),
// in blocks of rankUsers rows so that each block's factors and tops stay
// in cache while the item panels stream past.
func (nb *Neighbourer) Neighbours(dst []Scored, ends []int, rows []int, n, workers int) []Scored {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const block = 4 * rankUsers
	nblocks := (len(rows) + block - 1) / block
	workers = max(1, min(workers, nblocks))
	outs := make([][]Scored, nblocks)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			var s RankScratch
			users := make([][]float64, 0, block)
			excl := make([][]int32, 0, block)
			self := make([]int32, block)
			for b := range next {
				lo, hi := b*block, min((b+1)*block, len(rows))
				users, excl = users[:0], excl[:0]
				for k, r := range rows[lo:hi] {
					self[k] = int32(r)
					users = append(users, nb.unit.Row(r))
					excl = append(excl, self[k:k+1])
				}
				out := nb.rk.TopN(nil, ends[lo:hi], users, excl, n, &s)
				// A row without a neighbourhood scores 0 with everything:
				// it has none.
				for k, r := range rows[lo:hi] {
					if nb.unit.Count[r] == 0 {
						from := 0
						if k > 0 {
							from = ends[lo+k-1]
						}
						out = append(out[:from], out[ends[lo+k]:]...)
						shift := ends[lo+k] - from
						for j := k; j < hi-lo; j++ {
							ends[lo+j] -= shift
						}
					}
				}
				outs[b] = out
			}
		})
	}
	for b := range nblocks {
		next <- b
	}
	close(next)
	wg.Wait()
	dst = dst[:0]
	for b, out := range outs {
		lo, hi := b*block, min((b+1)*block, len(rows))
		base := len(dst)
		dst = append(dst, out...)
		for k := lo; k < hi; k++ {
			ends[k] += base
		}
	}
	return dst
}
