//go:build goexperiment.simd && amd64

package logistic

import (
	"math/bits"
	"simd/archsimd"
)

// The AVX2 kernels of this package, for CPUs without AVX-512: the same
// lane-wise arithmetic as kernel_vec.go's, four lanes at a time, and the
// chunk fill in assembly (fill_amd64.s). AVX2 has
// no float-to-int64 conversion and no mask registers, so k = ⌊log₂e·t −
// ½⌉ is formed by truncation in floating point and 2ᵏ by adding it to
// 2⁵² + 1023 (whose low mantissa bits are then k + 1023), and the masks
// are lanes of all ones. Scalar code after these kernels must follow
// ClearAVXUpperBits: on Zen and Intel alike, legacy SSE code running with
// dirty upper halves pays a false dependency or a state transition.

func avx2Supported() bool { return archsimd.X86.AVX2() }

// lossVecAVX2 is lossVec four rows at a time.
func lossVecAVX2(eta, y, l, res, curv, p []float64) {
	n := len(eta)
	y, l, res, curv, p = y[:n], l[:n], res[:n], curv[:n], p[:n]
	bc := archsimd.BroadcastFloat64x4
	var (
		sign      = archsimd.BroadcastUint64x4(1 << 63)
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
		kMin      = bc(-1021)
		expMagic  = bc(1<<52 + 1023)
		sqrt2M1   = bc(4.142135623730950488017e-01)
		small     = bc(1.0 / (1 << 29))
		mant      = archsimd.BroadcastUint64x4(0x000fffffffffffff)
		sqrtMant1 = archsimd.BroadcastInt64x4(0x0006a09e667f3bcd - 1)
		exp1      = archsimd.BroadcastUint64x4(0x3ff0000000000000)
		expHalf   = archsimd.BroadcastUint64x4(0x3fe0000000000000)
		hiddenM4  = archsimd.BroadcastInt64x4(0x0010000000000000 - 4)
		uzero     = archsimd.BroadcastUint64x4(0)
		lp1       = bc(6.666666666666735130e-01)
		lp2       = bc(3.999999999940941908e-01)
		lp3       = bc(2.857142874366239149e-01)
		lp4       = bc(2.222219843214978396e-01)
		lp5       = bc(1.818357216161805012e-01)
		lp6       = bc(1.531383769920937332e-01)
		lp7       = bc(1.479819860511658591e-01)
	)
	q := 0
	for ; q+4 <= n; q += 4 {
		h := archsimd.LoadFloat64x4((*[4]float64)(eta[q : q+4]))
		// expNeg(t), t = −|η| < 0.
		t := h.AsUint64x4().Or(sign).AsFloat64x4()
		slow := h.IsNaN().Or(t.Less(underflow)).Or(t.Greater(nearZero))
		// float64(int(v)): v truncated, and −0 (from v in (−1, 0))
		// made +0 as int's 0 converts.
		kf := t.Mul(log2e).Sub(half).Trunc().Add(zero)
		slow = slow.Or(kf.Less(kMin))
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
		e := ye.Mul(kf.Add(expMagic).AsUint64x4().ShiftAllLeft(52).AsFloat64x4())
		// log1pUnit(e), 0 < e < 1.
		low := e.Less(sqrt2M1) // k = 0, f = e, no correction c
		high := e.GreaterEqual(sqrt2M1)
		slow = slow.Or(e.Less(small))
		u := one.Add(e)
		cu := e.Sub(u.Sub(one)).Div(u)
		slow = slow.Or(u.GreaterEqual(two).And(high)) // k = 1 before the reduction
		iu := u.AsUint64x4().And(mant)
		up := iu.AsInt64x4().Greater(sqrtMant1) // k++, u halved
		u = iu.Or(expHalf).Merge(iu.Or(exp1), up).AsFloat64x4()
		f := e.Merge(u.Sub(one), low)
		// log1pUnit's iu is (2⁵² − iu)>>2 where up and iu elsewhere; it is
		// 0 where 2⁵² − iu < 4 (iu < 2⁵², and only up lanes reach it) or
		// iu = 0 (never up). Compared rather than shifted: the compiler
		// loads a shift's count with a legacy SSE MOVQ, which on this
		// path's CPUs costs a state transition every vector.
		zero4 := iu.AsInt64x4().Greater(hiddenM4).Or(iu.Equal(uzero))
		slow = slow.Or(zero4.And(high))
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
		posv := archsimd.LoadFloat64x4((*[4]float64)(y[q : q+4])).Equal(one)
		mx := zero.Sub(h).Merge(h, posv).Max(zero)
		mx.Add(lp).Store((*[4]float64)(l[q : q+4]))
		zero.Sub(qv).Merge(pv, posv).Store((*[4]float64)(res[q : q+4]))
		big.Mul(sml).Store((*[4]float64)(curv[q : q+4]))
		pv.Store((*[4]float64)(p[q : q+4]))
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

// fillRowsAVX2 is fillRowsVec four entries at a time, for the first
// 4·⌊d/4⌋ entries of each row (fill_amd64.s). It checks what the assembly
// would index out of range.
func fillRowsAVX2(a, b []float64, s int, x []float64, d int, idx []int, gw, cw []float64) {
	nv, m := d/4, len(idx)
	if nv == 0 || m == 0 {
		return
	}
	_, _ = a[(m-1)*s+4*nv-1], b[(m-1)*s+4*nv-1]
	_, _ = gw[m-1], cw[m-1]
	rows := uint(len(x) / d)
	for _, i := range idx {
		if uint(i) >= rows {
			panic("logistic: row index out of range")
		}
	}
	fillRowsAVX2asm(&a[0], &b[0], s, &x[0], d, &idx[0], &gw[0], &cw[0], m)
}

//go:noescape
func fillRowsAVX2asm(a, b *float64, s int, x *float64, d int, idx *int, gw, cw *float64, m int)
