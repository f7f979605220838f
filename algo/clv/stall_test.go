package clv

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// noDropOut draws n customers who never drop out: purchases at a rate λ ~
// Gamma(0.7, 6 weeks), T uniform in [1, 52) weeks, Gamma-Gamma spend. The
// BG/NBD's maximum likelihood then lies at the boundary a → 0, b → ∞.
func noDropOut(seed uint64, n int) *Summaries {
	src := rand.New(rand.NewPCG(seed, 1))
	lam := distuv.Gamma{Alpha: 0.7, Beta: 6, Src: src}
	nu := distuv.Gamma{Alpha: 4, Beta: 15, Src: src}
	s := &Summaries{}
	for c := range n {
		l := lam.Rand()
		T := 1 + 51*src.Float64()
		t, x, tx := 0.0, 0, 0.0
		for {
			t += src.ExpFloat64() / l
			if t > T {
				break
			}
			x++
			tx = t
		}
		m := 0.0
		if x > 0 {
			sp := distuv.Gamma{Alpha: 6, Beta: nu.Rand(), Src: src}
			for range x {
				m += sp.Rand()
			}
			m /= float64(x)
			s.Counts.Repeat++
			s.Counts.Spend++
		}
		s.Keys = append(s.Keys, fmt.Sprintf("c%08d", c))
		s.X, s.Tx, s.T, s.Spend = append(s.X, float64(x)), append(s.Tx, tx), append(s.T, T), append(s.Spend, m)
		s.Counts.Customers++
		s.Counts.PositiveT++
	}
	return s
}

// TestNonConvergenceFailsFast fits BG/NBD without a penalty on customers
// who never drop out: a runs towards 0 and b towards ∞ with the objective
// flat to rounding. The job fails within 100 passes (it took tens of
// thousands before, to --max-iter), saying what happened and suggesting
// --penalty; with the penalty the same data fit.
func TestNonConvergenceFailsFast(t *testing.T) {
	s := noDropOut(1, 2000)
	st, err := New(Config{CalibrationEnd: cdnowCalEnd})
	if err != nil {
		t.Fatal(err)
	}
	res := make([]*Result, 1)
	passes := 0
	for {
		tk, done := st.Next()
		if done {
			t.Fatalf("the fit converged: %+v", st.Model().Purchase)
		}
		if res[0], err = runOn(tk, s, 0); err != nil {
			t.Fatal(err)
		}
		passes++
		if err = st.Absorb(res); err != nil {
			break
		}
		if passes > 1000 {
			t.Fatal("no failure in 1000 passes")
		}
	}
	if !errors.Is(err, ErrNoConvergence) || passes > 100 {
		t.Fatalf("after %d passes: %v", passes, err)
	}
	for _, want := range []string{"clv: the BG/NBD fit is not converging after ", "ran towards 0", "ran towards ∞",
		"the data show almost no drop-out", "a small --penalty (e.g. 0.001) keeps the parameters finite"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN in %v", err)
	}
	m, err := fitSummaries(Config{CalibrationEnd: cdnowCalEnd, Penalty: 0.001}, []*Summaries{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range m.Purchase.Values {
		if !finite(v) || !(v > 0) {
			t.Fatalf("penalised fit %v", m.Purchase.Values)
		}
	}
}

// TestBoundaryNote checks the note a model carries when its parameters ran
// to a boundary, as the Online Retail sample's BG/NBD fit did.
func TestBoundaryNote(t *testing.T) {
	theta := []float64{math.Log(0.7022934577153346), math.Log(6.366924562304214), math.Log(9.664053565644051e-21), math.Log(6.401502377169431e-09)}
	want := "a = 9.66e-21 and b = 6.4e-09 ran towards 0: the data show almost no drop-out (mean drop-out probability a/(a+b) = 1.51e-12), P(alive) ≈ 1 and the BG/NBD is the NBD"
	if got := boundary(BGNBD, theta); got != want {
		t.Errorf("boundary note\n%q, want\n%q", got, want)
	}
	if got := boundary(BGNBD, []float64{math.Log(0.243), math.Log(4.414), math.Log(0.793), math.Log(2.426)}); got != "" {
		t.Errorf("CDNOW's fit: %q", got)
	}
	if got := boundary(GammaGamma, []float64{math.Log(6), math.Log(2e5), math.Log(15)}); got != "q = 2e+05 ran towards ∞" {
		t.Errorf("Gamma-Gamma: %q", got)
	}
}

// flatRun drives a BG/NBD fit from the log-parameters theta on an
// objective that is 3 everywhere to its rounding with the gradient grad
// everywhere, as near an optimum the objective's changes fall below its
// rounding; it returns the passes taken and the error.
func flatRun(t *testing.T, theta []float64, grad float64) (*Fit, int, error) {
	t.Helper()
	cfg := Config{CalibrationEnd: cdnowCalEnd}.withDefaults()
	f := &Fit{Model: BGNBD, N: 1000, Point: theta}
	lgrad := []float64{-grad * 1000, grad * 1000, -grad * 1000, grad * 1000}
	for pass := 1; pass <= 1000; pass++ {
		if err := f.absorb(cfg, -3*1000, lgrad, false); err != nil || f.Converged {
			return f, pass, err
		}
	}
	t.Fatal("neither converged nor failed in 1000 passes")
	return nil, 0, nil
}

// TestStallAtOptimum checks the stall rule: an objective that no longer
// falls beyond its rounding is converged when the gradient is within √ε
// of the objective's scale and the parameters are inside their bounds,
// and fails fast with the non-convergence error otherwise.
func TestStallAtOptimum(t *testing.T) {
	inside := []float64{math.Log(0.5), math.Log(4), math.Log(0.8), math.Log(2.5)}
	f, passes, err := flatRun(t, inside, 2e-9)
	if err != nil || !f.Converged || passes > 40 {
		t.Errorf("gradient 2e-9: converged %v after %d passes, %v", f.Converged, passes, err)
	}
	if !slices.Equal(f.Point, f.At) || f.Line != nil {
		t.Errorf("converged fit's point %v, accepted %v, line %v", f.Point, f.At, f.Line)
	}
	for _, c := range []struct {
		theta []float64
		grad  float64
		want  string
	}{
		{inside, 1e-3, "(largest gradient 0.001, tolerance 1e-10); more customers or a longer calibration period"},
		{inside, 1e-7, "(largest gradient 1e-07, tolerance 1e-10)"},
		{[]float64{math.Log(0.5), math.Log(4), math.Log(0.8), math.Log(2e5)}, 2e-9, "b = 2e+05 ran towards ∞: the data show almost no drop-out"},
	} {
		_, passes, err := flatRun(t, slices.Clone(c.theta), c.grad)
		if !errors.Is(err, ErrNoConvergence) || passes > 40 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gradient %g at %v: after %d passes %v, want ErrNoConvergence with %q", c.grad, expAll(c.theta), passes, err, c.want)
		}
	}
}
