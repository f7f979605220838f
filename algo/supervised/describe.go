package supervised

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Describe describes a linear or a logistic regression model.
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	m, ok := model.(*Model)
	switch {
	case ok && m.Linear != nil:
		return describeLinear(d, m), nil
	case ok && m.Logistic != nil:
		return describeLogistic(d, m), nil
	}
	return nil, fmt.Errorf("%w: model %s of kind %q has no %s part", describe.ErrKind, d.Model.ID, d.Model.Kind, d.Model.Kind)
}

// describeLinear describes a linear regression: its fit on the training
// and held-out rows and the coefficients, with standard errors and t values
// when the model has them.
func describeLinear(d *proto.ModelDetail, m *Model) *describe.Description {
	l := m.Linear
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: linear regression of %s", d.Model.ID, m.Target),
		Subtitle: describe.Source(d, m.Dataset, m.Version),
		Figures: []describe.Figure{
			{Label: "training rows", Value: describe.Count(l.N)}, {Label: "R²", Value: fmt.Sprintf("%.6f", l.R2)},
			{Label: "RMSE", Value: describe.Num(l.RMSE)}, {Label: "ridge λ", Value: describe.Num(l.Lambda)},
			{Label: "rows skipped", Value: describe.Count(m.Skipped)},
		},
	}
	if l.NHoldout > 0 {
		desc.Figures = append(desc.Figures, describe.Figure{Label: "held-out rows", Value: describe.Count(l.NHoldout)},
			describe.Figure{Label: "held-out R²", Value: fmt.Sprintf("%.6f", l.HoldoutR2)},
			describe.Figure{Label: "held-out RMSE", Value: describe.Num(l.HoldoutRMSE)})
	}
	if l.Warning != "" {
		desc.Notes = append(desc.Notes, "warning: "+l.Warning)
	}
	se := l.StdErrors != nil
	opt := func(x float64) string {
		if !se {
			return "-"
		}
		return describe.Num(x)
	}
	t := describe.Table{Title: "Coefficients", Columns: []string{"feature", "coefficient", "std error", "t"}}
	t.Rows = append(t.Rows, []string{"(intercept)", describe.Num(l.Intercept), opt(l.InterceptStdError), opt(l.InterceptT)})
	bars := make([]describe.Bar, 0, len(m.Features))
	for i, f := range m.Features {
		s, tv := 0.0, 0.0
		if se {
			s, tv = l.StdErrors[i], l.TValues[i]
		}
		t.Rows = append(t.Rows, []string{f, describe.Num(l.Coefficients[i]), opt(s), opt(tv)})
		bars = append(bars, describe.Bar{Label: f, Value: l.Coefficients[i]})
	}
	desc.Tables = append(desc.Tables, t)
	desc.Charts = append(desc.Charts, describe.Chart{Title: "Coefficients", Kind: describe.ChartBars, XLabel: "feature", YLabel: "coefficient", Bars: bars})
	return desc
}

// describeLogistic describes a logistic regression: its fit, the
// coefficients with their odds ratios, and the calibration of the held-out
// rows (the training rows when none were held out) as a table and a chart
// of the observed rate against the mean predicted probability.
func describeLogistic(d *proto.ModelDetail, m *Model) *describe.Description {
	g := m.Logistic
	conv := "no"
	if g.Converged {
		conv = "yes"
	}
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: logistic regression of %s", d.Model.ID, m.Target),
		Subtitle: describe.Source(d, m.Dataset, m.Version),
		Figures: []describe.Figure{
			{Label: "training rows", Value: describe.Count(g.Train.N)}, {Label: "log-loss", Value: fmt.Sprintf("%.6f", g.Train.LogLoss)},
			{Label: "AUC", Value: fmt.Sprintf("%.4f", g.Train.AUC)}, {Label: "iterations", Value: fmt.Sprintf("%d (%s)", g.Iterations, g.Solver)},
			{Label: "converged", Value: conv}, {Label: "rows skipped", Value: describe.Count(m.Skipped)},
		},
	}
	if g.Holdout.N > 0 {
		desc.Figures = append(desc.Figures, describe.Figure{Label: "held-out rows", Value: describe.Count(g.Holdout.N)},
			describe.Figure{Label: "held-out log-loss", Value: fmt.Sprintf("%.6f", g.Holdout.LogLoss)},
			describe.Figure{Label: "held-out AUC", Value: fmt.Sprintf("%.4f", g.Holdout.AUC)})
	}
	if g.Warning != "" {
		desc.Notes = append(desc.Notes, "warning: "+g.Warning)
	}
	t := describe.Table{Title: "Coefficients", Columns: []string{"feature", "coefficient", "odds ratio"}}
	t.Rows = append(t.Rows, []string{"(intercept)", describe.Num(g.Intercept), ""})
	for i, f := range m.Features {
		t.Rows = append(t.Rows, []string{f, describe.Num(g.Coefficients[i]), fmt.Sprintf("%.4g", math.Exp(g.Coefficients[i]))})
	}
	desc.Tables = append(desc.Tables, t)
	cal, name := g.Holdout, "held-out"
	if cal.N == 0 {
		cal, name = g.Train, "training"
	}
	if len(cal.Calibration) > 0 {
		ct := describe.Table{Title: "Calibration (" + name + " rows)", Columns: []string{"predicted", "mean predicted", "observed rate", "rows"}}
		var pts []describe.Point
		for _, b := range cal.Calibration {
			ct.Rows = append(ct.Rows, []string{fmt.Sprintf("%.1f–%.1f", b.Lo, b.Hi), fmt.Sprintf("%.4f", b.MeanPredicted),
				fmt.Sprintf("%.4f", b.ObservedRate), describe.Count(b.Count)})
			if b.Count > 0 {
				pts = append(pts, describe.Point{X: b.MeanPredicted, Y: b.ObservedRate})
			}
		}
		ideal := []describe.Point{{X: 0, Y: 0}, {X: 1, Y: 1}}
		desc.Tables = append(desc.Tables, ct)
		desc.Charts = append(desc.Charts, describe.Chart{Title: "Calibration (" + name + " rows)", Kind: describe.ChartLines,
			XLabel: "mean predicted probability", YLabel: "observed rate",
			Series: []describe.Series{{Name: "observed", Points: pts}, {Name: "perfectly calibrated", Points: ideal}}})
	}
	return desc
}
