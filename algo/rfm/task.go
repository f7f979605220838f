package rfm

import "github.com/mathcrm/mathcrm/algo/quantile"

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

// Bracket is a range of keys ([quantile.Key]) of one feature's goodness
// (see the package comment) known to hold a cut. A shard counts its
// customers in it by bins of 2^s keys, s the smallest shift that leaves at
// most NumBins bins.
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
type Hist = quantile.Hist

// NumBins is the number of bins a bracket is split into per pass.
const NumBins = quantile.NumBins

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
	qt, err := t.quantile()
	if err != nil {
		return nil, err
	}
	if err := tx.Check(); err != nil {
		return nil, err
	}
	r := &Result{Step: t.Step}
	var cols [NumFeatures][]float64 // each customer's goodness per feature
	for f := range cols {
		cols[f] = make([]float64, 0, len(tx.Keys))
	}
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
			cols[f] = append(cols[f], goodness(f, v.of(f)))
		}
	}
	qr, err := quantile.RunTask(qt, cols[:]...)
	if err != nil { // the task was checked above
		return nil, fromQuantile(err)
	}
	r.Hist = qr.Hist
	return r, nil
}

// quantile checks t and returns the quantile search's task for it.
func (t *Task) quantile() (*quantile.Task, error) {
	if t == nil {
		return nil, errorf(ErrBadTask, "nil task")
	}
	if t.AsOf == 0 {
		return nil, errorf(ErrBadTask, "task has no as-of")
	}
	if len(t.Brackets) > NumFeatures*4 {
		return nil, errorf(ErrBadTask, "%d brackets, at most %d", len(t.Brackets), NumFeatures*4)
	}
	qt := &quantile.Task{Step: t.Step, Columns: NumFeatures, Brackets: make([]quantile.Bracket, len(t.Brackets))}
	for i, b := range t.Brackets {
		if b.Feature < 0 || b.Feature >= NumFeatures {
			return nil, errorf(ErrBadTask, "bracket %d: unknown feature %d", i, b.Feature)
		}
		qt.Brackets[i] = quantile.Bracket{Column: int(b.Feature), Lo: b.Lo, Hi: b.Hi}
	}
	if err := qt.Validate(NumFeatures); err != nil { // order, overlaps, Lo > Hi
		return nil, fromQuantile(err)
	}
	return qt, nil
}
