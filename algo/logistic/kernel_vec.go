//go:build goexperiment.simd && amd64

package logistic

import "simd/archsimd"

// The SIMD kernels of this package (AVX-512), each lane running exactly the
// scalar operations of the portable path, in the same order. The Gram
// itself is linear.AddGram's. Scalar code after AVX-512 code must follow
// ClearAVXUpperBits, or it inherits a false dependency on the upper
// register halves.

func vecSupported() bool { return archsimd.X86.AVX512() }

// fillRowsVec sets, for each row q of the chunk (row stride s), a[q*s+1+j]
// to cw[q]·x_j and b[q*s+1+j] to x_j over the whole vectors of the columns
// of row idx[q] of x (row stride d): the scalar products, eight at a time.
func fillRowsVec(a, b []float64, s int, x []float64, d int, idx []int, cw []float64) {
	nv := d / 8
	for q, i := range idx {
		f := archsimd.BroadcastFloat64x8(cw[q])
		src := x[i*d : i*d+8*nv]
		da, db := a[q*s+1:q*s+1+8*nv], b[q*s+1:q*s+1+8*nv]
		for v := range nv {
			r := archsimd.LoadFloat64x8((*[8]float64)(src[8*v:]))
			r.Store((*[8]float64)(db[8*v:]))
			r.Mul(f).Store((*[8]float64)(da[8*v:]))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}
