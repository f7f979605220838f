package clv

import "github.com/mathcrm/mathcrm/algo/step"

// Model is a fitted customer-value model: the purchase model, the spend
// model, the counts of customers used and left out and, with a holdout
// end, the calibration-vs-holdout table.
type Model struct {
	// Config is the job's configuration: calibration end, time unit,
	// penalty.
	Config Config `json:"config"`
	// Purchase is the BG/NBD or Pareto/NBD fit.
	Purchase FittedParams `json:"purchase"`
	// Spend is the Gamma-Gamma fit.
	Spend FittedParams `json:"spend"`
	// Counts are the customers used and left out.
	Counts Counts `json:"counts"`
	// Holdout is the calibration-vs-holdout table, with a holdout end.
	Holdout *HoldoutTable `json:"holdout,omitempty"`
	// Warnings are the caveats the model carries.
	Warnings []string `json:"warnings,omitempty"`
}

// FittedParams is one model's maximum-likelihood estimate.
type FittedParams struct {
	// Model is "bgnbd", "paretonbd" or "gammagamma".
	Model string `json:"model"`
	// Names are the papers' names of the parameters, Values their
	// estimates and StdErrors their standard errors (absent when the
	// Hessian is not positive definite).
	Names     []string  `json:"names"`
	Values    []float64 `json:"values"`
	StdErrors []float64 `json:"std_errors,omitempty"`
	// LogLik is the log-likelihood summed over the customers fitted.
	LogLik float64 `json:"log_lik"`
	// Objective is the minimised −LogLik/Customers + λ·Σ Values².
	Objective float64 `json:"objective"`
	// Customers is the number of customers fitted.
	Customers int64 `json:"customers"`
	// Iterations counts the accepted L-BFGS steps.
	Iterations int `json:"iterations"`
}

// Param returns the value of the parameter named name, and whether it
// exists.
func (p *FittedParams) Param(name string) (float64, bool) {
	for i, n := range p.Names {
		if n == name {
			return p.Values[i], true
		}
	}
	return 0, false
}

// PurchaseModel returns the fitted purchase model.
func (m *Model) PurchaseModel() *PurchaseModel {
	return &PurchaseModel{Model: m.Purchase.Model, Params: m.Purchase.Values}
}

// SpendModel returns the fitted spend model.
func (m *Model) SpendModel() *SpendModel { return &SpendModel{Params: m.Spend.Values} }

// HoldoutTable compares the repeat purchases customers made in the holdout
// period with the purchase model's expectation, by the number of repeat
// purchases in the calibration period.
type HoldoutTable struct {
	// Horizon is the holdout period's length in time units.
	Horizon float64 `json:"horizon"`
	// Rows are the groups 0, 1, …, 6 and 7 or more repeat purchases.
	Rows [HoldoutGroups]HoldoutRow `json:"rows"`
	// Actual and Predicted total the rows.
	Actual    float64 `json:"actual"`
	Predicted float64 `json:"predicted"`
	// RelError is (Predicted − Actual)/Actual, 0 when Actual is 0.
	RelError float64 `json:"rel_error"`
}

// HoldoutRow is one group of the holdout table: its customers' total
// actual and expected holdout purchases.
type HoldoutRow struct {
	// Repeat is the group's number of calibration repeat purchases (7
	// means 7 or more).
	Repeat    int     `json:"repeat"`
	Customers int64   `json:"customers"`
	Actual    float64 `json:"actual"`
	Predicted float64 `json:"predicted"`
}

// holdoutTable adds the shards' holdout sums in shard order.
func holdoutTable(horizon float64, results []*Result) *HoldoutTable {
	t := &HoldoutTable{Horizon: horizon}
	var act int64
	var pred Sum
	for g := range HoldoutGroups {
		row := HoldoutRow{Repeat: g}
		var a int64
		var p Sum
		for _, r := range results {
			row.Customers += r.Holdout.Customers[g]
			a += r.Holdout.Actual[g]
			p.AddSum(&r.Holdout.Predicted[g])
		}
		row.Actual, row.Predicted = float64(a), p.Float64()
		act += a
		pred.AddSum(&p)
		t.Rows[g] = row
	}
	t.Actual, t.Predicted = float64(act), pred.Float64()
	if act > 0 {
		t.RelError = (t.Predicted - t.Actual) / t.Actual
	}
	return t
}

// Reference fits the model over shards in one process, exactly as the
// cluster does.
func Reference(cfg Config, shards ...*Tx) (*Model, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 {
		return nil, errorf(ErrBadTx, "no shards")
	}
	err = step.Run(s, len(shards), func(prev *Result, t *Task, i int) (*Result, error) {
		return RunTask(prev, t, shards[i], i)
	})
	if err != nil {
		return nil, err
	}
	return s.Model(), nil
}
