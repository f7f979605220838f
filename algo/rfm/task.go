package rfm

// Task is everything a shard needs to compute its Result for one pass. It
// is the same for every shard of a pass and is JSON-serialisable.
type Task struct {
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// AsOf is the job's Config.AsOf.
	AsOf int64 `json:"as_of"`
	// Brackets are the key ranges still searched for a cut, sorted by
	// feature then Lo, disjoint within a feature.
	Brackets []Bracket `json:"brackets"`
}

// Bracket is a range of keys of one feature's goodness (see the package
// comment) known to hold a cut. A shard counts its customers in it by
// bins of 2^s keys, s the smallest shift that leaves at most NumBins bins.
type Bracket struct {
	Feature Feature `json:"feature"`
	Lo      uint64  `json:"lo"`
	Hi      uint64  `json:"hi"`
}

// Result is one shard's answer to a Task. Its size depends on the number
// of brackets (at most 12) and NumBins, never on the shard's size.
type Result struct {
	Step int64 `json:"step"`
	// N counts the shard's customers with a purchase before AsOf.
	N int64 `json:"n"`
	// Dropped counts what the shard left out; it is the same every pass.
	Dropped Dropped `json:"dropped"`
	// Hist holds one histogram per Task bracket, in the same order.
	Hist []Hist `json:"hist"`
}

// Hist is the shard's histogram of one bracket: for each bin holding at
// least one customer, in ascending bin order, the bin's index, the number
// of customers in it and the least and greatest key among them.
type Hist struct {
	Bin   []int32  `json:"bin"`
	Count []int64  `json:"count"`
	Min   []uint64 `json:"min"`
	Max   []uint64 `json:"max"`
}

// Dropped counts what RFM leaves out.
type Dropped struct {
	// NoPurchase counts customers with no purchase before AsOf (only
	// returns, only rows at or after AsOf, or no rows): they get no row.
	NoPurchase int64 `json:"no_purchase"`
	// AfterAsOf counts rows with Time ≥ AsOf, which are ignored.
	AfterAsOf int64 `json:"after_as_of"`
}

func (d *Dropped) add(o Dropped) {
	d.NoPurchase += o.NoPurchase
	d.AfterAsOf += o.AfterAsOf
}

// RunTask computes one shard's Result for t. It reads every row of tx once
// and keeps no reference to tx.
func RunTask(t *Task, tx *Tx) (*Result, error) {
	if err := checkTask(t); err != nil {
		return nil, err
	}
	if err := tx.check(); err != nil {
		return nil, err
	}
	bins := make([]binAcc, len(t.Brackets))
	for i, b := range t.Brackets {
		bins[i].init(b)
	}
	// byFeature[f] holds the indexes of feature f's brackets, ascending Lo.
	var byFeature [NumFeatures][]int
	for i, b := range t.Brackets {
		byFeature[b.Feature] = append(byFeature[b.Feature], i)
	}
	r := &Result{Step: t.Step, Hist: make([]Hist, len(t.Brackets))}
	sc := scanner{asOf: t.AsOf}
	for c := range tx.Keys {
		v, ok, after, err := sc.customer(tx, c)
		if err != nil {
			return nil, err
		}
		r.Dropped.AfterAsOf += after
		if !ok {
			r.Dropped.NoPurchase++
			continue
		}
		r.N++
		for f := range Feature(NumFeatures) {
			k := key(goodness(f, v.of(f)))
			if i, ok := findBracket(t.Brackets, byFeature[f], k); ok {
				bins[i].add(k)
			}
		}
	}
	for i := range bins {
		r.Hist[i] = bins[i].hist()
	}
	return r, nil
}

// findBracket returns the bracket among idx (ascending, disjoint) holding k.
func findBracket(bs []Bracket, idx []int, k uint64) (int, bool) {
	lo, hi := 0, len(idx)
	for lo < hi { // first bracket whose Hi ≥ k
		m := int(uint(lo+hi) >> 1)
		if bs[idx[m]].Hi < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(idx) && bs[idx[lo]].Lo <= k {
		return idx[lo], true
	}
	return 0, false
}

func checkTask(t *Task) error {
	if t == nil {
		return errorf(ErrBadTask, "nil task")
	}
	if t.AsOf == 0 {
		return errorf(ErrBadTask, "task has no as-of")
	}
	if len(t.Brackets) > NumFeatures*4 {
		return errorf(ErrBadTask, "%d brackets, at most %d", len(t.Brackets), NumFeatures*4)
	}
	for i, b := range t.Brackets {
		switch {
		case b.Feature < 0 || b.Feature >= NumFeatures:
			return errorf(ErrBadTask, "bracket %d: unknown feature %d", i, b.Feature)
		case b.Lo > b.Hi:
			return errorf(ErrBadTask, "bracket %d: Lo %d above Hi %d", i, b.Lo, b.Hi)
		case i > 0 && (b.Feature < t.Brackets[i-1].Feature ||
			b.Feature == t.Brackets[i-1].Feature && b.Lo <= t.Brackets[i-1].Hi):
			return errorf(ErrBadTask, "bracket %d: not after bracket %d", i, i-1)
		}
	}
	return nil
}

// binAcc accumulates one bracket's dense histogram.
type binAcc struct {
	lo, hi   uint64
	shift    uint
	count    []int64
	min, max []uint64
}

func (a *binAcc) init(b Bracket) {
	a.lo, a.hi, a.shift = b.Lo, b.Hi, binShift(b.Lo, b.Hi)
	n := int((b.Hi-b.Lo)>>a.shift) + 1
	a.count = make([]int64, n)
	a.min = make([]uint64, n)
	a.max = make([]uint64, n)
}

func (a *binAcc) add(k uint64) {
	b := (k - a.lo) >> a.shift
	if a.count[b] == 0 || k < a.min[b] {
		a.min[b] = k
	}
	if a.count[b] == 0 || k > a.max[b] {
		a.max[b] = k
	}
	a.count[b]++
}

// hist returns the non-empty bins, sparse.
func (a *binAcc) hist() Hist {
	var h Hist
	for b, n := range a.count {
		if n > 0 {
			h.Bin = append(h.Bin, int32(b))
			h.Count = append(h.Count, n)
			h.Min = append(h.Min, a.min[b])
			h.Max = append(h.Max, a.max[b])
		}
	}
	return h
}
