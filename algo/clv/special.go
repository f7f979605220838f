package clv

import "math"

// maxSeries bounds the terms of a hypergeometric series.
const maxSeries = 1_000_000

// seriesTol is the relative size of the last term a series adds.
const seriesTol = 0x1p-60

// digamma returns ψ(x) for x > 0: the recurrence ψ(x) = ψ(x+1) − 1/x up
// to x ≥ 10, then the asymptotic series to x⁻¹⁴, whose truncation error
// there is below 10⁻¹⁶.
func digamma(x float64) float64 {
	r := 0.0
	for x < 10 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	t := f * (-1.0/12 + f*(1.0/120+f*(-1.0/252+f*(1.0/240+f*(-1.0/132+f*(691.0/32760+f*(-1.0/12)))))))
	return r + math.Log(x) - 0.5/x + t
}

// lgamma returns log Γ(x) for x > 0.
func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// logAddExp returns log(eᵃ + eᵇ) without overflow; −Inf terms are empty.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// hyp2f1 returns the Gauss hypergeometric function ₂F₁(a, b; c; z) for
// 0 ≤ z < 1 and c not a non-positive integer, by its power series. ok is
// false when the series does not converge in maxSeries terms or overflows.
func hyp2f1(a, b, c, z float64) (f float64, ok bool) {
	if !(z >= 0 && z < 1) {
		return math.NaN(), false
	}
	if c <= 0 && c == math.Floor(c) {
		return math.NaN(), false
	}
	t, f := 1.0, 1.0
	if z == 0 {
		return 1, true
	}
	// Past nMin the term ratio (a+n)(b+n)z/((c+n)(n+1)) has no sign change
	// and falls towards z, so a small term means a small tail.
	nMin := math.Abs(a) + math.Abs(b) + math.Abs(c) + 2
	for n := 0; n < maxSeries; n++ {
		fn := float64(n)
		t = float64(t * float64((a+fn)*(b+fn)/((c+fn)*(fn+1))*z))
		f = float64(f + t)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return f, false
		}
		if fn > nMin && math.Abs(t) <= seriesTol*(1-z)*math.Abs(f) {
			return f, true
		}
		if t == 0 {
			return f, true
		}
	}
	return f, false
}

// hypA1 returns F = ₂F₁(a, b; a+1; z) and its partial derivatives by a, b
// and z, for a, b > 0 and 0 ≤ z < 1: the series Σ a/(a+n)·(b)ₙ/n!·zⁿ,
// whose terms are positive, differentiated term by term. ok is false when
// it does not converge in maxSeries terms.
func hypA1(a, b, z float64) (f, fa, fb, fz float64, ok bool) {
	f = 1
	fz = a / (a + 1) * b
	if z == 0 {
		return f, 0, 0, fz, true
	}
	fz = 0
	c := 1.0 // (b)ₙ zⁿ / n!
	h := 0.0 // Σ_{k<n} 1/(b+k)
	// Past nMin the ratio (b+n)z/(n+1) of successive c is below 1.
	nMin := (b*z - 1) / (1 - z)
	for n := 1; n < maxSeries; n++ {
		fn := float64(n)
		bn := b + fn - 1
		prev := c
		h += 1 / bn
		c *= bn * z / fn
		w := a / (a + fn)
		t := w * c
		dz := w * bn * prev
		da := t * fn / (a * (a + fn))
		db := t * h
		f += t
		fa += da
		fb += db
		fz += dz
		if math.IsInf(f, 0) || math.IsInf(fb, 0) || math.IsInf(fz, 0) {
			return f, fa, fb, fz, false
		}
		if fn > nMin && t <= seriesTol*(1-z)*f && db <= seriesTol*(1-z)*fb &&
			dz <= seriesTol*(1-z)*fz && da <= seriesTol*(1-z)*fa {
			return f, fa, fb, fz, true
		}
	}
	return f, fa, fb, fz, false
}
