package kmeans

import "math"

// The assignment kernel. It has three implementations that give the same
// bits on every input: the portable one in this file, and two built with
// GOEXPERIMENT=simd on amd64: AVX-512 (kernel_vec.go) where the CPU has it,
// else AVX2 with FMA (kernel_avx2.go, in assembly). The definitions below are what both compute; they are the
// ones the kernel has always used, so models keep their bits.
//
//   - Score: s_k = fma(x[d-1], c_k[d-1], … fma(x[0], c_k[0], 0)), one FMA
//     chain over j in order from zero, and score_k = ½‖c_k‖² − s_k, with
//     ½‖c‖² from halfNorm.
//   - Label: the first k with the smallest score, by a strict < scan in
//     centre order from +Inf (better). A NaN score makes the running
//     minimum NaN, and no later centre is taken. For scores without NaN
//     this is the same as the first index whose score equals the minimum.
//   - Distance: the exact Σ(x−c)² to the labelled centre as one FMA chain
//     over j in order from zero (sqDist).
//   - Sums: each row added to its cluster's sum, coordinate by coordinate,
//     in row order (a vector add is the scalar adds, lane by lane).
//
// The AVX-512 path keeps one row per lane, the AVX2 path one centre per
// lane; each lane runs its chains in the same order as the scalar code, and
// rows whose scores hold a NaN go to the portable scan. TestPathsAgree
// checks every path against the portable one.
//
// The portable path runs rows in blocks of four and centres in pairs, so
// eight independent FMA chains are in flight, all in registers. Dot products
// go to a small score buffer and the argmin runs after all pairs, with a
// float compare feeding an integer conditional move and min for the running
// best, so it does not branch on data. Centres stay row-major: a transposed
// D×K layout with the inner loop over clusters needs K accumulators per row,
// which live in memory in Go; it measured slower than this register-blocked
// loop over j.
//
// math.FMA compiles to one instruction when built with GOAMD64=v3 or later;
// with the default GOAMD64=v1 every call also tests a CPU feature flag, which
// roughly halves the portable kernel's speed (the bits are the same either
// way).

// simdEnabled selects the AVX-512 path where the build has one and the CPU
// supports it, and avx2Enabled the AVX2 path where the AVX-512 one is not
// taken. Tests switch them to compare the paths.
var (
	simdEnabled = vecSupported()
	avx2Enabled = avx2Supported()
)

// chunkRows is how many rows are labelled before the caller consumes them.
const chunkRows = 256

// kernel labels rows with their nearest centre. Its buffers are reused.
type kernel struct {
	k, d int
	c    []float64 // k*d centres, row-major
	half []float64 // ½‖c_k‖²
	lab  []int     // chunkRows labels
	dist []float64 // chunkRows squared distances
	// scores holds the dot products of four rows with every centre,
	// interleaved by row.
	scores []float64
	fast   bool       // use vec
	vec    vecKernel  // the AVX-512 path's state; empty without one
	fast2  bool       // use av
	av     avx2Kernel // the AVX2 path's state; empty without one
}

func (kn *kernel) reset(c []float64, k, d int) {
	kn.k, kn.d, kn.c = k, d, c[:k*d]
	kn.half = kn.half[:0]
	for i := 0; i < k; i++ {
		kn.half = append(kn.half, halfNorm(c[i*d:(i+1)*d]))
	}
	if cap(kn.lab) < chunkRows {
		kn.lab = make([]int, chunkRows)
	}
	kn.lab = kn.lab[:chunkRows]
	kn.dist = grow(kn.dist, chunkRows)
	kn.scores = grow(kn.scores, 4*k)
	kn.fast = simdEnabled && kn.vec.reset(kn)
	kn.fast2 = !kn.fast && avx2Enabled && kn.av.reset(kn)
}

func halfNorm(c []float64) float64 {
	s := 0.0
	for _, v := range c {
		s = math.FMA(v, v, s)
	}
	return float64(0.5 * s)
}

// sqDist is the exact squared Euclidean distance Σ(x−c)².
func sqDist(x, c []float64) float64 {
	c = c[:len(x)]
	s := 0.0
	for j, v := range x {
		t := v - c[j]
		s = math.FMA(t, t, s)
	}
	return s
}

// scan labels the n rows of x chunk by chunk and calls visit with the first
// row index of each chunk, its labels and, when withDist is set, the exact
// squared distances to the labelled centres (nil otherwise). Unless sums is
// nil, scan also adds every row to the sum of its cluster (sums holds k*d),
// in row order.
func (kn *kernel) scan(x []float64, n int, withDist bool, sums []float64, visit func(lo int, lab []int, dist []float64)) {
	for lo := 0; lo < n; lo += chunkRows {
		m := min(chunkRows, n-lo)
		lab := kn.lab[:m]
		var dist []float64
		if withDist {
			dist = kn.dist[:m]
		}
		kn.assign(lab, dist, sums, x[lo*kn.d:(lo+m)*kn.d])
		visit(lo, lab, dist)
	}
}

// assign writes the nearest centre of each row of x into lab and, unless
// dist is nil, the exact squared distance to it into dist. Unless sums is
// nil, it adds each row to the sum of its cluster, in row order.
func (kn *kernel) assign(lab []int, dist, sums, x []float64) {
	switch {
	case kn.fast:
		kn.vec.assign(kn, lab, dist, sums, x)
		return
	case kn.fast2:
		kn.av.assign(kn, lab, dist, sums, x)
		return
	}
	kn.assignGo(lab, dist, sums, x)
}

// assignGo is the portable assign.
func (kn *kernel) assignGo(lab []int, dist, sums, x []float64) {
	kn.labels(lab, x)
	d := kn.d
	switch {
	case dist != nil && sums != nil:
		// sqDist and addRowsGo in one pass over the row.
		for i, l := range lab {
			row := x[i*d : (i+1)*d]
			c := kn.c[l*d : (l+1)*d][:len(row)]
			s := sums[l*d : (l+1)*d][:len(row)]
			d2 := 0.0
			for j, v := range row {
				t := v - c[j]
				d2 = math.FMA(t, t, d2)
				s[j] += v
			}
			dist[i] = d2
		}
	case dist != nil:
		for i, l := range lab {
			dist[i] = sqDist(x[i*d:(i+1)*d], kn.c[l*d:(l+1)*d])
		}
	case sums != nil:
		addRowsGo(sums, lab, x, d)
	}
}

func addRowsGo(sums []float64, lab []int, x []float64, d int) {
	for i, l := range lab {
		row := x[i*d : (i+1)*d]
		s := sums[l*d : (l+1)*d][:len(row)]
		for j, v := range row {
			s[j] += v
		}
	}
}

// labels writes the nearest centre of each row of x into lab.
func (kn *kernel) labels(lab []int, x []float64) {
	d, n := kn.d, len(lab)
	i := 0
	for ; i+4 <= n; i += 4 {
		kn.block4(lab[i:i+4], x[i*d:(i+4)*d])
	}
	for ; i < n; i++ {
		lab[i] = kn.one(x[i*d : (i+1)*d])
	}
}

// better folds score v of centre k into the running best (b, i). A tie keeps
// the earlier, lower index. It compiles to a compare, an integer conditional
// move and a min, without a data-dependent branch.
func better(b float64, i int, v float64, k int) (float64, int) {
	if v < b {
		i = k
	}
	return min(b, v), i
}

// one is the single-row path.
func (kn *kernel) one(x []float64) int {
	d := len(x)
	best, bi := math.Inf(1), 0
	for k, h := range kn.half {
		c := kn.c[k*d : (k+1)*d][:len(x)]
		s := 0.0
		for j, v := range x {
			s = math.FMA(v, c[j], s)
		}
		best, bi = better(best, bi, h-s, k)
	}
	return bi
}

// block4 labels four consecutive rows. The dot products of a pair of
// centres go to a score buffer; the argmin runs after all pairs, so the FMA
// loop carries nothing but its accumulators from one pair to the next.
func (kn *kernel) block4(lab []int, x []float64) {
	d, k := kn.d, kn.k
	x0 := x[:d]
	x1 := x[d : 2*d][:len(x0)]
	x2 := x[2*d : 3*d][:len(x0)]
	x3 := x[3*d : 4*d][:len(x0)]
	sc := kn.scores[:4*k]
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		c0 := kn.c[kk*d : (kk+1)*d][:len(x0)]
		c1 := kn.c[(kk+1)*d : (kk+2)*d][:len(x0)]
		var s00, s01, s10, s11, s20, s21, s30, s31 float64
		for j := range x0 {
			a := c0[j]
			s00 = math.FMA(x0[j], a, s00)
			s10 = math.FMA(x1[j], a, s10)
			s20 = math.FMA(x2[j], a, s20)
			s30 = math.FMA(x3[j], a, s30)
			b := c1[j]
			s01 = math.FMA(x0[j], b, s01)
			s11 = math.FMA(x1[j], b, s11)
			s21 = math.FMA(x2[j], b, s21)
			s31 = math.FMA(x3[j], b, s31)
		}
		o := sc[4*kk : 4*kk+8]
		o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = s00, s10, s20, s30, s01, s11, s21, s31
	}
	if kk < k {
		c0 := kn.c[kk*d : (kk+1)*d][:len(x0)]
		var s0, s1, s2, s3 float64
		for j, a := range c0 {
			s0 = math.FMA(x0[j], a, s0)
			s1 = math.FMA(x1[j], a, s1)
			s2 = math.FMA(x2[j], a, s2)
			s3 = math.FMA(x3[j], a, s3)
		}
		o := sc[4*kk : 4*kk+4]
		o[0], o[1], o[2], o[3] = s0, s1, s2, s3
	}
	inf := math.Inf(1)
	b0, b1, b2, b3 := inf, inf, inf, inf
	var i0, i1, i2, i3 int
	for c, h := range kn.half {
		o := sc[4*c : 4*c+4]
		b0, i0 = better(b0, i0, h-o[0], c)
		b1, i1 = better(b1, i1, h-o[1], c)
		b2, i2 = better(b2, i2, h-o[2], c)
		b3, i3 = better(b3, i3, h-o[3], c)
	}
	lab = lab[:4]
	lab[0], lab[1], lab[2], lab[3] = i0, i1, i2, i3
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
	kn kernel
}

// NewAssigner returns an Assigner for the centres c (k rows of d,
// row-major), which must not change while it is used. It panics if c is
// shorter than k·d or k or d is less than one.
func NewAssigner(c []float64, k, d int) *Assigner {
	if k < 1 || d < 1 || len(c) < k*d {
		panic("kmeans: NewAssigner shape mismatch")
	}
	a := &Assigner{}
	a.kn.reset(c, k, d)
	return a
}

// Assign is the package's Assign with a's centres. It panics if len(x) is
// not a multiple of d.
func (a *Assigner) Assign(labels []int, dist []float64, x []float64) ([]int, []float64) {
	d := a.kn.d
	if len(x)%d != 0 {
		panic("kmeans: Assign shape mismatch")
	}
	n := len(x) / d
	labels = grow(labels, n)
	dist = grow(dist, n)
	a.kn.assign(labels, dist, nil, x)
	return labels, dist
}

// grow returns s resliced to n, reallocating when it is too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
