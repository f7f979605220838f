package kernel

import (
	"math"
	"math/bits"
)

// The log-loss of one row needs exp and log1p. The standard library's are
// not the same function everywhere: on amd64 math.Exp is assembly that uses
// FMA instructions only when the CPU has them, and the pure Go ones contain
// a*b+c that the compiler fuses under GOAMD64=v3 and not under v1. ExpNeg
// and Log1pUnit below are the FreeBSD msun algorithms that Go's pure
// versions port, with every product rounded by an explicit conversion, so
// they give the same bits on every CPU and build (and Log1pUnit the same
// bits as math.Log1p under GOAMD64=v1). Both are within 1 ulp.

// ExpNeg returns eᵗ for t ≤ 0 (and, correctly, for small positive t).
func ExpNeg(t float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
		p1        = 1.66666666666666657415e-01
		p2        = -2.77777777770155933842e-03
		p3        = 6.61375632143793436117e-05
		p4        = -1.65339022054652515390e-06
		p5        = 4.13813679705723846039e-08
	)
	switch {
	case math.IsNaN(t):
		return t
	case t < underflow:
		return 0
	case -nearZero < t && t < nearZero:
		return 1 + t
	}
	var k int
	if t < 0 {
		k = int(float64(log2e*t) - 0.5)
	} else {
		k = int(float64(log2e*t) + 0.5)
	}
	hi := t - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	r := hi - lo
	z := float64(r * r)
	p := p4 + float64(z*p5)
	p = p3 + float64(z*p)
	p = p2 + float64(z*p)
	p = p1 + float64(z*p)
	c := r - float64(z*p)
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	if k >= -1021 && k <= 1023 { // 2ᵏ is normal: the product is exact
		return y * math.Float64frombits(uint64(1023+k)<<52)
	}
	return math.Ldexp(y, k)
}

// Log1pUnit returns log(1+x) for 0 ≤ x ≤ 1, the range softplus needs.
func Log1pUnit(x float64) float64 {
	const (
		sqrt2M1 = 4.142135623730950488017e-01
		small   = 1.0 / (1 << 29)
		tiny    = 1.0 / (1 << 54)
		ln2Hi   = 6.93147180369123816490e-01
		ln2Lo   = 1.90821492927058770002e-10
		lp1     = 6.666666666666735130e-01
		lp2     = 3.999999999940941908e-01
		lp3     = 2.857142874366239149e-01
		lp4     = 2.222219843214978396e-01
		lp5     = 1.818357216161805012e-01
		lp6     = 1.531383769920937332e-01
		lp7     = 1.479819860511658591e-01
	)
	if math.IsNaN(x) {
		return x
	}
	var f, c float64
	var iu uint64
	k := 1
	if x < sqrt2M1 {
		if x < small {
			if x < tiny {
				return x
			}
			return x - float64(float64(x*x)*0.5)
		}
		k, f, iu = 0, x, 1
	}
	if k != 0 {
		u := 1.0 + x
		iu = math.Float64bits(u)
		k = int((iu >> 52) - 1023)
		if k > 0 {
			c = 1.0 - (u - x)
		} else {
			c = x - (u - 1.0)
		}
		c /= u
		iu &= 0x000fffffffffffff
		if iu < 0x0006a09e667f3bcd {
			u = math.Float64frombits(iu | 0x3ff0000000000000)
		} else {
			k++
			u = math.Float64frombits(iu | 0x3fe0000000000000)
			iu = (0x0010000000000000 - iu) >> 2
		}
		f = u - 1.0
	}
	hfsq := float64(float64(0.5*f) * f)
	kHi := float64(float64(k) * ln2Hi)
	kLo := float64(float64(k) * ln2Lo)
	if iu == 0 {
		if f == 0 {
			if k == 0 {
				return 0
			}
			return kHi + (kLo + c)
		}
		r := float64(hfsq * (1.0 - float64(0.66666666666666666*f)))
		if k == 0 {
			return f - r
		}
		return kHi - ((r - (kLo + c)) - f)
	}
	s := f / (2.0 + f)
	z := float64(s * s)
	p := lp6 + float64(z*lp7)
	p = lp5 + float64(z*p)
	p = lp4 + float64(z*p)
	p = lp3 + float64(z*p)
	p = lp2 + float64(z*p)
	p = lp1 + float64(z*p)
	r := float64(z * p)
	sr := float64(s * (hfsq + r))
	if k == 0 {
		return f - (hfsq - sr)
	}
	return kHi - ((hfsq - (sr + (kLo + c))) - f)
}

// RowLoss returns, for a row with margin η = b + x·β and label y, its
// log-loss ℓ = log(1+e^η) − y·η, its residual p − y and the curvature
// p(1−p), p = σ(η), all without cancellation: with e = e^−|η|,
// ℓ = max(±η, 0) + log1p(e), σ(|η|) = 1/(1+e) and σ(−|η|) = e/(1+e).
func RowLoss(eta float64, y bool) (loss, resid, curv, p float64) {
	e := ExpNeg(-math.Abs(eta))
	big := 1 / (1 + e)      // σ(|η|)
	sml := float64(e * big) // σ(−|η|)
	p, q := big, sml        // p = σ(η), q = 1 − p
	if eta < 0 {
		p, q = sml, big
	}
	if y {
		return max(-eta, 0) + Log1pUnit(e), -q, float64(big * sml), p
	}
	return max(eta, 0) + Log1pUnit(e), p, float64(big * sml), p
}

// LogLoss sets l[q], res[q], curv[q] and p[q] to RowLoss(eta[q], y[q] == 1)
// for every q; y, l, res, curv and p are at least as long as eta.
//
// The AVX2 path (logistic_amd64.s) takes four rows at a time through
// ExpNeg, Log1pUnit and RowLoss written lane-wise: every lane runs the
// scalar operations of its row in the same order, each rounded alone, and
// both sides of a test where the scalar code branches, keeping the one its
// row takes. A row that takes a rare branch (a margin that is NaN, infinite,
// below 2⁻²⁸ or beyond 708 in size, or a log1p argument with no fraction
// bits) is recomputed here by RowLoss. AVX2 has no float-to-int64
// conversion, so k = ⌊log₂e·t − ½⌉ is formed by truncation in floating point
// and 2ᵏ by adding it to 2⁵² + 1023, whose low mantissa bits are then
// k + 1023.
func LogLoss(eta, y, l, res, curv, p []float64) {
	n := len(eta)
	y, l, res, curv, p = y[:n], l[:n], res[:n], curv[:n], p[:n]
	q := 0
	if path >= AVX2 {
		var slow [64]uint8
		for q+4 <= n {
			m := min((n-q)/4, len(slow))
			logLossAVX2(&eta[q], &y[q], &l[q], &res[q], &curv[q], &p[q], m, &slow[0])
			for g, s := range slow[:m] {
				for ; s != 0; s &= s - 1 {
					i := q + 4*g + bits.TrailingZeros8(s)
					l[i], res[i], curv[i], p[i] = RowLoss(eta[i], y[i] == 1)
				}
			}
			q += 4 * m
		}
	}
	for ; q < n; q++ {
		l[q], res[q], curv[q], p[q] = RowLoss(eta[q], y[q] == 1)
	}
}

// FillRows sets entries 0 to d of row q of the chunk operands a and b
// (row stride s ≥ d+2) to (g, c·x_0, …, c·x_{d−1}) and (0, x_0, …,
// x_{d−1}), with g = gw[q], c = cw[q] and x row idx[q] of x (row stride
// d), each product rounded, and entry d+1 of a to c; entry d+1 of b is
// left alone. It panics if an index is out of range.
//
// The AVX2 path (logistic_amd64.s) does four entries per vector: the rows
// are one entry out of step with the vectors they come from, so each
// vector of x is rotated one lane up and its first lane taken from the
// previous vector's rotation, and the stores stay on the rows' 32-byte
// boundaries.
func FillRows(a, b []float64, s int, x []float64, d int, idx []int, gw, cw []float64) {
	m := len(idx)
	if m == 0 {
		return
	}
	_, _ = a[(m-1)*s+d+1], b[(m-1)*s+d+1]
	gw, cw = gw[:m], cw[:m]
	checkRows(x, d, nil, idx)
	lo := 0 // the first column of x the loop below fills
	if path >= AVX2 && d >= 4 {
		fillRowsAVX2(&a[0], &b[0], s, &x[0], d, &idx[0], &gw[0], &cw[0], m)
		lo = d&^3 - 1
	}
	for q, i := range idx {
		ar, br := a[q*s:q*s+d+2], b[q*s:q*s+d+2]
		c := cw[q]
		row := x[i*d : (i+1)*d]
		for j := lo; j < d; j++ {
			v := row[j]
			ar[1+j] = float64(c * v)
			br[1+j] = v
		}
		ar[0], ar[d+1] = gw[q], c
		if lo == 0 {
			br[0] = 0
		}
	}
}
