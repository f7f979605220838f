//go:build goexperiment.simd && amd64

package kmeans

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// The AVX2 path of the kernel, for CPUs with AVX2 and FMA but without
// AVX-512 (where kernel_vec.go runs instead). It holds the centres in the
// lanes rather than the rows: a 256-bit register carries four centres, a
// coordinate of the row is broadcast to it, and each lane runs one
// centre's dot-product chain over the row's coordinates in order, so no
// row is transposed and d needs no padding. Rows go four at a time against
// eight centres: eight accumulators, the two centre vectors loaded once a
// coordinate for the four rows. The scores are then transposed to one row
// per lane, and the argmin runs down the centres in order as the portable
// scan does; rows with a NaN score go to the portable scan (see
// assign_amd64.s). The exact distance and the sums take four rows at a time
// too, each lane or each coordinate in the portable order. All of it is assembly: written with
// archsimd, MulAdd leaves its sum in a factor's register, so every
// accumulator moves once a coordinate.

func avx2Supported() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

type avx2Kernel struct {
	ng int
	// ct[(g*d+j)*8+i] is coordinate j of centre 8g+i, 0 past k.
	ct []float64
	// hv[8g+i] is ½‖c‖² of centre 8g+i, +Inf past k, so that no padding
	// centre is ever taken.
	hv []float64
}

// reset lays out kn's centres for the AVX2 path and reports whether it can
// be used.
func (v *avx2Kernel) reset(kn *kernel) bool {
	k, d := kn.k, kn.d
	v.ng = (k + 7) / 8
	v.ct = grow(v.ct, v.ng*d*8)
	v.hv = grow(v.hv, v.ng*8)
	clear(v.ct)
	for c := range v.ng * 8 {
		g, i := c/8, c%8
		if c >= k {
			v.hv[c] = math.Inf(1)
			continue
		}
		v.hv[c] = kn.half[c]
		for j := range d {
			v.ct[(g*d+j)*8+i] = kn.c[c*d+j]
		}
	}
	return true
}

// assign is kernel.assign on the AVX2 path. Rows past the last multiple of
// four take the portable path.
func (v *avx2Kernel) assign(kn *kernel, lab []int, dist, sums, x []float64) {
	d, n := kn.d, len(lab)
	n4 := n / 4
	if n4 > 0 {
		m := 4 * n4
		x := x[:m*d]
		l := (*int64)(unsafe.Pointer(&lab[0])) // int is int64 on amd64
		nan := labelsAVX2(l, &x[0], n4, d, &v.ct[0], &v.hv[0], v.ng)
		// The labels index sums and centres in assembly: check them.
		for i, c := range lab[:m] {
			if uint(c) >= uint(kn.k) {
				if c != -1 || nan == 0 {
					panic("kmeans: AVX2 label out of range")
				}
				lab[i] = kn.one(x[i*d : (i+1)*d])
				nan--
			}
		}
		if dist != nil {
			distAVX2(&dist[:m][0], &x[0], &kn.c[0], l, n4, d)
		}
		if sums != nil {
			addRowsAVX2(&sums[:kn.k*d][0], &x[0], l, m, d)
		}
	}
	if m := 4 * n4; m < n {
		if dist != nil {
			dist = dist[m:]
		}
		kn.assignGo(lab[m:], dist, sums, x[m*d:])
	}
}

//go:noescape
func labelsAVX2(lab *int64, x *float64, n4, d int, ct, hv *float64, ng int) int

//go:noescape
func distAVX2(dist *float64, x, c *float64, lab *int64, n4, d int)

//go:noescape
func addRowsAVX2(sums *float64, x *float64, lab *int64, n, d int)
