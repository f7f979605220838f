package clv

import (
	"errors"
	"math"
	"sync"
)

// Scores are one customer's predictions.
type Scores struct {
	// PAlive is the probability that the customer is alive at the
	// calibration end.
	PAlive float64 `json:"p_alive"`
	// ExpectedPurchases is the expected number of purchases over the
	// horizon.
	ExpectedPurchases float64 `json:"expected_purchases"`
	// ExpectedSpend is the Gamma-Gamma conditional expected spend per
	// purchase.
	ExpectedSpend float64 `json:"expected_spend"`
	// CLV is the discounted lifetime value over the value config's months.
	CLV float64 `json:"clv"`
}

// ScoreConfig describes a scoring run.
type ScoreConfig struct {
	// Horizon is the horizon of ExpectedPurchases in the model's time
	// units, > 0.
	Horizon float64 `json:"horizon"`
	// Value is the CLV's horizon and discount rate.
	Value ValueConfig `json:"value"`
}

// Validate reports what is wrong with c.
func (c ScoreConfig) Validate() error {
	if !(c.Horizon > 0) || !finite(c.Horizon) {
		return errorf(ErrConfig, "Horizon %v is not a finite number > 0", c.Horizon)
	}
	return c.Value.Validate()
}

// Score appends to dst the scores of s's customers, in s's order, and
// returns it. A customer whose scores cannot be computed is an ErrPredict
// naming it (ErrNoSpend when its expected spend is infinite). Each customer's scores are those of PAlive, ExpectedPurchases,
// ExpectedSpend and CLV, bit for bit; customers with the same x and T share
// the hypergeometric series of their expectations.
func (m *Model) Score(dst []Scores, s *Summaries, sc ScoreConfig) ([]Scores, error) {
	if err := sc.Validate(); err != nil {
		return dst, err
	}
	v := newValuer(m, sc, nil, len(s.Keys))
	for c, key := range s.Keys {
		r, err := v.score(s.X[c], s.Tx[c], s.T[c], s.Spend[c])
		if err != nil {
			sentinel := ErrPredict
			if errors.Is(err, ErrNoSpend) {
				sentinel = ErrNoSpend
			}
			return dst, errorf(sentinel, "customer %q: %v", key, err)
		}
		dst = append(dst, r)
	}
	return dst, nil
}

// valuer scores customers with one model and configuration. For BG/NBD it
// keeps, per distinct (x, T), the numerator of the expectation over the
// horizon and the CLV's discounted sum of the month-end numerators
// (valueTerms); a customer then costs one denominator, shared by
// P(alive), the expectation and the CLV.
type valuer struct {
	pm    *PurchaseModel
	sm    *SpendModel
	sc    ScoreConfig
	unit  string
	ts    []float64                // the horizon, then month i's end, i = 1 … Months
	disc  []float64                // (1+Rate)^i, i = 1 … Months
	nums  []float64                // bgnbdNums at ts, scratch
	of    map[[2]uint64]valueTerms // by the bits of (x, T)
	table *termsTable              // shared with other shards' valuers, or nil
}

// valueTerms are the parts of a BG/NBD customer's scores that depend on x
// and T only: the numerator of the expectation over the horizon, and
// Σᵢ (numᵢ − numᵢ₋₁)/(1+Rate)^i over the month ends (discounted).
type valueTerms struct{ horizon, clv float64 }

// termsTable holds the valueTerms of one model and configuration for the
// shards a worker scores: the shards of a dataset share most of their
// (x, T) (T takes one value per day of first purchase), so each is
// computed about once per worker rather than once per shard. It keeps at
// most termsTableCap entries; the rest are computed per shard.
type termsTable struct {
	mu sync.Mutex
	m  map[[2]uint64]valueTerms
}

// termsTableCap bounds a termsTable's entries (about 64 bytes each).
const termsTableCap = 1 << 17

func newTermsTable() *termsTable { return &termsTable{m: map[[2]uint64]valueTerms{}} }

// newValuer returns a valuer for about n customers.
func newValuer(m *Model, sc ScoreConfig, table *termsTable, n int) *valuer {
	v := &valuer{pm: m.PurchaseModel(), sm: m.SpendModel(), sc: sc, unit: m.Config.withDefaults().TimeUnit,
		of: make(map[[2]uint64]valueTerms, min(n/4, 1<<14)), table: table}
	f := monthUnits(v.unit)
	v.ts = append(v.ts, sc.Horizon)
	for i := 1; i <= sc.Value.Months; i++ {
		v.ts = append(v.ts, float64(i)*f)
		v.disc = append(v.disc, math.Pow(1+sc.Value.Rate, float64(i)))
	}
	v.nums = make([]float64, len(v.ts))
	return v
}

// termsOf returns the valueTerms of a customer with x repeat purchases
// seen up to T.
func (v *valuer) termsOf(x, T float64) (valueTerms, error) {
	k := [2]uint64{math.Float64bits(x), math.Float64bits(T)}
	if vt, ok := v.of[k]; ok {
		return vt, nil
	}
	if tb := v.table; tb != nil {
		tb.mu.Lock()
		vt, ok := tb.m[k]
		tb.mu.Unlock()
		if ok {
			v.of[k] = vt
			return vt, nil
		}
	}
	if err := bgnbdNums(v.pm.Params, v.ts, x, T, v.nums); err != nil {
		return valueTerms{}, err
	}
	vt := valueTerms{horizon: v.nums[0], clv: discounted(v.nums[1:], v.disc)}
	v.of[k] = vt
	if tb := v.table; tb != nil {
		tb.mu.Lock()
		if len(tb.m) < termsTableCap {
			tb.m[k] = vt
		}
		tb.mu.Unlock()
	}
	return vt, nil
}

// score returns one customer's scores.
func (v *valuer) score(x, tx, T, mean float64) (Scores, error) {
	var r Scores
	var err error
	if v.pm.Model != BGNBD {
		if r.PAlive, err = v.pm.PAlive(x, tx, T); err == nil {
			if r.ExpectedPurchases, err = v.pm.ExpectedPurchases(v.sc.Horizon, x, tx, T); err == nil {
				if r.ExpectedSpend, err = v.sm.ExpectedSpend(x, mean); err == nil {
					r.CLV, err = CLV(v.pm, v.sm, v.unit, v.sc.Value, x, tx, T, mean)
				}
			}
		}
		return r, err
	}
	den := bgnbdDen(v.pm.Params, x, tx, T)
	r.PAlive = 1 / den
	vt, err := v.termsOf(x, T)
	if err != nil {
		return r, err
	}
	r.ExpectedPurchases = vt.horizon / den
	if r.ExpectedSpend, err = v.sm.ExpectedSpend(x, mean); err != nil {
		return r, err
	}
	// CLV's expression, with its operations in its order.
	clv := r.ExpectedSpend * vt.clv / den
	if !finite(clv) {
		return r, errorf(ErrPredict, "CLV %v at x=%v tx=%v T=%v", clv, x, tx, T)
	}
	r.CLV = clv
	return r, nil
}
