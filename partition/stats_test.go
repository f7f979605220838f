package partition

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refWelford is welford.add as first written, with Frexp and Ldexp on every
// value: the faster add must give its bits.
type refWelford struct {
	count    int64
	min, max float64
	mean, m2 float64
	exp      int
}

func (w *refWelford) add(x float64) {
	if _, e := math.Frexp(x); e > w.exp {
		w.mean = math.Ldexp(w.mean, w.exp-e)
		w.m2 = math.Ldexp(w.m2, 2*(w.exp-e))
		w.exp = e
	}
	w.count++
	if w.count == 1 || x < w.min {
		w.min = x
	}
	if w.count == 1 || x > w.max {
		w.max = x
	}
	xs := math.Ldexp(x, -w.exp)
	delta := xs - w.mean
	w.mean += delta / float64(w.count)
	w.m2 += float64(delta * (xs - w.mean)) // never fused, as in welford.add
}

func TestWelfordBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 200 {
		var w welford
		var r refWelford
		scale := math.Pow(2, float64(rng.IntN(2100)-1075))
		for i := range 500 {
			var x float64
			switch rng.IntN(8) {
			case 0:
				x = math.Float64frombits(rng.Uint64() &^ (0x7ff << 52)) // subnormal or zero
			case 1:
				x = math.Float64frombits(rng.Uint64() &^ (1 << 62)) // any exponent below 1023
			case 2:
				x = (rng.Float64()*2 - 1) * math.MaxFloat64
			default:
				x = rng.NormFloat64() * scale
			}
			if math.IsInf(x, 0) || math.IsNaN(x) {
				continue
			}
			w.add(x)
			r.add(x)
			if math.Float64bits(w.mean) != math.Float64bits(r.mean) || math.Float64bits(w.m2) != math.Float64bits(r.m2) ||
				w.exp != r.exp || w.min != r.min || w.max != r.max {
				t.Fatalf("trial %d value %d (%g): got mean %g m2 %g exp %d, want %g %g %d", trial, i, x, w.mean, w.m2, w.exp, r.mean, r.m2, r.exp)
			}
		}
	}
}
