package kmeans

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/internal/kernel/kerneltest"
)

// Every kernel path (algo/internal/kernel) must give the portable path's
// bits for every task. These tests run each path the build and the CPU
// have on the same inputs and compare it with the portable one; the
// primitives themselves are held to the portable code in the kernel
// package's harness.

// kernelPaths lists the paths this build and CPU run, the portable first.
var kernelPaths = kernel.Paths()

// withPath runs f with the kernel of path p.
func withPath(t testing.TB, p kernel.Path, f func()) {
	t.Helper()
	old := kernel.SetPath(p)
	defer kernel.SetPath(old)
	f()
}

func logPaths(t *testing.T) {
	t.Logf("kernel paths: %v", kernelPaths)
}

func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestPathsAgree runs every task kind and Assign on both paths for many
// shapes and demands identical labels, sums, counts, costs and rows.
func TestPathsAgree(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(11, 12))
	ns := []int{0, 1, 15, 16, 17, 33, 255, 256, 257, 529}
	for d := 1; d <= 40; d++ {
		for k := 1; k <= 40; k++ {
			if testing.Short() && (d+k)%5 != 0 {
				continue
			}
			n := ns[r.IntN(len(ns))]
			x, c := kerneltest.KMeansCase(r, n, k, d)
			comparePaths(t, fmt.Sprintf("d=%d k=%d n=%d", d, k, n), x, c, n, k, d)
		}
	}
}

func comparePaths(t *testing.T, name string, x, c []float64, n, k, d int) {
	t.Helper()
	p := 2
	prof := make([]float64, n*p)
	for i := range prof {
		prof[i] = float64(i % 7)
		if i%5 == 0 {
			prof[i] = math.NaN()
		}
	}
	tasks := []*Task{
		{Kind: TaskLloyd, K: k, D: d, C: c, Far: k},
		{Kind: TaskLloyd, K: k, D: d, C: c, Far: 3 * n},
		{Kind: TaskFinal, K: k, D: d, C: c, NProfile: p},
		{Kind: TaskCost, K: k, D: d, C: c},
		{Kind: TaskCounts, K: k, D: d, C: c},
		{Kind: TaskSample, K: k, D: d, C: c, Seed: 5, Phi: 1, Oversample: float64(k)},
	}
	for _, task := range tasks {
		var res [3]*Result
		var errs [3]error
		for _, kp := range kernelPaths {
			withPath(t, kp, func() {
				pp := 0
				if task.Kind == TaskFinal {
					pp = p
				}
				res[kp], errs[kp] = RunTask(nil, task, x, n, d, prof, pp, 3)
			})
		}
		for _, kp := range kernelPaths[1:] {
			if (errs[0] == nil) != (errs[kp] == nil) {
				t.Fatalf("%s %s: errors differ: portable %v, %s %v", name, task.Kind, errs[0], kp, errs[kp])
			}
			if errs[0] != nil {
				continue
			}
			a, b := res[0], res[kp]
			if !sameBits(a.Cost, b.Cost) || !sameFloats(a.Sums, b.Sums) || !sameFloats(a.Keys, b.Keys) ||
				!sameFloats(a.X, b.X) || !sameFloats(a.ProfSums, b.ProfSums) ||
				fmt.Sprint(a.Counts, a.Rows, a.Labels, a.ProfCounts) != fmt.Sprint(b.Counts, b.Rows, b.Labels, b.ProfCounts) {
				t.Fatalf("%s %s: results differ\nportable %+v\n%-8s %+v", name, task.Kind, a, kp, b)
			}
		}
	}
	var lab [3][]int
	var dist [3][]float64
	for _, kp := range kernelPaths {
		withPath(t, kp, func() { lab[kp], dist[kp] = Assign(nil, nil, c, k, d, x) })
	}
	for i := range n {
		for _, kp := range kernelPaths[1:] {
			if lab[0][i] != lab[kp][i] || !sameBits(dist[0][i], dist[kp][i]) {
				t.Fatalf("%s: Assign row %d: portable %d %v, %s %d %v", name, i, lab[0][i], dist[0][i], kp, lab[kp][i], dist[kp][i])
			}
		}
	}
}

// TestGoldenModelsEveryPath checks the pinned models on every path in the
// same binary.
func TestGoldenModelsEveryPath(t *testing.T) {
	logPaths(t)
	for _, p := range kernelPaths {
		withPath(t, p, func() { TestGoldenModels(t) })
	}
}

// TestAssignerReused labels blocks of every size with one Assigner on each
// path and holds every row to Nearest.
func TestAssignerReused(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, kd := range [][2]int{{1, 1}, {5, 3}, {16, 16}, {17, 9}} {
		k, d := kd[0], kd[1]
		x, c := kerneltest.KMeansCase(r, 600, k, d)
		for _, p := range kernelPaths {
			withPath(t, p, func() {
				a := NewAssigner(c, k, d)
				var lab []int
				var dist []float64
				for lo, m := 0, 1; lo < 600; lo, m = lo+m, m+7 {
					m = min(m, 600-lo)
					lab, dist = a.Assign(lab, dist, x[lo*d:(lo+m)*d])
					for i := range m {
						if want, wd := Nearest(c, k, d, x[(lo+i)*d:(lo+i+1)*d]); lab[i] != want || !sameBits(dist[i], wd) {
							t.Fatalf("%s k=%d d=%d row %d: %d %v, Nearest %d %v", p, k, d, lo+i, lab[i], dist[i], want, wd)
						}
					}
				}
			})
		}
	}
}
