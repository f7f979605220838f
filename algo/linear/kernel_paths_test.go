package linear

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// Every kernel path (algo/internal/kernel) must give the portable path's
// bits for every task. These tests run each path the build and the CPU have
// on the same inputs and compare; the primitives themselves are held to the
// portable code in the kernel package's harness.

// pathRows returns n rows of d features, targets, weights and keys, with
// constant columns, repeated rows, signed zeros and wide magnitudes, which
// exercise the block means' exact-constant rule and the centring.
func pathRows(r *rand.Rand, n, d int) (x, y, w []float64, keys []string) {
	x, y, w, keys = make([]float64, n*d), make([]float64, n), make([]float64, n), make([]string, n)
	constant := make([]bool, d)
	for j := range d {
		constant[j] = r.IntN(5) == 0
	}
	for i := range n {
		row := x[i*d : (i+1)*d]
		switch {
		case i > 0 && r.IntN(6) == 0: // a repeat of an earlier row
			copy(row, x[r.IntN(i)*d:])
		default:
			for j := range row {
				switch {
				case constant[j]:
					row[j] = float64(j) - 2.5
				case r.IntN(8) == 0:
					row[j] = math.Copysign(0, float64(r.IntN(2)*2-1))
				default:
					row[j] = r.NormFloat64() * math.Pow(10, float64(r.IntN(7)-3))
				}
			}
		}
		y[i] = 3*r.NormFloat64() + 100
		w[i] = float64(r.IntN(5)) * 0.75
		keys[i] = "k" + strconv.Itoa(r.IntN(1<<30))
	}
	return x, y, w, keys
}

// TestPathsAgree runs every task on both paths for many shapes, with and
// without weights and a held-out split, and demands identical Results.
func TestPathsAgree(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(21, 22))
	ns := []int{1, 2, 7, 8, 9, 63, 300, 2100, 4500}
	for d := 1; d <= 42; d++ {
		if testing.Short() && d%4 != 0 {
			continue
		}
		n := ns[r.IntN(len(ns))]
		x, y, w, keys := pathRows(r, n, d)
		coef := make([]float64, d)
		for j := range coef {
			coef[j] = r.NormFloat64()
		}
		for _, weighted := range []bool{false, true} {
			for _, holdout := range []float64{0, 0.3} {
				var wt []float64
				if weighted {
					wt = w
				}
				tasks := []*Task{
					{Kind: TaskGram, D: d, Holdout: holdout, SplitSeed: 9},
					{Kind: TaskEval, D: d, Holdout: holdout, SplitSeed: 9, Coefficients: coef, Intercept: 0.5, Centre: 100},
				}
				for _, task := range tasks {
					name := fmt.Sprintf("d=%d n=%d weighted=%v holdout=%v %s", d, n, weighted, holdout, task.Kind)
					comparePaths(t, name, func() (*Result, error) { return RunTask(nil, task, x, n, d, y, wt, keys, 3) })
				}
			}
		}
	}
}

// comparePaths runs f on both paths and compares the Results' JSON, which
// holds the shortest decimal of each float64 that round-trips, so equal
// encodings mean equal bits.
func comparePaths(t *testing.T, name string, f func() (*Result, error)) {
	t.Helper()
	paths := kernel.Paths()
	out := make([]string, len(paths))
	run := func(i int) func() {
		return func() {
			res, err := f()
			if err != nil {
				out[i] = "error: " + err.Error()
				return
			}
			out[i] = mustJSON(t, res)
		}
	}
	for i, p := range paths {
		withPath(t, p, run(i))
	}
	for i, p := range paths[1:] {
		if out[i+1] != out[0] {
			t.Fatalf("%s: results differ\nportable %s\n%-8s %s", name, out[0], p, out[i+1])
		}
	}
}

// TestPathsAgreeNonFinite puts NaN and ±Inf in the rows: both paths must
// fail the same way, or give the same bits.
func TestPathsAgreeNonFinite(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(23, 24))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300}
	for _, d := range []int{1, 7, 8, 9, 16, 33} {
		n := 500
		x, y, _, _ := pathRows(r, n, d)
		x[r.IntN(len(x))] = specials[r.IntN(len(specials))]
		task := &Task{Kind: TaskGram, D: d}
		comparePaths(t, fmt.Sprintf("d=%d", d), func() (*Result, error) { return RunTask(nil, task, x, n, d, y, nil, nil, 0) })
	}
}

// TestPinnedModelBitsBothPaths checks the pinned models on every kernel
// path in the same binary.
func TestPinnedModelBitsBothPaths(t *testing.T) {
	logPaths(t)
	for _, p := range kernel.Paths() {
		withPath(t, p, func() { TestPinnedModelBits(t) })
	}
}
