package describe

import (
	"fmt"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Linear describes a linear regression: its fit on the training and
// held-out rows and the coefficients, with standard errors and t values
// when the model has them.
func Linear(d *proto.ModelDetail) (*Description, error) {
	m := d.Linear
	if m == nil || m.Linear == nil {
		return nil, missing(d, "linear")
	}
	l := m.Linear
	desc := &Description{
		Title:    fmt.Sprintf("model %s: linear regression of %s", d.Model.ID, m.Target),
		Subtitle: source(d, m.Dataset, m.Version),
		Figures: []Figure{
			{"training rows", count(l.N)}, {"R²", fmt.Sprintf("%.6f", l.R2)}, {"RMSE", num(l.RMSE)},
			{"ridge λ", num(l.Lambda)}, {"rows skipped", count(m.Skipped)},
		},
	}
	if l.NHoldout > 0 {
		desc.Figures = append(desc.Figures, Figure{"held-out rows", count(l.NHoldout)},
			Figure{"held-out R²", fmt.Sprintf("%.6f", l.HoldoutR2)}, Figure{"held-out RMSE", num(l.HoldoutRMSE)})
	}
	if l.Warning != "" {
		desc.Notes = append(desc.Notes, "warning: "+l.Warning)
	}
	se := l.StdErrors != nil
	opt := func(x float64) string {
		if !se {
			return "-"
		}
		return num(x)
	}
	t := Table{Title: "Coefficients", Columns: []string{"feature", "coefficient", "std error", "t"}}
	t.Rows = append(t.Rows, []string{"(intercept)", num(l.Intercept), opt(l.InterceptStdError), opt(l.InterceptT)})
	bars := make([]Bar, 0, len(m.Features))
	for i, f := range m.Features {
		s, tv := 0.0, 0.0
		if se {
			s, tv = l.StdErrors[i], l.TValues[i]
		}
		t.Rows = append(t.Rows, []string{f, num(l.Coefficients[i]), opt(s), opt(tv)})
		bars = append(bars, Bar{Label: f, Value: l.Coefficients[i]})
	}
	desc.Tables = append(desc.Tables, t)
	desc.Charts = append(desc.Charts, Chart{Title: "Coefficients", Kind: ChartBars, XLabel: "feature", YLabel: "coefficient", Bars: bars})
	return desc, nil
}
