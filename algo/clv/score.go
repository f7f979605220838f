package clv

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
// naming it.
func (m *Model) Score(dst []Scores, s *Summaries, sc ScoreConfig) ([]Scores, error) {
	if err := sc.Validate(); err != nil {
		return dst, err
	}
	pm, sm := m.PurchaseModel(), m.SpendModel()
	unit := m.Config.withDefaults().TimeUnit
	for c, key := range s.Keys {
		x, tx, T, mean := s.X[c], s.Tx[c], s.T[c], s.Spend[c]
		var r Scores
		var err error
		if r.PAlive, err = pm.PAlive(x, tx, T); err == nil {
			if r.ExpectedPurchases, err = pm.ExpectedPurchases(sc.Horizon, x, tx, T); err == nil {
				if r.ExpectedSpend, err = sm.ExpectedSpend(x, mean); err == nil {
					r.CLV, err = CLV(pm, sm, unit, sc.Value, x, tx, T, mean)
				}
			}
		}
		if err != nil {
			return dst, errorf(ErrPredict, "customer %q: %v", key, err)
		}
		dst = append(dst, r)
	}
	return dst, nil
}
