//go:build goexperiment.simd && amd64

package kmeans

import (
	"math"
	"math/bits"
	"simd/archsimd"
	"unsafe"
)

// The SIMD path of the kernel: AVX-512 with one row per float64 lane, so each
// lane runs exactly the scalar operations of the portable path (kernel.go),
// in the same order; only the order between lanes differs, and no lane reads
// another's result.
//
//   - Rows go in blocks of 16, transposed into two eight-lane vectors per
//     coordinate (xt). Every centre coordinate is stored broadcast to all
//     lanes (cg), in groups of four centres, so a pass over j runs eight
//     independent FMA chains (four centres × two row vectors) on operands
//     loaded from L1, with no shuffle in the inner loop.
//   - The argmin runs per lane in centre order with a strict < from +Inf,
//     as the portable scan does. A lane whose scores hold a NaN (their sum
//     is NaN) is relabelled by the portable scan, because there a NaN score
//     ends the scan and here it is merely never taken.
//   - The exact distance is sqDist's chain per lane, with each lane's
//     centre coordinate picked from a table by its label (VPERMI2PD).
//   - Sums are added row by row in row order, eight coordinates per vector
//     add, which is the scalar add lane by lane.
//
// The code is shaped by what Go 1.26 makes of it. The register allocator
// gives SIMD code 15 vector registers and the scheduler issues every load of
// a loop body before the first FMA, so a loop carries at most eight
// accumulators before one spills and a store and a load land on its FMA
// chain; the hot loops are small noinline functions so that outer loop
// state does not compete for registers. SIMD loads fold a constant offset
// from a pointer but not an index, and bounds checks on every load of a
// transpose cost more than its shuffles, so the hot loops address through
// unsafe pointers into slices whose bounds they check once, up front (go
// test -race runs them under checkptr). Scalar code after AVX-512 code must
// follow ClearAVXUpperBits, or it inherits a false dependency on the upper
// register halves.

func vecSupported() bool { return archsimd.X86.AVX512() }

type f64x8 = archsimd.Float64x8

// vecRows is the number of rows the SIMD path handles at once.
const vecRows = 16

type vecKernel struct {
	k, d int
	// cg[g*d+j][i] holds coordinate j of centre 4g+i in every lane, 0 for
	// the padding centres past k.
	cg [][4][8]float64
	hg [][4][8]float64 // ½‖c‖² of the same centres, in every lane
	// tab[j*nq+q] holds coordinate j of centres 16q..16q+15 (0 past k):
	// the table the exact distance permutes by label.
	tab [][2][8]float64
	nq  int
	// xt[j][h][r] is coordinate j of row 8h+r of the block.
	xt   [][2][8]float64
	sc   [][2][8]float64 // sc[c][h]: scores of centre c for rows 8h..8h+7
	sink uint64          // see touch
}

// reset lays out kn's centres for the SIMD path and reports whether it can
// be used.
func (v *vecKernel) reset(kn *kernel) bool {
	archsimd.ClearAVXUpperBits() // scalar code follows, see assign
	k, d := kn.k, kn.d
	v.k, v.d = k, d
	ng := (k + 3) / 4
	v.nq = (k + 15) / 16
	v.cg = grow(v.cg, ng*d)
	v.hg = grow(v.hg, ng)
	v.sc = grow(v.sc, 4*ng)
	v.xt = grow(v.xt, d)
	v.tab = grow(v.tab, d*v.nq)
	clear(v.tab)
	for c := range 4 * ng {
		g, i := c/4, c%4
		h := 0.0
		if c < k {
			h = kn.half[c]
		}
		v.hg[g][i] = fill8(h)
		for j := range d {
			x := 0.0
			if c < k {
				x = kn.c[c*d+j]
				v.tab[j*v.nq+c/16][c/8%2][c%8] = x
			}
			v.cg[g*d+j][i] = fill8(x)
		}
	}
	return true
}

func fill8(x float64) [8]float64 { return [8]float64{x, x, x, x, x, x, x, x} }

// assign is kernel.assign on the SIMD path. Rows past the last full block
// take the portable path.
func (v *vecKernel) assign(kn *kernel, lab []int, dist, sums, x []float64) {
	d, n := kn.d, len(lab)
	i := 0
	for i+vecRows <= n {
		end := i + min(chunkRows, (n-i)/vecRows*vecRows)
		v.touch(x[i*d : end*d])
		for ; i < end; i += vecRows {
			// int is int64 on amd64: the vector code reads and
			// writes the labels in place.
			l := (*[vecRows]int64)(unsafe.Pointer(&lab[i : i+vecRows][0]))
			xb := x[i*d : (i+vecRows)*d]
			v.block(kn, l, xb)
			if dist != nil {
				v.dist((*[vecRows]float64)(dist[i:i+vecRows]), l)
			}
			if sums != nil {
				addRows16(sums, l, xb, d)
			}
		}
	}

	// Scalar code that follows, compiled to legacy SSE, would otherwise
	// merge into the dirty upper halves of the vector registers: a false
	// dependency that serialises it (a plain sum over rows ran 4× slower).
	archsimd.ClearAVXUpperBits()
	if i < n {
		if dist != nil {
			dist = dist[i:]
		}
		kn.assignGo(lab[i:], dist, sums, x[i*d:])
	}
}

// touch reads one word of every 64 bytes of x. Its loads do not depend on
// each other, so a chunk's cache lines come from memory together, rather
// than a block at a time behind the FMA work; Go has no prefetch
// instruction. With rows streaming from DRAM a Lloyd pass ran about 10%
// faster with it.
func (v *vecKernel) touch(x []float64) {
	archsimd.ClearAVXUpperBits() // the loads go through XMM, see assign
	var a, b, c, e uint64
	o := 0
	for ; o+32 <= len(x); o += 32 {
		a |= math.Float64bits(x[o])
		b |= math.Float64bits(x[o+8])
		c |= math.Float64bits(x[o+16])
		e |= math.Float64bits(x[o+24])
	}
	for ; o < len(x); o += 8 {
		a |= math.Float64bits(x[o])
	}
	v.sink = a | b | c | e // keeps the loads
}

// block labels 16 rows, leaving them transposed in v.xt for dist.
func (v *vecKernel) block(kn *kernel, lab *[vecRows]int64, x []float64) {
	d := v.d
	transpose16(v.xt, x, d)
	dots(v.sc, v.hg, v.cg, v.xt)
	nan := argmin16(lab, v.sc[:v.k])
	if nan != 0 {
		archsimd.ClearAVXUpperBits() // before the scalar scan, see assign
	}
	for ; nan != 0; nan &= nan - 1 {
		r := bits.TrailingZeros16(nan)
		lab[r] = int64(kn.one(x[r*d : (r+1)*d]))
	}
}

// dist measures the block's rows against their labelled centres.
func (v *vecKernel) dist(out *[vecRows]float64, lab *[vecRows]int64) {
	if v.nq == 1 {
		dist16(out, v.xt, v.tab, lab)
	} else {
		dist16q(out, v.xt, v.tab, lab, v.nq)
	}
}

// Index vectors for the 8×8 transpose (VPERMI2PD picks from 16 lanes).
var (
	tpLo04 = [8]uint64{0, 1, 8, 9, 4, 5, 12, 13}
	tpLo26 = [8]uint64{2, 3, 10, 11, 6, 7, 14, 15}
	tpHalf = [8]uint64{0, 1, 2, 3, 8, 9, 10, 11}
	tpUp   = [8]uint64{4, 5, 6, 7, 12, 13, 14, 15}
)

// vecAt returns the eight float64s at byte offset off from p. The callers
// check the bounds once, up front: with bounds checks on every load of a
// transpose, Go spends more instructions on them than on the shuffles.
func vecAt(p unsafe.Pointer, off int) *[8]float64 { return (*[8]float64)(unsafe.Add(p, off)) }

// transpose16 sets dst[j][h][r] = x[(8h+r)*d+j] for the 16 rows of x,
// eight columns at a time with shuffles, the last d%8 one by one.
//
//go:noinline
func transpose16(dst [][2][8]float64, x []float64, d int) {
	x = x[:16*d]
	dst = dst[:d]
	row := 8 * d // bytes
	for h := range 2 {
		base := unsafe.Pointer(&x[8*h*d])
		j := 0
		for ; j+8 <= d; j += 8 {
			a := unsafe.Add(base, 8*j)
			r0 := archsimd.LoadFloat64x8(vecAt(a, 0))
			r1 := archsimd.LoadFloat64x8(vecAt(a, row))
			r2 := archsimd.LoadFloat64x8(vecAt(a, 2*row))
			r3 := archsimd.LoadFloat64x8(vecAt(a, 3*row))
			// Pairs of rows: [a0 b0 a2 b2 a4 b4 a6 b6] and [a1 b1 a3 b3 …].
			e01 := r0.SelectFromPairGrouped(0, 2, r1)
			o01 := r0.SelectFromPairGrouped(1, 3, r1)
			e23 := r2.SelectFromPairGrouped(0, 2, r3)
			o23 := r2.SelectFromPairGrouped(1, 3, r3)
			// Quads: [a0 b0 c0 d0 a4 b4 c4 d4] and so on for columns 2, 1, 3.
			lo04 := archsimd.LoadUint64x8(&tpLo04)
			lo26 := archsimd.LoadUint64x8(&tpLo26)
			q0 := e01.ConcatPermute(e23, lo04)
			q2 := e01.ConcatPermute(e23, lo26)
			q1 := o01.ConcatPermute(o23, lo04)
			q3 := o01.ConcatPermute(o23, lo26)
			r4 := archsimd.LoadFloat64x8(vecAt(a, 4*row))
			r5 := archsimd.LoadFloat64x8(vecAt(a, 5*row))
			r6 := archsimd.LoadFloat64x8(vecAt(a, 6*row))
			r7 := archsimd.LoadFloat64x8(vecAt(a, 7*row))
			e45 := r4.SelectFromPairGrouped(0, 2, r5)
			o45 := r4.SelectFromPairGrouped(1, 3, r5)
			e67 := r6.SelectFromPairGrouped(0, 2, r7)
			o67 := r6.SelectFromPairGrouped(1, 3, r7)
			p0 := e45.ConcatPermute(e67, lo04)
			p2 := e45.ConcatPermute(e67, lo26)
			p1 := o45.ConcatPermute(o67, lo04)
			p3 := o45.ConcatPermute(o67, lo26)
			// Halves: column c in lanes 0-3 from q, 4-7 from p.
			half := archsimd.LoadUint64x8(&tpHalf)
			up := archsimd.LoadUint64x8(&tpUp)
			o := (*[8][2][8]float64)(dst[j : j+8])
			q0.ConcatPermute(p0, half).Store(&o[0][h])
			q0.ConcatPermute(p0, up).Store(&o[4][h])
			q1.ConcatPermute(p1, half).Store(&o[1][h])
			q1.ConcatPermute(p1, up).Store(&o[5][h])
			q2.ConcatPermute(p2, half).Store(&o[2][h])
			q2.ConcatPermute(p2, up).Store(&o[6][h])
			q3.ConcatPermute(p3, half).Store(&o[3][h])
			q3.ConcatPermute(p3, up).Store(&o[7][h])
		}
		if j < d {
			archsimd.ClearAVXUpperBits() // scalar copies follow, see assign
		}
		for ; j < d; j++ {
			o := &dst[j][h]
			for r := range o {
				o[r] = x[(8*h+r)*d+j]
			}
		}
	}
}

// dots computes the scores of all centres for the block in xt, four at a
// time (dots4x2).
func dots(sc [][2][8]float64, hg, cg [][4][8]float64, xt [][2][8]float64) {
	d := len(xt)
	sc = sc[:4*len(hg)]
	cg = cg[:d*len(hg)]
	for g := range hg {
		dots4x2((*[4][2][8]float64)(sc[4*g:]), &hg[g], cg[g*d:(g+1)*d], xt)
	}
}

// dots4x2 computes the scores ½‖c‖² − x·c of four centres (g, h) for the
// 16 rows in xt: eight FMA chains over j, each lane's in the scalar order.
// The loop runs two coordinates per trip, which halves the register moves
// Go adds at the end of a trip (MulAdd overwrites a factor, not the sum).
// It walks unsafe pointers that it advances only while coordinates remain:
// Go folds constant offsets from a plain pointer into the loads, but
// computes every indexed address with separate instructions.
//
//go:noinline
func dots4x2(s *[4][2][8]float64, h *[4][8]float64, g [][4][8]float64, xt [][2][8]float64) {
	n := len(g)
	xt = xt[:n]
	var a0, a1, a2, a3, b0, b1, b2, b3 f64x8
	if n == 0 {
		panic("kmeans: dots4x2 with d = 0")
	}
	q, p := unsafe.Pointer(&g[0]), unsafe.Pointer(&xt[0])
	for j := 0; ; {
		// fma(x, c, s) and fma(c, x, s) are the same number; the order
		// of the factors only picks the register MulAdd overwrites, here
		// each value at its last use where it can.
		x0 := archsimd.LoadFloat64x8(vecAt(p, 0))
		x1 := archsimd.LoadFloat64x8(vecAt(p, 64))
		c0 := archsimd.LoadFloat64x8(vecAt(q, 0))
		b0 = c0.MulAdd(x1, b0)
		a0 = c0.MulAdd(x0, a0)
		c1 := archsimd.LoadFloat64x8(vecAt(q, 64))
		b1 = c1.MulAdd(x1, b1)
		a1 = c1.MulAdd(x0, a1)
		c2 := archsimd.LoadFloat64x8(vecAt(q, 128))
		b2 = c2.MulAdd(x1, b2)
		a2 = c2.MulAdd(x0, a2)
		c3 := archsimd.LoadFloat64x8(vecAt(q, 192))
		b3 = x1.MulAdd(c3, b3)
		a3 = x0.MulAdd(c3, a3)
		if j+1 == n {
			break
		}
		x0 = archsimd.LoadFloat64x8(vecAt(p, 128))
		x1 = archsimd.LoadFloat64x8(vecAt(p, 192))
		c0 = archsimd.LoadFloat64x8(vecAt(q, 256))
		b0 = c0.MulAdd(x1, b0)
		a0 = c0.MulAdd(x0, a0)
		c1 = archsimd.LoadFloat64x8(vecAt(q, 320))
		b1 = c1.MulAdd(x1, b1)
		a1 = c1.MulAdd(x0, a1)
		c2 = archsimd.LoadFloat64x8(vecAt(q, 384))
		b2 = c2.MulAdd(x1, b2)
		a2 = c2.MulAdd(x0, a2)
		c3 = archsimd.LoadFloat64x8(vecAt(q, 448))
		b3 = x1.MulAdd(c3, b3)
		a3 = x0.MulAdd(c3, a3)
		if j += 2; j == n {
			break
		}
		q, p = unsafe.Add(q, 512), unsafe.Add(p, 256)
	}
	h0 := archsimd.LoadFloat64x8(&h[0])
	h0.Sub(a0).Store(&s[0][0])
	h0.Sub(b0).Store(&s[0][1])
	h1 := archsimd.LoadFloat64x8(&h[1])
	h1.Sub(a1).Store(&s[1][0])
	h1.Sub(b1).Store(&s[1][1])
	h2 := archsimd.LoadFloat64x8(&h[2])
	h2.Sub(a2).Store(&s[2][0])
	h2.Sub(b2).Store(&s[2][1])
	h3 := archsimd.LoadFloat64x8(&h[3])
	h3.Sub(a3).Store(&s[3][0])
	h3.Sub(b3).Store(&s[3][1])
}

// argmin16 writes to l, for each of the 16 rows, the first centre with the
// smallest score: per lane, a strict < scan in centre order from +Inf, as
// the portable scan does. It returns the rows whose scores hold a NaN (or
// both infinities, which sum to NaN); only for them can the running
// minimum (a VMINPD, which does not propagate NaN the way Go's min does)
// and the portable scan disagree, so the caller relabels them.
//
//go:noinline
func argmin16(l *[vecRows]int64, sc [][2][8]float64) uint16 {
	b0 := archsimd.BroadcastFloat64x8(math.Inf(1))
	b1 := b0
	one := archsimd.BroadcastInt64x8(1)
	var i0, i1, c archsimd.Int64x8
	var n0, n1 f64x8
	for i := range sc {
		p := &sc[i]
		s0 := archsimd.LoadFloat64x8(&p[0])
		s1 := archsimd.LoadFloat64x8(&p[1])
		n0 = n0.Add(s0)
		n1 = n1.Add(s1)
		i0 = c.Merge(i0, s0.Less(b0))
		i1 = c.Merge(i1, s1.Less(b1))
		b0 = b0.Min(s0)
		b1 = b1.Min(s1)
		c = c.Add(one)
	}
	i0.Store((*[8]int64)(l[:8]))
	i1.Store((*[8]int64)(l[8:]))
	return uint16(n0.IsNaN().ToBits()) | uint16(n1.IsNaN().ToBits())<<8
}

// dist16 sets dist[8h+r] = Σ_j fma(t, t, ·) with t = xt[j][h][r] −
// c_l[j], the chain of sqDist, for the 16 rows of a block and their labels
// l < 16; c_l[j] is picked from the table by a two-register permute.
//
//go:noinline
func dist16(dist *[vecRows]float64, xt, tab [][2][8]float64, l *[vecRows]int64) {
	tab = tab[:len(xt)]
	l0 := archsimd.LoadInt64x8((*[8]int64)(l[:8])).AsUint64x8()
	l1 := archsimd.LoadInt64x8((*[8]int64)(l[8:])).AsUint64x8()
	var a0, a1 f64x8
	for j := range xt {
		p, q := &xt[j], &tab[j]
		lo := archsimd.LoadFloat64x8(&q[0])
		hi := archsimd.LoadFloat64x8(&q[1])
		t0 := archsimd.LoadFloat64x8(&p[0]).Sub(lo.ConcatPermute(hi, l0))
		t1 := archsimd.LoadFloat64x8(&p[1]).Sub(lo.ConcatPermute(hi, l1))
		a0 = t0.MulAdd(t0, a0)
		a1 = t1.MulAdd(t1, a1)
	}
	a0.Store((*[8]float64)(dist[:8]))
	a1.Store((*[8]float64)(dist[8:]))
}

// dist16q is dist16 for more than 16 centres: the table has nq parts of 16
// per coordinate, and each lane takes the permute of the part its label is
// in.
//
//go:noinline
func dist16q(dist *[vecRows]float64, xt, tab [][2][8]float64, l *[vecRows]int64, nq int) {
	tab = tab[:nq*len(xt)]
	l0 := archsimd.LoadInt64x8((*[8]int64)(l[:8])).AsUint64x8()
	l1 := archsimd.LoadInt64x8((*[8]int64)(l[8:])).AsUint64x8()
	q0, q1 := l0.ShiftAllRight(4), l1.ShiftAllRight(4)
	one := archsimd.BroadcastUint64x8(1)
	var a0, a1 f64x8
	for j := range xt {
		var c0, c1 f64x8
		var q archsimd.Uint64x8
		part := tab[j*nq : (j+1)*nq]
		for i := range part {
			t := &part[i] // not a copy: ranging by value copies with SSE moves
			lo := archsimd.LoadFloat64x8(&t[0])
			hi := archsimd.LoadFloat64x8(&t[1])
			c0 = lo.ConcatPermute(hi, l0).Merge(c0, q0.Equal(q))
			c1 = lo.ConcatPermute(hi, l1).Merge(c1, q1.Equal(q))
			q = q.Add(one)
		}
		p := &xt[j]
		t0 := archsimd.LoadFloat64x8(&p[0]).Sub(c0)
		t1 := archsimd.LoadFloat64x8(&p[1]).Sub(c1)
		a0 = t0.MulAdd(t0, a0)
		a1 = t1.MulAdd(t1, a1)
	}
	a0.Store((*[8]float64)(dist[:8]))
	a1.Store((*[8]float64)(dist[8:]))
}

// addRows16 adds the 16 rows of x to the sums of their clusters in row
// order, eight coordinates per vector add (the scalar adds, lane by lane):
// first the whole vectors of every row, then the last d%8 coordinates.
// Each coordinate's sum still takes the rows in order.
func addRows16(sums []float64, lab *[vecRows]int64, x []float64, d int) {
	x = x[:vecRows*d]
	k := len(sums) / d
	w := 64 * (d / 8) // bytes of whole vectors in a row
	sp, xp := unsafe.Pointer(unsafe.SliceData(sums)), unsafe.Pointer(&x[0])
	for i, l := range lab {
		if uint64(l) >= uint64(k) {
			panic("kmeans: label out of range")
		}
		s, r := unsafe.Add(sp, 8*int(l)*d), unsafe.Add(xp, 8*i*d)
		for o := 0; o < w; o += 64 {
			p := vecAt(s, o)
			archsimd.LoadFloat64x8(p).Add(archsimd.LoadFloat64x8(vecAt(r, o))).Store(p)
		}
	}
	if d%8 == 0 {
		return
	}
	archsimd.ClearAVXUpperBits() // see assign
	for i, l := range lab {
		row := x[i*d : (i+1)*d]
		s := sums[int(l)*d : (int(l)+1)*d][:len(row)]
		for j := d &^ 7; j < len(row); j++ {
			s[j] += row[j]
		}
	}
}
