package logistic

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// logisticCase is one case of testdata/golden/logistic_telco.json, written
// by make_golden.py with scikit-learn 1.2.1 and numpy 1.24.2 (see the
// README there).
type logisticCase struct {
	Name        string    `json:"name"`
	C           float64   `json:"C"`
	Penalty     string    `json:"penalty"`
	ClassWeight string    `json:"class_weight"`
	Holdout     float64   `json:"holdout"`
	SplitSeed   uint64    `json:"split_seed"`
	Features    int       `json:"features"` // 0: all six
	Mean        []float64 `json:"mean"`
	Scale       []float64 `json:"scale"`
	// The lbfgs solution, scikit-learn's newton-cholesky one, and numpy
	// Newton steps from the lbfgs one.
	Coefficients []float64 `json:"coefficients"`
	Intercept    float64   `json:"intercept"`
	NCCoef       []float64 `json:"newton_cholesky_coefficients"`
	NCIntercept  float64   `json:"newton_cholesky_intercept"`
	RefCoef      []float64 `json:"refined_coefficients"`
	RefIntercept float64   `json:"refined_intercept"`
	// Metrics of the newton-cholesky model (the optimum), and of the
	// lbfgs one (log-loss and AUC only).
	Train      *goldenSet `json:"train_metrics"`
	Hold       *goldenSet `json:"holdout_metrics"`
	LBFGSTrain *goldenSet `json:"lbfgs_train_metrics"`
	LBFGSHold  *goldenSet `json:"lbfgs_holdout_metrics"`
}

type goldenSet struct {
	N           int64   `json:"n"`
	LogLoss     float64 `json:"log_loss"`
	AUC         float64 `json:"auc"`
	Calibration []struct {
		Count         int64   `json:"count"`
		MeanPredicted float64 `json:"mean_predicted"`
		ObservedRate  float64 `json:"observed_rate"`
	} `json:"calibration"`
}

// Tolerances against scikit-learn (the test logs the worst errors reached).
// lbfgs stops on ftol = 64ε of the objective, which on these flat problems
// (the one-hot Contract columns are collinear with the intercept, held only
// by the penalty) leaves its coefficients up to 6e-5 from the optimum; its
// own distance to the optimum, measured by the numpy Newton refinement, is
// added to tolLBFGS. newton-cholesky reaches the optimum and is held to
// tolNewton.
//
// Metrics are held against those of the newton-cholesky model at tolMetric
// (the AUC is exact, from every row's score), and against the lbfgs model's
// at the brief's 1e-6 (log-loss) and 1e-4 (AUC).
const (
	tolLBFGS        = 1e-5
	tolNewton       = 1e-10
	tolMetric       = 1e-10
	tolLBFGSLogLoss = 1e-6
	tolLBFGSAUC     = 1e-4
	// tolOurLBFGS holds this package's L-BFGS solver (run with Tol 1e-14)
	// to the optimum. Like any solver that stops on the objective's
	// relative change, it stops where a sum of 7043 log-losses can no
	// longer resolve progress, a few 1e-8 from the optimum here
	// (scikit-learn's lbfgs, on ftol = 64ε, stops 1e-6 to 6e-5 from it).
	tolOurLBFGS = 1e-7
)

func TestGoldenTelco(t *testing.T) {
	var g struct {
		Cases []logisticCase `json:"cases"`
	}
	b, err := os.ReadFile("../../testdata/golden/logistic_telco.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	keys, raw, y := telco(t)
	gc := goldenChecker{t: t, worst: map[string]float64{}}
	for _, c := range g.Cases {
		d, x := 6, raw
		if c.Features != 0 {
			d, x = c.Features, columns(raw, 6, c.Features)
		}
		shards := shardsByKey(standardise(x, c.Mean, c.Scale), y, nil, keys, d, 4)
		gc.name = c.Name
		cfg := Config{C: c.C, Penalty: c.Penalty, ClassWeight: c.ClassWeight, Holdout: c.Holdout, SplitSeed: c.SplitSeed, Tol: 1e-12}
		m, err := Reference(cfg, d, shards...)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if !m.Converged || m.Warning != "" {
			t.Errorf("%s: converged %v after %d iterations, warning %q", c.Name, m.Converged, m.Iterations, m.Warning)
		}
		lbfgsOff := math.Abs(c.Intercept - c.RefIntercept)
		for j := range d {
			lbfgsOff = max(lbfgsOff, math.Abs(c.Coefficients[j]-c.RefCoef[j]))
		}
		t.Logf("%s: scikit-learn's lbfgs is %.2g from the optimum", c.Name, lbfgsOff)
		for j := range d {
			gc.check("coefficient vs lbfgs", m.Coefficients[j], c.Coefficients[j], tolLBFGS+lbfgsOff)
			gc.check("coefficient vs newton-cholesky", m.Coefficients[j], c.NCCoef[j], tolNewton)
		}
		gc.check("intercept vs lbfgs", m.Intercept, c.Intercept, tolLBFGS+lbfgsOff)
		gc.check("intercept vs newton-cholesky", m.Intercept, c.NCIntercept, tolNewton)
		gc.metrics("train", m.Train, c.Train, c.LBFGSTrain)
		gc.metrics("holdout", m.Holdout, c.Hold, c.LBFGSHold)

		// The L-BFGS solver reaches the same optimum.
		cfg.Solver, cfg.Tol = SolverLBFGS, 1e-14
		lm, err := Reference(cfg, d, shards...)
		if err != nil {
			t.Fatalf("%s lbfgs: %v", c.Name, err)
		}
		for j := range d {
			gc.check("L-BFGS coefficient vs newton-cholesky", lm.Coefficients[j], c.NCCoef[j], tolOurLBFGS)
		}
		gc.check("L-BFGS intercept vs newton-cholesky", lm.Intercept, c.NCIntercept, tolOurLBFGS)
		gc.check("L-BFGS train log-loss", lm.Train.LogLoss, c.Train.LogLoss, tolOurLBFGS)
		t.Logf("%s: Newton %d iterations, L-BFGS %d", c.Name, m.Iterations, lm.Iterations)
	}
	for what, e := range gc.worst {
		t.Logf("worst relative error of %s: %.2g", what, e)
	}
}

// goldenChecker compares values with a tolerance and keeps the worst
// relative error of each kind.
type goldenChecker struct {
	t     *testing.T
	name  string
	worst map[string]float64
}

func (gc *goldenChecker) check(what string, got, want, tol float64) {
	gc.t.Helper()
	e := relErr(got, want, 1)
	gc.worst[what] = max(gc.worst[what], e)
	if e > tol {
		gc.t.Errorf("%s: %s = %.17g, want %.17g (error %.2g > %.2g)", gc.name, what, got, want, e, tol)
	}
}

// metrics checks one row set's metrics against the newton-cholesky model's
// (want) and the lbfgs model's; nil want means the set must be empty.
func (gc *goldenChecker) metrics(set string, got Metrics, want, lbfgs *goldenSet) {
	gc.t.Helper()
	if want == nil {
		if got.N != 0 {
			gc.t.Errorf("%s: %d %s rows, want none", gc.name, got.N, set)
		}
		return
	}
	if got.N != want.N || got.AUCMethod != AUCExact {
		gc.t.Errorf("%s: %d %s rows (AUC %s), want %d (exact)", gc.name, got.N, set, got.AUCMethod, want.N)
	}
	gc.check(set+" log-loss", got.LogLoss, want.LogLoss, tolMetric)
	gc.check(set+" AUC", got.AUC, want.AUC, tolMetric)
	gc.check(set+" log-loss vs lbfgs", got.LogLoss, lbfgs.LogLoss, tolLBFGSLogLoss)
	gc.check(set+" AUC vs lbfgs", got.AUC, lbfgs.AUC, tolLBFGSAUC)
	for b, cb := range want.Calibration {
		gb := got.Calibration[b]
		if gb.Count != cb.Count {
			gc.t.Errorf("%s: %s calibration bin %d holds %d rows, want %d", gc.name, set, b, gb.Count, cb.Count)
		}
		gc.check(set+" calibration", gb.MeanPredicted, cb.MeanPredicted, tolMetric)
		gc.check(set+" calibration", gb.ObservedRate, cb.ObservedRate, tolMetric)
	}
}

// TestPinnedModelBits pins the exact bits of a few models (a digest of
// their JSON). They were recorded with GOAMD64=v1 and checked equal under
// v3 and v4, which fuse a*b+c where the code lets them; every amd64 build
// must reproduce them. A deliberate change to the algorithm changes them:
// re-record and say why.
func TestPinnedModelBits(t *testing.T) {
	keys, raw, y := telco(t)
	x := standardise(raw, []float64{32, 65, 0.16, 0.55, 0.21, 0.24}, []float64{25, 30, 0.37, 0.5, 0.41, 0.43})
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%3)
	}
	tests := []struct {
		name string
		cfg  Config
		w    []float64
		want string
	}{
		{"newton", Config{}, nil, "e8ec3b8ecde6bb46"},
		{"lbfgs balanced holdout", Config{Solver: SolverLBFGS, Holdout: 0.2, ClassWeight: Balanced}, nil, "f21142367eb7ae67"},
		{"weighted histogram", Config{C: 0.3, Holdout: 0.3, ExactAUCMaxRows: 1000}, w, "79e78048f646d72b"},
	}
	for _, tc := range tests {
		m, err := Reference(tc.cfg, 6, shardsByKey(x, y, tc.w, keys, 6, 4)...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := digest(mustJSON(t, m)); got != tc.want {
			t.Errorf("%s: model digest %s, want %s", tc.name, got, tc.want)
		}
	}
}

func digest(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))[:16] }
