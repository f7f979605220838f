package clv

import "math"

// The per-customer log-likelihoods of the three models and their gradients
// with respect to the log-parameters (∂ℓ/∂log θ = θ·∂ℓ/∂θ). x is the
// number of repeat purchases, tx the time of the last purchase and T the
// time of the calibration end, both from the first purchase; m is the
// mean spend of the repeat purchases. ok is false when the value or the
// gradient is not finite (or a series does not converge): the optimiser
// then shortens its step.

// paramNames are the papers' names of each model's parameters.
var paramNames = map[string][]string{
	BGNBD:      {"r", "alpha", "a", "b"},
	ParetoNBD:  {"r", "alpha", "s", "beta"},
	GammaGamma: {"p", "q", "v"},
}

// bgnbdLL is the BG/NBD log-likelihood of one customer (Fader, Hardie &
// Lee 2005, eq. 6), computed as in Fader & Hardie's note 027 ("Overcoming
// the BG/NBD model's #NUM! error problem"):
//
//	ℓ = log Γ(r+x) − log Γ(r) + r log α + log B(a, b+x) − log B(a, b)
//	    + log( (α+T)^−(r+x) + [x>0] a/(b+x−1) (α+tₓ)^−(r+x) )
func bgnbdLL(p []float64, x, tx, T float64, g []float64) (ll float64, ok bool) {
	k := bgnbdTerms(p, x)
	return bgnbdLLx(p, &k, x, tx, T, g)
}

// xTerms are the parts of a customer's log-likelihood and gradient that
// depend on the parameters and x only, so a pass computes them once per
// distinct x.
type xTerms struct {
	lg   float64 // BG/NBD, Pareto/NBD: log Γ(r+x) − log Γ(r) (+ BG/NBD's log B terms); Gamma-Gamma: log Γ(px+q) − log Γ(px) − log Γ(q)
	d0   float64 // ψ(r+x) − ψ(r); Gamma-Gamma ψ(px+q)
	d1   float64 // BG/NBD ψ(a+b) − ψ(a+b+x); Gamma-Gamma ψ(px)
	d2   float64 // BG/NBD ψ(b+x) − ψ(b); Gamma-Gamma log x
	logb float64 // BG/NBD log(b+x−1)
}

func bgnbdTerms(p []float64, x float64) xTerms {
	r, a, b := p[0], p[2], p[3]
	k := xTerms{
		lg: lgamma(r+x) - lgamma(r) + lgamma(a+b) + lgamma(b+x) - lgamma(b) - lgamma(a+b+x),
		d0: digamma(r+x) - digamma(r),
		d1: digamma(a+b) - digamma(a+b+x),
		d2: digamma(b+x) - digamma(b),
	}
	if x > 0 {
		k.logb = math.Log(b + x - 1)
	}
	return k
}

// bgnbdLLx is bgnbdLL with the terms k of x.
func bgnbdLLx(p []float64, k *xTerms, x, tx, T float64, g []float64) (ll float64, ok bool) {
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	rx := r + x
	lat, lax := math.Log(alpha+T), math.Log(alpha+tx)
	a3 := -rx * lat
	a4 := math.Inf(-1)
	if x > 0 {
		a4 = math.Log(a) - k.logb - rx*lax
	}
	lse := logAddExp(a3, a4)
	ll = k.lg + r*math.Log(alpha) + lse
	if g != nil {
		w4 := 0.0
		if x > 0 {
			w4 = math.Exp(a4 - lse)
		}
		w3 := 1 - w4
		if x > 0 {
			w3 = math.Exp(a3 - lse)
		}
		dr := k.d0 + math.Log(alpha) - w3*lat - w4*lax
		dalpha := r/alpha - w3*rx/(alpha+T)
		da := k.d1
		db := k.d1 + k.d2
		if x > 0 {
			dalpha -= w4 * rx / (alpha + tx)
			da += w4 / a
			db -= w4 / (b + x - 1)
		}
		g[0], g[1], g[2], g[3] = r*dr, alpha*dalpha, a*da, b*db
		return ll, finite(ll) && finite(g[0]) && finite(g[1]) && finite(g[2]) && finite(g[3])
	}
	return ll, finite(ll)
}

// paretoLL is the Pareto/NBD log-likelihood of one customer, in the form
// of Fader & Hardie's note 009 ("A note on deriving the Pareto/NBD model
// and related expressions", 2005, eq. 22) that lifetimes uses:
//
//	ℓ = log Γ(r+x) − log Γ(r) + r log α + s log β
//	    + log( (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) A₀ )
//
// with, for α ≥ β, A₀ = D(tₓ) − D(T), D(t) = ₂F₁(r+s+x, s+1; r+s+x+1;
// (α−β)/(α+t)) / (α+t)^(r+s+x), and for α < β the same with α and β
// swapped and r+x in place of s+1.
func paretoLL(p []float64, x, tx, T float64, g []float64) (ll float64, ok bool) {
	k := paretoTerms(p, x)
	return paretoLLx(p, &k, x, tx, T, g)
}

func paretoTerms(p []float64, x float64) xTerms {
	r := p[0]
	return xTerms{lg: lgamma(r+x) - lgamma(r), d0: digamma(r+x) - digamma(r)}
}

// paretoLLx is paretoLL with the terms k of x.
func paretoLLx(p []float64, k *xTerms, x, tx, T float64, g []float64) (ll float64, ok bool) {
	r, alpha, s, beta := p[0], p[1], p[2], p[3]
	rx, rsx := r+x, r+s+x
	a1 := k.lg + r*math.Log(alpha) + s*math.Log(beta)
	lat, lbt := math.Log(alpha+T), math.Log(beta+T)
	b := -rx*lat - s*lbt
	var d1, d2 [4]float64 // ∇ log D(tₓ), ∇ log D(T) by r, α, s, β
	l1, ok1 := logD(r, alpha, s, beta, x, tx, d1[:])
	l2, ok2 := logD(r, alpha, s, beta, x, T, d2[:])
	if !ok1 || !ok2 {
		return math.NaN(), false
	}
	e := 0.0
	if l2 < l1 {
		e = math.Exp(l2 - l1)
	} else {
		e = 1 // tₓ = T: A₀ = 0
	}
	logA0 := l1 + math.Log1p(-e)
	if e == 1 {
		logA0 = math.Inf(-1)
	}
	c := math.Log(s) + logA0 - math.Log(rsx)
	lse := logAddExp(b, c)
	ll = a1 + lse
	if g == nil {
		return ll, finite(ll)
	}
	wc := 0.0
	var dA [4]float64 // ∇ log A₀
	if !math.IsInf(c, -1) {
		wc = math.Exp(c - lse)
		for k := range dA {
			dA[k] = (d1[k] - e*d2[k]) / (1 - e)
		}
	}
	wb := 1 - wc
	if wc != 0 {
		wb = math.Exp(b - lse)
	}
	dr := k.d0 + math.Log(alpha) - wb*lat
	dalpha := r/alpha - wb*rx/(alpha+T)
	ds := math.Log(beta) - wb*lbt
	dbeta := s/beta - wb*s/(beta+T)
	if wc != 0 {
		dr += wc * (dA[0] - 1/rsx)
		dalpha += wc * dA[1]
		ds += wc * (1/s + dA[2] - 1/rsx)
		dbeta += wc * dA[3]
	}
	g[0], g[1], g[2], g[3] = r*dr, alpha*dalpha, s*ds, beta*dbeta
	return ll, finite(ll) && finite(g[0]) && finite(g[1]) && finite(g[2]) && finite(g[3])
}

// logD returns log D(t) of paretoLL and its gradient by (r, α, s, β) in d.
func logD(r, alpha, s, beta, x, t float64, d []float64) (float64, bool) {
	a := r + s + x
	if alpha >= beta {
		m := alpha + t
		z := (alpha - beta) / m
		f, fa, fb, fz, ok := hypA1(a, s+1, z)
		if !ok {
			return math.NaN(), false
		}
		lm := math.Log(m)
		d[0] = fa/f - lm
		d[1] = fz/f*((beta+t)/(m*m)) - a/m
		d[2] = (fa+fb)/f - lm
		d[3] = -fz / f / m
		return math.Log(f) - a*lm, true
	}
	m := beta + t
	z := (beta - alpha) / m
	f, fa, fb, fz, ok := hypA1(a, r+x, z)
	if !ok {
		return math.NaN(), false
	}
	lm := math.Log(m)
	d[0] = (fa+fb)/f - lm
	d[1] = -fz / f / m
	d[2] = fa/f - lm
	d[3] = fz/f*((alpha+t)/(m*m)) - a/m
	return math.Log(f) - a*lm, true
}

// ggLL is the Gamma-Gamma log-likelihood of one repeat customer's mean
// spend m over x ≥ 1 repeat purchases (Fader & Hardie 2013, as lifetimes'
// GammaGammaFitter):
//
//	ℓ = log Γ(px+q) − log Γ(px) − log Γ(q) + q log v + (px−1) log m
//	    + px log x − (px+q) log(xm+v)
func ggLL(p []float64, x, m float64, g []float64) (ll float64, ok bool) {
	k := ggTerms(p, x)
	return ggLLx(p, &k, x, m, g)
}

func ggTerms(p []float64, x float64) xTerms {
	px, q := p[0]*x, p[1]
	return xTerms{lg: lgamma(px+q) - lgamma(px) - lgamma(q), d0: digamma(px + q), d1: digamma(px), d2: math.Log(x)}
}

// ggLLx is ggLL with the terms k of x.
func ggLLx(p []float64, k *xTerms, x, m float64, g []float64) (ll float64, ok bool) {
	pp, q, v := p[0], p[1], p[2]
	px := pp * x
	lm, lx, lxv := math.Log(m), k.d2, math.Log(x*m+v)
	ll = k.lg + q*math.Log(v) + (px-1)*lm + px*lx - (px+q)*lxv
	if g == nil {
		return ll, finite(ll)
	}
	g[0] = pp * x * (k.d0 - k.d1 + lm + lx - lxv)
	g[1] = q * (k.d0 - digamma(q) + math.Log(v) - lxv)
	g[2] = v * (q/v - (px+q)/(x*m+v))
	return ll, finite(ll) && finite(g[0]) && finite(g[1]) && finite(g[2])
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
