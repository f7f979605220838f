package linear

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// naiveGram is the definition AddGram must match bit for bit.
func naiveGram(g, a, b []float64, n, d int) {
	s := GramStride(d)
	for j := range d {
		for k := j; k < d; k++ {
			for i := range n {
				g[j*s+k] = math.FMA(a[i*s+j], b[i*s+k], g[j*s+k])
			}
		}
	}
}

// withPath runs f with the kernel path p.
func withPath(t testing.TB, p kernel.Path, f func()) {
	t.Helper()
	old := kernel.SetPath(p)
	defer kernel.SetPath(old)
	f()
}

func logPaths(t *testing.T) {
	t.Logf("kernel paths: %v", kernel.Paths())
}

// TestAddGramMatchesDefinition holds every kernel path to the definition, with
// NaN padding (which must reach scratch entries only) and blocks of rows
// that end anywhere.
func TestAddGramMatchesDefinition(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 33, 34, 40, 41, 57, 63, 64, 65, 70, 130} {
		s := GramStride(d)
		for _, n := range []int{0, 1, 3, 61, 62, 63, 1000} {
			a := make([]float64, n*s)
			b := make([]float64, n*s)
			for i := range a {
				a[i], b[i] = math.NaN(), math.NaN()
				if i%s < d {
					a[i], b[i] = r.NormFloat64(), r.NormFloat64()*1e3
				}
			}
			g0 := make([]float64, s*s)
			for i := range g0 {
				g0[i] = r.Float64()
			}
			want := append([]float64(nil), g0...)
			naiveGram(want, a, b, n, d)
			for _, path := range kernel.Paths() {
				got := append([]float64(nil), g0...)
				withPath(t, path, func() { AddGram(got, a, b, n, d) })
				for j := range d {
					for k := j; k < d; k++ {
						if math.Float64bits(got[j*s+k]) != math.Float64bits(want[j*s+k]) {
							t.Fatalf("d=%d n=%d %s: entry (%d,%d) = %v, want %v", d, n, path, j, k, got[j*s+k], want[j*s+k])
						}
					}
				}
			}
		}
	}
}

func TestPackUpper(t *testing.T) {
	d, s := 4, 6
	g := make([]float64, s*s)
	for i := range g {
		g[i] = float64(i)
	}
	p := packUpper(nil, g, d, s)
	if len(p) != upperLen(d) {
		t.Fatalf("len %d, want %d", len(p), upperLen(d))
	}
	for j := range d {
		for k := j; k < d; k++ {
			if p[upperAt(j, k, d)] != g[j*s+k] {
				t.Fatalf("(%d,%d): packed %v, want %v", j, k, p[upperAt(j, k, d)], g[j*s+k])
			}
		}
	}
}
