package clv

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// wellPosed is one generated BG/NBD set: the true parameters and the
// number of customers.
type wellPosed struct {
	truth []float64
	n     int
}

// wellPosedGrid returns the full grid of generated BG/NBD sets: 24
// parameter sets (r, α, a, b) by 3 sizes.
func wellPosedGrid() []wellPosed {
	var out []wellPosed
	for _, r := range []float64{0.25, 0.8, 2} {
		for _, alpha := range []float64{3, 10} {
			for _, a := range []float64{0.5, 1.2} {
				for _, b := range []float64{2, 6} {
					for _, n := range []int{5_000, 20_000, 60_000} {
						out = append(out, wellPosed{[]float64{r, alpha, a, b}, n})
					}
				}
			}
		}
	}
	return out
}

// negGrad returns the gradient of the negative log-likelihood of model
// with respect to the log-parameters theta, summed over shards.
func negGrad(model string, theta []float64, shards []*Summaries) []float64 {
	g := make([]Sum, len(theta))
	for _, s := range shards {
		e := evalSums(Eval{Model: model, LogParams: theta}, s)
		for k := range g {
			g[k].AddSum(&e.Grad[k])
		}
	}
	out := make([]float64, len(theta))
	for k := range out {
		out[k] = -g[k].Float64()
	}
	return out
}

// newtonOptimum returns the maximum-likelihood log-parameters of model
// over shards by Newton's method from theta: the Hessian by central
// differences of the exact gradient, iterated until the step is below
// 1e-10 (the parameters' relative change; the rounding of the gradient
// keeps steps of a weakly pinned parameter at about 1e-12). It needs no objective values, so it is not limited by their
// rounding, and it shares no code with the L-BFGS. ok is false when the
// Hessian is not positive definite or Newton does not settle.
func newtonOptimum(model string, theta []float64, shards []*Summaries) (opt []float64, ok bool) {
	const h = 1e-5
	k := len(theta)
	opt = append([]float64(nil), theta...)
	for range 30 {
		g := negGrad(model, opt, shards)
		H := mat.NewSymDense(k, nil)
		cols := make([][]float64, k)
		for j := range k {
			p, m := append([]float64(nil), opt...), append([]float64(nil), opt...)
			p[j] += h
			m[j] -= h
			gp, gm := negGrad(model, p, shards), negGrad(model, m, shards)
			cols[j] = make([]float64, k)
			for i := range k {
				cols[j][i] = (gp[i] - gm[i]) / (2 * h)
			}
		}
		for i := range k {
			for j := i; j < k; j++ {
				H.SetSym(i, j, (cols[i][j]+cols[j][i])/2)
			}
		}
		var ch mat.Cholesky
		if !ch.Factorize(H) {
			return opt, false
		}
		var step mat.VecDense
		if err := ch.SolveVecTo(&step, mat.NewVecDense(k, g)); err != nil {
			return opt, false
		}
		size := 0.0
		for i := range k {
			opt[i] -= step.AtVec(i)
			size = max(size, math.Abs(step.AtVec(i)))
		}
		if size < 1e-10 {
			return opt, true
		}
	}
	return opt, false
}

// checkWellPosed fits the generated set c and requires success with the
// BG/NBD and Gamma-Gamma parameters within 1e-6 relative of the
// likelihoods' optima found by Newton's method, and for the small sets
// the same bits over 1, 2 and 4 shards (not under the race detector).
func checkWellPosed(t *testing.T, seed uint64, c wellPosed) {
	shards := generateBG(seed, c.n, 2, c.truth)
	m, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd}, shards)
	if err != nil {
		t.Errorf("truth %v, %d customers: %v", c.truth, c.n, err)
		return
	}
	if c.n <= 5_000 && !raceEnabled { // the same bits over 1 and 4 shards
		for _, k := range []int{1, 4} {
			mk, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd}, generateBG(seed, c.n, k, c.truth))
			if err != nil {
				t.Errorf("truth %v, %d customers, %d shards: %v", c.truth, c.n, k, err)
				continue
			}
			if !slices.Equal(mk.Purchase.Values, m.Purchase.Values) || !slices.Equal(mk.Spend.Values, m.Spend.Values) {
				t.Errorf("truth %v, %d customers: %d shards fit %v %v, 2 shards %v %v", c.truth, c.n, k,
					mk.Purchase.Values, mk.Spend.Values, m.Purchase.Values, m.Spend.Values)
			}
		}
	}
	for _, fp := range []FittedParams{m.Purchase, m.Spend} {
		got := fp.Values
		theta := make([]float64, len(got))
		for i, v := range got {
			theta[i] = math.Log(v)
		}
		opt, ok := newtonOptimum(fp.Model, theta, shards)
		if !ok {
			t.Errorf("truth %v, %d customers: %s: Newton's method from the fit %v does not settle (the set is not well-posed)", c.truth, c.n, fp.Model, got)
			continue
		}
		worst := 0.0
		for i, v := range got {
			w := math.Exp(opt[i])
			worst = max(worst, math.Abs(v-w)/w)
		}
		t.Logf("truth %v, %d customers: %s %.6g in %d iterations, %.2g relative from the optimum", c.truth, c.n, fp.Model, got, fp.Iterations, worst)
		if worst > 1e-6 {
			t.Errorf("truth %v, %d customers: %s fit %v, optimum %v: %.3g relative apart", c.truth, c.n, fp.Model, got, expAll(opt), worst)
		}
	}
}

// TestWellPosedFits fits sets generated over a grid of true BG/NBD
// parameters and sizes: every fit succeeds at the likelihood's optimum,
// also those whose objective stops falling beyond its rounding with the
// gradient still a little above the tolerance. By default the 12 sets of
// 5,000 customers with r = 0.25, or r = 2 and b = 6 (seconds); MATHCRM_CLV_GRID=1
// runs all 72 (about a minute).
func TestWellPosedFits(t *testing.T) {
	all := os.Getenv("MATHCRM_CLV_GRID") != ""
	for i, c := range wellPosedGrid() {
		if !all && (c.n != 5_000 || c.truth[0] != 0.25 && (c.truth[0] != 2 || c.truth[3] != 6)) {
			continue
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkWellPosed(t, uint64(100+i), c)
		})
	}
}
