package rfm

import (
	"math"
	"slices"
)

// Tx is one shard of a transactions dataset, grouped by customer. All of a
// customer's rows are in one shard.
type Tx struct {
	// Keys are the shard's customer ids, strictly ascending.
	Keys []string
	// Ptr has len(Keys)+1 entries: customer i's rows are Ptr[i]:Ptr[i+1]
	// of the row columns below.
	Ptr []int32
	// Time is each row's time in unix seconds UTC, ascending within a
	// customer.
	Time []int64
	// Amount is each row's amount; a negative amount is a return.
	Amount []float64
	// Invoice is each row's invoice id, or nil when the dataset has no
	// invoice column; "" is a missing id.
	Invoice []string
	// Return flags returns; nil means that only negative amounts are.
	Return []bool
}

// Check reports the first structural problem of tx (ErrBadTx): lengths,
// pointer order, key order. Time order and amounts are checked as rows are
// read. A nil tx is a problem too.
func (tx *Tx) Check() error {
	if tx == nil {
		return errorf(ErrBadTx, "nil shard")
	}
	n := len(tx.Time)
	switch {
	case len(tx.Ptr) != len(tx.Keys)+1:
		return errorf(ErrBadTx, "%d pointers for %d customers, want %d", len(tx.Ptr), len(tx.Keys), len(tx.Keys)+1)
	case tx.Ptr[0] != 0 || int(tx.Ptr[len(tx.Keys)]) != n:
		return errorf(ErrBadTx, "pointers run from %d to %d over %d rows", tx.Ptr[0], tx.Ptr[len(tx.Keys)], n)
	case len(tx.Amount) != n:
		return errorf(ErrBadTx, "%d amounts for %d rows", len(tx.Amount), n)
	case tx.Invoice != nil && len(tx.Invoice) != n:
		return errorf(ErrBadTx, "%d invoices for %d rows", len(tx.Invoice), n)
	case tx.Return != nil && len(tx.Return) != n:
		return errorf(ErrBadTx, "%d return flags for %d rows", len(tx.Return), n)
	}
	for i := range tx.Keys {
		if tx.Ptr[i+1] < tx.Ptr[i] {
			return errorf(ErrBadTx, "customer %q: pointers decrease (%d, %d)", tx.Keys[i], tx.Ptr[i], tx.Ptr[i+1])
		}
		if i > 0 && tx.Keys[i] <= tx.Keys[i-1] {
			return errorf(ErrBadTx, "keys not strictly ascending: %q after %q", tx.Keys[i], tx.Keys[i-1])
		}
	}
	return nil
}

// values are one customer's unscored features.
type values struct {
	recency, frequency, sum, tenure float64
}

// of returns the value of scored feature f.
func (v *values) of(f Feature) float64 {
	switch f {
	case Recency:
		return v.recency
	case Frequency:
		return v.frequency
	}
	return v.sum
}

// scanner computes customers' features at one as-of, reusing its scratch.
type scanner struct {
	asOf int64
	inv  []string
}

// customer computes customer c's features. ok is false when the customer
// has no purchase before as-of; after counts its rows at or after as-of.
func (sc *scanner) customer(tx *Tx, c int) (v values, ok bool, after int64, err error) {
	lo, hi := int(tx.Ptr[c]), int(tx.Ptr[c+1])
	var first, last, prevT int64
	var purchases, byTime int
	sum := 0.0
	sc.inv = sc.inv[:0]
	for i := lo; i < hi; i++ {
		t, a := tx.Time[i], tx.Amount[i]
		if i > lo && t < tx.Time[i-1] {
			return v, false, 0, errorf(ErrBadTx, "customer %q row %d: time %d before the previous row's %d", tx.Keys[c], i, t, tx.Time[i-1])
		}
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return v, false, 0, errorf(ErrNonFinite, "customer %q row %d: amount %v", tx.Keys[c], i, a)
		}
		if t >= sc.asOf {
			after++
			continue
		}
		if a < 0 || (tx.Return != nil && tx.Return[i]) {
			sum -= math.Abs(a)
			continue
		}
		sum += a
		if purchases == 0 {
			first = t
		}
		last = t
		purchases++
		if inv := tx.Invoice; inv != nil && inv[i] != "" {
			// An invoice's lines are usually adjacent: keep one of each run.
			if len(sc.inv) == 0 || inv[i] != sc.inv[len(sc.inv)-1] {
				sc.inv = append(sc.inv, inv[i])
			}
		} else if byTime == 0 || t != prevT {
			byTime++ // rows are ascending in time: a new time is a new purchase
			prevT = t
		}
	}
	if purchases == 0 {
		return v, false, after, nil
	}
	if math.IsInf(sum, 0) {
		return v, false, 0, errorf(ErrNonFinite, "customer %q: monetary sum overflows", tx.Keys[c])
	}
	if !slices.IsSorted(sc.inv) { // invoice ids usually grow with time
		slices.Sort(sc.inv)
	}
	distinct := 0
	for i, s := range sc.inv {
		if i == 0 || s != sc.inv[i-1] {
			distinct++
		}
	}
	v = values{
		recency:   days(sc.asOf, last),
		frequency: float64(byTime + distinct),
		sum:       sum,
		tenure:    days(sc.asOf, first),
	}
	return v, true, after, nil
}

// days returns the whole days (floor) from t to asOf, for t < asOf. The
// difference is exact in uint64 whatever the two instants.
func days(asOf, t int64) float64 {
	return float64((uint64(asOf) - uint64(t)) / SecondsPerDay)
}

// goodness maps feature f's value to a number that is larger for better
// customers: recency is negated, zero always being +0.
func goodness(f Feature, x float64) float64 {
	if f == Recency {
		x = -x
	}
	if x == 0 {
		return 0
	}
	return x
}

// fromGoodness inverts goodness.
func fromGoodness(f Feature, g float64) float64 {
	if f == Recency {
		g = -g
	}
	if g == 0 {
		return 0
	}
	return g
}
