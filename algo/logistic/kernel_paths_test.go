package logistic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/linear"
)

// Every kernel path (algo/internal/kernel) must give the portable path's
// bits for every task. These tests hold every path to the plain definition
// of each sum, row by row with math.FMA, which also holds linear.AddGram
// and linear.Margins to it. The primitives themselves are held to the
// portable code in the kernel package's harness.

// kernelPaths lists the paths this build and CPU run, the portable first.
var kernelPaths = kernel.Paths()

// withPath runs f with the kernel path p.
func withPath(t testing.TB, p kernel.Path, f func()) {
	t.Helper()
	old := kernel.SetPath(p)
	defer kernel.SetPath(old)
	f()
}

func logPaths(t *testing.T) {
	t.Logf("kernel paths: %v", kernelPaths)
}

// definitionLoss is a loss pass written out as the sums it defines: per
// training row in order, the margin as one FMA chain, the loss, the
// gradient Σ g·(x, 1) and the Hessian Σ c·(x, 1)(x, 1)ᵀ, each entry one
// chain over the rows.
func definitionLoss(t *Task, x []float64, n, d int, y, w []float64, keys []string) (loss float64, grad, hess []float64) {
	d1 := d + 1
	grad = make([]float64, d1)
	full := make([]float64, d1*d1)
	var hold []bool
	if t.Holdout > 0 {
		hold = make([]bool, n)
		for i, k := range keys[:n] {
			hold[i] = linear.IsHoldout(k, t.Holdout, t.SplitSeed)
		}
	}
	for i := range n {
		if hold != nil && hold[i] {
			continue
		}
		row := x[i*d : (i+1)*d]
		eta := t.Beta[d]
		for j, v := range row {
			eta = math.FMA(v, t.Beta[j], eta)
		}
		pos := y[i] == 1
		wi := t.ClassWeights[0]
		if pos {
			wi = t.ClassWeights[1]
		}
		if w != nil {
			wi = float64(wi * w[i])
		}
		l, res, curv, _ := rowLoss(eta, pos)
		loss = math.FMA(wi, l, loss)
		g, c := float64(wi*res), float64(wi*curv)
		for j, v := range row {
			grad[j] = math.FMA(g, v, grad[j])
		}
		grad[d] += g
		z := append(append([]float64(nil), row...), 1)
		for j := range d1 {
			cz := float64(c * z[j])
			for k := j; k < d1; k++ {
				full[j*d1+k] = math.FMA(cz, z[k], full[j*d1+k])
			}
		}
	}
	for j := range d1 {
		hess = append(hess, full[j*d1+j:(j+1)*d1]...)
	}
	return loss, grad, hess
}

// pathData returns n rows of d features with signed zeros, repeats and a
// wide range of margins, labels, weights and keys.
func pathData(r *rand.Rand, n, d int) (x, y, w []float64, keys []string, beta []float64) {
	x, y, w, keys = make([]float64, n*d), make([]float64, n), make([]float64, n), make([]string, n)
	for i := range x {
		switch r.IntN(10) {
		case 0:
			x[i] = math.Copysign(0, float64(r.IntN(2)*2-1))
		case 1:
			x[i] = float64(r.IntN(3))
		default:
			x[i] = r.NormFloat64() * math.Pow(4, float64(r.IntN(5)-2))
		}
	}
	for i := range n {
		if r.IntN(3) == 0 {
			y[i] = 1
		}
		w[i] = float64(r.IntN(4)) * 0.625
		keys[i] = "c" + strconv.Itoa(r.IntN(1<<30))
	}
	beta = make([]float64, d+1)
	for j := range beta {
		beta[j] = r.NormFloat64() * 0.7
	}
	return x, y, w, keys, beta
}

// TestLossMatchesDefinition holds newton and grad passes, on every path,
// to definitionLoss bit for bit over many shapes.
func TestLossMatchesDefinition(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(41, 42))
	ns := []int{1, 5, 6, 7, 50, 51, 52, 300, 1000}
	for d := 1; d <= 42; d++ {
		if testing.Short() && d%5 != 0 {
			continue
		}
		n := ns[r.IntN(len(ns))]
		x, y, w, keys, beta := pathData(r, n, d)
		for _, weighted := range []bool{false, true} {
			for _, holdout := range []float64{0, 0.3} {
				var wt []float64
				if weighted {
					wt = w
				}
				for _, kind := range []TaskKind{TaskNewton, TaskGrad} {
					task := &Task{Kind: kind, D: d, Beta: beta, ClassWeights: [2]float64{0.8, 1.7}, Holdout: holdout, SplitSeed: 3}
					loss, grad, hess := definitionLoss(task, x, n, d, y, wt, keys)
					if kind == TaskGrad {
						hess = nil
					}
					want := fmt.Sprint(loss, grad, hess)
					for _, path := range kernelPaths {
						withPath(t, path, func() {
							res, err := RunTask(nil, task, x, n, d, y, wt, keys, 0)
							if err != nil {
								t.Fatal(err)
							}
							got := fmt.Sprint(res.Loss, res.Grad, res.Hess)
							if res.Overflow || got != want {
								t.Fatalf("d=%d n=%d weighted=%v holdout=%v %s %s:\ngot  %s\nwant %s", d, n, weighted, holdout, kind, path, got, want)
							}
						})
					}
				}
			}
		}
	}
}

// TestPathsAgree runs every task kind on both paths and compares the
// Results' JSON, whose floats are the shortest exact decimals.
func TestPathsAgree(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(43, 44))
	for _, d := range []int{1, 3, 8, 9, 16, 32, 33} {
		for _, n := range []int{0, 1, 7, 400, 3000} {
			x, y, w, keys, beta := pathData(r, n, d)
			for _, kind := range []TaskKind{TaskCount, TaskNewton, TaskGrad, TaskEval} {
				for _, exact := range []bool{false, true} {
					task := &Task{Kind: kind, D: d, ClassWeights: [2]float64{1, 2}, Holdout: 0.2, SplitSeed: 1,
						ExactTrain: exact, ExactHoldout: !exact}
					if kind != TaskCount {
						task.Beta = beta
					}
					out := make([]string, len(kernelPaths))
					for p, path := range kernelPaths {
						withPath(t, path, func() {
							res, err := RunTask(nil, task, x, n, d, y, w, keys, 2)
							if err != nil {
								out[p] = "error: " + err.Error()
								return
							}
							out[p] = mustJSON(t, res)
						})
					}
					for p := 1; p < len(out); p++ {
						if out[p] != out[0] {
							t.Fatalf("d=%d n=%d %s exact=%v: results differ\nportable %.400s\n%-8s %.400s", d, n, kind, exact, out[0], kernelPaths[p], out[p])
						}
					}
				}
			}
		}
	}
}

// TestPathsAgreeNonFinite puts NaN, ±Inf and huge values in the rows and
// coefficients: both paths must fail, or flag an overflow, the same way.
func TestPathsAgreeNonFinite(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(45, 46))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e154}
	for _, d := range []int{1, 8, 9, 32} {
		n := 300
		x, y, _, _, beta := pathData(r, n, d)
		x[r.IntN(len(x))] = specials[r.IntN(len(specials))]
		beta[r.IntN(d)] = 1e200
		for _, kind := range []TaskKind{TaskCount, TaskNewton, TaskGrad, TaskEval} {
			task := &Task{Kind: kind, D: d, ClassWeights: [2]float64{1, 1}, ExactTrain: true, ExactHoldout: true}
			if kind != TaskCount {
				task.Beta = beta
			}
			out := make([]string, len(kernelPaths))
			for p, path := range kernelPaths {
				withPath(t, path, func() {
					res, err := RunTask(nil, task, x, n, d, y, nil, nil, 0)
					if err != nil {
						out[p] = "error: " + err.Error()
						return
					}
					out[p] = mustJSON(t, res)
				})
			}
			for p := 1; p < len(out); p++ {
				if out[p] != out[0] {
					t.Fatalf("d=%d %s: results differ\nportable %.300s\n%-8s %.300s", d, kind, out[0], kernelPaths[p], out[p])
				}
			}
		}
	}
}

// TestPinnedModelBitsAllPaths checks the pinned models on every path of
// this package's kernels in the same binary.
func TestPinnedModelBitsAllPaths(t *testing.T) {
	logPaths(t)
	for _, path := range kernelPaths {
		withPath(t, path, func() { TestPinnedModelBits(t) })
	}
}

// TestAllFiniteFast puts one NaN or infinity at every position of slices
// of many lengths, on every path.
func TestAllFiniteFast(t *testing.T) {
	logPaths(t)
	for _, path := range kernelPaths {
		withPath(t, path, func() {
			for n := range 70 {
				s := make([]float64, n)
				for i := range s {
					s[i] = float64(i) - 30.5
				}
				if !allFiniteFast(s) {
					t.Fatalf("%s n=%d: finite values reported non-finite", path, n)
				}
				for i := range s {
					for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
						s[i] = bad
						if allFiniteFast(s) {
							t.Fatalf("%s n=%d: %v at %d missed", path, n, bad, i)
						}
					}
					s[i] = math.MaxFloat64
				}
			}
		})
	}
}
