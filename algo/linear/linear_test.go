package linear

import (
	"math"
	"strings"
	"testing"
)

// Hand-checked fits of y on one feature x = 0, 1, 2, 3. For y = 1, 3, 2, 4:
// x̄ = 1.5, ȳ = 2.5, Sxx = 5, Sxy = 4, Syy = 5, so OLS gives β = 0.8,
// b = 1.3, residuals −0.3, 0.9, −0.9, 0.3, RSS = 1.8, R² = 0.64,
// RMSE = √0.45, σ̂² = 0.9, se(β) = √(0.9/5), se(b) = √(0.9·(1/4 + 2.25/5));
// ridge with λ = 1 gives β = 4/6, b = 2.5 − 1.5β = 1.5, residuals −1/2,
// 5/6, −5/6, 1/2 and RSS = 17/9.
func TestHandChecked(t *testing.T) {
	x := []float64{0, 1, 2, 3}
	tests := []struct {
		name      string
		cfg       Config
		y, w      []float64
		coef, b   float64
		r2, rmse  float64
		se, seInt float64 // 0: no standard errors expected
		warning   string
	}{
		{"ols", Config{}, []float64{1, 3, 2, 4}, nil, 0.8, 1.3, 0.64, math.Sqrt(0.45), math.Sqrt(0.9 / 5), math.Sqrt(0.9 * (0.25 + 2.25/5)), ""},
		{"ridge", Config{Lambda: 1}, []float64{1, 3, 2, 4}, nil, 4.0 / 6, 1.5, 1 - 17.0/45, math.Sqrt(17.0 / 36), 0, 0, ""},
		{"exact", Config{}, []float64{1, 3, 5, 7}, nil, 2, 1, 1, 0, 0, 0, "the fit is exact"},
		{"constant y", Config{}, []float64{2, 2, 2, 2}, nil, 0, 2, 1, 0, 0, 0, "the fit is exact"},
		// Weight 2 on the second row is the same fit as that row twice:
		// x̄ = 1.4, ȳ = 2.6, Sxx = 5.2, Sxy = 3.8, so with λ = 0.5
		// β = 3.8/5.7 = 2/3 and b = 2.6 − 1.4β.
		{"weighted", Config{Lambda: 0.5}, []float64{1, 3, 2, 4}, []float64{1, 2, 1, 1}, 2.0 / 3, 2.6 - 1.4*2.0/3, 0, 0, 0, 0, ""},
	}
	for _, tc := range tests {
		m, err := Reference(tc.cfg, 1, Shard{X: x[:2], Y: tc.y[:2], W: head(tc.w, 2)}, Shard{X: x[2:], Y: tc.y[2:], W: tail(tc.w, 2)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		near := func(what string, got, want float64) {
			t.Helper()
			if math.Abs(got-want) > 1e-14*max(1, math.Abs(want)) {
				t.Errorf("%s: %s = %.17g, want %.17g", tc.name, what, got, want)
			}
		}
		near("coefficient", m.Coefficients[0], tc.coef)
		near("intercept", m.Intercept, tc.b)
		if tc.w == nil {
			near("R²", m.R2, tc.r2)
			near("RMSE", m.RMSE, tc.rmse)
		}
		if tc.se == 0 && m.StdErrors != nil {
			t.Errorf("%s: unexpected standard errors %v", tc.name, m.StdErrors)
		}
		if tc.se != 0 {
			if m.StdErrors == nil {
				t.Fatalf("%s: no standard errors (warning %q)", tc.name, m.Warning)
			}
			near("std error", m.StdErrors[0], tc.se)
			near("intercept std error", m.InterceptStdError, tc.seInt)
			near("t value", m.TValues[0], tc.coef/tc.se)
		}
		if !strings.Contains(m.Warning, tc.warning) || (tc.warning == "" && m.Warning != "") {
			t.Errorf("%s: warning %q, want %q", tc.name, m.Warning, tc.warning)
		}
	}
}

func head(w []float64, n int) []float64 {
	if w == nil {
		return nil
	}
	return w[:n]
}

func tail(w []float64, n int) []float64 {
	if w == nil {
		return nil
	}
	return w[n:]
}

func TestWeightsEqualRepeatedRows(t *testing.T) {
	_, x, y, keys := diabetes(t)
	d := 10
	w := make([]float64, len(y))
	var rx, ry []float64
	var rkeys []string
	for i := range y {
		w[i] = float64(1 + i%3)
		for range int(w[i]) {
			rx = append(rx, x[i*d:(i+1)*d]...)
			ry = append(ry, y[i])
			rkeys = append(rkeys, keys[i])
		}
	}
	weighted, err := Reference(Config{Lambda: 2}, d, shardsByKey(x, y, w, keys, d, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	repeated, err := Reference(Config{Lambda: 2}, d, shardsByKey(rx, ry, nil, rkeys, d, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	for j := range d {
		if e := relErr(weighted.Coefficients[j], repeated.Coefficients[j], 1); e > 1e-11 {
			t.Errorf("coefficient %d: weighted %v, repeated rows %v", j, weighted.Coefficients[j], repeated.Coefficients[j])
		}
	}
	if e := relErr(weighted.RMSE, repeated.RMSE, 1); e > 1e-12 {
		t.Errorf("RMSE: weighted %v, repeated rows %v", weighted.RMSE, repeated.RMSE)
	}
	if weighted.SumWeights != float64(len(ry)) {
		t.Errorf("SumWeights %v, want %d", weighted.SumWeights, len(ry))
	}
}

// A feature that is twice another makes XᵀX singular: the solve falls back
// to the pseudo-inverse, says so, and still fits; a constant feature gets a
// zero coefficient and is named.
func TestSingularFeatures(t *testing.T) {
	var x, y []float64
	for i := range 20 {
		v := float64(i%7) + 0.25*float64(i%3)
		x = append(x, v, 2*v, 5)
		y = append(y, 1+3*v)
	}
	cfg := Config{Features: []string{"a", "twice a", "five"}}
	m, err := Reference(cfg, 3, Shard{X: x[:30], Y: y[:10]}, Shard{X: x[30:], Y: y[10:]})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pseudo-inverse", "five", "1 of 3 directions"} {
		if !strings.Contains(m.Warning, want) {
			t.Errorf("warning %q does not mention %q", m.Warning, want)
		}
	}
	if m.StdErrors != nil || m.Rank != 1 || m.Cond != math.MaxFloat64 {
		t.Errorf("StdErrors %v, Rank %d, Cond %v; want nil, 1, MaxFloat64", m.StdErrors, m.Rank, m.Cond)
	}
	if m.Coefficients[2] != 0 {
		t.Errorf("constant feature's coefficient %v, want 0", m.Coefficients[2])
	}
	// Equilibrated minimum norm splits the slope 3 as β₀·a + β₁·2a with
	// β₀√Saa = β₁·2√Saa, that is β₀ = 1.5 and β₁ = 0.75.
	if math.Abs(m.Coefficients[0]-1.5) > 1e-12 || math.Abs(m.Coefficients[1]-0.75) > 1e-12 {
		t.Errorf("coefficients %v, want [1.5 0.75 0]", m.Coefficients)
	}
	if m.RMSE > 1e-12 || math.Abs(m.Intercept-1) > 1e-12 {
		t.Errorf("RMSE %v, intercept %v; want an exact fit with intercept 1", m.RMSE, m.Intercept)
	}
	// With a penalty the same data is well posed: no fallback.
	cfg.Lambda = 0.1
	m, err = Reference(cfg, 3, Shard{X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Warning, "pseudo-inverse") || m.Rank != 3 {
		t.Errorf("λ = 0.1: warning %q, rank %d", m.Warning, m.Rank)
	}
}

// The held-out metrics are those of the model on the rows IsHoldout picks,
// recomputed here directly.
func TestHoldoutMetrics(t *testing.T) {
	names, x, y, keys := diabetes(t)
	d := len(names)
	cfg := Config{Lambda: 0.5, Holdout: 0.3, SplitSeed: 99}
	m, err := Reference(cfg, d, shardsByKey(x, y, nil, keys, d, 5)...)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	var rss, sy, syy float64
	for i, k := range keys {
		if !IsHoldout(k, cfg.Holdout, cfg.SplitSeed) {
			continue
		}
		r := y[i] - m.Predict(x[i*d:(i+1)*d])
		rss += r * r
		sy += y[i]
		syy += y[i] * y[i]
		n++
	}
	mean := sy / float64(n)
	r2 := 1 - rss/(syy-float64(n)*mean*mean)
	rmse := math.Sqrt(rss / float64(n))
	if m.NHoldout != n || m.N+n != int64(len(y)) {
		t.Fatalf("NHoldout %d, N %d; want %d and %d", m.NHoldout, m.N, n, int64(len(y))-n)
	}
	if relErr(m.HoldoutR2, r2, 1) > 1e-12 || relErr(m.HoldoutRMSE, rmse, 1) > 1e-12 {
		t.Errorf("holdout R² %v RMSE %v, recomputed %v %v", m.HoldoutR2, m.HoldoutRMSE, r2, rmse)
	}
	if frac := float64(n) / float64(len(y)); math.Abs(frac-cfg.Holdout) > 0.06 {
		t.Errorf("held out %.3f of the rows, want about %v", frac, cfg.Holdout)
	}
}

// A shard larger than one L2 block (16384 rows at d = 3) is merged block by
// block; the fit must agree with a direct two-pass solve, and a constant
// column must stay exactly constant across blocks.
func TestManyBlocks(t *testing.T) {
	const n, d = 40_000, 3
	x := make([]float64, 0, n*d)
	y := make([]float64, n)
	w := make([]float64, n)
	for i := range n {
		a := math.Sin(float64(i)) * 3
		b := math.Cos(float64(i)*0.7) + 1000 // a large offset: centring matters
		x = append(x, a, b, 4.25)
		y[i] = 2 - 0.5*a + 3*(b-1000) + 0.01*math.Sin(float64(i)*1.3)
		w[i] = 1 + float64(i%5)
	}
	for _, wts := range [][]float64{nil, w} {
		m, err := Reference(Config{}, d, Shard{X: x, Y: y, W: wts})
		if err != nil {
			t.Fatal(err)
		}
		want := directFit(x, y, wts, d, 2) // the constant column left out
		for j := range 2 {
			if relErr(m.Coefficients[j], want[j], 1) > 1e-10 {
				t.Errorf("weights %v: coefficient %d = %v, direct %v", wts != nil, j, m.Coefficients[j], want[j])
			}
		}
		if m.Coefficients[2] != 0 || !strings.Contains(m.Warning, "x2") {
			t.Errorf("constant column: coefficient %v, warning %q", m.Coefficients[2], m.Warning)
		}
	}
}

// directFit solves the weighted least-squares problem on the first k
// columns by the textbook two-pass method: means, centred cross-products,
// Gaussian elimination (k ≤ 2 here, so Cramer's rule).
func directFit(x, y, w []float64, d, k int) []float64 {
	n := len(y)
	wt := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var sw float64
	mx := make([]float64, k)
	var my float64
	for i := range n {
		sw += wt(i)
		for j := range k {
			mx[j] += wt(i) * x[i*d+j]
		}
		my += wt(i) * y[i]
	}
	for j := range k {
		mx[j] /= sw
	}
	my /= sw
	var a00, a01, a11, b0, b1 float64
	for i := range n {
		u, v, r := x[i*d]-mx[0], x[i*d+1]-mx[1], y[i]-my
		a00 += wt(i) * u * u
		a01 += wt(i) * u * v
		a11 += wt(i) * v * v
		b0 += wt(i) * u * r
		b1 += wt(i) * v * r
	}
	det := a00*a11 - a01*a01
	return []float64{(b0*a11 - b1*a01) / det, (a00*b1 - a01*b0) / det}
}
