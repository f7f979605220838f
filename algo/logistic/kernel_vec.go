//go:build goexperiment.simd && amd64

package logistic

import (
	"math/bits"
	"simd/archsimd"
)

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
