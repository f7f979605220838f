package linear

import (
	"math"
	"math/rand/v2"
	"testing"
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

// withSIMD runs f with the SIMD kernels switched on or off.
func withSIMD(t testing.TB, on bool, f func()) {
	t.Helper()
	old, old2 := simdEnabled, avx2Enabled
	simdEnabled, avx2Enabled = on && vecSupported(), on && avx2Supported()
	defer func() { simdEnabled, avx2Enabled = old, old2 }()
	f()
}

// withAVX2 runs f with the AVX2 cross-product kernel alone (none when the
// build or CPU has none).
func withAVX2(t testing.TB, f func()) {
	t.Helper()
	old, old2 := simdEnabled, avx2Enabled
	simdEnabled, avx2Enabled = false, avx2Supported()
	defer func() { simdEnabled, avx2Enabled = old, old2 }()
	f()
}

func logPaths(t *testing.T) {
	if !vecSupported() && !avx2Supported() {
		t.Log("no SIMD path in this build or on this CPU: comparing the portable path with itself")
	}
}

// TestAddGramMatchesDefinition holds both kernels to the definition, with
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
			for _, path := range []string{"portable", "simd", "avx2"} {
				got := append([]float64(nil), g0...)
				switch path {
				case "avx2":
					withAVX2(t, func() { AddGram(got, a, b, n, d) })
				default:
					withSIMD(t, path == "simd", func() { AddGram(got, a, b, n, d) })
				}
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
