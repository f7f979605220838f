//go:build goexperiment.simd && amd64

package als

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// The SIMD path of the row kernels: AVX-512, lanes across the columns q of
// A, so that each lane performs exactly the scalar FMA chain of its entry
// (kernel.go), in the same order.
//
// accGram runs over tiles of four rows and sixteen columns of A: eight
// accumulators stay in registers while the tile passes over the chunk of
// gathered rows, whose factors stay in L1. Per gathered row a tile loads
// two vectors of y and broadcasts four coordinates of wy: eight FMAs for
// six loads. Only tiles that reach the upper triangle run, starting each
// group of four rows at the multiple of eight at or below its first row.
//
// The code is shaped by what Go 1.26 makes of it (see also
// algo/kmeans/kernel_vec.go): at most eight accumulators before the
// register allocator spills, loads addressed through unsafe pointers into
// slices whose bounds are checked once up front (go test -race runs them
// under checkptr), and ClearAVXUpperBits before scalar code follows.

func vecSupported() bool { return archsimd.X86.AVX512() }

type f64x8 = archsimd.Float64x8

func at(p unsafe.Pointer, off int) *[8]float64 { return (*[8]float64)(unsafe.Add(p, off)) }

func f64at(p unsafe.Pointer, off int) float64 { return *(*float64)(unsafe.Add(p, off)) }

// accGramVec is accGram on the SIMD path. a and src (unless nil) are
// rp×rp; wy and ys hold n rows of rp.
func accGramVec(a, src []float64, rp int, wy, ys []float64, n int) {
	if len(a) < rp*rp || (src != nil && len(src) < rp*rp) || len(wy) < n*rp || len(ys) < n*rp || rp%8 != 0 {
		panic("als: accGramVec shape mismatch")
	}
	ap := unsafe.Pointer(unsafe.SliceData(a))
	sp := unsafe.Pointer(unsafe.SliceData(src)) // nil for a zero start
	wp := unsafe.Pointer(unsafe.SliceData(wy))
	yp := unsafe.Pointer(unsafe.SliceData(ys))
	stride := 8 * rp
	for p0 := 0; p0 < rp; p0 += 4 {
		q0 := p0 &^ 7
		off := 8 * (p0*rp + q0)
		w := unsafe.Add(wp, 8*p0)
		for ; q0+16 <= rp; q0 += 16 {
			var from unsafe.Pointer
			if sp != nil {
				from = unsafe.Add(sp, off)
			}
			tile4x16(unsafe.Add(ap, off), from, stride, w, unsafe.Add(yp, 8*q0), n)
			off += 128
		}
		if q0 < rp {
			var from unsafe.Pointer
			if sp != nil {
				from = unsafe.Add(sp, off)
			}
			tile4x8(unsafe.Add(ap, off), from, stride, w, unsafe.Add(yp, 8*q0), n)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// load8 loads the vector at p+off, or returns zero when p is nil.
func load8(p unsafe.Pointer, off int) f64x8 {
	if p == nil {
		return f64x8{}
	}
	return archsimd.LoadFloat64x8(at(p, off))
}

// tile4x16 sets a[p+k][q+l] = src[p+k][q+l] + Σ_j wy_j[p+k]·y_j[q+l] (one
// FMA chain each) for k < 4, l < 16, over n gathered rows; a and src point
// at entry [p][q] (src nil: zero), w at wy_0[p], y at y_0[q], and stride is
// the byte length of a row of A and of a gathered row.
//
//go:noinline
func tile4x16(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int) {
	a00 := load8(src, 0)
	a01 := load8(src, 64)
	a10 := load8(src, stride)
	a11 := load8(src, stride+64)
	a20 := load8(src, 2*stride)
	a21 := load8(src, 2*stride+64)
	a30 := load8(src, 3*stride)
	a31 := load8(src, 3*stride+64)
	// Offsets, not advancing pointers: a pointer one row past the end
	// would leave the allocation, which checkptr rejects.
	for o := 0; o < n*stride; o += stride {
		y0 := archsimd.LoadFloat64x8(at(y, o))
		y1 := archsimd.LoadFloat64x8(at(y, o+64))
		c := archsimd.BroadcastFloat64x8(f64at(w, o))
		a00 = y0.MulAdd(c, a00)
		a01 = c.MulAdd(y1, a01)
		c = archsimd.BroadcastFloat64x8(f64at(w, o+8))
		a10 = y0.MulAdd(c, a10)
		a11 = c.MulAdd(y1, a11)
		c = archsimd.BroadcastFloat64x8(f64at(w, o+16))
		a20 = y0.MulAdd(c, a20)
		a21 = c.MulAdd(y1, a21)
		c = archsimd.BroadcastFloat64x8(f64at(w, o+24))
		a30 = y0.MulAdd(c, a30)
		a31 = c.MulAdd(y1, a31)
	}
	a00.Store(at(a, 0))
	a01.Store(at(a, 64))
	a10.Store(at(a, stride))
	a11.Store(at(a, stride+64))
	a20.Store(at(a, 2*stride))
	a21.Store(at(a, 2*stride+64))
	a30.Store(at(a, 3*stride))
	a31.Store(at(a, 3*stride+64))
}

// tile4x8 is tile4x16 for the last eight columns.
//
//go:noinline
func tile4x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int) {
	a0 := load8(src, 0)
	a1 := load8(src, stride)
	a2 := load8(src, 2*stride)
	a3 := load8(src, 3*stride)
	for o := 0; o < n*stride; o += stride {
		y0 := archsimd.LoadFloat64x8(at(y, o))
		a0 = archsimd.BroadcastFloat64x8(f64at(w, o)).MulAdd(y0, a0)
		a1 = archsimd.BroadcastFloat64x8(f64at(w, o+8)).MulAdd(y0, a1)
		a2 = archsimd.BroadcastFloat64x8(f64at(w, o+16)).MulAdd(y0, a2)
		a3 = archsimd.BroadcastFloat64x8(f64at(w, o+24)).MulAdd(y0, a3)
	}
	a0.Store(at(a, 0))
	a1.Store(at(a, stride))
	a2.Store(at(a, 2*stride))
	a3.Store(at(a, 3*stride))
}

// choleskyVec is cholesky on the SIMD path: the divisions of row k and the
// updates of the rows below it run eight columns at a time, each lane the
// scalar operation of its entry. The update of row i starts at the multiple
// of eight at or below i and the vectors run into the padding, so it
// writes entries below the diagonal and past the rank, which nothing reads;
// the divisions start at the first multiple of eight past k, scalar before
// it, so the pivot is never touched.
func choleskyVec(a []float64, r, rp int) bool {
	if len(a) < rp*rp || rp%8 != 0 || r > rp {
		panic("als: choleskyVec shape mismatch")
	}
	ok := cholVec(unsafe.Pointer(unsafe.SliceData(a)), r, rp)
	archsimd.ClearAVXUpperBits()
	return ok
}

// cholVec is the loop of choleskyVec, in one function so that nothing is
// called per row of the update.
//
//go:noinline
func cholVec(ap unsafe.Pointer, r, rp int) bool {
	stride := 8 * rp
	end := 8 * rp // byte offset of a row's end
	for k := range r {
		pk := unsafe.Add(ap, k*stride)
		d := f64at(pk, 8*k)
		if !(d > 0) || d > math.MaxFloat64 {
			return false
		}
		s := math.Sqrt(d)
		*(*float64)(unsafe.Add(pk, 8*k)) = s
		j := k + 1
		for ; j < r && j&7 != 0; j++ {
			q := (*float64)(unsafe.Add(pk, 8*j))
			*q /= s
		}
		if j < r {
			sv := archsimd.BroadcastFloat64x8(s)
			for o := 8 * j; o < end; o += 64 {
				archsimd.LoadFloat64x8(at(pk, o)).Div(sv).Store(at(pk, o))
			}
		}
		for i := k + 1; i < r; i++ {
			pi := unsafe.Add(ap, i*stride)
			cv := archsimd.BroadcastFloat64x8(-f64at(pk, 8*i))
			for o := 8 * (i &^ 7); o < end; o += 64 {
				archsimd.LoadFloat64x8(at(pk, o)).MulAdd(cv, archsimd.LoadFloat64x8(at(pi, o))).Store(at(pi, o))
			}
		}
	}
	return true
}

// accVecVec is accVec on the SIMD path: b[q] = fma(z_j, y_j[q], b[q]) for
// q < rp (b has rp entries), four vectors of b in registers at a time.
func accVecVec(b []float64, rp int, z, ys []float64, n int) {
	if len(b) < rp || len(z) < n || len(ys) < n*rp || rp%8 != 0 {
		panic("als: accVecVec shape mismatch")
	}
	bp := unsafe.Pointer(unsafe.SliceData(b))
	yp := unsafe.Pointer(unsafe.SliceData(ys))
	zp := unsafe.Pointer(unsafe.SliceData(z))
	for q := 0; q < rp; q += 32 {
		rhs4(unsafe.Add(bp, 8*q), zp, unsafe.Add(yp, 8*q), 8*rp, n, min(4, (rp-q)/8))
	}
	archsimd.ClearAVXUpperBits()
}

// rhs4 adds Σ_j z_j·y_j to the m ≤ 4 vectors at b.
//
//go:noinline
func rhs4(b, z, y unsafe.Pointer, stride, n, m int) {
	var b0, b1, b2, b3 f64x8
	b0 = archsimd.LoadFloat64x8(at(b, 0))
	if m > 1 {
		b1 = archsimd.LoadFloat64x8(at(b, 64))
	}
	if m > 2 {
		b2 = archsimd.LoadFloat64x8(at(b, 128))
	}
	if m > 3 {
		b3 = archsimd.LoadFloat64x8(at(b, 192))
	}
	switch m {
	case 4:
		for j := range n {
			o := j * stride
			c := archsimd.BroadcastFloat64x8(f64at(z, 8*j))
			b0 = archsimd.LoadFloat64x8(at(y, o)).MulAdd(c, b0)
			b1 = archsimd.LoadFloat64x8(at(y, o+64)).MulAdd(c, b1)
			b2 = archsimd.LoadFloat64x8(at(y, o+128)).MulAdd(c, b2)
			b3 = archsimd.LoadFloat64x8(at(y, o+192)).MulAdd(c, b3)
		}
	default:
		for j := range n {
			o := j * stride
			c := archsimd.BroadcastFloat64x8(f64at(z, 8*j))
			b0 = archsimd.LoadFloat64x8(at(y, o)).MulAdd(c, b0)
			if m > 1 {
				b1 = archsimd.LoadFloat64x8(at(y, o+64)).MulAdd(c, b1)
			}
			if m > 2 {
				b2 = archsimd.LoadFloat64x8(at(y, o+128)).MulAdd(c, b2)
			}
		}
	}
	b0.Store(at(b, 0))
	if m > 1 {
		b1.Store(at(b, 64))
	}
	if m > 2 {
		b2.Store(at(b, 128))
	}
	if m > 3 {
		b3.Store(at(b, 192))
	}
}

// gatherVec copies y into dst eight values at a time.
func gatherVec(dst, y []float64) {
	dst = dst[:len(y)]
	k := 0
	for ; k+8 <= len(y); k += 8 {
		archsimd.LoadFloat64x8((*[8]float64)(y[k:])).Store((*[8]float64)(dst[k:]))
	}
	if k < len(y) {
		archsimd.ClearAVXUpperBits()
		copy(dst[k:], y[k:])
	}
}

// gatherScaledVec copies y into dy and w·y into dw, each product rounded
// (a vector multiply is the scalar one, lane by lane).
func gatherScaledVec(dy, dw, y []float64, w float64) {
	dy, dw = dy[:len(y)], dw[:len(y)]
	wv := archsimd.BroadcastFloat64x8(w)
	k := 0
	for ; k+8 <= len(y); k += 8 {
		v := archsimd.LoadFloat64x8((*[8]float64)(y[k:]))
		v.Store((*[8]float64)(dy[k:]))
		v.Mul(wv).Store((*[8]float64)(dw[k:]))
	}
	if k < len(y) {
		archsimd.ClearAVXUpperBits()
		for ; k < len(y); k++ {
			dy[k] = y[k]
			dw[k] = float64(w * y[k])
		}
	}
}

// dotVec is dot with one vector of eight partial chains, the last partial
// vector zero-padded as dotGo pads it, reduced by halves.
func dotVec(a, b []float64) float64 {
	b = b[:len(a)]
	var acc f64x8
	k := 0
	for ; k+8 <= len(a); k += 8 {
		acc = archsimd.LoadFloat64x8((*[8]float64)(a[k:])).MulAdd(archsimd.LoadFloat64x8((*[8]float64)(b[k:])), acc)
	}
	if k < len(a) {
		// Not LoadFloat64x8SlicePart, which trips checkptr under -race.
		var x, y [8]float64
		copy(x[:], a[k:])
		copy(y[:], b[k:])
		acc = archsimd.LoadFloat64x8(&x).MulAdd(archsimd.LoadFloat64x8(&y), acc)
	}
	h := acc.GetLo().Add(acc.GetHi()) // p0+p4, p1+p5, p2+p6, p3+p7
	q := h.GetLo().Add(h.GetHi())     // (p0+p4)+(p2+p6), (p1+p5)+(p3+p7)
	s := q.GetElem(0) + q.GetElem(1)
	archsimd.ClearAVXUpperBits()
	return s
}

// Index vectors of the transposing reduction of scoreAllVec.
var (
	redLo  = [8]uint64{0, 1, 2, 3, 8, 9, 10, 11}
	redHi  = [8]uint64{4, 5, 6, 7, 12, 13, 14, 15}
	redLo2 = [8]uint64{0, 1, 4, 5, 8, 9, 12, 13}
	redHi2 = [8]uint64{2, 3, 6, 7, 10, 11, 14, 15}
	redEv  = [8]uint64{0, 2, 4, 6, 8, 10, 12, 14}
	redOd  = [8]uint64{1, 3, 5, 7, 9, 11, 13, 15}
)

// scoreAllVec is scoreAll on the SIMD path for a rank that is a multiple
// of eight: eight rows at a time, each row's eight partial chains in one
// vector as dotVec keeps them, then a transposing reduction that forms, in
// each lane, that row's ((p0+p4)+(p2+p6)) + ((p1+p5)+(p3+p7)). The rows
// past the last multiple of eight take dotVec.
func scoreAllVec(dst, u, f []float64, n int) {
	r := len(u)
	if r%8 != 0 || len(f) < n*r || len(dst) < n {
		panic("als: scoreAllVec shape mismatch")
	}
	i := 0
	if n >= 8 {
		up := unsafe.Pointer(unsafe.SliceData(u))
		fp := unsafe.Pointer(unsafe.SliceData(f))
		dp := unsafe.Pointer(unsafe.SliceData(dst))
		for ; i+8 <= n; i += 8 {
			score8(at(dp, 8*i), up, unsafe.Add(fp, 8*i*r), r)
		}
	}
	archsimd.ClearAVXUpperBits()
	for ; i < n; i++ {
		dst[i] = dotVec(u, f[i*r:(i+1)*r])
	}
}

// score8 writes the scores of the eight rows of rank r at f into out.
//
//go:noinline
func score8(out *[8]float64, u, f unsafe.Pointer, r int) {
	var a0, a1, a2, a3, a4, a5, a6, a7 f64x8
	row := 8 * r
	for o := 0; o < row; o += 64 {
		uv := archsimd.LoadFloat64x8(at(u, o))
		a0 = archsimd.LoadFloat64x8(at(f, o)).MulAdd(uv, a0)
		a1 = archsimd.LoadFloat64x8(at(f, row+o)).MulAdd(uv, a1)
		a2 = archsimd.LoadFloat64x8(at(f, 2*row+o)).MulAdd(uv, a2)
		a3 = archsimd.LoadFloat64x8(at(f, 3*row+o)).MulAdd(uv, a3)
		a4 = archsimd.LoadFloat64x8(at(f, 4*row+o)).MulAdd(uv, a4)
		a5 = archsimd.LoadFloat64x8(at(f, 5*row+o)).MulAdd(uv, a5)
		a6 = archsimd.LoadFloat64x8(at(f, 6*row+o)).MulAdd(uv, a6)
		a7 = archsimd.LoadFloat64x8(at(f, 7*row+o)).MulAdd(uv, a7)
	}
	lo := archsimd.LoadUint64x8(&redLo)
	hi := archsimd.LoadUint64x8(&redHi)
	// [A0+A4 A1+A5 A2+A6 A3+A7 B0+B4 …] for the pairs AB, CD, EF, GH.
	b01 := a0.ConcatPermute(a1, lo).Add(a0.ConcatPermute(a1, hi))
	b23 := a2.ConcatPermute(a3, lo).Add(a2.ConcatPermute(a3, hi))
	b45 := a4.ConcatPermute(a5, lo).Add(a4.ConcatPermute(a5, hi))
	b67 := a6.ConcatPermute(a7, lo).Add(a6.ConcatPermute(a7, hi))
	lo2 := archsimd.LoadUint64x8(&redLo2)
	hi2 := archsimd.LoadUint64x8(&redHi2)
	// [(A0+A4)+(A2+A6) (A1+A5)+(A3+A7) B… C… D…].
	c03 := b01.ConcatPermute(b23, lo2).Add(b01.ConcatPermute(b23, hi2))
	c47 := b45.ConcatPermute(b67, lo2).Add(b45.ConcatPermute(b67, hi2))
	ev := archsimd.LoadUint64x8(&redEv)
	od := archsimd.LoadUint64x8(&redOd)
	c03.ConcatPermute(c47, ev).Add(c03.ConcatPermute(c47, od)).Store(out)
}

// batchLanes is the number of systems factored together, one per lane.
const batchLanes = 8

// maxBatchRank bounds the ranks that batch: beyond it the packed systems
// outgrow L2, and choleskyVec has long enough rows to be efficient.
const maxBatchRank = 64

// batch factors and solves eight rows' normal equations together, one
// system per float64 lane, so that each lane performs exactly the scalar
// operations of cholesky and cholSolve in their order, and the sqrt and
// division latencies of one system overlap the others' instead of
// serialising the factorisation. The upper triangles are stored packed,
// entry (p, q) at lane vector off[p] + q − p. On the AVX2 path each lane
// vector is two vectors of four (cholBatchAVX2, solveBatchAVX2).
type batch struct {
	r    int
	avx2 bool
	off  []int
	a    []float64 // packed upper triangles, 8 lanes per entry
	b    []float64 // right-hand sides, then solutions, 8 lanes per entry
	n    int
	rows [batchLanes]int
	dst  [batchLanes][]float64
}

// newBatch returns a batch for rank r on the AVX-512 path, or on the AVX2
// path if avx2 is set, or nil if r is too large to batch.
func newBatch(r int, avx2 bool) *batch {
	if r > maxBatchRank {
		return nil
	}
	bt := &batch{r: r, avx2: avx2, off: make([]int, r+1)}
	for p := range r {
		bt.off[p+1] = bt.off[p] + r - p
	}
	// The AVX2 factorisation reads up to five entries past a row.
	pad := 0
	if avx2 {
		pad = 5
	}
	bt.a = make([]float64, batchLanes*(bt.off[r]+pad))
	bt.b = make([]float64, batchLanes*r)
	return bt
}

// put adds the system of row (upper triangle of a, stride rp, and b) as
// the next lane; run writes its solution into dst.
func (bt *batch) put(a []float64, rp int, b []float64, row int, dst []float64) {
	l, r := bt.n, bt.r
	for p := range r {
		src := a[p*rp+p : p*rp+r]
		d := bt.a[batchLanes*bt.off[p]:][:batchLanes*len(src)]
		for q, v := range src {
			d[batchLanes*q+l] = v
		}
		bt.b[batchLanes*p+l] = b[p]
	}
	bt.rows[l], bt.dst[l] = row, dst
	bt.n++
}

// run factors and solves the waiting systems, writes their solutions and
// empties the batch. It returns batchOK, or the first row (in the order
// put) whose system has a pivot that is not positive (badPivot) or whose
// solution is not finite (badFactor).
func (bt *batch) run() (int, int) {
	r := bt.r
	// Idle lanes solve I x = 0.
	for l := bt.n; l < batchLanes; l++ {
		for p := range r {
			for q := p; q < r; q++ {
				v := 0.0
				if q == p {
					v = 1
				}
				bt.a[batchLanes*(bt.off[p]+q-p)+l] = v
			}
			bt.b[batchLanes*p+l] = 0
		}
	}
	ap := unsafe.Pointer(unsafe.SliceData(bt.a))
	bp := unsafe.Pointer(unsafe.SliceData(bt.b))
	var fail uint8
	if bt.avx2 {
		fail = cholBatchAVX2(ap, r, bt.off)
		solveBatchAVX2(ap, bp, r, bt.off)
	} else {
		fail = cholBatch(ap, r, bt.off)
		solveBatch(ap, bp, r, bt.off)
	}
	archsimd.ClearAVXUpperBits()
	n := bt.n
	bt.n = 0
	for l := range n {
		if fail&(1<<l) != 0 {
			return bt.rows[l], badPivot
		}
		x := bt.dst[l][:r]
		for k := range x {
			x[k] = bt.b[batchLanes*k+l]
		}
		if !allFinite(x) {
			return bt.rows[l], badFactor
		}
	}
	return 0, batchOK
}

// cholBatch is cholesky lane by lane on the packed systems at ap, and
// returns the lanes that met a pivot that is not positive (those lanes go
// on with NaNs; cholesky would stop).
//
//go:noinline
func cholBatch(ap unsafe.Pointer, r int, off []int) uint8 {
	off = off[:r+1]
	maxv := archsimd.BroadcastFloat64x8(math.MaxFloat64)
	minus := archsimd.BroadcastFloat64x8(-1)
	var zero f64x8
	var fail uint8
	for k := range r {
		pk := unsafe.Add(ap, 64*off[k]) // (k, k); (k, j) is 64(j−k) on
		d := archsimd.LoadFloat64x8(at(pk, 0))
		fail |= ^d.Greater(zero).And(d.LessEqual(maxv)).ToBits()
		s := d.Sqrt()
		s.Store(at(pk, 0))
		end := 64 * (r - k)
		for o := 64; o < end; o += 64 {
			archsimd.LoadFloat64x8(at(pk, o)).Div(s).Store(at(pk, o))
		}
		for i := k + 1; i < r; i++ {
			c := archsimd.LoadFloat64x8(at(pk, 64*(i-k))).Mul(minus) // −U[k][i], exactly
			pi := unsafe.Add(ap, 64*off[i])                          // (i, i)
			pki := unsafe.Add(pk, 64*(i-k))                          // (k, i)
			m := 64 * (r - i)
			o := 0
			for ; o+128 <= m; o += 128 {
				x0 := archsimd.LoadFloat64x8(at(pi, o))
				x1 := archsimd.LoadFloat64x8(at(pi, o+64))
				archsimd.LoadFloat64x8(at(pki, o)).MulAdd(c, x0).Store(at(pi, o))
				archsimd.LoadFloat64x8(at(pki, o+64)).MulAdd(c, x1).Store(at(pi, o+64))
			}
			if o < m {
				archsimd.LoadFloat64x8(at(pki, o)).MulAdd(c, archsimd.LoadFloat64x8(at(pi, o))).Store(at(pi, o))
			}
		}
	}
	return fail
}

// solveBatch is cholSolve lane by lane: the right-hand sides at bp become
// the solutions.
//
//go:noinline
func solveBatch(ap, bp unsafe.Pointer, r int, off []int) {
	off = off[:r+1]
	minus := archsimd.BroadcastFloat64x8(-1)
	for k := range r {
		pk := unsafe.Add(ap, 64*off[k])
		z := archsimd.LoadFloat64x8(at(bp, 64*k)).Div(archsimd.LoadFloat64x8(at(pk, 0)))
		z.Store(at(bp, 64*k))
		c := z.Mul(minus)
		for j := k + 1; j < r; j++ {
			archsimd.LoadFloat64x8(at(pk, 64*(j-k))).MulAdd(c, archsimd.LoadFloat64x8(at(bp, 64*j))).Store(at(bp, 64*j))
		}
	}
	for k := r - 1; k >= 0; k-- {
		x := archsimd.LoadFloat64x8(at(bp, 64*k)).Div(archsimd.LoadFloat64x8(at(ap, 64*off[k])))
		x.Store(at(bp, 64*k))
		c := x.Mul(minus)
		for i := range k {
			archsimd.LoadFloat64x8(at(ap, 64*(off[i]+k-i))).MulAdd(c, archsimd.LoadFloat64x8(at(bp, 64*i))).Store(at(bp, 64*i))
		}
	}
}
