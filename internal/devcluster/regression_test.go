package devcluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// TestRegressionBitIdenticalAcrossWorkerCounts trains linear and logistic
// regression on the Telco customers with 1, 2 and 4 workers: the models are
// the same bit for bit, the logistic ROC, gains and lift and the linear
// residual histograms included.
func TestRegressionBitIdenticalAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	specs := []proto.JobSpec{
		{Algo: "linear", Dataset: "telco", Seed: 3, Params: proto.MustJSON(supervised.Params{
			Target: "TotalCharges", Features: []string{"tenure", "MonthlyCharges", "Contract"}, L2: 0.5, Holdout: 0.2})},
		{Algo: "logistic", Dataset: "telco", Seed: 3, Params: proto.MustJSON(supervised.Params{
			Target: "Churn=Yes", Features: []string{"tenure", "MonthlyCharges", "SeniorCitizen", "Contract"}, C: new(1.0), Holdout: 0.25,
			ClassWeight: "balanced"})},
	}
	var first []*supervised.Model
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		_, err := cl.Import(context.Background(), "telco", telco, client.ImportOptions{Kind: "features", Options: partition.Options{
			Key: "customerID", Columns: []string{"tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen"},
			Categorical: []string{"Contract", "Churn"}, Shards: 12, TempDir: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		var got []*supervised.Model
		for _, spec := range specs {
			j := waitJob(t, cl, submit(t, cl, spec))
			var d proto.ModelDetail
			if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: j.Model}, &d); err != nil {
				t.Fatal(err)
			}
			got = append(got, testutil.Detail[supervised.Model](t, &d))
		}
		c.Close()
		if first == nil {
			first = got
			l, g := got[0].Linear, got[1].Logistic
			t.Logf("linear: holdout R² %.4f on %d rows; logistic: holdout AUC %.4f (%.4f from %d score bins), log-loss %.4f on %d rows, top-decile lift %.3f",
				l.HoldoutR2, l.NHoldout, g.Holdout.AUC, g.Holdout.CurveAUC, len(g.Holdout.Curve), g.Holdout.LogLoss, g.Holdout.N, g.Holdout.Deciles[0].Lift)
			if l.NHoldout == 0 || g.Holdout.N == 0 {
				t.Fatal("no held-out rows")
			}
			if r := l.Residuals; r == nil || r.Holdout == nil || len(g.Holdout.ROC) != logistic.CurveBins+1 || len(g.Train.Deciles) != 10 {
				t.Fatalf("no residual histograms (%+v) or curves (%d ROC points)", r, len(g.Holdout.ROC))
			}
			// The binned area is within the bound of the exact one.
			if d := math.Abs(g.Holdout.AUC - g.Holdout.CurveAUC); d > 0.005 {
				t.Errorf("held-out AUC %.6f, %.6f from the score bins", g.Holdout.AUC, g.Holdout.CurveAUC)
			}
			continue
		}
		for i, what := range []string{"linear residuals", "logistic curves"} {
			a, err := json.Marshal(curvesOf(first[i]))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(curvesOf(got[i]))
			if string(a) != string(b) {
				t.Errorf("%s, %d workers:\n%s\nwant\n%s", what, n, b, a)
			}
		}
		a, b := first[0].Linear, got[0].Linear
		testutil.SameBits(t, fmt.Sprintf("linear coefficients, %d workers", n), append(a.Coefficients, a.Intercept, a.HoldoutR2), append(b.Coefficients, b.Intercept, b.HoldoutR2))
		x, y := first[1].Logistic, got[1].Logistic
		testutil.SameBits(t, fmt.Sprintf("logistic coefficients, %d workers", n), append(x.Coefficients, x.Intercept, x.Holdout.AUC, x.Holdout.LogLoss),
			append(y.Coefficients, y.Intercept, y.Holdout.AUC, y.Holdout.LogLoss))
	}
}

// curvesOf is what a model's charts are drawn from.
func curvesOf(m *supervised.Model) []any {
	if m.Linear != nil {
		return []any{m.Linear.Residuals}
	}
	g := m.Logistic
	return []any{g.Train.Curve, g.Train.ROC, g.Train.CurveAUC, g.Train.Deciles, g.Holdout.Curve, g.Holdout.ROC, g.Holdout.CurveAUC, g.Holdout.Deciles}
}
