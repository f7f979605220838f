package kmeans

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The SIMD kernels (GOEXPERIMENT=simd on amd64: AVX-512, or AVX2 and FMA)
// and the portable one must give the same bits for every task. These tests
// run every path on the same inputs and compare each with the portable
// one. A path the build or the CPU lacks runs the portable kernel, and its
// test only checks that the toggle is harmless; on an AVX-512 CPU all
// three paths run.

// kernelPath names one of the kernel's implementations.
type kernelPath int

const (
	pathPortable kernelPath = iota
	pathAVX2
	pathAVX512
)

var kernelPaths = []kernelPath{pathPortable, pathAVX2, pathAVX512}

func (p kernelPath) String() string { return [...]string{"portable", "AVX2", "AVX-512"}[p] }

// supported reports whether the build and the CPU run path p.
func (p kernelPath) supported() bool {
	switch p {
	case pathAVX2:
		return avx2Supported()
	case pathAVX512:
		return vecSupported()
	}
	return true
}

// withPath runs f with the kernel of path p, or the portable one where p
// is not supported.
func withPath(t testing.TB, p kernelPath, f func()) {
	t.Helper()
	old512, old2 := simdEnabled, avx2Enabled
	simdEnabled = p == pathAVX512 && vecSupported()
	avx2Enabled = p == pathAVX2 && avx2Supported()
	defer func() { simdEnabled, avx2Enabled = old512, old2 }()
	f()
}

func logPaths(t *testing.T) {
	for _, p := range kernelPaths {
		if !p.supported() {
			t.Logf("no %s path in this build or on this CPU: it runs the portable kernel", p)
		}
	}
}

// pathCase builds centres and rows with ties on purpose: repeated centres,
// centres mirrored through the origin (equal norms, so rows on the mirror
// plane tie), rows equal to centres, zero rows and signed zeros.
func pathCase(r *rand.Rand, n, k, d int) (x, c []float64) {
	c = make([]float64, k*d)
	for i := range k {
		ci := c[i*d : (i+1)*d]
		switch {
		case i > 0 && r.IntN(4) == 0: // a repeat of an earlier centre
			copy(ci, c[r.IntN(i)*d:])
		case i > 0 && r.IntN(4) == 0: // the mirror of an earlier centre
			m := r.IntN(i)
			for j, v := range c[m*d : (m+1)*d] {
				ci[j] = -v
			}
		default:
			for j := range ci {
				ci[j] = float64(r.IntN(7) - 3) // small integers tie often
				if r.IntN(3) == 0 {
					ci[j] = r.NormFloat64()
				}
			}
		}
	}
	x = make([]float64, n*d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		switch r.IntN(6) {
		case 0: // a centre
			copy(row, c[r.IntN(k)*d:])
		case 1: // zeros of both signs
			for j := range row {
				row[j] = math.Copysign(0, float64(r.IntN(2)*2-1))
			}
		default:
			for j := range row {
				row[j] = float64(r.IntN(9) - 4)
				if r.IntN(2) == 0 {
					row[j] = 3 * r.NormFloat64()
				}
			}
		}
	}
	return x, c
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
			x, c := pathCase(r, n, k, d)
			comparePaths(t, fmt.Sprintf("d=%d k=%d n=%d", d, k, n), x, c, n, k, d)
		}
	}
}

// TestPathsAgreeNonFinite feeds rows with NaN and ±Inf, and centres so
// large that ½‖c‖² overflows: scores are NaN or infinite, and the SIMD path
// must hand those rows to the portable scan.
func TestPathsAgreeNonFinite(t *testing.T) {
	logPaths(t)
	r := rand.New(rand.NewPCG(13, 14))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1e200}
	for _, k := range []int{1, 3, 16, 17, 40} {
		for _, d := range []int{1, 5, 8, 16, 19} {
			n := 16*3 + 5
			x, c := pathCase(r, n, k, d)
			for range n / 4 {
				x[r.IntN(len(x))] = specials[r.IntN(len(specials))]
			}
			if k > 1 {
				c[r.IntN(len(c))] = specials[3+r.IntN(3)]
			}
			var lab [3][]int
			var dist [3][]float64
			for _, p := range kernelPaths {
				withPath(t, p, func() { lab[p], dist[p] = Assign(nil, nil, c, k, d, x) })
			}
			for i := range n {
				for _, p := range kernelPaths[1:] {
					if lab[0][i] != lab[p][i] || !sameBits(dist[0][i], dist[p][i]) {
						t.Fatalf("k=%d d=%d row %d %v: portable %d %v, %s %d %v",
							k, d, i, x[i*d:(i+1)*d], lab[0][i], dist[0][i], p, lab[p][i], dist[p][i])
					}
				}
				if want, wd := Nearest(c, k, d, x[i*d:(i+1)*d]); lab[0][i] != want || !sameBits(dist[0][i], wd) {
					t.Fatalf("k=%d d=%d row %d: Assign %d %v, Nearest %d %v", k, d, i, lab[0][i], dist[0][i], want, wd)
				}
			}
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
		x, c := pathCase(r, 600, k, d)
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
