package als

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Every kernel path (algo/internal/kernel) must give the portable path's
// bits. These tests run whole jobs on every path the build and the CPU
// have; the row kernels themselves are held to the portable code in the
// kernel package's harness.

// kernelPaths lists the paths this build and CPU run, the portable first.
var kernelPaths = kernel.Paths()

// withPath runs f on the kernels of path p.
func withPath(t testing.TB, p kernel.Path, f func()) {
	t.Helper()
	old := kernel.SetPath(p)
	defer kernel.SetPath(old)
	f()
}

func logPaths(t *testing.T) {
	t.Logf("kernel paths: %v", kernelPaths)
}

// kernelValue returns a factor value: zeros of both signs, small integers,
// and normal values of three magnitudes.
func kernelValue(r *rand.Rand) float64 {
	switch r.IntN(10) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return float64(r.IntN(5) - 2)
	case 3:
		return r.NormFloat64() * 1e-3
	case 4:
		return r.NormFloat64() * 1e3
	}
	return r.NormFloat64()
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// kernelValue draws factor-like values with exact zeros, signed zeros,
// repeats and a spread of magnitudes.
// TestPathsAgreeJobs runs whole jobs on every path, at ranks that exercise
// every tile shape and tail, and demands bit-identical models.
func TestPathsAgreeJobs(t *testing.T) {
	logPaths(t)
	tr := spark(t)
	u, i := tr.blocks(3)
	for name, cfg := range testConfigs() {
		for _, rank := range []int{1, 3, 8, 13, 20, 33} {
			if testing.Short() && rank%2 == 0 {
				continue
			}
			cfg.Rank, cfg.Iterations = rank, 2
			h := make([]string, len(kernelPaths))
			for p, path := range kernelPaths {
				withPath(t, path, func() {
					m, err := Reference(cfg, u, i)
					if err != nil {
						t.Fatal(err)
					}
					h[p] = modelHash(m)
				})
				if h[0] != h[p] {
					t.Errorf("%s rank %d: portable model %s, %s %s", name, rank, h[0], path, h[p])
				}
			}
		}
	}
}

// TestGoldenModels pins the exact bits of a few models. They were recorded
// with GOAMD64=v1 (the portable kernels) and are checked on every path
// the build and the CPU have: any build on any CPU must reproduce them. A deliberate change
// to the algorithm changes them: re-record and say why.
func TestGoldenModels(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(4)
	want := map[string]string{
		"explicit":       "f4e5e9279975b53e",
		"explicit-plain": "5bcca4e2c105213d",
		"implicit":       "11cd9c859510b853",
		"implicit-plain": "55d67602574eb85b",
	}
	for _, path := range kernelPaths {
		for name, cfg := range testConfigs() {
			withPath(t, path, func() {
				m, err := Reference(cfg, u, i)
				if err != nil {
					t.Fatal(err)
				}
				if got := modelHash(m); got != want[name] {
					t.Errorf("%s, %s path: model hash %s, want %s", name, path, got, want[name])
				}
			})
		}
	}
}
