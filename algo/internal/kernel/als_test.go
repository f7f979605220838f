package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The ALS row kernels on every path against the portable one, and the
// batched factorisation against Cholesky and CholSolve one system at a
// time.

var kernelPaths = Paths()

// withPath runs f on path p.
func withPath(t testing.TB, p Path, f func()) {
	t.Helper()
	defer SetPath(SetPath(p))
	f()
}

// padRank8 rounds a rank up to a multiple of 8.
func padRank8(r int) int { return (r + 7) &^ 7 }

// alsScoreAll is als's scoreAll: Dot of u with every row of f.
func alsScoreAll(dst, u, f []float64, n int) {
	r := len(u)
	for i := range n {
		dst[i] = Dot(u, f[i*r:(i+1)*r])
	}
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

// TestPathsAgreeALS compares ALSGram (from zero, from another matrix
// and in place), ALSRHS, Cholesky with CholSolve, the gathers and Dot on every
// path for many ranks and row counts.
func TestPathsAgreeALS(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, r := range pathRanks {
		rp := padRank8(r)
		for _, n := range []int{1, 2, 3, 7, 33, 64} {
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
				dy, dw := make([][]float64, len(kernelPaths)), make([][]float64, len(kernelPaths))
				for p, path := range kernelPaths {
					dy[p], dw[p] = make([]float64, r), make([]float64, r)
					withPath(t, path, func() {
						GatherScaled(dy[p], dw[p], y, w)
						Gather(ys[j*rp:j*rp+r], y)
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
				a := make([][]float64, len(kernelPaths))
				for p, path := range kernelPaths {
					a[p] = make([]float64, rp*rp)
					withPath(t, path, func() {
						switch mode {
						case "zero":
							ALSGram(a[p], nil, r, rp, wy, ys, n)
						case "src":
							ALSGram(a[p], src, r, rp, wy, ys, n)
						case "inplace":
							copy(a[p], src)
							ALSGram(a[p], a[p], r, rp, wy, ys, n)
							ALSGram(a[p], a[p], r, rp, ys, ys, n)
						}
					})
					if i, j, ok := upperSame(a[0], a[p], r, rp); !ok {
						t.Fatalf("%s %s: accGram differs at (%d,%d): portable %v, %s %v", name, mode, i, j, a[0][i*rp+j], path, a[p][i*rp+j])
					}
				}
			}
			// A positive definite system from the rows: Σ y yᵀ + λI.
			a, b := make([][]float64, len(kernelPaths)), make([][]float64, len(kernelPaths))
			for p, path := range kernelPaths {
				a[p], b[p] = make([]float64, rp*rp), make([]float64, rp)
				withPath(t, path, func() {
					ALSGram(a[p], nil, r, rp, ys, ys, n)
					ALSRHS(b[p], r, rp, z, ys, n)
					for k := range r {
						a[p][k*rp+k] += 0.5
					}
					if !Cholesky(a[p], r, rp) {
						t.Fatalf("%s: cholesky failed on a positive definite matrix", name)
					}
					CholSolve(a[p], r, rp, b[p])
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
			d := make([]float64, len(kernelPaths))
			for p, path := range kernelPaths {
				withPath(t, path, func() { d[p] = Dot(ys[:r], wy[:r]) })
				if !sameBits(d[0], d[p]) {
					t.Fatalf("%s: dot differs: portable %v, %s %v", name, d[0], path, d[p])
				}
			}
		}
	}
}

// TestPathsAgreeCholeskyFails: a matrix that is not positive definite
// fails on every path at the same pivot.
func TestPathsAgreeCholeskyFails(t *testing.T) {
	for _, r := range []int{1, 3, 8, 9, 32} {
		rp := padRank8(r)
		for bad := range r {
			a := make([][]float64, len(kernelPaths))
			for p, path := range kernelPaths {
				a[p] = make([]float64, rp*rp)
				for k := range r {
					a[p][k*rp+k] = 1
				}
				a[p][bad*rp+bad] = -1
				var ok bool
				withPath(t, path, func() { ok = Cholesky(a[p], r, rp) })
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
				withPath(t, path, func() { alsScoreAll(got, u, f, n) })
				for i := range n {
					if want := dotGo(u, f[i*r:(i+1)*r]); !sameBits(got[i], want) {
						t.Fatalf("r=%d n=%d row %d: %s %v, dot %v", r, n, i, path, got[i], want)
					}
				}
			}
		}
	}
}

// TestBatchMatchesOneByOne: the batched factorisation (every path but the
// portable one) gives each row the bits of cholesky and cholSolve, and
// reports the first row whose system is not positive definite.
func TestBatchMatchesOneByOne(t *testing.T) {
	if len(kernelPaths) < 2 {
		t.Skip("no batched factorisation in this build or on this CPU")
	}
	for _, path := range kernelPaths[1:] {
		withPath(t, path, func() { testBatch(t, path) })
	}
}

func testBatch(t *testing.T, path Path) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, r := range []int{1, 2, 7, 8, 9, 32, 33, 64} {
		bt := NewALSBatch(r)
		if bt == nil {
			t.Fatalf("%s path: no batch for rank %d", path, r)
		}
		rp := padRank8(r)
		for _, lanes := range []int{1, 5, BatchLanes} {
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
					alsGramGo(a, nil, r, rp, ys, ys, 3)
					for k := range r {
						a[k*rp+k] += 0.25
						b[k] = kernelValue(rng)
					}
					if l == bad {
						a[(r-1)*rp+r-1] = -1
					}
					got[l] = make([]float64, r)
					bt.Put(a, rp, b, 100+l, got[l])
					if !Cholesky(a, r, rp) {
						if wantFail < 0 {
							wantFail = 100 + l
						}
						continue
					}
					CholSolve(a, r, rp, b)
					want[l] = b[:r]
				}
				row, res := bt.Run()
				if wantFail >= 0 {
					if res != BatchBadPivot || row != wantFail {
						t.Fatalf("%s r=%d: batch reported %d for row %d, want a bad pivot at %d", path, r, res, row, wantFail)
					}
					continue
				}
				if res != BatchOK {
					t.Fatalf("%s r=%d: batch failed (%d) at row %d", path, r, res, row)
				}
				for l := range lanes {
					for k := range r {
						if !sameBits(got[l][k], want[l][k]) {
							t.Fatalf("%s r=%d lanes=%d: lane %d x[%d] = %v, one by one %v", path, r, lanes, l, k, got[l][k], want[l][k])
						}
					}
				}
			}
		}
	}
}
