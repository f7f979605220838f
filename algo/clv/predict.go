package clv

import (
	"math"
	"slices"
)

// PurchaseModel is a fitted purchase model: Model is "bgnbd" (Params r,
// α, a, b) or "paretonbd" (r, α, s, β). Times are in the model's unit.
type PurchaseModel struct {
	Model  string    `json:"model"`
	Params []float64 `json:"params"`
}

// PAlive returns the probability that a customer with x repeat purchases,
// the last at tx, is alive at T.
//
// BG/NBD (Fader, Hardie & Lee 2005, eq. 13): 1 for x = 0, else
// 1 / (1 + a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x)), the reciprocal of the
// denominator of the conditional expectation (bgnbdDen).
// Pareto/NBD (note 009, eq. 18): 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀).
func (pm *PurchaseModel) PAlive(x, tx, T float64) (float64, error) {
	p := pm.Params
	if pm.Model == ParetoNBD {
		r, alpha, s, beta := p[0], p[1], p[2], p[3]
		var d [4]float64
		l1, ok1 := logD(r, alpha, s, beta, x, tx, d[:])
		l2, ok2 := logD(r, alpha, s, beta, x, T, d[:])
		if !ok1 || !ok2 {
			return 0, errorf(ErrPredict, "the hypergeometric series does not converge at x=%v tx=%v T=%v", x, tx, T)
		}
		if l2 >= l1 {
			return 1, nil
		}
		logA0 := l1 + math.Log1p(-math.Exp(l2-l1))
		z := math.Log(s) - math.Log(r+s+x) + (r+x)*math.Log(alpha+T) + s*math.Log(beta+T) + logA0
		return 1 / (1 + math.Exp(z)), nil
	}
	return 1 / bgnbdDen(p, x, tx, T), nil
}

// ExpectedPurchases returns the expected number of purchases in the next
// t time units of a customer with x repeat purchases, the last at tx, seen
// up to T.
//
// BG/NBD (Fader, Hardie & Lee 2005, eq. 10, as lifetimes computes it):
//
//	(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
//	/ (1 + [x>0] a/(b+x−1) ((α+T)/(α+tₓ))^(r+x))
//
// Pareto/NBD (note 009, eq. 20): Γ(r+x) α^r β^s / (Γ(r) (α+T)^(r+x) (β+T)^s L)
// · (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)], L the
// customer's likelihood.
func (pm *PurchaseModel) ExpectedPurchases(t, x, tx, T float64) (float64, error) {
	p := pm.Params
	if t == 0 {
		return 0, nil
	}
	if pm.Model == ParetoNBD {
		r, alpha, s, beta := p[0], p[1], p[2], p[3]
		ll, ok := paretoLL(p, x, tx, T, nil)
		if !ok {
			return 0, errorf(ErrPredict, "the Pareto/NBD likelihood is not finite at x=%v tx=%v T=%v", x, tx, T)
		}
		first := lgamma(r+x) - lgamma(r) + r*math.Log(alpha) + s*math.Log(beta) - (r+x)*math.Log(alpha+T) - s*math.Log(beta+T)
		second := math.Log(r+x) + math.Log(beta+T) - math.Log(alpha+T)
		third := math.Log(powm1Over(-math.Log1p(t/(beta+T)), s-1))
		return math.Exp(first + second + third - ll), nil
	}
	num, err := bgnbdNum(p, t, x, T)
	if err != nil {
		return 0, err
	}
	return num / bgnbdDen(p, x, tx, T), nil
}

// bgnbdDen is the denominator of the BG/NBD conditional expectation and
// of P(alive): 1 + [x>0] a/(b+x−1) ((α+T)/(α+tₓ))^(r+x). b+(x−1), with
// x−1 exact, keeps b's digits when b is tiny and x = 1.
func bgnbdDen(p []float64, x, tx, T float64) float64 {
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	den := 1.0
	if x > 0 {
		den += a / (b + (x - 1)) * math.Pow((alpha+T)/(alpha+tx), r+x)
	}
	return den
}

// bgnbdNum returns the numerator of the BG/NBD conditional expectation
// E[Y(t) | x, tₓ, T] · bgnbdDen, a function of x and T only:
//
//	(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t).
func bgnbdNum(p []float64, t, x, T float64) (float64, error) {
	var out [1]float64
	err := bgnbdNums(p, []float64{t}, x, T, out[:])
	return out[0], err
}

// bgnbdNums sets out[i] to bgnbdNum(p, ts[i], x, T), each ts[i] > 0,
// sharing the series' coefficients between the times: each out[i] has the
// bits it has alone.
//
// The power series of ₂F₁ serves while c = a+b+x−1 is positive and keeps
// its digits (then every term is positive) and a is away from 1; where it
// does not (a fit whose a and b ran towards 0, say) or does not converge,
// bgnbdNumEuler.
func bgnbdNums(p []float64, ts []float64, x, T float64, out []float64) error {
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	aa, bb, cc := r+x, b+x, a+b+x-1
	if !bgnbdSeriesOK(a, b, x, cc) {
		for i, t := range ts {
			v, err := bgnbdNumEuler(p, t, x, T)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return nil
	}
	const batch = 16
	first := (a + b + x - 1) / (a - 1)
	nMin := math.Abs(aa) + math.Abs(bb) + math.Abs(cc) + 2
	for lo := 0; lo < len(ts); lo += batch {
		k := min(batch, len(ts)-lo)
		var z, term, f [batch]float64
		var state [batch]int8 // 0 summing, 1 converged, −1 failed
		for i := range k {
			z[i] = ts[lo+i] / (alpha + T + ts[lo+i])
			term[i], f[i] = 1, 1
		}
		left := k
		for n := 0; n < maxSeries && left > 0; n++ {
			fn := float64(n)
			rho := (aa + fn) * (bb + fn) / ((cc + fn) * (fn + 1))
			// Every later ratio of terms is at most u·z: each factor of
			// ρₘ = (A+m)/(m+1) · (B+m)/(c+m) is monotone towards 1.
			u := max((aa+fn)/(fn+1), 1) * max((bb+fn)/(cc+fn), 1)
			for i := range k {
				if state[i] != 0 {
					continue
				}
				t := float64(term[i] * float64(rho*z[i]))
				term[i] = t
				f[i] = float64(f[i] + t)
				uz := u * z[i]
				switch {
				case math.IsInf(f[i], 0) || math.IsNaN(f[i]):
					state[i] = -1
				case fn > nMin && math.Abs(t) <= seriesTol*(1-z[i])*math.Abs(f[i]), t == 0,
					// The rest falls geometrically, each term below half
					// an ulp of f: summing it would not change f's bits.
					uz < 1 && math.Abs(t) <= seriesTol*(1-uz)*math.Abs(f[i]):
					state[i] = 1
				default:
					continue
				}
				left--
			}
		}
		for i := range k {
			t := ts[lo+i]
			if state[i] != 1 || !(f[i] > 0) {
				v, err := bgnbdNumEuler(p, t, x, T)
				if err != nil {
					return err
				}
				out[lo+i] = v
				continue
			}
			second := -math.Expm1(math.Log(f[i]) + (r+x)*math.Log((alpha+T)/(alpha+t+T)))
			out[lo+i] = first * second
		}
	}
	return nil
}

// bgnbdSeriesOK reports whether the plain series form of bgnbdNum keeps
// its digits: c = a+b+x−1 (computed as cc) positive and large against the
// rounding of the sum that makes it, and a at least 10⁻³ away from 1,
// where 1 − F·(…) cancels.
func bgnbdSeriesOK(a, b, x, cc float64) bool {
	return cc >= 1e-3*(a+b+x) && math.Abs(a-1) >= 1e-3
}

// bgnbdNumEuler is bgnbdNum by Euler's transformation ₂F₁(A, B; c; z) =
// (1−z)^(c−A−B) ₂F₁(c−A, c−B; c; z): with A = r+x, B = b+x, c−B = a−1,
// so the (a−1) and the c of the prefactor cancel term by term:
//
//	num = c·(1 − (1−z)^(a−1))/(a−1) − (1−z)^(a−1) · Σₙ≥₁ yₙ,
//	yₙ = (c−A)ₙ (a)ₙ₋₁ zⁿ / ((c+1)ₙ₋₁ n!).
//
// The sum's factors are computed from a+b and exact integers, it has at
// most one change of sign, and it converges for every z < 1; at a = 1 the
// first term is c·(−log(1−z)), and as a → 0 every term past the first
// vanishes: num → (r+x)·t/(α+T), the NBD's expectation, nobody dropping
// out.
func bgnbdNumEuler(p []float64, t, x, T float64) (float64, error) {
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	s := a + b
	c := s + (x - 1)
	cA := s - (r + 1) // c − A
	z := t / (alpha + T + t)
	l := -math.Log1p(t / (alpha + T)) // log(1−z)
	y, sum := cA*z, cA*z
	nMin := math.Abs(cA) + a + math.Abs(c) + 2
	converged := false
	for n := 1; n < maxSeries; n++ {
		fn := float64(n)
		y *= (cA + fn) * (a + fn - 1) / ((s + (x - 1 + fn)) * (fn + 1)) * z
		sum += y
		if fn > nMin && math.Abs(y) <= seriesTol*(1-z)*math.Abs(sum) || y == 0 {
			converged = true
			break
		}
	}
	num := c*powm1Over(l, a-1) - math.Exp((a-1)*l)*sum
	if !converged || !finite(num) {
		return 0, errorf(ErrPredict, "the BG/NBD expectation's series does not converge at x=%v T=%v t=%v (r=%v α=%v a=%v b=%v)", x, T, t, r, alpha, a, b)
	}
	return max(num, 0), nil // ≥ 0 but for rounding
}

// ExpectedPurchasesNew returns E[X(t)], the expected number of repeat
// purchases of a new customer in its first t time units.
//
// BG/NBD (eq. 9): (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))].
// Pareto/NBD: rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)].
func (pm *PurchaseModel) ExpectedPurchasesNew(t float64) (float64, error) {
	p := pm.Params
	if t == 0 {
		return 0, nil
	}
	if pm.Model == ParetoNBD {
		r, alpha, s, beta := p[0], p[1], p[2], p[3]
		return r * beta / alpha * powm1Over(-math.Log1p(t/beta), s-1), nil
	}
	return bgnbdNum(p, t, 0, 0)
}

// powm1Over returns (1 − e^(k·l))/k, its limit −l at k = 0.
func powm1Over(l, k float64) float64 {
	if k == 0 {
		return -l
	}
	return -math.Expm1(k*l) / k
}

// SpendModel is a fitted Gamma-Gamma spend model, Params p, q, v.
type SpendModel struct {
	Params []float64 `json:"params"`
}

// ExpectedSpend returns the Gamma-Gamma conditional expected spend per
// purchase of a customer with x repeat purchases of mean spend m (Fader &
// Hardie 2013, eq. 5): (p·v + p·x·m)/(p·x + q − 1); for x = 0 the
// population mean p·v/(q−1).
func (sm *SpendModel) ExpectedSpend(x, m float64) (float64, error) {
	p, q, v := sm.Params[0], sm.Params[1], sm.Params[2]
	den := p*x + q - 1
	if !(den > 0) {
		return 0, errorf(ErrNoSpend, "Gamma-Gamma p·x + q − 1 = %v ≤ 0 at x=%v: the expected spend is infinite", den, x)
	}
	return (p*v + p*x*m) / den, nil
}

// ValueConfig describes the CLV computation, as lifetimes'
// customer_lifetime_value: Months monthly steps, each month's expected
// purchases times the expected spend discounted by (1+Rate)^month.
type ValueConfig struct {
	// Months is the horizon in months (lifetimes' time, default 12).
	Months int `json:"months"`
	// Rate is the monthly discount rate (lifetimes' discount_rate,
	// default 0.01).
	Rate float64 `json:"rate"`
}

// DefaultValueConfig is lifetimes' default: 12 months at 1% a month.
var DefaultValueConfig = ValueConfig{Months: 12, Rate: 0.01}

// Validate reports what is wrong with c.
func (c ValueConfig) Validate() error {
	if c.Months < 1 || c.Months > 1200 {
		return errorf(ErrConfig, "Months %d is outside [1, 1200]", c.Months)
	}
	if !(c.Rate >= 0) || c.Rate > 10 {
		return errorf(ErrConfig, "Rate %v is outside [0, 10]", c.Rate)
	}
	return nil
}

// monthUnits is lifetimes' length of a month in each time unit.
func monthUnits(unit string) float64 {
	switch unit {
	case Day:
		return 30
	case Month:
		return 1
	}
	return 4.345
}

// CLV returns the customer's lifetime value in unit time units:
// Σ_{i=1..Months} spend · (E[purchases in i months] − E[purchases in
// i−1 months]) / (1+Rate)^i, the months being lifetimes' 30 days, 4.345
// weeks or 1 month.
//
// For BG/NBD every expectation is its numerator (a function of x and T)
// over one denominator, so the sum is spend · S / den with S =
// Σ (numᵢ − numᵢ₋₁)/(1+Rate)^i: the scorer computes S once per distinct
// (x, T).
func CLV(pm *PurchaseModel, sm *SpendModel, unit string, vc ValueConfig, x, tx, T, m float64) (float64, error) {
	spend, err := sm.ExpectedSpend(x, m)
	if err != nil {
		return 0, err
	}
	f := monthUnits(unit)
	if pm.Model != ParetoNBD {
		ts, disc, nums := make([]float64, vc.Months), make([]float64, vc.Months), make([]float64, vc.Months)
		for i := range ts {
			ts[i] = float64(i+1) * f
			disc[i] = math.Pow(1+vc.Rate, float64(i+1))
		}
		if err := bgnbdNums(pm.Params, ts, x, T, nums); err != nil {
			return 0, err
		}
		clv := spend * discounted(nums, disc) / bgnbdDen(pm.Params, x, tx, T)
		if !finite(clv) {
			return 0, errorf(ErrPredict, "CLV %v at x=%v tx=%v T=%v", clv, x, tx, T)
		}
		return clv, nil
	}
	clv, prev := 0.0, 0.0
	for i := 1; i <= vc.Months; i++ {
		e, err := pm.ExpectedPurchases(float64(i)*f, x, tx, T)
		if err != nil {
			return 0, err
		}
		clv += spend * (e - prev) / math.Pow(1+vc.Rate, float64(i))
		prev = e
	}
	if !finite(clv) {
		return 0, errorf(ErrPredict, "CLV %v at x=%v tx=%v T=%v", clv, x, tx, T)
	}
	return clv, nil
}

// discounted returns Σᵢ (nums[i] − nums[i−1]) / disc[i], nums[−1] = 0:
// the discounted sum of the increments of the expectations' numerators
// month by month.
func discounted(nums, disc []float64) float64 {
	s, prev := 0.0, 0.0
	for i, d := range disc {
		s += (nums[i] - prev) / d
		prev = nums[i]
	}
	return s
}

// Tiers are the CLV cuts of the value tiers: a customer with CLV ≥ A is
// in tier A, else ≥ B in tier B, else in tier C.
type Tiers struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// TierShares are the shares of total CLV of tiers A and A+B.
const (
	TierAShare  = 0.80
	TierABShare = 0.95
)

// TierCuts returns the tier cuts for all customers' CLVs: walking the
// customers from the highest CLV down, A's cut is the CLV of the customer
// at which the running total first reaches 80% of the total, B's the one
// at which it reaches 95%. Customers tied with a cut share its tier. With
// no positive CLV every customer is in tier C. clvs is not modified.
func TierCuts(clvs []float64) (Tiers, error) {
	for i, v := range clvs {
		if !(v >= 0) || !finite(v) {
			return Tiers{}, errorf(ErrPredict, "CLV %d is %v, not a finite number ≥ 0", i, v)
		}
	}
	sorted := slices.Clone(clvs)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	// Summed in one order, highest first, the running total ends exactly
	// at the total: both cuts are always reached.
	total := 0.0
	for _, v := range sorted {
		total += v
	}
	if !(total > 0) || !finite(total) {
		inf := math.Inf(1)
		return Tiers{A: inf, B: inf}, nil
	}
	t := Tiers{A: math.NaN()}
	run := 0.0
	for _, v := range sorted {
		run += v
		if math.IsNaN(t.A) && run >= TierAShare*total {
			t.A = v
		}
		if run >= TierABShare*total {
			t.B = v
			break
		}
	}
	return t, nil
}

// Tier returns the tier of a customer with the given CLV: 'A', 'B' or 'C'.
func (t Tiers) Tier(clv float64) byte {
	switch {
	case clv >= t.A:
		return 'A'
	case clv >= t.B:
		return 'B'
	}
	return 'C'
}
