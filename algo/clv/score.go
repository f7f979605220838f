package clv

import (
	"errors"
	"math"
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
	v := newValuer(m, sc)
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
// keeps, per distinct (x, T), the numerators bgnbdNum of the expectation
// over the horizon and to the end of each month; a customer then costs
// P(alive), one denominator and the CLV's sum.
type valuer struct {
	pm   *PurchaseModel
	sm   *SpendModel
	sc   ScoreConfig
	unit string
	ts   []float64 // the horizon, then month i's end, i = 1 … Months
	disc []float64 // (1+Rate)^i, i = 1 … Months
	of   map[[2]float64]int
	nums []float64 // len(ts) numerators per distinct (x, T)
}

func newValuer(m *Model, sc ScoreConfig) *valuer {
	v := &valuer{pm: m.PurchaseModel(), sm: m.SpendModel(), sc: sc, unit: m.Config.withDefaults().TimeUnit,
		of: map[[2]float64]int{}}
	f := monthUnits(v.unit)
	v.ts = append(v.ts, sc.Horizon)
	for i := 1; i <= sc.Value.Months; i++ {
		v.ts = append(v.ts, float64(i)*f)
		v.disc = append(v.disc, math.Pow(1+sc.Value.Rate, float64(i)))
	}
	return v
}

// numsOf returns the numerators of a customer with x repeat purchases seen
// up to T.
func (v *valuer) numsOf(x, T float64) ([]float64, error) {
	k := len(v.ts)
	if i, ok := v.of[[2]float64{x, T}]; ok {
		return v.nums[i : i+k : i+k], nil
	}
	i := len(v.nums)
	v.nums = append(v.nums, make([]float64, k)...)
	if err := bgnbdNums(v.pm.Params, v.ts, x, T, v.nums[i:]); err != nil {
		v.nums = v.nums[:i]
		return nil, err
	}
	v.of[[2]float64{x, T}] = i
	return v.nums[i : i+k : i+k], nil
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
	if r.PAlive, err = v.pm.PAlive(x, tx, T); err != nil {
		return r, err
	}
	nums, err := v.numsOf(x, T)
	if err != nil {
		return r, err
	}
	den := bgnbdDen(v.pm.Params, x, tx, T)
	r.ExpectedPurchases = nums[0] / den
	if r.ExpectedSpend, err = v.sm.ExpectedSpend(x, mean); err != nil {
		return r, err
	}
	// CLV's sum, with its operations in its order.
	spend := r.ExpectedSpend
	clv, prev := 0.0, 0.0
	for i, d := range v.disc {
		e := nums[i+1] / den
		clv += spend * (e - prev) / d
		prev = e
	}
	if !finite(clv) {
		return r, errorf(ErrPredict, "CLV %v at x=%v tx=%v T=%v", clv, x, tx, T)
	}
	r.CLV = clv
	return r, nil
}
