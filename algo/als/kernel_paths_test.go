package als

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The SIMD kernels (GOEXPERIMENT=simd on amd64: AVX-512, or AVX2 and FMA)
// and the portable ones must give the same bits. These tests run every
// path on the same inputs and compare; a path that the build or the CPU
// lacks runs the portable kernels, so the tests then only check that its
// toggle is harmless. On a CPU with AVX-512 the AVX2 path runs too.

// kernelPath names one set of row kernels.
type kernelPath int

const (
	pathPortable kernelPath = iota
	pathAVX512
	pathAVX2
)

var kernelPaths = []kernelPath{pathPortable, pathAVX512, pathAVX2}

func (p kernelPath) String() string {
	return [...]string{"portable", "AVX-512", "AVX2"}[p]
}

// withPath runs f on the kernels of path p, or on the portable ones if the
// build or the CPU lacks p.
func withPath(t testing.TB, p kernelPath, f func()) {
	t.Helper()
	old, old2 := simdEnabled, avx2Enabled
	simdEnabled = p == pathAVX512 && vecSupported()
	avx2Enabled = p == pathAVX2 && avx2Supported()
	defer func() { simdEnabled, avx2Enabled = old, old2 }()
	f()
}

func logPaths(t *testing.T) {
	if !vecSupported() {
		t.Log("no AVX-512 path in this build or on this CPU: it runs the portable kernels")
	}
	if !avx2Supported() {
		t.Log("no AVX2 path in this build or on this CPU: it runs the portable kernels")
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
				var dy, dw [3][]float64
				for p, path := range kernelPaths {
					dy[p], dw[p] = make([]float64, r), make([]float64, r)
					withPath(t, path, func() {
						gatherScaled(dy[p], dw[p], y, w)
						gather(ys[j*rp:j*rp+r], y)
					})
					for k := range r {
						if !sameBits(dy[0][k], dy[p][k]) || !sameBits(dw[0][k], dw[p][k]) || ys[j*rp+k] != y[k] {
							t.Fatalf("%s: gather differs at %d on the %s path", name, k, path)
						}
					}
				}
				copy(wy[j*rp:], dw[0])
			}
			src := make([]float64, rp*rp)
			for i := range src {
				src[i] = kernelValue(rng)
			}
			for _, mode := range []string{"zero", "src", "inplace"} {
				var a [3][]float64
				for p, path := range kernelPaths {
					a[p] = make([]float64, rp*rp)
					withPath(t, path, func() {
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
					if i, j, ok := upperSame(a[0], a[p], r, rp); !ok {
						t.Fatalf("%s %s: accGram differs at (%d,%d): portable %v, %s %v", name, mode, i, j, a[0][i*rp+j], path, a[p][i*rp+j])
					}
				}
			}
			// A positive definite system from the rows: Σ y yᵀ + λI.
			var a, b [3][]float64
			for p, path := range kernelPaths {
				a[p], b[p] = make([]float64, rp*rp), make([]float64, rp)
				withPath(t, path, func() {
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
				if i, j, ok := upperSame(a[0], a[p], r, rp); !ok {
					t.Fatalf("%s: cholesky differs at (%d,%d): portable %v, %s %v", name, i, j, a[0][i*rp+j], path, a[p][i*rp+j])
				}
				for k := range r {
					if !sameBits(b[0][k], b[p][k]) {
						t.Fatalf("%s: solution differs at %d on the %s path", name, k, path)
					}
				}
			}
			var d [3]float64
			for p, path := range kernelPaths {
				withPath(t, path, func() { d[p] = dot(ys[:r], wy[:r]) })
				if !sameBits(d[0], d[p]) {
					t.Fatalf("%s: dot differs: portable %v, %s %v", name, d[0], path, d[p])
				}
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
			var a [3][]float64
			for p, path := range kernelPaths {
				a[p] = make([]float64, rp*rp)
				for k := range r {
					a[p][k*rp+k] = 1
				}
				a[p][bad*rp+bad] = -1
				var ok bool
				withPath(t, path, func() { ok = cholesky(a[p], r, rp) })
				if ok {
					t.Fatalf("r=%d: cholesky accepted a negative pivot at %d on the %s path", r, bad, path)
				}
				if _, _, same := upperSame(a[0], a[p], r, rp); !same {
					t.Fatalf("r=%d: the %s path stopped differently", r, path)
				}
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
			var h [3]string
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
// with GOAMD64=v1 and no GOEXPERIMENT (the portable kernels) and are
// checked on every path under GOAMD64=v3 with GOEXPERIMENT=simd (the
// AVX-512 kernels where the CPU has them, the AVX2 ones where it has AVX2
// and FMA): any build on any CPU must reproduce them. A deliberate change
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

// TestPathsAgreeScores compares scoreAll, every path, with dot row by row.
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
			for _, path := range kernelPaths {
				got := make([]float64, n)
				withPath(t, path, func() { scoreAll(got, u, f, n) })
				for i := range n {
					if want := dotGo(u, f[i*r:(i+1)*r]); !sameBits(got[i], want) {
						t.Fatalf("r=%d n=%d row %d: %s %v, dot %v", r, n, i, path, got[i], want)
					}
				}
			}
		}
	}
}

// TestBatchMatchesOneByOne: the batched factorisation (SIMD paths) gives
// each row the bits of cholesky and cholSolve, and reports the first row
// whose system is not positive definite.
func TestBatchMatchesOneByOne(t *testing.T) {
	for _, path := range []kernelPath{pathAVX512, pathAVX2} {
		t.Run(path.String(), func(t *testing.T) {
			if path == pathAVX512 && !vecSupported() || path == pathAVX2 && !avx2Supported() {
				t.Skipf("no %s batched factorisation in this build or on this CPU", path)
			}
			testBatch(t, path == pathAVX2)
		})
	}
}

func testBatch(t *testing.T, avx2 bool) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, r := range []int{1, 2, 7, 8, 9, 32, 33, 64} {
		bt := newBatch(r, avx2)
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
