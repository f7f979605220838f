package logistic

import (
	"math"
	"strings"
	"testing"
)

// binary returns rows of one binary feature: for x = 0 and x = 1 in turn,
// the given numbers of positive and negative rows.
func binary(pos0, neg0, pos1, neg1 int) (x, y []float64) {
	add := func(xv float64, n int, yv float64) {
		for range n {
			x, y = append(x, xv), append(y, yv)
		}
	}
	add(0, pos0, 1)
	add(0, neg0, 0)
	add(1, pos1, 1)
	add(1, neg1, 0)
	return x, y
}

// With one binary feature and no penalty the maximum-likelihood fit
// reproduces each group's (weighted) rate: b = logit(rate at x=0) and
// b + β = logit(rate at x=1).
func TestHandChecked(t *testing.T) {
	x, y := binary(1, 3, 3, 1)
	m, err := Reference(Config{Penalty: PenaltyNone, Tol: 1e-12}, 1, Shard{X: x[:5], Y: y[:5]}, Shard{X: x[5:], Y: y[5:]})
	if err != nil {
		t.Fatal(err)
	}
	// Rates 1/4 and 3/4: b = −log 3, β = 2 log 3. Every row's log-loss
	// is that of a rate-¼ or rate-¾ group: H(¼) = −¼log¼ − ¾log¾.
	// AUC: of the 16 (positive, negative) pairs, 9 are ordered and 6 tied.
	h := -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))
	near(t, "intercept", m.Intercept, -math.Log(3), 1e-12)
	near(t, "coefficient", m.Coefficients[0], 2*math.Log(3), 1e-12)
	near(t, "log-loss", m.Train.LogLoss, h, 1e-12)
	near(t, "AUC", m.Train.AUC, 0.75, 1e-15)
	if m.Train.AUCMethod != AUCExact || !m.Converged || m.Warning != "" {
		t.Errorf("AUC method %q, converged %v, warning %q", m.Train.AUCMethod, m.Converged, m.Warning)
	}
	// p = ¼ falls in bin 2 (0.2 < p ≤ 0.30000000000000004), ¾ in bin 7.
	for b, c := range m.Train.Calibration {
		switch b {
		case 2, 7:
			want := 0.25 + 0.5*float64(b/7)
			if c.Count != 4 || math.Abs(c.MeanPredicted-want) > 1e-12 || c.ObservedRate != want {
				t.Errorf("calibration bin %d: %+v, want 4 rows at %v", b, c, want)
			}
		default:
			if c.Count != 0 {
				t.Errorf("calibration bin %d: %+v, want empty", b, c)
			}
		}
	}

	// Balanced weights: n = 10, n₁ = 3, n₀ = 7, so w₀ = 5/7, w₁ = 5/3;
	// the weighted rates give b = log(w₁·1/(w₀·5)) = log(7/15) and
	// b + β = log(w₁·2/(w₀·2)) = log(7/3), so β = log 5.
	x, y = binary(1, 5, 2, 2)
	m, err = Reference(Config{Penalty: PenaltyNone, ClassWeight: Balanced, Tol: 1e-12}, 1, Shard{X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "balanced intercept", m.Intercept, math.Log(7.0/15), 1e-12)
	near(t, "balanced coefficient", m.Coefficients[0], math.Log(5), 1e-12)
	near(t, "class weight 0", m.ClassWeights[0], 5.0/7, 1e-15)
	near(t, "class weight 1", m.ClassWeights[1], 5.0/3, 1e-15)
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}

// At the penalised optimum the gradient Σ(p−y)(x, 1) + λ(β, 0) vanishes,
// checked here with the model's own probabilities.
func TestPenalisedOptimality(t *testing.T) {
	keys, raw, y := telco(t)
	x := standardise(columns(raw, 6, 3), []float64{32, 65, 0.16}, []float64{25, 30, 0.37})
	for _, solver := range []string{SolverNewton, SolverLBFGS} {
		cfg := Config{C: 0.05, Solver: solver, Tol: 1e-14}
		m, err := Reference(cfg, 3, shardsByKey(x, y, nil, keys, 3, 3)...)
		if err != nil {
			t.Fatal(err)
		}
		g := make([]float64, 4)
		for i := range y {
			r := m.Probability(x[i*3:(i+1)*3]) - y[i]
			for j := range 3 {
				g[j] += r * x[i*3+j]
			}
			g[3] += r
		}
		for j := range 3 {
			g[j] += m.Coefficients[j] / cfg.C
		}
		if maxAbs(g) > 1e-6 {
			t.Errorf("%s: gradient at the optimum %v", solver, g)
		}
	}
}

func TestWeightsEqualRepeatedRows(t *testing.T) {
	keys, raw, y := telco(t)
	x := standardise(columns(raw, 6, 3), []float64{32, 65, 0.16}, []float64{25, 30, 0.37})
	n := 2000
	w := make([]float64, n)
	var rx, ry []float64
	var rkeys []string
	for i := range n {
		w[i] = float64(1 + i%3)
		for range int(w[i]) {
			rx = append(rx, x[i*3:(i+1)*3]...)
			ry = append(ry, y[i])
			rkeys = append(rkeys, keys[i])
		}
	}
	// No class weights: "balanced" counts rows, not weights, as
	// scikit-learn does, so repeating rows would change them.
	cfg := Config{C: 0.5, Tol: 1e-12}
	weighted, err := Reference(cfg, 3, shardsByKey(x[:3*n], y[:n], w, keys[:n], 3, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	repeated, err := Reference(cfg, 3, shardsByKey(rx, ry, nil, rkeys, 3, 3)...)
	if err != nil {
		t.Fatal(err)
	}
	for j := range 3 {
		near(t, "coefficient", weighted.Coefficients[j], repeated.Coefficients[j], 1e-9)
	}
	near(t, "log-loss", weighted.Train.LogLoss, repeated.Train.LogLoss, 1e-12)
	near(t, "AUC", weighted.Train.AUC, repeated.Train.AUC, 1e-12)
}

// Above ExactAUCMaxRows the AUC comes from score histograms; with 2¹⁶ bins
// it stays close to the exact one.
func TestHistogramAUC(t *testing.T) {
	keys, raw, y := telco(t)
	x := standardise(raw, []float64{32, 65, 0.16, 0.55, 0.21, 0.24}, []float64{25, 30, 0.37, 0.5, 0.41, 0.43})
	shards := shardsByKey(x, y, nil, keys, 6, 4)
	exact, err := Reference(Config{Holdout: 0.3, SplitSeed: 2}, 6, shards...)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := Reference(Config{Holdout: 0.3, SplitSeed: 2, ExactAUCMaxRows: 100}, 6, shards...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name        string
		exact, hist Metrics
	}{{"train", exact.Train, hist.Train}, {"holdout", exact.Holdout, hist.Holdout}} {
		if p.exact.AUCMethod != AUCExact || p.hist.AUCMethod != AUCHistogram {
			t.Errorf("%s: methods %q and %q", p.name, p.exact.AUCMethod, p.hist.AUCMethod)
		}
		if math.Abs(p.exact.AUC-p.hist.AUC) > 1e-4 {
			t.Errorf("%s: exact AUC %v, histogram %v", p.name, p.exact.AUC, p.hist.AUC)
		}
		if p.exact.LogLoss != p.hist.LogLoss {
			t.Errorf("%s: log-loss changed with the AUC method", p.name)
		}
	}
	if exact.Holdout.N == 0 || exact.Holdout.N+exact.Train.N != int64(len(y)) {
		t.Errorf("holdout %d + train %d rows of %d", exact.Holdout.N, exact.Train.N, len(y))
	}
}

func TestCalBin(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want int
	}{{0, 0}, {0.1, 0}, {0.10000000000000002, 1}, {0.3, 2}, {0.30000000000000004, 2}, {0.3000000000000001, 3}, {0.95, 9}, {1, 9}} {
		if got := calBin(c.p); got != c.want {
			t.Errorf("calBin(%v) = %d, want %d", c.p, got, c.want)
		}
	}
	// The count of inner edges below p, as defined, at and around every
	// edge, over a grid, and at the values a score never takes.
	count := func(p float64) int {
		b := 0
		for _, e := range calEdges {
			if e < p {
				b++
			}
		}
		return b
	}
	ps := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 2, math.Copysign(0, -1), 5e-324, 1e300}
	for _, e := range calEdges {
		for _, p := range []float64{e, math.Nextafter(e, 0), math.Nextafter(e, 1), math.Nextafter(math.Nextafter(e, 1), 1)} {
			ps = append(ps, p)
		}
	}
	for i := range 100001 {
		ps = append(ps, float64(i)/100000)
	}
	for _, p := range ps {
		if got, want := calBin(p), count(p); got != want {
			t.Fatalf("calBin(%v) = %d, the count of edges below it is %d", p, got, want)
		}
	}
}

// Without a penalty, separable classes have no optimum: the fit stops at
// MaxIter with a warning; a feature collinear with the intercept makes the
// Hessian singular, which the Newton step survives by pseudo-inverse.
func TestIllPosed(t *testing.T) {
	x, y := binary(0, 4, 4, 0)
	m, err := Reference(Config{Penalty: PenaltyNone, MaxIter: 30}, 1, Shard{X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	if m.Converged && m.Coefficients[0] < 20 {
		t.Errorf("separable data: converged with β = %v", m.Coefficients[0])
	}
	if m.Train.AUC != 1 {
		t.Errorf("separable data: AUC %v, want 1", m.Train.AUC)
	}
	x2 := make([]float64, 0, 2*len(y))
	x, y = binary(2, 3, 3, 2)
	for _, v := range x {
		x2 = append(x2, v, 1-v) // one-hot: the columns sum to the intercept
	}
	m, err = Reference(Config{Penalty: PenaltyNone}, 2, Shard{X: x2, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Warning, "Hessian is singular") {
		t.Errorf("collinear one-hot: warning %q", m.Warning)
	}
	// The fitted probabilities are still the group rates 2/5 and 3/5.
	near(t, "P(x=0)", m.Probability([]float64{0, 1}), 0.4, 1e-9)
	near(t, "P(x=1)", m.Probability([]float64{1, 0}), 0.6, 1e-9)
}
