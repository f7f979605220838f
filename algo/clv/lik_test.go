package clv

import (
	"math"
	"testing"
)

// TestGradientFiniteDifferences checks each model's analytic gradient with
// respect to the log-parameters against central differences of its
// log-likelihood (step 1e-5, tolerance 1e-6 relative to max(1, |∂ℓ|)).
func TestGradientFiniteDifferences(t *testing.T) {
	type cust struct{ x, tx, T float64 }
	custs := []cust{{0, 0, 38.9}, {1, 0.5, 30}, {2, 30.43, 38.86}, {7, 20, 20}, {40, 51.9, 52}, {3, 0, 0.01}}
	points := map[string][][]float64{
		BGNBD:     {{0.243, 4.414, 0.793, 2.426}, {1, 1, 1, 1}, {3, 0.2, 5, 0.1}},
		ParetoNBD: {{0.553, 10.578, 0.606, 11.669}, {1, 1, 1, 1}, {0.3, 20, 2, 0.5}, {2, 0.5, 0.3, 30}},
	}
	for model, ps := range points {
		for _, p := range ps {
			for _, c := range custs {
				fn := func(p, g []float64) (float64, bool) {
					if model == BGNBD {
						return bgnbdLL(p, c.x, c.tx, c.T, g)
					}
					return paretoLL(p, c.x, c.tx, c.T, g)
				}
				checkGrad(t, model, p, fn, c)
			}
		}
	}
	for _, p := range [][]float64{{6.25, 3.74, 15.44}, {0.5, 1.5, 2}} {
		for _, c := range []cust{{1, 10, 0}, {4, 35.5, 0}, {30, 0.2, 0}} {
			checkGrad(t, GammaGamma, p, func(p, g []float64) (float64, bool) { return ggLL(p, c.x, c.tx, g) }, c)
		}
	}
}

func checkGrad(t *testing.T, model string, p []float64, fn func(p, g []float64) (float64, bool), c any) {
	t.Helper()
	k := len(p)
	g := make([]float64, k)
	if _, ok := fn(p, g); !ok {
		t.Fatalf("%s at %v, %v: not finite", model, p, c)
	}
	const h = 1e-5
	for i := range k {
		up, dn := append([]float64(nil), p...), append([]float64(nil), p...)
		up[i] *= math.Exp(h)
		dn[i] *= math.Exp(-h)
		lu, _ := fn(up, nil)
		ld, _ := fn(dn, nil)
		fd := (lu - ld) / (2 * h)
		if math.Abs(fd-g[i]) > 1e-6*max(1, math.Abs(g[i])) {
			t.Errorf("%s at %v, customer %v: ∂ℓ/∂log θ%d = %v, finite differences %v", model, p, c, i, g[i], fd)
		}
	}
}

// TestHypergeometric checks the series against values from scipy 1.10.1's
// hyp2f1 (printed to 17 digits).
func TestHypergeometric(t *testing.T) {
	for _, c := range []struct{ a, b, c, z, want float64 }{
		{2.243, 4.426, 5.219, 0.5, 3.614707706823282},
		{0.5, 1.5, 2.5, 0.9, 1.6673034691845778},
		{1, 1, 2, 0.5, 1.3862943611198901}, // −log(1−z)/z
		{3, 2, -1.5, 0.3, 127.51374298005348},
	} {
		got, ok := hyp2f1(c.a, c.b, c.c, c.z)
		if !ok || math.Abs(got-c.want) > 1e-13*math.Abs(c.want) {
			t.Errorf("2F1(%v, %v; %v; %v) = %v (%v), want %v", c.a, c.b, c.c, c.z, got, ok, c.want)
		}
	}
	// hypA1's derivatives against central differences of hyp2f1.
	for _, c := range []struct{ a, b, z float64 }{{1.2, 1.6, 0.05}, {40, 0.6, 0.7}, {0.3, 25, 0.2}} {
		f, fa, fb, fz, ok := hypA1(c.a, c.b, c.z)
		ref, _ := hyp2f1(c.a, c.b, c.a+1, c.z)
		if !ok || math.Abs(f-ref) > 1e-14*ref {
			t.Errorf("hypA1(%v) = %v, hyp2f1 %v", c, f, ref)
		}
		const h = 1e-6
		num := func(da, db, dz float64) float64 {
			u, _ := hyp2f1(c.a+da, c.b+db, c.a+da+1, c.z+dz)
			d, _ := hyp2f1(c.a-da, c.b-db, c.a-da+1, c.z-dz)
			return (u - d) / (2 * h)
		}
		for i, p := range [][2]float64{{fa, num(h, 0, 0)}, {fb, num(0, h, 0)}, {fz, num(0, 0, h)}} {
			if math.Abs(p[0]-p[1]) > 1e-7*max(1, math.Abs(p[1])) {
				t.Errorf("hypA1(%v) derivative %d = %v, finite differences %v", c, i, p[0], p[1])
			}
		}
	}
}

func TestDigamma(t *testing.T) {
	// Values from scipy.special.digamma.
	for _, c := range []struct{ x, want float64 }{
		{1, -0.5772156649015329}, {0.5, -1.9635100260214235}, {0.001, -1000.5755719318103},
		{7.5, 1.9467574842460866}, {1e6, 13.81551005796419},
	} {
		if got := digamma(c.x); math.Abs(got-c.want) > 2e-15*max(1, math.Abs(c.want)) {
			t.Errorf("ψ(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}
