package clv

import (
	"fmt"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Describe describes a customer-value model: the parameters with their
// standard errors, the log-likelihoods, the customers used and left out
// and, with a holdout period, the calibration-vs-holdout table.
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	v, ok := model.(*Value)
	if !ok {
		return nil, fmt.Errorf("%w: model %s has no customer-value part", describe.ErrKind, d.Model.ID)
	}
	c := v.Counts
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: customer value, %s + Gamma-Gamma", d.Model.ID, modelName(v.Model)),
		Subtitle: describe.Source(d, v.Dataset, v.Version),
		Figures: []describe.Figure{
			{Label: "calibration end", Value: v.CalibrationEnd}, {Label: "time unit", Value: v.TimeUnit},
			{Label: "customers", Value: describe.Count(c.Customers)}, {Label: "repeat customers", Value: describe.Count(c.Repeat)},
			{Label: "spend model customers", Value: describe.Count(c.Spend)},
			{Label: modelName(v.Model) + " log-likelihood", Value: describe.Num(v.Purchase.LogLik)},
			{Label: "Gamma-Gamma log-likelihood", Value: describe.Num(v.Spend.LogLik)},
		},
	}
	if v.HoldoutEnd != "" {
		desc.Figures = append(desc.Figures, describe.Figure{Label: "holdout end", Value: v.HoldoutEnd})
	}
	if v.Penalty != 0 {
		desc.Figures = append(desc.Figures, describe.Figure{Label: "penalty", Value: describe.Num(v.Penalty)})
	}
	params := describe.Table{Title: "Parameters (maximum likelihood, standard errors from the Hessian)",
		Columns: []string{"model", "parameter", "estimate", "std. error"}}
	for _, f := range []Fitted{v.Purchase, v.Spend} {
		for i, p := range f.Params {
			se := "—"
			if i < len(f.StdErrors) {
				se = describe.Num(f.StdErrors[i].Value)
			}
			params.Rows = append(params.Rows, []string{modelName(f.Model), p.Name, describe.Num(p.Value), se})
		}
	}
	desc.Tables = append(desc.Tables, params)
	fits := describe.Table{Title: "Fits", Columns: []string{"model", "customers", "log-likelihood", "iterations"}}
	for _, f := range []Fitted{v.Purchase, v.Spend} {
		fits.Rows = append(fits.Rows, []string{modelName(f.Model), describe.Count(f.Customers), describe.Num(f.LogLik), fmt.Sprint(f.Iterations)})
	}
	desc.Tables = append(desc.Tables, fits)
	left := describe.Table{Title: "Customers left out", Columns: []string{"reason", "customers"}, Rows: [][]string{
		{"every purchase after the calibration end", describe.Count(c.OnlyAfter)},
		{"only returns", describe.Count(c.NoPurchase)},
		{"spend model: no repeat purchase or no positive mean spend", describe.Count(c.Customers - c.Spend)},
	}}
	desc.Tables = append(desc.Tables, left)
	if h := v.Holdout; h != nil {
		t := describe.Table{Title: fmt.Sprintf("Calibration vs holdout: repeat purchases in the %s-%s holdout, by calibration repeat purchases",
			describe.Num(h.Horizon), v.TimeUnit), Columns: []string{"repeat purchases", "customers", "actual", "predicted"}}
		var actual, predicted []describe.Point
		for _, r := range h.Rows {
			label := fmt.Sprint(r.Repeat)
			if r.Repeat == HoldoutGroups-1 {
				label += "+"
			}
			t.Rows = append(t.Rows, []string{label, describe.Count(r.Customers), describe.Num(r.Actual), describe.Num(r.Predicted)})
			actual = append(actual, describe.Point{X: float64(r.Repeat), Y: r.Actual / float64(max(r.Customers, 1))})
			predicted = append(predicted, describe.Point{X: float64(r.Repeat), Y: r.Predicted / float64(max(r.Customers, 1))})
		}
		t.Rows = append(t.Rows, []string{"total", describe.Count(c.Customers), describe.Num(h.Actual), describe.Num(h.Predicted)})
		desc.Tables = append(desc.Tables, t)
		desc.Figures = append(desc.Figures, describe.Figure{Label: "holdout relative error", Value: fmt.Sprintf("%+.1f%%", 100*h.RelError)})
		desc.Charts = append(desc.Charts, describe.Chart{Title: "Holdout purchases per customer", Kind: describe.ChartLines,
			XLabel: "calibration repeat purchases", YLabel: "holdout purchases per customer",
			Series: []describe.Series{{Name: "actual", Points: actual}, {Name: "predicted", Points: predicted}}})
	}
	desc.Notes = append(desc.Notes, v.Warnings...)
	return desc, nil
}
