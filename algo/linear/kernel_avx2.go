//go:build goexperiment.simd && amd64

package linear

import (
	"simd/archsimd"
	"unsafe"
)

// The AVX2 cross-product kernel, for CPUs with AVX2 and FMA but without
// AVX-512 (where addGramVec runs instead). It tiles like the portable
// gramBlock, pairs of output rows by aligned groups of output columns, but
// holds four output columns of one output row in each 256-bit register and
// takes up to sixteen columns a tile: eight vector FMA chains, four entries
// each, instead of eight scalar ones. Every lane runs one entry's FMA chain
// over the rows in order, so the bits are those of the portable kernel.
// The tiles are assembly; the block sums, centring and weighting that feed
// them are archsimd.

func avx2Supported() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

func vec4At(p unsafe.Pointer, off int) *[4]float64 { return (*[4]float64)(unsafe.Add(p, off)) }

// addGramAVX2 is AddGram on the AVX2 path; AddGram checked the lengths.
func addGramAVX2(g, a, b []float64, n, d, s int) {
	r := max(8, gramBlockFloats/s)
	gp, ap, bp := unsafe.Pointer(&g[0]), unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	for lo := 0; lo < n; lo += r {
		rows := min(r, n-lo)
		ab, bb := unsafe.Add(ap, 8*lo*s), unsafe.Add(bp, 8*lo*s)
		for j := 0; j < d; j += 2 {
			for k := j &^ 3; k < s; {
				gt, at, bt := unsafe.Add(gp, 8*(j*s+k)), unsafe.Add(ab, 8*j), unsafe.Add(bb, 8*k)
				switch m := (s - k) / 4; {
				case m >= 4:
					tile2x16asm(gt, 8*s, at, bt, 8*s, rows)
					k += 16
				case m == 3:
					tile2x12asm(gt, 8*s, at, bt, 8*s, rows)
					k += 12
				case m == 2:
					tile2x8asm(gt, 8*s, at, bt, 8*s, rows)
					k += 8
				default:
					tile2x4asm(gt, 8*s, at, bt, 8*s, rows)
					k += 4
				}
			}
		}
	}
}

// The tiles, in assembly (gram_amd64.s): two output rows by four (16),
// three (12), two (8) or one (4) vectors of four output columns. gp points
// at the first entry of the tile, gs is the byte stride of g's rows, a at
// the tile's two columns of the first data row and b at its columns, rs is
// the byte stride of the data rows and n ≥ 1 their number. Each lane of an
// accumulator runs one entry's FMA chain over the rows in order. Written
// with archsimd, the loops ran at about half the speed: its MulAdd leaves
// the sum in a factor's register, so every accumulator moved once a row.

//go:noescape
func tile2x16asm(gp unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int)

//go:noescape
func tile2x12asm(gp unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int)

//go:noescape
func tile2x8asm(gp unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int)

//go:noescape
func tile2x4asm(gp unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int)

// colSumsAVX2 is colSumsVec with each vector of eight columns as two
// 256-bit halves; vary gets the same bits.
func colSumsAVX2(sum []float64, vary []uint8, ref, x, w []float64, d int, idx []int) {
	nv := d / 8
	if nv == 0 {
		return
	}
	sum, vary, ref = sum[:8*nv], vary[:nv], ref[:8*nv]
	sp, rp := unsafe.Pointer(&sum[0]), unsafe.Pointer(&ref[0])
	q := 0
	for ; q+4 <= len(idx); q += 4 {
		i0, i1, i2, i3 := idx[q], idx[q+1], idx[q+2], idx[q+3]
		x0, x1, x2, x3 := rowAt(x, i0, d), rowAt(x, i1, d), rowAt(x, i2, d), rowAt(x, i3, d)
		var f0, f1, f2, f3 archsimd.Float64x4
		if w != nil {
			f0, f1 = archsimd.BroadcastFloat64x4(w[i0]), archsimd.BroadcastFloat64x4(w[i1])
			f2, f3 = archsimd.BroadcastFloat64x4(w[i2]), archsimd.BroadcastFloat64x4(w[i3])
		}
		for h := range 2 * nv {
			o := 32 * h
			r := archsimd.LoadFloat64x4(vec4At(rp, o))
			acc := archsimd.LoadFloat64x4(vec4At(sp, o))
			a0, a1 := archsimd.LoadFloat64x4(vec4At(x0, o)), archsimd.LoadFloat64x4(vec4At(x1, o))
			a2, a3 := archsimd.LoadFloat64x4(vec4At(x2, o)), archsimd.LoadFloat64x4(vec4At(x3, o))
			if w == nil {
				acc = acc.Add(a0).Add(a1).Add(a2).Add(a3)
			} else {
				acc = a3.MulAdd(f3, a2.MulAdd(f2, a1.MulAdd(f1, a0.MulAdd(f0, acc))))
			}
			acc.Store(vec4At(sp, o))
			m := a0.NotEqual(r).Or(a1.NotEqual(r)).Or(a2.NotEqual(r)).Or(a3.NotEqual(r))
			vary[h/2] |= m.ToBits() << (4 * (h % 2))
		}
	}
	for ; q < len(idx); q++ {
		i := idx[q]
		x0 := rowAt(x, i, d)
		var f0 archsimd.Float64x4
		if w != nil {
			f0 = archsimd.BroadcastFloat64x4(w[i])
		}
		for h := range 2 * nv {
			o := 32 * h
			r := archsimd.LoadFloat64x4(vec4At(rp, o))
			acc := archsimd.LoadFloat64x4(vec4At(sp, o))
			a0 := archsimd.LoadFloat64x4(vec4At(x0, o))
			if w == nil {
				acc = acc.Add(a0)
			} else {
				acc = a0.MulAdd(f0, acc)
			}
			acc.Store(vec4At(sp, o))
			vary[h/2] |= a0.NotEqual(r).ToBits() << (4 * (h % 2))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// centreAVX2 is centreVec four columns at a time.
func centreAVX2(a []float64, s int, x []float64, d int, idx []int, mean []float64) {
	nv := d / 8
	if nv == 0 || len(idx) == 0 {
		return
	}
	_, mean = a[(len(idx)-1)*s+8*nv-1], mean[:8*nv]
	mp, ap := unsafe.Pointer(&mean[0]), unsafe.Pointer(&a[0])
	for q, i := range idx {
		src, dst := rowAt(x, i, d), unsafe.Add(ap, 8*q*s)
		for o := 0; o < 64*nv; o += 32 {
			archsimd.LoadFloat64x4(vec4At(src, o)).Sub(archsimd.LoadFloat64x4(vec4At(mp, o))).Store(vec4At(dst, o))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// scaleRowsAVX2 is scaleRowsVec four columns at a time.
func scaleRowsAVX2(aw, a []float64, s int, w []float64, idx []int) {
	if len(idx) == 0 {
		return
	}
	_, _ = aw[len(idx)*s-1], a[len(idx)*s-1]
	ap, wp := unsafe.Pointer(&a[0]), unsafe.Pointer(&aw[0])
	for q, i := range idx {
		f := archsimd.BroadcastFloat64x4(w[i])
		src, dst := unsafe.Add(ap, 8*q*s), unsafe.Add(wp, 8*q*s)
		for o := 0; o < 8*s; o += 32 {
			archsimd.LoadFloat64x4(vec4At(src, o)).Mul(f).Store(vec4At(dst, o))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}
