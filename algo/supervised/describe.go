package supervised

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"gonum.org/v1/gonum/stat/distuv"
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
// and held-out rows, the coefficients, with standard errors, t values and
// 95 % confidence intervals when the model has them, and the histograms
// of the residuals.
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
	// The interval is β ± t·se, t the 97.5 % quantile of Student's t
	// with the model's degrees of freedom: for people to read, so gonum's
	// quantile is good enough, and the model itself leaves it out.
	tq := 0.0
	if se && l.DF >= 1 {
		tq = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(l.DF)}.Quantile(0.975)
	}
	interval := func(b, s float64) string {
		if tq == 0 {
			return "-"
		}
		return describe.Num(b-tq*s) + " to " + describe.Num(b+tq*s)
	}
	t := describe.Table{Title: "Coefficients", Columns: []string{"feature", "coefficient", "std error", "t", "95% interval"}}
	t.Rows = append(t.Rows, []string{"(intercept)", describe.Num(l.Intercept), opt(l.InterceptStdError), opt(l.InterceptT),
		interval(l.Intercept, l.InterceptStdError)})
	bars := make([]describe.Bar, 0, len(m.Features))
	for i, f := range m.Features {
		s, tv := 0.0, 0.0
		if se {
			s, tv = l.StdErrors[i], l.TValues[i]
		}
		t.Rows = append(t.Rows, []string{f, describe.Num(l.Coefficients[i]), opt(s), opt(tv), interval(l.Coefficients[i], s)})
		bars = append(bars, describe.Bar{Label: f, Value: l.Coefficients[i]})
	}
	desc.Tables = append(desc.Tables, t)
	desc.Charts = append(desc.Charts, describe.Chart{Title: "Coefficients", Kind: describe.ChartBars, XLabel: "feature", YLabel: "coefficient", Bars: bars})
	if r := l.Residuals; r != nil {
		desc.Charts = append(desc.Charts, residualChart("training", r.Unit, r.Train))
		if r.Holdout != nil {
			desc.Charts = append(desc.Charts, residualChart("held-out", r.Unit, r.Holdout))
		}
	}
	return desc
}

// residualChart draws a residual histogram: one bar per bin, labelled by
// its lower edge in units of the training RMSE ("<-4" and "≥4" at the
// ends).
func residualChart(set string, unit float64, counts []int64) describe.Chart {
	e := linear.ResidualEdges()
	bars := make([]describe.Bar, len(counts))
	for b, n := range counts {
		label := fmt.Sprintf("%g", e[b])
		switch b {
		case 0:
			label = fmt.Sprintf("<%g", e[1])
		case len(counts) - 1:
			label = fmt.Sprintf("≥%g", e[b])
		}
		bars[b] = describe.Bar{Label: label, Value: float64(n)}
	}
	return describe.Chart{Title: fmt.Sprintf("Residuals (%s rows), in units of the training RMSE %s", set, describe.Num(unit)),
		Kind: describe.ChartBars, XLabel: "residual (y − ŷ) / RMSE", YLabel: "rows", Bars: bars}
}

// describeLogistic describes a logistic regression: its fit, the
// coefficients with their odds ratios, and for the held-out rows (the
// training rows when none were held out) the ROC, cumulative gains and
// lift by decile from the eval pass's score bins, and the calibration as a
// table and a chart of the observed rate against the mean predicted
// probability.
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
	desc.Charts = append(desc.Charts, curveCharts(&cal, name)...)
	if len(cal.Deciles) > 0 {
		dt := describe.Table{Title: "Gains and lift by decile (" + name + " rows)", Columns: []string{"decile", "rows", "gains", "lift", "cumulative lift"}}
		for _, d := range cal.Deciles {
			dt.Rows = append(dt.Rows, []string{fmt.Sprint(d.Decile), fmt.Sprintf("top %.0f%%", 100*d.Share), fmt.Sprintf("%.1f%%", 100*d.Gains),
				fmt.Sprintf("%.3f", d.Lift), fmt.Sprintf("%.3f", d.CumulativeLift)})
		}
		desc.Tables = append(desc.Tables, dt)
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
		desc.Tables = append(desc.Tables, ct)
		desc.Charts = append(desc.Charts, describe.Chart{Title: "Calibration (" + name + " rows)", Kind: describe.ChartLines,
			XLabel: "mean predicted probability", YLabel: "observed rate",
			Series: []describe.Series{{Name: "observed", Points: pts}, {Name: "perfectly calibrated", Points: diagonal}}})
	}
	return desc
}

// diagonal is the line from (0, 0) to (1, 1): chance on a ROC or gains
// chart, perfect calibration on a calibration chart.
var diagonal = []describe.Point{{X: 0, Y: 0}, {X: 1, Y: 1}}

// curveCharts draws a row set's ROC (one point per score bin edge), its
// cumulative gains at each decile and its lift by decile (one bar per
// decile); none for a set that lacks a class or from an earlier build.
func curveCharts(m *logistic.Metrics, name string) []describe.Chart {
	if len(m.ROC) == 0 || len(m.Deciles) == 0 {
		return nil
	}
	roc := make([]describe.Point, len(m.ROC))
	for i, p := range m.ROC {
		roc[i] = describe.Point{X: p.FPR, Y: p.TPR}
	}
	gains := []describe.Point{{X: 0, Y: 0}}
	lift := make([]describe.Bar, len(m.Deciles))
	for i, d := range m.Deciles {
		gains = append(gains, describe.Point{X: d.Share, Y: d.Gains})
		lift[i] = describe.Bar{Label: fmt.Sprint(d.Decile), Value: d.Lift}
	}
	return []describe.Chart{
		{Title: fmt.Sprintf("ROC (%s rows, %d score bins; area %.4f)", name, len(m.Curve), m.CurveAUC), Kind: describe.ChartLines,
			XLabel: "false positive rate", YLabel: "true positive rate",
			Series: []describe.Series{{Name: "model", Points: roc}, {Name: "chance", Points: diagonal}}},
		{Title: "Cumulative gains (" + name + " rows)", Kind: describe.ChartLines,
			XLabel: "share of rows, highest predicted first", YLabel: "share of class 1 found",
			Series: []describe.Series{{Name: "model", Points: gains}, {Name: "random", Points: diagonal}}},
		{Title: "Lift by decile (" + name + " rows)", Kind: describe.ChartBars, XLabel: "decile, highest predicted first", YLabel: "lift", Bars: lift},
	}
}
