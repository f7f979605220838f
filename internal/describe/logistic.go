package describe

import (
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Logistic describes a logistic regression: its fit, the coefficients
// with their odds ratios, and the calibration of the held-out rows (the
// training rows when none were held out) as a table and a chart of the
// observed rate against the mean predicted probability.
func Logistic(d *proto.ModelDetail) (*Description, error) {
	m := d.Logistic
	if m == nil || m.Logistic == nil {
		return nil, missing(d, "logistic")
	}
	g := m.Logistic
	conv := "no"
	if g.Converged {
		conv = "yes"
	}
	desc := &Description{
		Title:    fmt.Sprintf("model %s: logistic regression of %s", d.Model.ID, m.Target),
		Subtitle: source(d, m.Dataset, m.Version),
		Figures: []Figure{
			{"training rows", count(g.Train.N)}, {"log-loss", fmt.Sprintf("%.6f", g.Train.LogLoss)}, {"AUC", fmt.Sprintf("%.4f", g.Train.AUC)},
			{"iterations", fmt.Sprintf("%d (%s)", g.Iterations, g.Solver)}, {"converged", conv}, {"rows skipped", count(m.Skipped)},
		},
	}
	if g.Holdout.N > 0 {
		desc.Figures = append(desc.Figures, Figure{"held-out rows", count(g.Holdout.N)},
			Figure{"held-out log-loss", fmt.Sprintf("%.6f", g.Holdout.LogLoss)}, Figure{"held-out AUC", fmt.Sprintf("%.4f", g.Holdout.AUC)})
	}
	if g.Warning != "" {
		desc.Notes = append(desc.Notes, "warning: "+g.Warning)
	}
	t := Table{Title: "Coefficients", Columns: []string{"feature", "coefficient", "odds ratio"}}
	t.Rows = append(t.Rows, []string{"(intercept)", num(g.Intercept), ""})
	for i, f := range m.Features {
		t.Rows = append(t.Rows, []string{f, num(g.Coefficients[i]), fmt.Sprintf("%.4g", math.Exp(g.Coefficients[i]))})
	}
	desc.Tables = append(desc.Tables, t)
	cal, name := g.Holdout, "held-out"
	if cal.N == 0 {
		cal, name = g.Train, "training"
	}
	if len(cal.Calibration) > 0 {
		ct := Table{Title: "Calibration (" + name + " rows)", Columns: []string{"predicted", "mean predicted", "observed rate", "rows"}}
		var pts, ideal []Point
		for _, b := range cal.Calibration {
			ct.Rows = append(ct.Rows, []string{fmt.Sprintf("%.1f–%.1f", b.Lo, b.Hi), fmt.Sprintf("%.4f", b.MeanPredicted),
				fmt.Sprintf("%.4f", b.ObservedRate), count(b.Count)})
			if b.Count > 0 {
				pts = append(pts, Point{X: b.MeanPredicted, Y: b.ObservedRate})
			}
		}
		ideal = []Point{{0, 0}, {1, 1}}
		desc.Tables = append(desc.Tables, ct)
		desc.Charts = append(desc.Charts, Chart{Title: "Calibration (" + name + " rows)", Kind: ChartLines,
			XLabel: "mean predicted probability", YLabel: "observed rate",
			Series: []Series{{Name: "observed", Points: pts}, {Name: "perfectly calibrated", Points: ideal}}})
	}
	return desc, nil
}
