package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The SIMD kernels (GOEXPERIMENT=simd on amd64 with AVX-512) and the
// portable ones must give the same bits. These tests run both on the same
// inputs and compare; without a SIMD path both runs are portable and the
// tests only check that the toggle is harmless.

// withSIMD runs f with the SIMD path switched on or off.
func withSIMD(t testing.TB, on bool, f func()) {
	t.Helper()
	old := simdEnabled
	simdEnabled = on && vecSupported()
	defer func() { simdEnabled = old }()
	f()
}

func logPaths(t *testing.T) {
	if !vecSupported() {
		t.Log("no SIMD path in this build or on this CPU: comparing the portable path with itself")
	}
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// upperSame compares the upper triangles (rank r, stride rp) of a and b.
func upperSame(a, b []float64, r, rp int) (int, int, bool) {
	for p := range r {
		for q := p; q < r; q++ {
			if !sameBits(a[p*rp+q], b[p*rp+q]) {
				return p, q, false
			}
		}
	}
	return 0, 0, true
}

// kernelValue draws factor-like values with exact zeros, signed zeros,
// repeats and a spread of magnitudes.
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

var pathRanks = []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 33, 40, 48, 63, 64, 65, 100, 128, 130, 256}

// TestPathsAgreeKernels compares accGram (from zero, from another matrix
// and in place), accVec, cholesky with cholSolve, gather and dot on both
// paths for many ranks and row counts.
func TestPathsAgreeKernels(t *testing.T) {
	logPaths(t)
	rng := rand.New(rand.NewPCG(21, 22))
	for _, r := range pathRanks {
		rp := padRank(r)
		for _, n := range []int{1, 2, 3, 7, 33, chunkRows} {
			if testing.Short() && n%2 == 0 {
				continue
			}
			name := fmt.Sprintf("r=%d n=%d", r, n)
			ys := make([]float64, n*rp)
			wy := make([]float64, n*rp)
			z := make([]float64, n)
			for j := range n {
				w := math.Abs(kernelValue(rng))
				z[j] = 1 + w
				y := make([]float64, r)
				for k := range y {
					y[k] = kernelValue(rng)
				}
				var dy, dw [2][]float64
				for p, on := range []bool{false, true} {
					dy[p], dw[p] = make([]float64, r), make([]float64, r)
					withSIMD(t, on, func() {
						gatherScaled(dy[p], dw[p], y, w)
						gather(ys[j*rp:j*rp+r], y)
					})
				}
				for k := range r {
					if !sameBits(dy[0][k], dy[1][k]) || !sameBits(dw[0][k], dw[1][k]) || ys[j*rp+k] != y[k] {
						t.Fatalf("%s: gather differs at %d", name, k)
					}
				}
				copy(wy[j*rp:], dw[0])
			}
			src := make([]float64, rp*rp)
			for i := range src {
				src[i] = kernelValue(rng)
			}
			for _, mode := range []string{"zero", "src", "inplace"} {
				var a [2][]float64
				for p, on := range []bool{false, true} {
					a[p] = make([]float64, rp*rp)
					withSIMD(t, on, func() {
						switch mode {
						case "zero":
							accGram(a[p], nil, r, rp, wy, ys, n)
						case "src":
							accGram(a[p], src, r, rp, wy, ys, n)
						case "inplace":
							copy(a[p], src)
							accGram(a[p], a[p], r, rp, wy, ys, n)
							accGram(a[p], a[p], r, rp, ys, ys, n)
						}
					})
				}
				if p, q, ok := upperSame(a[0], a[1], r, rp); !ok {
					t.Fatalf("%s %s: accGram differs at (%d,%d): portable %v, SIMD %v", name, mode, p, q, a[0][p*rp+q], a[1][p*rp+q])
				}
			}
			// A positive definite system from the rows: Σ y yᵀ + λI.
			var a, b [2][]float64
			for p, on := range []bool{false, true} {
				a[p], b[p] = make([]float64, rp*rp), make([]float64, rp)
				withSIMD(t, on, func() {
					accGram(a[p], nil, r, rp, ys, ys, n)
					accVec(b[p], r, rp, z, ys, n)
					for k := range r {
						a[p][k*rp+k] += 0.5
					}
					if !cholesky(a[p], r, rp) {
						t.Fatalf("%s: cholesky failed on a positive definite matrix", name)
					}
					cholSolve(a[p], r, rp, b[p])
				})
			}
			if p, q, ok := upperSame(a[0], a[1], r, rp); !ok {
				t.Fatalf("%s: cholesky differs at (%d,%d): portable %v, SIMD %v", name, p, q, a[0][p*rp+q], a[1][p*rp+q])
			}
			for k := range r {
				if !sameBits(b[0][k], b[1][k]) {
					t.Fatalf("%s: solution differs at %d", name, k)
				}
			}
			var d [2]float64
			for p, on := range []bool{false, true} {
				withSIMD(t, on, func() { d[p] = dot(ys[:r], wy[:r]) })
			}
			if !sameBits(d[0], d[1]) {
				t.Fatalf("%s: dot differs: portable %v, SIMD %v", name, d[0], d[1])
			}
		}
	}
}

// TestPathsAgreeCholeskyFails: a matrix that is not positive definite
// fails on both paths at the same pivot.
func TestPathsAgreeCholeskyFails(t *testing.T) {
	for _, r := range []int{1, 3, 8, 9, 32} {
		rp := padRank(r)
		for bad := range r {
			var a [2][]float64
			var ok [2]bool
			for p, on := range []bool{false, true} {
				a[p] = make([]float64, rp*rp)
				for k := range r {
					a[p][k*rp+k] = 1
				}
				a[p][bad*rp+bad] = -1
				withSIMD(t, on, func() { ok[p] = cholesky(a[p], r, rp) })
			}
			if ok[0] || ok[1] {
				t.Fatalf("r=%d: cholesky accepted a negative pivot at %d", r, bad)
			}
			if _, _, same := upperSame(a[0], a[1], r, rp); !same {
				t.Fatalf("r=%d: the paths stopped differently", r)
			}
		}
	}
}

// TestPathsAgreeJobs runs whole jobs on both paths, at ranks that exercise
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
			var h [2]string
			for p, on := range []bool{false, true} {
				withSIMD(t, on, func() {
					m, err := Reference(cfg, u, i)
					if err != nil {
						t.Fatal(err)
					}
					h[p] = modelHash(m)
				})
			}
			if h[0] != h[1] {
				t.Errorf("%s rank %d: portable model %s, SIMD %s", name, rank, h[0], h[1])
			}
		}
	}
}

// TestGoldenModels pins the exact bits of a few models. They were recorded
// with GOAMD64=v1 and no GOEXPERIMENT (the portable kernels) and are
// checked under GOAMD64=v3 with GOEXPERIMENT=simd (the AVX-512 kernels): any
// build on any CPU must reproduce them. A deliberate change to the
// algorithm changes them: re-record and say why.
func TestGoldenModels(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(4)
	want := map[string]string{
		"explicit":       "f4e5e9279975b53e",
		"explicit-plain": "5bcca4e2c105213d",
		"implicit":       "11cd9c859510b853",
		"implicit-plain": "55d67602574eb85b",
	}
	for name, cfg := range testConfigs() {
		m, err := Reference(cfg, u, i)
		if err != nil {
			t.Fatal(err)
		}
		if got := modelHash(m); got != want[name] {
			t.Errorf("%s: model hash %s, want %s", name, got, want[name])
		}
	}
}

// TestPathsAgreeScores compares scoreAll, both paths, with dot row by row.
func TestPathsAgreeScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, r := range []int{1, 5, 8, 16, 24, 32, 40, 64} {
		for _, n := range []int{0, 1, 7, 8, 9, 17, 64, 100} {
			u := make([]float64, r)
			for k := range u {
				u[k] = kernelValue(rng)
			}
			f := make([]float64, n*r)
			for k := range f {
				f[k] = kernelValue(rng)
			}
			var got [2][]float64
			for p, on := range []bool{false, true} {
				got[p] = make([]float64, n)
				withSIMD(t, on, func() { scoreAll(got[p], u, f, n) })
			}
			for i := range n {
				want := dotGo(u, f[i*r:(i+1)*r])
				if !sameBits(got[0][i], want) || !sameBits(got[1][i], want) {
					t.Fatalf("r=%d n=%d row %d: portable %v, SIMD %v, dot %v", r, n, i, got[0][i], got[1][i], want)
				}
			}
		}
	}
}

// TestBatchMatchesOneByOne: the batched factorisation (SIMD path) gives
// each row the bits of cholesky and cholSolve, and reports the first row
// whose system is not positive definite.
func TestBatchMatchesOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, r := range []int{1, 2, 7, 8, 9, 32, 33, 64} {
		if !vecSupported() {
			t.Skip("no batched factorisation in this build or on this CPU (it needs AVX-512)")
		}
		bt := newBatch(r)
		rp := padRank(r)
		for _, lanes := range []int{1, 5, batchLanes} {
			for _, bad := range []int{-1, 0, lanes - 1} {
				want := make([][]float64, lanes)
				got := make([][]float64, lanes)
				wantFail := -1
				for l := range lanes {
					ys := make([]float64, 3*rp)
					for j := range 3 {
						for k := range r {
							ys[j*rp+k] = kernelValue(rng)
						}
					}
					a := make([]float64, rp*rp)
					b := make([]float64, rp)
					accGramGo(a, nil, r, rp, ys, ys, 3)
					for k := range r {
						a[k*rp+k] += 0.25
						b[k] = kernelValue(rng)
					}
					if l == bad {
						a[(r-1)*rp+r-1] = -1
					}
					got[l] = make([]float64, r)
					bt.put(a, rp, b, 100+l, got[l])
					if !choleskyGo(a, r, rp) {
						if wantFail < 0 {
							wantFail = 100 + l
						}
						continue
					}
					cholSolve(a, r, rp, b)
					want[l] = b[:r]
				}
				row, res := bt.run()
				if wantFail >= 0 {
					if res != badPivot || row != wantFail {
						t.Fatalf("r=%d: batch reported %d for row %d, want a bad pivot at %d", r, res, row, wantFail)
					}
					continue
				}
				if res != batchOK {
					t.Fatalf("r=%d: batch failed (%d) at row %d", r, res, row)
				}
				for l := range lanes {
					for k := range r {
						if !sameBits(got[l][k], want[l][k]) {
							t.Fatalf("r=%d lanes=%d: lane %d x[%d] = %v, one by one %v", r, lanes, l, k, got[l][k], want[l][k])
						}
					}
				}
			}
		}
	}
}
