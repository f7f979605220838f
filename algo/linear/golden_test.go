package linear

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// linearGolden is testdata/golden/linear_diabetes.json, written by
// make_golden.py with scikit-learn 1.2.1 and numpy 1.24.2 (see the README
// there).
type linearGolden struct {
	Cases []struct {
		Name              string    `json:"name"`
		Lambda            float64   `json:"lambda"`
		Holdout           float64   `json:"holdout"`
		SplitSeed         uint64    `json:"split_seed"`
		N                 int64     `json:"n"`
		NHoldout          int64     `json:"nholdout"`
		Coefficients      []float64 `json:"coefficients"`
		Intercept         float64   `json:"intercept"`
		R2, RMSE          float64
		HoldoutR2         float64   `json:"holdout_r2"`
		HoldoutRMSE       float64   `json:"holdout_rmse"`
		StdErrors         []float64 `json:"std_errors"`
		InterceptStdError float64   `json:"intercept_std_error"`
		TValues           []float64 `json:"t_values"`
		PValues           []float64 `json:"p_values"`
		DF                int64     `json:"df"`
		Sigma2            float64   `json:"sigma2"`
	} `json:"cases"`
}

// Tolerances, relative (absolute below a floor of 1 for values near 0):
// 1e-8 on coefficients would do; the centred partials reach about 1e-13 on
// this data (the test logs the worst error of each quantity).
const (
	tolCoef   = 1e-12
	tolMetric = 1e-12
	tolStdErr = 1e-11
)

func TestGoldenDiabetes(t *testing.T) {
	var g linearGolden
	b, err := os.ReadFile("../../testdata/golden/linear_diabetes.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	names, x, y, keys := diabetes(t)
	d := len(names)
	shards := shardsByKey(x, y, nil, keys, d, 4)
	worst := map[string]float64{}
	check := func(name, what string, got, want, tol float64) {
		t.Helper()
		e := relErr(got, want, 1)
		worst[what] = max(worst[what], e)
		if e > tol {
			t.Errorf("%s: %s = %.17g, scikit-learn %.17g (relative error %.2g > %.0g)", name, what, got, want, e, tol)
		}
	}
	for _, c := range g.Cases {
		cfg := Config{Lambda: c.Lambda, Holdout: c.Holdout, SplitSeed: c.SplitSeed, Features: names}
		m, err := Reference(cfg, d, shards...)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if m.Warning != "" {
			t.Errorf("%s: unexpected warning %q", c.Name, m.Warning)
		}
		for j := range d {
			check(c.Name, "coefficient", m.Coefficients[j], c.Coefficients[j], tolCoef)
		}
		check(c.Name, "intercept", m.Intercept, c.Intercept, tolCoef)
		check(c.Name, "R²", m.R2, c.R2, tolMetric)
		check(c.Name, "RMSE", m.RMSE, c.RMSE, tolMetric)
		if c.Holdout > 0 {
			if m.N != c.N || m.NHoldout != c.NHoldout {
				t.Errorf("%s: %d training and %d held-out rows, Python's split has %d and %d", c.Name, m.N, m.NHoldout, c.N, c.NHoldout)
			}
			check(c.Name, "holdout R²", m.HoldoutR2, c.HoldoutR2, tolMetric)
			check(c.Name, "holdout RMSE", m.HoldoutRMSE, c.HoldoutRMSE, tolMetric)
		}
		if c.StdErrors == nil {
			if m.StdErrors != nil && c.Lambda > 0 {
				t.Errorf("%s: standard errors for λ = %v", c.Name, c.Lambda)
			}
			continue
		}
		if m.StdErrors == nil || m.DF != c.DF {
			t.Fatalf("%s: no standard errors or df %d (want %d)", c.Name, m.DF, c.DF)
		}
		for j := range d {
			check(c.Name, "std error", m.StdErrors[j], c.StdErrors[j], tolStdErr)
			check(c.Name, "t value", m.TValues[j], c.TValues[j], tolStdErr)
			tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(m.DF)}
			check(c.Name, "p value", 2*tdist.Survival(math.Abs(m.TValues[j])), c.PValues[j], tolStdErr)
		}
		check(c.Name, "intercept std error", m.InterceptStdError, c.InterceptStdError, tolStdErr)
		check(c.Name, "σ²", m.Sigma2, c.Sigma2, tolStdErr)
	}
	for what, e := range worst {
		t.Logf("worst relative error of %s: %.2g", what, e)
	}
}

// TestPinnedModelBits pins the exact bits of a few models (a digest of
// their JSON). They were recorded with GOAMD64=v1 and checked equal under
// v3 and v4, which fuse a*b+c where the code lets them; every amd64 build
// must reproduce them. A deliberate change to the algorithm changes them:
// re-record and say why. (ols and weighted were re-recorded when the
// training metrics of a job without held-out rows moved from the eval
// pass to the cross-products; the coefficients kept their bits.)
func TestPinnedModelBits(t *testing.T) {
	names, x, y, keys := diabetes(t)
	d := len(names)
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%4)
	}
	tests := []struct {
		name string
		cfg  Config
		w    []float64
		want string
	}{
		{"ols", Config{}, nil, "0d441439df6cac1d"},
		{"ridge holdout", Config{Lambda: 3, Holdout: 0.2, SplitSeed: 5}, nil, "96086e62de6c369c"},
		{"weighted", Config{Lambda: 0.1}, w, "636ed113eb7b77b0"},
	}
	for _, tc := range tests {
		m, err := Reference(tc.cfg, d, shardsByKey(x, y, tc.w, keys, d, 4)...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := digest(mustJSON(t, m)); got != tc.want {
			t.Errorf("%s: model digest %s, want %s", tc.name, got, tc.want)
		}
	}
}

func digest(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))[:16] }

// TestGramEvalMatchesEvalPass: without held-out rows the training metrics
// come from the cross-products; they agree with the eval pass's row by row
// sums to 1e-10 relative, and a fit too close for that runs the eval pass.
func TestGramEvalMatchesEvalPass(t *testing.T) {
	names, x, y, keys := diabetes(t)
	d := len(names)
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%4)
	}
	run := func(cfg Config, shards []Shard, forceEval bool) (*Model, int) {
		t.Helper()
		s, err := New(cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		results := make([]*Result, len(shards))
		passes := 0
		for {
			task, done := s.Next()
			if done {
				return s.Model(), passes
			}
			for i, sh := range shards {
				if results[i], err = RunTask(results[i], task, sh.X, len(sh.Y), d, sh.Y, sh.W, sh.Keys, i); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Absorb(results); err != nil {
				t.Fatal(err)
			}
			passes++
			if forceEval && passes == 1 {
				s.Stage, s.Final = TaskEval, nil
			}
		}
	}
	rel := func(a, b float64) float64 { return math.Abs(a-b) / max(math.Abs(b), 1e-300) }
	for _, tc := range []struct {
		name string
		cfg  Config
		w    []float64
	}{{"ols", Config{}, nil}, {"ridge", Config{Lambda: 3}, nil}, {"weighted", Config{Lambda: 0.1}, w}} {
		shards := shardsByKey(x, y, tc.w, keys, d, 4)
		got, passes := run(tc.cfg, shards, false)
		want, _ := run(tc.cfg, shards, true)
		if passes != 1 {
			t.Fatalf("%s: %d passes, want the gram pass alone", tc.name, passes)
		}
		for what, v := range map[string][2]float64{"R²": {got.R2, want.R2}, "RMSE": {got.RMSE, want.RMSE},
			"objective": {got.Objective, want.Objective}, "σ²": {got.Sigma2, want.Sigma2}} {
			if e := rel(v[0], v[1]); e > 1e-10 {
				t.Errorf("%s: %s %v from the cross-products, %v from the eval pass (relative %.2g)", tc.name, what, v[0], v[1], e)
			}
		}
		for j := range got.StdErrors {
			if e := rel(got.StdErrors[j], want.StdErrors[j]); e > 1e-10 {
				t.Errorf("%s: std error %d: relative difference %.2g", tc.name, j, e)
			}
		}
	}
	// An exact fit: its residuals are rounding noise, which only the eval
	// pass measures.
	exact := make([]float64, len(y))
	for i := range exact {
		exact[i] = 3
		for j := range d {
			exact[i] += float64(j+1) * x[i*d+j]
		}
	}
	if _, passes := run(Config{}, shardsByKey(x, exact, nil, keys, d, 4), false); passes != 2 {
		t.Fatalf("exact fit: %d passes, want the eval pass too", passes)
	}
}
