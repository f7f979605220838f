//go:build goexperiment.simd && amd64

package logistic

import (
	"math/bits"
	"simd/archsimd"
	"unsafe"
)

// The SIMD kernels of this package (AVX-512), each lane running exactly the
// scalar operations of the portable path, in the same order. The Gram
// itself is linear.AddGram's. Scalar code after AVX-512 code must follow
// ClearAVXUpperBits, or it inherits a false dependency on the upper
// register halves.

func vecSupported() bool { return archsimd.X86.AVX512() }

// fillRowsVec sets the first 8·⌊d/8⌋ entries of row q of the chunk
// operands a and b (row stride s, a multiple of 8) to (g, c·x_0, c·x_1, …)
// and (0, x_0, x_1, …), with g = gw[q], c = cw[q] and x row idx[q] of x
// (row stride d): the scalar products, eight at a time. The rows are one
// entry out of step with the vectors they come from, so each stored vector
// takes the last lane of the previous one and seven of the next
// (VPERMI2PD): aligned stores, where unaligned ones would split cache
// lines and run three times slower.
func fillRowsVec(a, b []float64, s int, x []float64, d int, idx []int, gw, cw []float64) {
	nv := d / 8
	if nv == 0 || len(idx) == 0 {
		return
	}
	_, _ = a[(len(idx)-1)*s+8*nv-1], b[(len(idx)-1)*s+8*nv-1]
	ap, bp := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	shift := archsimd.LoadUint64x8(&shiftOne)
	zero := archsimd.BroadcastFloat64x8(0)
	for q, i := range idx {
		if uint(i) >= uint(len(x)/d) {
			panic("logistic: row index out of range")
		}
		src := unsafe.Pointer(&x[i*d])
		da, db := unsafe.Add(ap, 8*q*s), unsafe.Add(bp, 8*q*s)
		c := archsimd.BroadcastFloat64x8(cw[q])
		pa, pb := archsimd.BroadcastFloat64x8(gw[q]), zero
		for o := 0; o < 64*nv; o += 64 {
			xv := archsimd.LoadFloat64x8(vecAt(src, o))
			av := xv.Mul(c)
			pa.ConcatPermute(av, shift).Store(vecAt(da, o))
			pb.ConcatPermute(xv, shift).Store(vecAt(db, o))
			pa, pb = av, xv
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
}

// shiftOne picks lane 7 of the first vector and lanes 0 to 6 of the second.
var shiftOne = [8]uint64{7, 8, 9, 10, 11, 12, 13, 14}

// vecAt returns the eight float64s at byte offset off from p.
func vecAt(p unsafe.Pointer, off int) *[8]float64 { return (*[8]float64)(unsafe.Add(p, off)) }

// lossVec sets l[q], res[q], curv[q] and p[q] to rowLoss(eta[q], y[q] == 1)
// for every q. Eight rows go at a time through expNeg, log1pUnit and
// rowLoss written lane-wise: every lane runs the scalar operations of its
// row in the same order, each rounded alone, and both branches of a test
// where the scalar code branches, keeping the one its row takes. A row
// that takes a rare branch (a margin that is NaN, infinite, below 2⁻²⁸ or
// beyond 708 in size, or a log1p argument with no fraction bits) is
// recomputed by the scalar rowLoss.
func lossVec(eta, y, l, res, curv, p []float64) {
	n := len(eta)
	y, l, res, curv, p = y[:n], l[:n], res[:n], curv[:n], p[:n]
	bc := archsimd.BroadcastFloat64x8
	var (
		sign      = archsimd.BroadcastUint64x8(1 << 63)
		one       = bc(1)
		two       = bc(2)
		half      = bc(0.5)
		zero      = bc(0)
		log2e     = bc(1.44269504088896338700e+00)
		ln2Hi     = bc(6.93147180369123816490e-01)
		ln2Lo     = bc(1.90821492927058770002e-10)
		underflow = bc(-7.45133219101941108420e+02)
		nearZero  = bc(-1.0 / (1 << 28))
		p1        = bc(1.66666666666666657415e-01)
		p2        = bc(-2.77777777770155933842e-03)
		p3        = bc(6.61375632143793436117e-05)
		p4        = bc(-1.65339022054652515390e-06)
		p5        = bc(4.13813679705723846039e-08)
		kMin      = archsimd.BroadcastInt64x8(-1021)
		bias      = archsimd.BroadcastInt64x8(1023)
		sqrt2M1   = bc(4.142135623730950488017e-01)
		small     = bc(1.0 / (1 << 29))
		mant      = archsimd.BroadcastUint64x8(0x000fffffffffffff)
		sqrtMant  = archsimd.BroadcastUint64x8(0x0006a09e667f3bcd)
		exp1      = archsimd.BroadcastUint64x8(0x3ff0000000000000)
		expHalf   = archsimd.BroadcastUint64x8(0x3fe0000000000000)
		hidden    = archsimd.BroadcastUint64x8(0x0010000000000000)
		uzero     = archsimd.BroadcastUint64x8(0)
		expBits   = archsimd.BroadcastUint64x8(1023)
		lp1       = bc(6.666666666666735130e-01)
		lp2       = bc(3.999999999940941908e-01)
		lp3       = bc(2.857142874366239149e-01)
		lp4       = bc(2.222219843214978396e-01)
		lp5       = bc(1.818357216161805012e-01)
		lp6       = bc(1.531383769920937332e-01)
		lp7       = bc(1.479819860511658591e-01)
	)
	q := 0
	for ; q+8 <= n; q += 8 {
		v := (*[8]float64)(eta[q : q+8])
		h := archsimd.LoadFloat64x8(v)
		// expNeg(t), t = −|η| < 0.
		t := h.AsUint64x8().Or(sign).AsFloat64x8()
		slow := h.IsNaN().Or(t.Less(underflow)).Or(t.Greater(nearZero))
		k := t.Mul(log2e).Sub(half).ConvertToInt64()
		slow = slow.Or(k.Less(kMin))
		kf := k.ConvertToFloat64()
		hi := t.Sub(kf.Mul(ln2Hi))
		lo := kf.Mul(ln2Lo)
		r := hi.Sub(lo)
		z := r.Mul(r)
		pp := p4.Add(z.Mul(p5))
		pp = p3.Add(z.Mul(pp))
		pp = p2.Add(z.Mul(pp))
		pp = p1.Add(z.Mul(pp))
		c := r.Sub(z.Mul(pp))
		ye := one.Sub(lo.Sub(r.Mul(c).Div(two.Sub(c))).Sub(hi))
		e := ye.Mul(k.Add(bias).AsUint64x8().ShiftAllLeft(52).AsFloat64x8())
		// log1pUnit(e), 0 < e < 1.
		low := e.Less(sqrt2M1) // k = 0, f = e, no correction c
		high := e.GreaterEqual(sqrt2M1)
		slow = slow.Or(e.Less(small))
		u := one.Add(e)
		cu := e.Sub(u.Sub(one)).Div(u)
		iu := u.AsUint64x8()
		slow = slow.Or(iu.ShiftAllRight(52).NotEqual(expBits).And(high)) // u ≥ 2
		iu = iu.And(mant)
		up := iu.GreaterEqual(sqrtMant) // k++, u halved
		u = iu.Or(expHalf).Merge(iu.Or(exp1), up).AsFloat64x8()
		iu = hidden.Sub(iu).ShiftAllRight(2).Merge(iu, up)
		f := e.Merge(u.Sub(one), low)
		slow = slow.Or(iu.Equal(uzero).And(high))
		kOne := up.And(high)
		cz := zero.Merge(cu, low)
		hfsq := half.Mul(f).Mul(f)
		s := f.Div(two.Add(f))
		z = s.Mul(s)
		pl := lp6.Add(z.Mul(lp7))
		pl = lp5.Add(z.Mul(pl))
		pl = lp4.Add(z.Mul(pl))
		pl = lp3.Add(z.Mul(pl))
		pl = lp2.Add(z.Mul(pl))
		pl = lp1.Add(z.Mul(pl))
		rr := z.Mul(pl)
		sr := s.Mul(hfsq.Add(rr))
		l0 := f.Sub(hfsq.Sub(sr))
		l1 := ln2Hi.Sub(hfsq.Sub(sr.Add(ln2Lo.Add(cz))).Sub(f))
		lp := l1.Merge(l0, kOne)
		// rowLoss.
		big := one.Div(one.Add(e))
		sml := e.Mul(big)
		neg := h.Less(zero)
		pv := sml.Merge(big, neg)
		qv := big.Merge(sml, neg)
		posv := archsimd.LoadFloat64x8((*[8]float64)(y[q : q+8])).Equal(one)
		mx := zero.Sub(h).Merge(h, posv).Max(zero)
		mx.Add(lp).Store((*[8]float64)(l[q : q+8]))
		zero.Sub(qv).Merge(pv, posv).Store((*[8]float64)(res[q : q+8]))
		big.Mul(sml).Store((*[8]float64)(curv[q : q+8]))
		pv.Store((*[8]float64)(p[q : q+8]))
		if m := slow.ToBits(); m != 0 {
			archsimd.ClearAVXUpperBits() // scalar code follows
			for ; m != 0; m &= m - 1 {
				i := q + bits.TrailingZeros8(m)
				l[i], res[i], curv[i], p[i] = rowLoss(eta[i], y[i] == 1)
			}
		}
	}
	archsimd.ClearAVXUpperBits() // scalar code follows
	for ; q < n; q++ {
		l[q], res[q], curv[q], p[q] = rowLoss(eta[q], y[q] == 1)
	}
}

// allFiniteVec is allFiniteFast eight values at a time.
func allFiniteVec(s []float64) bool {
	zero := archsimd.BroadcastFloat64x8(0)
	a0, a1 := zero, zero
	i := 0
	for ; i+16 <= len(s); i += 16 {
		a0 = a0.Add(archsimd.LoadFloat64x8((*[8]float64)(s[i : i+8])).Mul(zero))
		a1 = a1.Add(archsimd.LoadFloat64x8((*[8]float64)(s[i+8 : i+16])).Mul(zero))
	}
	ok := a0.Add(a1).IsNaN().ToBits() == 0
	archsimd.ClearAVXUpperBits() // scalar code follows
	for _, v := range s[i:] {
		ok = ok && finite(v)
	}
	return ok
}
