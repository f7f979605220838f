package quantile

import (
	"math"
	"math/bits"
)

// Task is everything a shard needs to compute its Result for one pass. It
// is the same for every shard of a pass and is JSON-serialisable.
type Task struct {
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// Columns is the number of value columns RunTask must be given.
	Columns int `json:"columns"`
	// Brackets are the key ranges still searched for a cut, sorted by
	// column then Lo, disjoint within a column. A column without one has
	// no open search this pass; its values are only counted.
	Brackets []Bracket `json:"brackets"`
}

// Bracket is a range Lo..Hi (inclusive) of keys ([Key]) of one column
// known to hold a cut. A shard counts its values in it by bins of 2^s
// keys, s the smallest shift that leaves at most NumBins bins.
type Bracket struct {
	Column int    `json:"column"`
	Lo     uint64 `json:"lo"`
	Hi     uint64 `json:"hi"`
}

// Result is one shard's answer to a Task. Its size depends on the number
// of columns and brackets (at most Columns·(Q−1)) and NumBins, never on
// the shard's values.
type Result struct {
	Step int64 `json:"step"`
	// N counts each column's values that are not NaN; it is the same
	// every pass.
	N []int64 `json:"n"`
	// Missing counts each column's NaNs, which are left out.
	Missing []int64 `json:"missing"`
	// Hist holds one histogram per Task bracket, in the same order.
	Hist []Hist `json:"hist"`
}

// Hist is a shard's histogram of one bracket: for each bin holding at
// least one value, in ascending bin order, the bin's index, the number of
// values in it and the least and greatest key among them.
type Hist struct {
	Bin   []int32  `json:"bin"`
	Count []int64  `json:"count"`
	Min   []uint64 `json:"min"`
	Max   []uint64 `json:"max"`
}

// RunTask computes one shard's Result for t from its values, one slice per
// column (t.Columns of them; the columns may differ in length). NaN is a
// missing value: it is counted in Result.Missing and ranked nowhere; every
// other value, ±Inf included, is ranked, −0 as +0. RunTask reads each
// value once, allocates only the Result and at most one dense histogram
// per bracket, and keeps no reference to values.
func RunTask(t *Task, values ...[]float64) (*Result, error) {
	if err := t.Validate(len(values)); err != nil {
		return nil, err
	}
	r := &Result{
		Step:    t.Step,
		N:       make([]int64, t.Columns),
		Missing: make([]int64, t.Columns),
		Hist:    make([]Hist, len(t.Brackets)),
	}
	accs := make([]binAcc, len(t.Brackets))
	for i, b := range t.Brackets {
		accs[i].init(b.Lo, b.Hi)
	}
	los := make([]uint64, len(t.Brackets)) // the brackets' bounds, for the search
	his := make([]uint64, len(t.Brackets))
	for i, b := range t.Brackets {
		los[i], his[i] = b.Lo, b.Hi
	}
	from := 0 // the column's first bracket
	for c, col := range values {
		to := from
		for to < len(t.Brackets) && t.Brackets[to].Column == c {
			to++
		}
		var missing int
		switch to - from {
		case 0:
			missing = countNaN(col)
		case 1:
			missing = accs[from].addAll(col)
		default:
			missing = addSearched(los[from:to], his[from:to], accs[from:to], col)
		}
		r.N[c], r.Missing[c] = int64(len(col)-missing), int64(missing)
		from = to
	}
	for i := range accs {
		r.Hist[i] = accs[i].hist()
	}
	return r, nil
}

func countNaN(col []float64) int {
	n := 0
	for _, x := range col {
		if x != x {
			n++
		}
	}
	return n
}

// addSearched adds each value of col to the bracket holding its key, if
// any, and returns the number of NaNs. los and his hold the brackets' Lo
// and Hi, ascending and disjoint.
func addSearched(los, his []uint64, accs []binAcc, col []float64) int {
	var ix bracketIndex
	ix.init(los, his)
	missing := 0
	for _, x := range col {
		if x != x {
			missing++
			continue
		}
		k := Key(x)
		d := k - ix.lo
		if d > ix.span {
			continue
		}
		c := d >> ix.shift
		first, last := int(ix.first[c&indexMask]), int(ix.first[(c+1)&indexMask])
		if i := first + lowerBound(his[first:last+1], k); los[i] <= k {
			accs[i].add(k)
		}
	}
	return missing
}

// bracketIndex narrows the search for a key's bracket to the brackets that
// meet its cell, one of at most indexCells equal slices of the keys from
// the first bracket's Lo to the last one's Hi: usually one or two, so a
// value costs a table look-up rather than a binary search over them all.
type bracketIndex struct {
	lo, span uint64
	shift    uint
	// first[c] is the first bracket whose Hi is at least cell c's first
	// key, or the last bracket past the last cell: a key in cell c is in
	// one of the brackets first[c]..first[c+1], if any.
	first [2 * indexCells]uint16
}

const (
	indexCells = 1024
	indexMask  = 2*indexCells - 1 // the table's size, to spare bounds checks
)

func (ix *bracketIndex) init(los, his []uint64) {
	last := len(his) - 1
	ix.lo, ix.span = los[0], his[last]-los[0]
	ix.shift = uint(max(0, bits.Len64(ix.span)-bits.Len64(indexCells-1)))
	cells := ix.span >> ix.shift // the last cell
	for c := range ix.first {
		if uint64(c) > cells {
			ix.first[c] = uint16(last)
			continue
		}
		ix.first[c] = uint16(lowerBound(his, ix.lo+uint64(c)<<ix.shift))
	}
}

// lowerBound returns the first index i of the ascending a with a[i] ≥ k,
// or len(a), by a binary search without data-dependent branches: which
// bracket a value falls near is unpredictable, and a mispredicted branch
// per halving costs more than the whole search.
func lowerBound(a []uint64, k uint64) int {
	if len(a) == 0 {
		return 0
	}
	base, n := 0, len(a)
	for n > 1 {
		half := n >> 1
		_, below := bits.Sub64(a[base+half-1], k, 0) // 1 when a[base+half−1] < k
		base += half & -int(below)
		n -= half
	}
	_, below := bits.Sub64(a[base], k, 0)
	return base + int(below)
}

// Validate reports the first thing wrong with t for a shard holding the
// given number of value columns: a nil task, a column count that differs,
// too many brackets, or brackets out of range, empty, or not sorted and
// disjoint. RunTask runs no task that fails it.
func (t *Task) Validate(columns int) error {
	if t == nil {
		return errorf(ErrBadTask, "nil task")
	}
	if t.Columns < 1 || t.Columns != columns {
		return errorf(ErrBadTask, "task for %d columns, %d given", t.Columns, columns)
	}
	if len(t.Brackets) > t.Columns*(MaxQ-1) {
		return errorf(ErrBadTask, "%d brackets, at most %d", len(t.Brackets), t.Columns*(MaxQ-1))
	}
	for i, b := range t.Brackets {
		switch {
		case b.Column < 0 || b.Column >= t.Columns:
			return errorf(ErrBadTask, "bracket %d: column %d of %d", i, b.Column, t.Columns)
		case b.Lo > b.Hi:
			return errorf(ErrBadTask, "bracket %d: Lo %d above Hi %d", i, b.Lo, b.Hi)
		case i > 0 && (b.Column < t.Brackets[i-1].Column ||
			b.Column == t.Brackets[i-1].Column && b.Lo <= t.Brackets[i-1].Hi):
			return errorf(ErrBadTask, "bracket %d: not after bracket %d", i, i-1)
		}
	}
	return nil
}

// binAcc accumulates one bracket's dense histogram. Bins are fixed-size
// arrays indexed by a byte, so the hot loop has no bounds checks; an empty
// bin has min MaxUint64 and max 0, so adding needs no test for emptiness.
type binAcc struct {
	lo, span uint64 // the bracket is lo..lo+span
	shift    uint
	n        int // bins in use
	count    [NumBins]int64
	min, max [NumBins]uint64
}

func (a *binAcc) init(lo, hi uint64) {
	a.lo, a.span, a.shift = lo, hi-lo, binShift(lo, hi)
	a.n = int(a.span>>a.shift) + 1
	for b := range a.min {
		a.min[b] = math.MaxUint64
	}
}

// add counts key k, which must be in the bracket.
func (a *binAcc) add(k uint64) {
	b := uint8((k - a.lo) >> a.shift)
	a.count[b]++
	a.min[b] = min(a.min[b], k)
	a.max[b] = max(a.max[b], k)
}

// addAll adds every value of col whose key is in the bracket and returns
// the number of NaNs.
func (a *binAcc) addAll(col []float64) int {
	missing := 0
	lo, span, shift := a.lo, a.span, a.shift
	for _, x := range col {
		if x != x {
			missing++
			continue
		}
		k := Key(x)
		if d := k - lo; d <= span {
			b := uint8(d >> shift)
			a.count[b]++
			a.min[b] = min(a.min[b], k)
			a.max[b] = max(a.max[b], k)
		}
	}
	return missing
}

// merge adds a checked sparse histogram into a.
func (a *binAcc) merge(h *Hist) {
	for i, b := range h.Bin {
		a.count[b] += h.Count[i]
		a.min[b] = min(a.min[b], h.Min[i])
		a.max[b] = max(a.max[b], h.Max[i])
	}
}

// hist returns the non-empty bins, sparse.
func (a *binAcc) hist() Hist {
	var h Hist
	for b, n := range a.count[:a.n] {
		if n > 0 {
			h.Bin = append(h.Bin, int32(b))
			h.Count = append(h.Count, n)
			h.Min = append(h.Min, a.min[b])
			h.Max = append(h.Max, a.max[b])
		}
	}
	return h
}
