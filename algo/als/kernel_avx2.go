//go:build goexperiment.simd && amd64

package als

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// The AVX2 path of the row kernels, for CPUs with AVX2 and FMA but without
// AVX-512 (where kernel_vec.go runs instead). Vectors have four lanes
// across the columns q of A (or the entries of b, or the systems of a
// batch), and each lane performs exactly the scalar FMA chain of its entry
// in the scalar order, as on the other paths (kernel.go).
//
// The Gram tiles are four rows of A by up to twelve columns, twelve
// accumulators in registers while the tile passes over the chunk of
// gathered rows (kernel_amd64.s): per gathered row three loads of y and
// four broadcasts of wy feed twelve FMAs. They are assembly because the
// loop written with simd/archsimd moves or spills its accumulators. So
// are the dot product, the scaled gather and the batched factorisation (on
// the AVX-512 path's layout of eight systems, as two halves of four):
// compiled from archsimd they ran two to ten times slower. So is the
// right-hand side, whose archsimd loop moved every accumulator once a row.

func avx2Supported() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

func at4(p unsafe.Pointer, off int) *[4]float64 { return (*[4]float64)(unsafe.Add(p, off)) }

// accGramAVX2 is accGram on the AVX2 path, n ≥ 1. a and src (unless nil)
// are rp×rp; wy and ys hold n rows of rp. Tiles run from the group of four
// rows holding the diagonal to the rank rounded up to four, so they write
// some entries below the diagonal and in the padding, which nothing reads.
func accGramAVX2(a, src []float64, r, rp int, wy, ys []float64, n int) {
	if len(a) < rp*rp || (src != nil && len(src) < rp*rp) || len(wy) < n*rp || len(ys) < n*rp || rp%8 != 0 || r > rp || n < 1 {
		panic("als: accGramAVX2 shape mismatch")
	}
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
				gram4x12(t, from, stride, w, y, n)
				q0 += 12
			case left >= 8:
				gram4x8(t, from, stride, w, y, n)
				q0 += 8
			default:
				gram4x4(t, from, stride, w, y, n)
				q0 += 4
			}
		}
	}
}

// The Gram tiles (kernel_amd64.s): a[p+i][q+l] = src[p+i][q+l] +
// Σ_j wy_j[p+i]·y_j[q+l], one FMA chain each in row order, for i < 4 and
// l < 12, 8 or 4; a and src point at entry [p][q] (src nil: zero), w at
// wy_0[p], y at y_0[q], and stride is the byte length of a row of A and of
// a gathered row.

//go:noescape
func gram4x12(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func gram4x8(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

//go:noescape
func gram4x4(a, src unsafe.Pointer, stride int, w, y unsafe.Pointer, n int)

// accVecAVX2 is accVec on the AVX2 path: b[q] = fma(z_j, y_j[q], b[q]) for
// q < rp (b has rp entries), thirty-two or eight entries of b in registers
// at a time (kernel_amd64.s).
func accVecAVX2(b []float64, rp int, z, ys []float64, n int) {
	if len(b) < rp || len(z) < n || len(ys) < n*rp || rp%8 != 0 {
		panic("als: accVecAVX2 shape mismatch")
	}
	if n == 0 {
		return
	}
	bp := unsafe.Pointer(unsafe.SliceData(b))
	yp := unsafe.Pointer(unsafe.SliceData(ys))
	zp := unsafe.Pointer(unsafe.SliceData(z))
	q := 0
	for ; q+32 <= rp; q += 32 {
		rhs32(unsafe.Add(bp, 8*q), zp, unsafe.Add(yp, 8*q), 8*rp, n)
	}
	for ; q < rp; q += 8 {
		rhs8(unsafe.Add(bp, 8*q), zp, unsafe.Add(yp, 8*q), 8*rp, n)
	}
}

// The right-hand-side tiles (kernel_amd64.s): b[q] += Σ_j z_j·y_j[q] for
// the 32 or 8 entries at b, one FMA chain each over the n ≥ 1 rows of y
// (byte stride stride) in order.

//go:noescape
func rhs32(b, z, y unsafe.Pointer, stride, n int)

//go:noescape
func rhs8(b, z, y unsafe.Pointer, stride, n int)

// gatherScaledAVX2 copies y into dy and w·y into dw, each product rounded
// (a vector multiply is the scalar one, lane by lane), four at a time in
// scale4 (kernel_amd64.s).
func gatherScaledAVX2(dy, dw, y []float64, w float64) {
	dy, dw = dy[:len(y)], dw[:len(y)]
	k := len(y) &^ 3
	if k > 0 {
		scale4(unsafe.SliceData(dy), unsafe.SliceData(dw), unsafe.SliceData(y), w, k/4)
	}
	for ; k < len(y); k++ {
		dy[k] = y[k]
		dw[k] = float64(w * y[k])
	}
}

// scale4 is gatherScaledAVX2 over n ≥ 1 blocks of four (kernel_amd64.s).
//
//go:noescape
func scale4(dy, dw, y *float64, w float64, n int)

// dotAVX2 is dot with the eight partial chains in two vectors (dot8 in
// kernel_amd64.s), for lengths that are a multiple of eight; dotGo, which
// defines the order, takes the others.
func dotAVX2(a, b []float64) float64 {
	if len(a)%8 != 0 || len(a) == 0 {
		return dotGo(a, b)
	}
	b = b[:len(a)]
	return dot8(unsafe.SliceData(a), unsafe.SliceData(b), len(a)/8)
}

// dot8 is dot over n ≥ 1 blocks of eight (kernel_amd64.s).
//
//go:noescape
func dot8(a, b *float64, n int) float64

// cholBatchAVX2 is cholBatch on the AVX2 path: cholesky lane by lane on
// the packed systems at ap (cholBatch4 in kernel_amd64.s, each vector of
// eight systems as two halves of four). It returns the lanes that met a
// pivot that is not positive: those whose U[k][k] = √pivot is not in
// (0, +Inf) for some k, which holds exactly when the pivot is not in (0,
// +Inf).
func cholBatchAVX2(ap unsafe.Pointer, r int, off []int) uint8 {
	off = off[:r+1]
	cholBatch4(ap, r, unsafe.SliceData(off))
	var fail uint8
	for k := range r {
		u := (*[batchLanes]float64)(unsafe.Add(ap, 64*off[k]))
		for l, s := range u {
			if !(s > 0) || s > math.MaxFloat64 {
				fail |= 1 << l
			}
		}
	}
	return fail
}

// solveBatchAVX2 is solveBatch on the AVX2 path (solveBatch4 in
// kernel_amd64.s): the right-hand sides at bp become the solutions.
func solveBatchAVX2(ap, bp unsafe.Pointer, r int, off []int) {
	off = off[:r+1]
	solveBatch4(ap, bp, r, unsafe.SliceData(off))
}

//go:noescape
func cholBatch4(a unsafe.Pointer, r int, off *int)

//go:noescape
func solveBatch4(a, b unsafe.Pointer, r int, off *int)
