package kmeans

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
)

// The assignment kernel lives in algo/internal/kernel (kernel.KMeans): the
// portable Go code that defines its bits, and the AVX2 assembly chosen at
// run time on CPUs that have it. This file chunks the rows for it.

// chunkRows is how many rows are labelled before the caller consumes them.
const chunkRows = 256

// kernelState labels rows with their nearest centre, chunk by chunk. Its
// buffers are reused.
type kernelState struct {
	kernel.KMeans
	lab  []int     // chunkRows labels
	dist []float64 // chunkRows squared distances
}

func (kn *kernelState) reset(c []float64, k, d int) {
	kn.Reset(c, k, d)
	if cap(kn.lab) < chunkRows {
		kn.lab = make([]int, chunkRows)
	}
	kn.lab = kn.lab[:chunkRows]
	kn.dist = grow(kn.dist, chunkRows)
}

func halfNorm(c []float64) float64 { return kernel.HalfNorm(c) }

// sqDist is the exact squared Euclidean distance Σ(x−c)².
func sqDist(x, c []float64) float64 { return kernel.SqDist(x, c) }

// better folds score v of centre k into the running best (b, i); a tie
// keeps the lower index.
func better(b float64, i int, v float64, k int) (float64, int) { return kernel.Better(b, i, v, k) }

// scan labels the n rows of x chunk by chunk and calls visit with the first
// row index of each chunk, its labels and, when withDist is set, the exact
// squared distances to the labelled centres (nil otherwise). Unless sums is
// nil, scan also adds every row to the sum of its cluster (sums holds k*d),
// in row order.
func (kn *kernelState) scan(x []float64, n int, withDist bool, sums []float64, visit func(lo int, lab []int, dist []float64)) {
	d := kn.D()
	for lo := 0; lo < n; lo += chunkRows {
		m := min(chunkRows, n-lo)
		lab := kn.lab[:m]
		var dist []float64
		if withDist {
			dist = kn.dist[:m]
		}
		kn.Assign(lab, dist, sums, x[lo*d:(lo+m)*d])
		visit(lo, lab, dist)
	}
}

// Nearest returns the index of the centre of c (k rows of d, row-major)
// nearest to the row x, ties going to the lowest index, and the exact squared
// distance to it. It agrees bit for bit with the assignment used in training.
// It panics if c or x is too short.
func Nearest(c []float64, k, d int, x []float64) (int, float64) {
	if k < 1 || d < 1 || len(c) < k*d || len(x) < d {
		panic("kmeans: Nearest shape mismatch")
	}
	x = x[:d]
	best, bi := math.Inf(1), 0
	for i := 0; i < k; i++ {
		ci := c[i*d : (i+1)*d][:len(x)]
		s := 0.0
		for j, v := range x {
			s = math.FMA(v, ci[j], s)
		}
		best, bi = better(best, bi, halfNorm(ci)-s, i)
	}
	return bi, sqDist(x, c[bi*d:(bi+1)*d])
}

// Assign labels every row of x (row-major, d columns) with its nearest centre
// of c (k rows of d) and the exact squared distance to it, using the fast
// kernel; the results equal Nearest row by row. labels and dist are reused
// when their capacity suffices; nil allocates. It panics if the shapes
// disagree. To label many blocks of rows against the same centres, an
// Assigner lays the centres out once.
func Assign(labels []int, dist []float64, c []float64, k, d int, x []float64) ([]int, []float64) {
	return NewAssigner(c, k, d).Assign(labels, dist, x)
}

// An Assigner labels rows with their nearest centre as Assign does, with
// the centres laid out for the kernel once, when it is made.
type Assigner struct {
	kn kernel.KMeans
}

// NewAssigner returns an Assigner for the centres c (k rows of d,
// row-major), which must not change while it is used. It panics if c is
// shorter than k·d or k or d is less than one.
func NewAssigner(c []float64, k, d int) *Assigner {
	if k < 1 || d < 1 || len(c) < k*d {
		panic("kmeans: NewAssigner shape mismatch")
	}
	a := &Assigner{}
	a.kn.Reset(c, k, d)
	return a
}

// Assign is the package's Assign with a's centres. It panics if len(x) is
// not a multiple of d.
func (a *Assigner) Assign(labels []int, dist []float64, x []float64) ([]int, []float64) {
	d := a.kn.D()
	if len(x)%d != 0 {
		panic("kmeans: Assign shape mismatch")
	}
	n := len(x) / d
	labels = grow(labels, n)
	dist = grow(dist, n)
	a.kn.Assign(labels, dist, nil, x)
	return labels, dist
}

// grow returns s resliced to n, reallocating when it is too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
