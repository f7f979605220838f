//go:build goexperiment.simd && amd64

package linear

import (
	"simd/archsimd"
	"unsafe"
)

// The SIMD path of AddGram: AVX-512, eight output entries of one output
// row per vector, each lane running exactly the scalar chain of its entry
// (gram.go), FMA by FMA in row order; no lane reads another's result.
//
// A tile is two output rows by up to four vectors of output columns: per
// data row it loads the two row values broadcast to every lane and up to
// four vectors of the row's columns, and runs up to eight independent FMA
// chains. That is the most Go 1.26 keeps in its 15 vector registers: MulAdd
// overwrites a factor, so every loaded vector used twice is copied and
// every accumulator moved back at the end of a trip. The tiles address
// through unsafe pointers into slices whose bounds AddGram checked once,
// up front (go test -race runs them under checkptr), as the k-means kernel
// does. Scalar code after AVX-512 code must follow ClearAVXUpperBits, or it
// inherits a false dependency on the upper register halves.

func vecSupported() bool { return archsimd.X86.AVX512() }

// vecAt returns the eight float64s at byte offset off from p.
func vecAt(p unsafe.Pointer, off int) *[8]float64 { return (*[8]float64)(unsafe.Add(p, off)) }

// addGramVec is AddGram on the SIMD path; AddGram checked the lengths.
// The columns in whole vectors (0 to d&^7) go by row tiles, pairs of output
// rows by up to four vectors of columns. The last d%8 columns, if any, go
// by column tiles, one output column by up to seven vectors of output rows,
// the transpose: there a row tile would run eight lanes for each real
// entry of the partial vector, and a column tile runs one vector for every
// eight rows. For 32 features and the target that is 85 vector FMAs a data
// row instead of 114.
func addGramVec(g, a, b []float64, n, d, s int) {
	r := max(8, gramBlockFloats/s)
	nf := d / 8 // whole vectors of columns
	gp, ap, bp := unsafe.Pointer(&g[0]), unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	var t [8][8]float64
	for lo := 0; lo < n; lo += r {
		rows := min(r, n-lo)
		ab, bb := unsafe.Add(ap, 8*lo*s), unsafe.Add(bp, 8*lo*s)
		for j := 0; j < 8*nf; j += 2 {
			for v := j / 8; v < nf; {
				gt, at, bt := unsafe.Add(gp, 8*(j*s+8*v)), unsafe.Add(ab, 8*j), unsafe.Add(bb, 64*v)
				switch m := nf - v; {
				case m >= 4:
					tile2x4(gt, 8*s, at, bt, 8*s, rows)
					v += 4
				case m == 3:
					tile2x3(gt, 8*s, at, bt, 8*s, rows)
					v += 3
				case m == 2:
					tile2x2(gt, 8*s, at, bt, 8*s, rows)
					v += 2
				default:
					tile2x1(gt, 8*s, at, bt, 8*s, rows)
					v++
				}
			}
		}
		for k := 8 * nf; k < d; k++ {
			for jg := 0; jg <= k; jg += 56 {
				m := min(7, (k-jg)/8+1)
				archsimd.ClearAVXUpperBits() // scalar code follows
				for v := range m {
					for l := range 8 {
						t[v][l] = g[(jg+8*v+l)*s+k]
					}
				}
				colTile(m, &t, unsafe.Add(ab, 8*jg), unsafe.Add(bb, 8*k), 8*s, rows)
				archsimd.ClearAVXUpperBits()
				for v := range m {
					for l := range 8 {
						g[(jg+8*v+l)*s+k] = t[v][l]
					}
				}
			}
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// tile2x4 adds two output rows by four vectors of eight output columns: g
// points at the first entry of the tile, gs is the byte stride of g's rows,
// a at the tile's two columns of the first data row and b at its 32
// columns, rs is the byte stride of the data rows and n ≥ 1 their number
// (the pointers never leave the data: checkptr would object). Each
// lane of an accumulator runs one entry's FMA chain over the rows in order.
// Two rows per trip, each in its own basic block (the exit test between
// them keeps Go's scheduler from issuing the second row's loads before the
// first row's FMAs, which would spill accumulators): MulAdd leaves its
// result in a factor's register, so each row moves the accumulators, and
// two rows bring them back with half the moves.
//
//go:noinline
func tile2x4(g unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int) {
	g1 := unsafe.Add(g, gs)
	s00 := archsimd.LoadFloat64x8(vecAt(g, 0))
	s01 := archsimd.LoadFloat64x8(vecAt(g, 64))
	s02 := archsimd.LoadFloat64x8(vecAt(g, 128))
	s03 := archsimd.LoadFloat64x8(vecAt(g, 192))
	s10 := archsimd.LoadFloat64x8(vecAt(g1, 0))
	s11 := archsimd.LoadFloat64x8(vecAt(g1, 64))
	s12 := archsimd.LoadFloat64x8(vecAt(g1, 128))
	s13 := archsimd.LoadFloat64x8(vecAt(g1, 192))
	for {
		x0 := archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		s02 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x0, s02)
		s12 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x1, s12)
		s03 = archsimd.LoadFloat64x8(vecAt(b, 192)).MulAdd(x0, s03)
		s13 = archsimd.LoadFloat64x8(vecAt(b, 192)).MulAdd(x1, s13)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x0 = archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 = archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		s02 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x0, s02)
		s12 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x1, s12)
		s03 = archsimd.LoadFloat64x8(vecAt(b, 192)).MulAdd(x0, s03)
		s13 = archsimd.LoadFloat64x8(vecAt(b, 192)).MulAdd(x1, s13)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s00.Store(vecAt(g, 0))
	s01.Store(vecAt(g, 64))
	s02.Store(vecAt(g, 128))
	s03.Store(vecAt(g, 192))
	s10.Store(vecAt(g1, 0))
	s11.Store(vecAt(g1, 64))
	s12.Store(vecAt(g1, 128))
	s13.Store(vecAt(g1, 192))
}

// tile2x3 is tile2x4 for 3 vectors of output columns.
//
//go:noinline
func tile2x3(g unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int) {
	g1 := unsafe.Add(g, gs)
	s00 := archsimd.LoadFloat64x8(vecAt(g, 0))
	s01 := archsimd.LoadFloat64x8(vecAt(g, 64))
	s02 := archsimd.LoadFloat64x8(vecAt(g, 128))
	s10 := archsimd.LoadFloat64x8(vecAt(g1, 0))
	s11 := archsimd.LoadFloat64x8(vecAt(g1, 64))
	s12 := archsimd.LoadFloat64x8(vecAt(g1, 128))
	for {
		x0 := archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		s02 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x0, s02)
		s12 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x1, s12)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x0 = archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 = archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		s02 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x0, s02)
		s12 = archsimd.LoadFloat64x8(vecAt(b, 128)).MulAdd(x1, s12)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s00.Store(vecAt(g, 0))
	s01.Store(vecAt(g, 64))
	s02.Store(vecAt(g, 128))
	s10.Store(vecAt(g1, 0))
	s11.Store(vecAt(g1, 64))
	s12.Store(vecAt(g1, 128))
}

// tile2x2 is tile2x4 for 2 vectors of output columns.
//
//go:noinline
func tile2x2(g unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int) {
	g1 := unsafe.Add(g, gs)
	s00 := archsimd.LoadFloat64x8(vecAt(g, 0))
	s01 := archsimd.LoadFloat64x8(vecAt(g, 64))
	s10 := archsimd.LoadFloat64x8(vecAt(g1, 0))
	s11 := archsimd.LoadFloat64x8(vecAt(g1, 64))
	for {
		x0 := archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x0 = archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 = archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		s01 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x0, s01)
		s11 = archsimd.LoadFloat64x8(vecAt(b, 64)).MulAdd(x1, s11)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s00.Store(vecAt(g, 0))
	s01.Store(vecAt(g, 64))
	s10.Store(vecAt(g1, 0))
	s11.Store(vecAt(g1, 64))
}

// tile2x1 is tile2x4 for 1 vector of output columns.
//
//go:noinline
func tile2x1(g unsafe.Pointer, gs int, a, b unsafe.Pointer, rs, n int) {
	g1 := unsafe.Add(g, gs)
	s00 := archsimd.LoadFloat64x8(vecAt(g, 0))
	s10 := archsimd.LoadFloat64x8(vecAt(g1, 0))
	for {
		x0 := archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 := archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x0 = archsimd.BroadcastFloat64x8(*(*float64)(a))
		x1 = archsimd.BroadcastFloat64x8(*(*float64)(unsafe.Add(a, 8)))
		s00 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x0, s00)
		s10 = archsimd.LoadFloat64x8(vecAt(b, 0)).MulAdd(x1, s10)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s00.Store(vecAt(g, 0))
	s10.Store(vecAt(g1, 0))
}

// rowAt returns a pointer to row i of x (row stride d), panicking unless
// the whole row lies in x: the kernels below check each row once and then
// address its vectors through the pointer, without a bounds check per
// vector.
func rowAt(x []float64, i, d int) unsafe.Pointer {
	if uint(i) >= uint(len(x)/d) {
		panic("linear: row index out of range")
	}
	return unsafe.Pointer(&x[i*d])
}

// colSumsVec adds the rows idx of x (row stride d) in order to sum, one
// vector of eight columns at a time over the whole vectors of the row
// (columns 0 to d&^7), each weighted by w[i] with one FMA when w is not nil,
// and ORs into vary[v] the lanes of vector v where a row differs from ref
// (Go's !=: NaN differs from everything). Each lane runs the scalar add or
// FMA chain of its column; rows go four at a time, so that an accumulator
// stays in a register for four of them.
func colSumsVec(sum []float64, vary []uint8, ref, x, w []float64, d int, idx []int) {
	if !simdEnabled {
		colSumsAVX2(sum, vary, ref, x, w, d, idx)
		return
	}
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
		var f0, f1, f2, f3 archsimd.Float64x8
		if w != nil {
			f0, f1 = archsimd.BroadcastFloat64x8(w[i0]), archsimd.BroadcastFloat64x8(w[i1])
			f2, f3 = archsimd.BroadcastFloat64x8(w[i2]), archsimd.BroadcastFloat64x8(w[i3])
		}
		for v := range nv {
			o := 64 * v
			r := archsimd.LoadFloat64x8(vecAt(rp, o))
			acc := archsimd.LoadFloat64x8(vecAt(sp, o))
			a0, a1 := archsimd.LoadFloat64x8(vecAt(x0, o)), archsimd.LoadFloat64x8(vecAt(x1, o))
			a2, a3 := archsimd.LoadFloat64x8(vecAt(x2, o)), archsimd.LoadFloat64x8(vecAt(x3, o))
			if w == nil {
				acc = acc.Add(a0).Add(a1).Add(a2).Add(a3)
			} else {
				acc = a3.MulAdd(f3, a2.MulAdd(f2, a1.MulAdd(f1, a0.MulAdd(f0, acc))))
			}
			acc.Store(vecAt(sp, o))
			m := a0.NotEqual(r).Or(a1.NotEqual(r)).Or(a2.NotEqual(r)).Or(a3.NotEqual(r))
			vary[v] |= m.ToBits()
		}
	}
	for ; q < len(idx); q++ {
		i := idx[q]
		x0 := rowAt(x, i, d)
		var f0 archsimd.Float64x8
		if w != nil {
			f0 = archsimd.BroadcastFloat64x8(w[i])
		}
		for v := range nv {
			o := 64 * v
			r := archsimd.LoadFloat64x8(vecAt(rp, o))
			acc := archsimd.LoadFloat64x8(vecAt(sp, o))
			a0 := archsimd.LoadFloat64x8(vecAt(x0, o))
			if w == nil {
				acc = acc.Add(a0)
			} else {
				acc = a0.MulAdd(f0, acc)
			}
			acc.Store(vecAt(sp, o))
			vary[v] |= a0.NotEqual(r).ToBits()
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// centreVec sets the first d&^7 columns of each of the c rows of a (row
// stride s) to row idx[q] of x (row stride d) minus mean: the scalar
// subtractions, eight at a time.
func centreVec(a []float64, s int, x []float64, d int, idx []int, mean []float64) {
	if !simdEnabled {
		centreAVX2(a, s, x, d, idx, mean)
		return
	}
	nv := d / 8
	if nv == 0 || len(idx) == 0 {
		return
	}
	_, mean = a[(len(idx)-1)*s+8*nv-1], mean[:8*nv]
	mp, ap := unsafe.Pointer(&mean[0]), unsafe.Pointer(&a[0])
	for q, i := range idx {
		src, dst := rowAt(x, i, d), unsafe.Add(ap, 8*q*s)
		for o := 0; o < 64*nv; o += 64 {
			archsimd.LoadFloat64x8(vecAt(src, o)).Sub(archsimd.LoadFloat64x8(vecAt(mp, o))).Store(vecAt(dst, o))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// scaleRowsVec sets row q of aw to w[idx[q]] times row q of a, both of
// row stride s (a multiple of 8), padding included: the scalar products,
// eight at a time.
func scaleRowsVec(aw, a []float64, s int, w []float64, idx []int) {
	if !simdEnabled {
		scaleRowsAVX2(aw, a, s, w, idx)
		return
	}
	if len(idx) == 0 {
		return
	}
	_, _ = aw[len(idx)*s-1], a[len(idx)*s-1]
	ap, wp := unsafe.Pointer(&a[0]), unsafe.Pointer(&aw[0])
	for q, i := range idx {
		f := archsimd.BroadcastFloat64x8(w[i])
		src, dst := unsafe.Add(ap, 8*q*s), unsafe.Add(wp, 8*q*s)
		for o := 0; o < 8*s; o += 64 {
			archsimd.LoadFloat64x8(vecAt(src, o)).Mul(f).Store(vecAt(dst, o))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// colTile1 is colTile7 for 1 vector of output rows.
//
//go:noinline
func colTile1(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
}

// colTile2 is colTile7 for 2 vectors of output rows.
//
//go:noinline
func colTile2(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
}

// colTile3 is colTile7 for 3 vectors of output rows.
//
//go:noinline
func colTile3(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	s2 := archsimd.LoadFloat64x8(&t[2])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
}

// colTile4 is colTile7 for 4 vectors of output rows.
//
//go:noinline
func colTile4(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	s2 := archsimd.LoadFloat64x8(&t[2])
	s3 := archsimd.LoadFloat64x8(&t[3])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
}

// colTile5 is colTile7 for 5 vectors of output rows.
//
//go:noinline
func colTile5(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	s2 := archsimd.LoadFloat64x8(&t[2])
	s3 := archsimd.LoadFloat64x8(&t[3])
	s4 := archsimd.LoadFloat64x8(&t[4])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
	s4.Store(&t[4])
}

// colTile6 is colTile7 for 6 vectors of output rows.
//
//go:noinline
func colTile6(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	s2 := archsimd.LoadFloat64x8(&t[2])
	s3 := archsimd.LoadFloat64x8(&t[3])
	s4 := archsimd.LoadFloat64x8(&t[4])
	s5 := archsimd.LoadFloat64x8(&t[5])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		s5 = archsimd.LoadFloat64x8(vecAt(a, 320)).MulAdd(x, s5)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		s5 = archsimd.LoadFloat64x8(vecAt(a, 320)).MulAdd(x, s5)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
	s4.Store(&t[4])
	s5.Store(&t[5])
}

// colTile7 adds one output column (b's column, one value per data row,
// broadcast) to seven vectors of eight output rows (a's 56 columns from
// the tile's first row) in t: t[v][l] is the tile's entry (8v+l, k). Each
// lane runs one entry's FMA chain over the rows in order; b points at the
// column's value in the first data row, a at the tile's first column, rs
// is the byte stride of the data rows and n ≥ 1 their number. Two rows per
// trip, as in tile2x4; eight vectors would spill.
//
//go:noinline
func colTile7(t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	s0 := archsimd.LoadFloat64x8(&t[0])
	s1 := archsimd.LoadFloat64x8(&t[1])
	s2 := archsimd.LoadFloat64x8(&t[2])
	s3 := archsimd.LoadFloat64x8(&t[3])
	s4 := archsimd.LoadFloat64x8(&t[4])
	s5 := archsimd.LoadFloat64x8(&t[5])
	s6 := archsimd.LoadFloat64x8(&t[6])
	for {
		x := archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		s5 = archsimd.LoadFloat64x8(vecAt(a, 320)).MulAdd(x, s5)
		s6 = archsimd.LoadFloat64x8(vecAt(a, 384)).MulAdd(x, s6)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
		x = archsimd.BroadcastFloat64x8(*(*float64)(b))
		s0 = archsimd.LoadFloat64x8(vecAt(a, 0)).MulAdd(x, s0)
		s1 = archsimd.LoadFloat64x8(vecAt(a, 64)).MulAdd(x, s1)
		s2 = archsimd.LoadFloat64x8(vecAt(a, 128)).MulAdd(x, s2)
		s3 = archsimd.LoadFloat64x8(vecAt(a, 192)).MulAdd(x, s3)
		s4 = archsimd.LoadFloat64x8(vecAt(a, 256)).MulAdd(x, s4)
		s5 = archsimd.LoadFloat64x8(vecAt(a, 320)).MulAdd(x, s5)
		s6 = archsimd.LoadFloat64x8(vecAt(a, 384)).MulAdd(x, s6)
		if n--; n == 0 {
			break
		}
		a, b = unsafe.Add(a, rs), unsafe.Add(b, rs)
	}
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
	s4.Store(&t[4])
	s5.Store(&t[5])
	s6.Store(&t[6])
}

// colTile runs colTile1 to colTile7 by m; a direct call keeps t on the
// caller's stack.
func colTile(m int, t *[8][8]float64, a, b unsafe.Pointer, rs, n int) {
	switch m {
	case 1:
		colTile1(t, a, b, rs, n)
	case 2:
		colTile2(t, a, b, rs, n)
	case 3:
		colTile3(t, a, b, rs, n)
	case 4:
		colTile4(t, a, b, rs, n)
	case 5:
		colTile5(t, a, b, rs, n)
	case 6:
		colTile6(t, a, b, rs, n)
	default:
		colTile7(t, a, b, rs, n)
	}
}
