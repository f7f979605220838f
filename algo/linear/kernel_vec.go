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
func addGramVec(g, a, b []float64, n, d, s int) {
	r := max(8, gramBlockFloats/s)
	nv := s / 8
	gp, ap, bp := unsafe.Pointer(&g[0]), unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	for lo := 0; lo < n; lo += r {
		rows := min(r, n-lo)
		ab, bb := unsafe.Add(ap, 8*lo*s), unsafe.Add(bp, 8*lo*s)
		for j := 0; j < d; j += 2 {
			for v := j / 8; v < nv; {
				gt, at, bt := unsafe.Add(gp, 8*(j*s+8*v)), unsafe.Add(ab, 8*j), unsafe.Add(bb, 64*v)
				switch m := nv - v; {
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
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// tile2x4 adds two output rows by four vectors of eight output columns: g
// points at the first entry of the tile, gs is the byte stride of g's rows,
// a at the tile's two columns of the first data row and b at its 32
// columns, rs is the byte stride of the data rows and n ≥ 1 their number
// (the pointers never leave the data: checkptr would object). Each
// lane of an accumulator runs one entry's FMA chain over the rows in order.
// One row per trip: with two, Go's scheduler issues all their loads first
// and spills accumulators.
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
	}
	s00.Store(vecAt(g, 0))
	s10.Store(vecAt(g1, 0))
}

// colSumsVec adds the rows idx of x (row stride d) in order to sum, one
// vector of eight columns at a time over the whole vectors of the row
// (columns 0 to d&^7), each weighted by w[i] with one FMA when w is not nil,
// and ORs into vary[v] the lanes of vector v where a row differs from ref
// (Go's !=: NaN differs from everything). Each lane runs the scalar add or
// FMA chain of its column; rows go four at a time, so that an accumulator
// stays in a register for four of them.
func colSumsVec(sum []float64, vary []uint8, ref, x, w []float64, d int, idx []int) {
	nv := d / 8
	sum, vary, ref = sum[:8*nv], vary[:nv], ref[:8*nv]
	row := func(i, v int) *[8]float64 { return (*[8]float64)(x[i*d+8*v : i*d+8*v+8]) }
	q := 0
	for ; q+4 <= len(idx); q += 4 {
		i0, i1, i2, i3 := idx[q], idx[q+1], idx[q+2], idx[q+3]
		for v := range nv {
			s := (*[8]float64)(sum[8*v:])
			r := archsimd.LoadFloat64x8((*[8]float64)(ref[8*v:]))
			acc := archsimd.LoadFloat64x8(s)
			x0, x1 := archsimd.LoadFloat64x8(row(i0, v)), archsimd.LoadFloat64x8(row(i1, v))
			x2, x3 := archsimd.LoadFloat64x8(row(i2, v)), archsimd.LoadFloat64x8(row(i3, v))
			if w == nil {
				acc = acc.Add(x0).Add(x1).Add(x2).Add(x3)
			} else {
				acc = x0.MulAdd(archsimd.BroadcastFloat64x8(w[i0]), acc)
				acc = x1.MulAdd(archsimd.BroadcastFloat64x8(w[i1]), acc)
				acc = x2.MulAdd(archsimd.BroadcastFloat64x8(w[i2]), acc)
				acc = x3.MulAdd(archsimd.BroadcastFloat64x8(w[i3]), acc)
			}
			acc.Store(s)
			m := x0.NotEqual(r).Or(x1.NotEqual(r)).Or(x2.NotEqual(r)).Or(x3.NotEqual(r))
			vary[v] |= m.ToBits()
		}
	}
	for ; q < len(idx); q++ {
		i := idx[q]
		for v := range nv {
			s := (*[8]float64)(sum[8*v:])
			r := archsimd.LoadFloat64x8((*[8]float64)(ref[8*v:]))
			acc := archsimd.LoadFloat64x8(s)
			x0 := archsimd.LoadFloat64x8(row(i, v))
			if w == nil {
				acc = acc.Add(x0)
			} else {
				acc = x0.MulAdd(archsimd.BroadcastFloat64x8(w[i]), acc)
			}
			acc.Store(s)
			vary[v] |= x0.NotEqual(r).ToBits()
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// centreVec sets the first d&^7 columns of each of the c rows of a (row
// stride s) to row idx[q] of x (row stride d) minus mean: the scalar
// subtractions, eight at a time.
func centreVec(a []float64, s int, x []float64, d int, idx []int, mean []float64) {
	nv := d / 8
	mean = mean[:8*nv]
	for q, i := range idx {
		src, dst := x[i*d:i*d+8*nv], a[q*s:q*s+8*nv]
		for v := range nv {
			m := archsimd.LoadFloat64x8((*[8]float64)(mean[8*v:]))
			archsimd.LoadFloat64x8((*[8]float64)(src[8*v:])).Sub(m).Store((*[8]float64)(dst[8*v:]))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// scaleRowsVec sets row q of aw to w[idx[q]] times row q of a, both of
// row stride s (a multiple of 8), padding included: the scalar products,
// eight at a time.
func scaleRowsVec(aw, a []float64, s int, w []float64, idx []int) {
	for q, i := range idx {
		f := archsimd.BroadcastFloat64x8(w[i])
		src, dst := a[q*s:(q+1)*s], aw[q*s:(q+1)*s]
		for o := 0; o+8 <= len(src); o += 8 {
			archsimd.LoadFloat64x8((*[8]float64)(src[o:])).Mul(f).Store((*[8]float64)(dst[o:]))
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}
