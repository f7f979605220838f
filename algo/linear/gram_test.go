package linear

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGram is the definition AddGram must match bit for bit.
func naiveGram(g, a, b []float64, n, d int) {
	for j := range d {
		for k := j; k < d; k++ {
			for i := range n {
				g[j*d+k] = math.FMA(a[j*n+i], b[k*n+i], g[j*d+k])
			}
		}
	}
}

func TestAddGramMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 33, 70} {
		for _, n := range []int{0, 1, 3, 61, 1000} {
			a := make([]float64, n*d)
			b := make([]float64, n*d)
			for i := range a {
				a[i], b[i] = r.NormFloat64(), r.NormFloat64()*1e3
			}
			g0 := make([]float64, d*d)
			for i := range g0 {
				g0[i] = r.Float64()
			}
			want := append([]float64(nil), g0...)
			naiveGram(want, a, b, n, d)
			got := append([]float64(nil), g0...)
			AddGram(got, a, b, n, d)
			for j := range d {
				for k := j; k < d; k++ {
					if math.Float64bits(got[j*d+k]) != math.Float64bits(want[j*d+k]) {
						t.Fatalf("d=%d n=%d: entry (%d,%d) = %v, want %v", d, n, j, k, got[j*d+k], want[j*d+k])
					}
				}
			}
		}
	}
}

func TestPackUpper(t *testing.T) {
	d := 4
	g := make([]float64, d*d)
	for i := range g {
		g[i] = float64(i)
	}
	p := packUpper(nil, g, d)
	if len(p) != upperLen(d) {
		t.Fatalf("len %d, want %d", len(p), upperLen(d))
	}
	for j := range d {
		for k := j; k < d; k++ {
			if p[upperAt(j, k, d)] != g[j*d+k] {
				t.Fatalf("(%d,%d): packed %v, want %v", j, k, p[upperAt(j, k, d)], g[j*d+k])
			}
		}
	}
}
