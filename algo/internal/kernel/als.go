package kernel

import (
	"math"
	"unsafe"
)

// The row kernels of ALS: the weighted Gram of the gathered factors, the
// right-hand side, the gathers, the dot product, the Cholesky factorisation
// and solve, and the batched factorisation of eight systems at once. The
// definitions are the portable code below.
//
//   - ALSGram and ALSRHS: one FMA chain per entry of A or b, in row order.
//   - Dot: eight partial FMA chains, chain l over k ≡ l (mod 8) in order
//     from zero, summed ((p0+p4)+(p2+p6)) + ((p1+p5)+(p3+p7)).
//   - Cholesky and CholSolve: the textbook column order, FMA for each
//     update.
//
// The AVX2 path (als_amd64.s) keeps lanes across the columns q of A (or
// the entries of b, or the systems of a batch), so each lane performs the
// scalar operations of one entry in the scalar order; it computes some
// entries below the diagonal and in the padding, which nothing reads. The
// Gram tiles are four rows of A by up to twelve columns, twelve
// accumulators in registers while the tile passes over the chunk of
// gathered rows. The AVX-512 path runs the AVX2 path but for the Gram,
// whose tiles (als512_amd64.s) are eight rows by up to 24 columns, three
// 512-bit vectors a row.

// ALSGram adds Σ_j wy_j[p]·y_j[q] to the upper triangle of src (rank r,
// stride rp, a multiple of 8) over the n gathered rows of ys and wy (stride
// rp, zero past r), one FMA chain per entry in row order, and writes the
// sums into a. src may be a itself, or nil for a zero matrix.
func ALSGram(a, src []float64, r, rp int, wy, ys []float64, n int) {
	switch {
	case n > 0 && path == AVX512:
		alsGramAVX512(a, src, r, rp, wy, ys, n)
		return
	case n > 0 && path == AVX2:
		alsGramAVX2(a, src, r, rp, wy, ys, n)
		return
	}
	alsGramGo(a, src, r, rp, wy, ys, n)
}

// alsGramGo is the portable ALSGram: four entries of a row of A at a time
// in registers over all the rows, so each pass over the gathered rows
// carries four independent chains.
func alsGramGo(a, src []float64, r, rp int, wy, ys []float64, n int) {
	ys, wy = ys[:n*rp], wy[:n*rp]
	for p := range r {
		row := a[p*rp : p*rp+r]
		var from []float64
		if src != nil {
			from = src[p*rp : p*rp+r][:len(row)]
		}
		q := p
		for ; q+4 <= r; q += 4 {
			var s0, s1, s2, s3 float64
			if from != nil {
				s0, s1, s2, s3 = from[q], from[q+1], from[q+2], from[q+3]
			}
			for o := 0; o < len(ys); o += rp {
				c := wy[o+p]
				y := ys[o+q : o+q+4]
				s0 = math.FMA(c, y[0], s0)
				s1 = math.FMA(c, y[1], s1)
				s2 = math.FMA(c, y[2], s2)
				s3 = math.FMA(c, y[3], s3)
			}
			row[q], row[q+1], row[q+2], row[q+3] = s0, s1, s2, s3
		}
		for ; q < r; q++ {
			s := 0.0
			if from != nil {
				s = from[q]
			}
			for o := 0; o < len(ys); o += rp {
				s = math.FMA(wy[o+p], ys[o+q], s)
			}
			row[q] = s
		}
	}
}

// alsGramAVX2 is ALSGram on the AVX2 path, n ≥ 1. Tiles run from the group
// of four rows holding the diagonal to the rank rounded up to four, so they
// write some entries below the diagonal and in the padding.
func alsGramAVX2(a, src []float64, r, rp int, wy, ys []float64, n int) {
	alsGramCheck(a, src, r, rp, wy, ys, n)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	sp := unsafe.Pointer(unsafe.SliceData(src)) // nil for a zero start
	wp := unsafe.Pointer(unsafe.SliceData(wy))
	yp := unsafe.Pointer(unsafe.SliceData(ys))
	stride, end := 8*rp, (r+3)&^3
	for p0 := 0; p0 < r; p0 += 4 {
		w := unsafe.Add(wp, 8*p0)
		for q0 := p0; q0 < end; {
			off := 8 * (p0*rp + q0)
			var from unsafe.Pointer
			if sp != nil {
				from = unsafe.Add(sp, off)
			}
			t, y := unsafe.Add(ap, off), unsafe.Add(yp, 8*q0)
			// Twelve columns while they fit, but sixteen as two eights:
			// a lone four-column tile has too few chains for the FMA
			// latency.
			switch left := end - q0; {
			case left >= 12 && left != 16:
				alsGram4x12(t, from, stride, w, y, n)
				q0 += 12
			case left >= 8:
				alsGram4x8(t, from, stride, w, y, n)
				q0 += 8
			default:
				alsGram4x4(t, from, stride, w, y, n)
				q0 += 4
			}
		}
	}
}

// alsGramAVX512 is ALSGram on the AVX-512 path, n ≥ 1: tiles of eight rows
// by 24, 16 or 8 columns (als512_amd64.s), from the group of eight rows
// holding the diagonal to the padded rank, so they write some entries
// below the diagonal and in the padding.
func alsGramAVX512(a, src []float64, r, rp int, wy, ys []float64, n int) {
	alsGramCheck(a, src, r, rp, wy, ys, n)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	sp := unsafe.Pointer(unsafe.SliceData(src)) // nil for a zero start
	wp := unsafe.Pointer(unsafe.SliceData(wy))
	yp := unsafe.Pointer(unsafe.SliceData(ys))
	stride := 8 * rp
	for p0 := 0; p0 < r; p0 += 8 {
		w := unsafe.Add(wp, 8*p0)
		for q0 := p0; q0 < rp; {
			off := 8 * (p0*rp + q0)
			var from unsafe.Pointer
			if sp != nil {
				from = unsafe.Add(sp, off)
			}
			t, y := unsafe.Add(ap, off), unsafe.Add(yp, 8*q0)
			// 24 columns while they fit, but 32 as two sixteens: a
			// lone eight-column tile has fewer chains than the FMA
			// latency and ports can overlap.
			switch left := rp - q0; {
			case left >= 24 && left != 32:
				alsGram8x24(t, from, stride, w, y, n)
				q0 += 24
			case left >= 16:
				alsGram8x16(t, from, stride, w, y, n)
				q0 += 16
			default:
				alsGram8x8(t, from, stride, w, y, n)
				q0 += 8
			}
		}
	}
}

// alsGramCheck panics unless the assembly's reads and writes of ALSGram
// stay inside its slices.
func alsGramCheck(a, src []float64, r, rp int, wy, ys []float64, n int) {
	if len(a) < rp*rp || (src != nil && len(src) < rp*rp) || len(wy) < n*rp || len(ys) < n*rp || rp%8 != 0 || r > rp || n < 1 {
		panic("kernel: ALSGram shape mismatch")
	}
}

// Gather copies y into dst (len(y) ≤ len(dst)).
func Gather(dst, y []float64) { copy(dst, y) }

// GatherScaled copies y into dy and w·y, each product rounded, into dw.
func GatherScaled(dy, dw, y []float64, w float64) {
	dy, dw = dy[:len(y)], dw[:len(y)]
	k := 0
	if path >= AVX2 {
		k = len(y) &^ 3
		if k > 0 {
			alsScale4(unsafe.SliceData(dy), unsafe.SliceData(dw), unsafe.SliceData(y), w, k/4)
		}
	}
	for ; k < len(y); k++ {
		dy[k] = y[k]
		dw[k] = float64(w * y[k])
	}
}

// ALSRHS adds Σ_j z_j·y_j[q] to b[q], q < r, over the n gathered rows of
// ys (stride rp, zero past r), one FMA chain per entry in row order. The
// AVX2 path also runs the padding of b, when b has room for it.
func ALSRHS(b []float64, r, rp int, z, ys []float64, n int) {
	if path >= AVX2 && len(b) >= rp {
		if len(z) < n || len(ys) < n*rp || rp%8 != 0 {
			panic("kernel: ALSRHS shape mismatch")
		}
		if n == 0 {
			return
		}
		bp := unsafe.Pointer(unsafe.SliceData(b))
		yp := unsafe.Pointer(unsafe.SliceData(ys))
		zp := unsafe.Pointer(unsafe.SliceData(z))
		q := 0
		for ; q+32 <= rp; q += 32 {
			alsRhs32(unsafe.Add(bp, 8*q), zp, unsafe.Add(yp, 8*q), 8*rp, n)
		}
		for ; q < rp; q += 8 {
			alsRhs8(unsafe.Add(bp, 8*q), zp, unsafe.Add(yp, 8*q), 8*rp, n)
		}
		return
	}
	b = b[:r]
	for j := range n {
		c := z[j]
		y := ys[j*rp : j*rp+r]
		for q := range b {
			b[q] = math.FMA(c, y[q], b[q])
		}
	}
}

// Cholesky factors the upper triangle of a (rank r, stride rp) in place
// into U with A = UᵀU. It reports false, leaving a partly factored, when a
// pivot is not positive (or is NaN or +Inf): A is not positive definite in
// floating point.
func Cholesky(a []float64, r, rp int) bool {
	for k := range r {
		rowk := a[k*rp : k*rp+r]
		d := rowk[k]
		if !(d > 0) || math.IsInf(d, 1) {
			return false
		}
		s := math.Sqrt(d)
		rowk[k] = s
		for j := k + 1; j < r; j++ {
			rowk[j] /= s
		}
		for i := k + 1; i < r; i++ {
			c := -rowk[i]
			rowi := a[i*rp : i*rp+r]
			for j := i; j < r; j++ {
				rowi[j] = math.FMA(c, rowk[j], rowi[j])
			}
		}
	}
	return true
}

// CholSolve overwrites b (length ≥ r) with the solution x of UᵀU x = b, U
// the factor Cholesky left in a.
func CholSolve(a []float64, r, rp int, b []float64) {
	b = b[:r]
	for k := range r { // Uᵀz = b, by columns of Uᵀ (rows of U)
		zk := b[k] / a[k*rp+k]
		b[k] = zk
		c := -zk
		rowk := a[k*rp : k*rp+r]
		for j := k + 1; j < r; j++ {
			b[j] = math.FMA(c, rowk[j], b[j])
		}
	}
	for k := r - 1; k >= 0; k-- { // Ux = z, by columns of U
		xk := b[k] / a[k*rp+k]
		b[k] = xk
		c := -xk
		for i := range k {
			b[i] = math.FMA(c, a[i*rp+k], b[i])
		}
	}
}

// Dot returns a·b (len(a) ≤ len(b)) as eight partial FMA chains, chain l
// over k ≡ l (mod 8) in order from zero, summed ((p0+p4)+(p2+p6)) +
// ((p1+p5)+(p3+p7)): the order of an eight-lane vector dot product
// reduced by halves. The AVX2 path keeps the chains in two vectors, for
// lengths that are a multiple of eight.
func Dot(a, b []float64) float64 {
	if path >= AVX2 && len(a)%8 == 0 && len(a) > 0 {
		b = b[:len(a)]
		return alsDot8(unsafe.SliceData(a), unsafe.SliceData(b), len(a)/8)
	}
	return dotGo(a, b)
}

func dotGo(a, b []float64) float64 {
	b = b[:len(a)]
	var p0, p1, p2, p3, p4, p5, p6, p7 float64
	k := 0
	for ; k+8 <= len(a); k += 8 {
		x, y := a[k:k+8], b[k:k+8]
		p0 = math.FMA(x[0], y[0], p0)
		p1 = math.FMA(x[1], y[1], p1)
		p2 = math.FMA(x[2], y[2], p2)
		p3 = math.FMA(x[3], y[3], p3)
		p4 = math.FMA(x[4], y[4], p4)
		p5 = math.FMA(x[5], y[5], p5)
		p6 = math.FMA(x[6], y[6], p6)
		p7 = math.FMA(x[7], y[7], p7)
	}
	if k < len(a) {
		var x, y [8]float64
		copy(x[:], a[k:])
		copy(y[:], b[k:])
		p0 = math.FMA(x[0], y[0], p0)
		p1 = math.FMA(x[1], y[1], p1)
		p2 = math.FMA(x[2], y[2], p2)
		p3 = math.FMA(x[3], y[3], p3)
		p4 = math.FMA(x[4], y[4], p4)
		p5 = math.FMA(x[5], y[5], p5)
		p6 = math.FMA(x[6], y[6], p6)
		p7 = math.FMA(x[7], y[7], p7)
	}
	return ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7))
}

// BatchLanes is the number of systems an ALSBatch factors together.
const BatchLanes = 8

// maxBatchRank bounds the ranks that batch: beyond it the packed systems
// outgrow L2.
const maxBatchRank = 64

// The outcomes of ALSBatch.Run.
const (
	BatchOK        = iota // every system solved, every solution finite
	BatchBadPivot         // a pivot was not positive: not positive definite
	BatchNotFinite        // a solution is not finite
)

// An ALSBatch factors and solves eight rows' normal equations together,
// one system per float64 lane, so that each lane performs exactly the
// scalar operations of Cholesky and CholSolve in their order, and the sqrt
// and division latencies of one system overlap the others' instead of
// serialising the factorisation. The upper triangles are stored packed,
// entry (p, q) at lane vector off[p] + q − p, each lane vector two vectors
// of four (als_amd64.s).
type ALSBatch struct {
	r    int
	off  []int
	a    []float64 // packed upper triangles, 8 lanes per entry
	b    []float64 // right-hand sides, then solutions, 8 lanes per entry
	n    int
	rows [BatchLanes]int
	dst  [BatchLanes][]float64
}

// NewALSBatch returns a batch for rank r, or nil where batching does not
// pay: on the portable path, or for ranks above 64.
func NewALSBatch(r int) *ALSBatch {
	if path < AVX2 || r > maxBatchRank {
		return nil
	}
	bt := &ALSBatch{r: r, off: make([]int, r+1)}
	for p := range r {
		bt.off[p+1] = bt.off[p] + r - p
	}
	// The factorisation reads up to five entries past a row.
	bt.a = make([]float64, BatchLanes*(bt.off[r]+5))
	bt.b = make([]float64, BatchLanes*r)
	return bt
}

// Len returns the number of systems waiting.
func (bt *ALSBatch) Len() int { return bt.n }

// Put adds the system of row (upper triangle of a, stride rp, and b) as
// the next lane; Run writes its solution into dst. At most BatchLanes
// systems wait.
func (bt *ALSBatch) Put(a []float64, rp int, b []float64, row int, dst []float64) {
	l, r := bt.n, bt.r
	for p := range r {
		src := a[p*rp+p : p*rp+r]
		d := bt.a[BatchLanes*bt.off[p]:][:BatchLanes*len(src)]
		for q, v := range src {
			d[BatchLanes*q+l] = v
		}
		bt.b[BatchLanes*p+l] = b[p]
	}
	bt.rows[l], bt.dst[l] = row, dst
	bt.n++
}

// Run factors and solves the waiting systems, writes their solutions and
// empties the batch. It returns BatchOK, or the first row (in the order
// put) whose system has a pivot that is not positive (BatchBadPivot) or
// whose solution is not finite (BatchNotFinite).
func (bt *ALSBatch) Run() (int, int) {
	r := bt.r
	// Idle lanes solve I x = 0.
	for l := bt.n; l < BatchLanes; l++ {
		for p := range r {
			for q := p; q < r; q++ {
				v := 0.0
				if q == p {
					v = 1
				}
				bt.a[BatchLanes*(bt.off[p]+q-p)+l] = v
			}
			bt.b[BatchLanes*p+l] = 0
		}
	}
	ap := unsafe.Pointer(unsafe.SliceData(bt.a))
	bp := unsafe.Pointer(unsafe.SliceData(bt.b))
	off := bt.off[:r+1]
	alsCholBatch4(ap, r, unsafe.SliceData(off))
	// A lane met a pivot that is not positive exactly when some U[k][k] =
	// √pivot is not in (0, +Inf).
	var fail uint8
	for k := range r {
		u := (*[BatchLanes]float64)(unsafe.Add(ap, 64*off[k]))
		for l, s := range u {
			if !(s > 0) || s > math.MaxFloat64 {
				fail |= 1 << l
			}
		}
	}
	alsSolveBatch4(ap, bp, r, unsafe.SliceData(off))
	n := bt.n
	bt.n = 0
	for l := range n {
		if fail&(1<<l) != 0 {
			return bt.rows[l], BatchBadPivot
		}
		x := bt.dst[l][:r]
		for k := range x {
			x[k] = bt.b[BatchLanes*k+l]
		}
		for _, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bt.rows[l], BatchNotFinite
			}
		}
	}
	return 0, BatchOK
}
