package logistic

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / (math.Nextafter(math.Abs(b), math.Inf(1)) - math.Abs(b))
}

func TestExpNegLog1pUnit(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	worstExp, worstLog := 0.0, 0.0
	for i := range 200_000 {
		x := -745 * r.Float64() * r.Float64()
		if i%4 == 0 {
			x = -r.Float64() * 1e-6
		}
		if e := ulps(expNeg(x), math.Exp(x)); e > worstExp {
			worstExp = e
		}
		u := r.Float64()
		if i%4 == 0 {
			u = math.Ldexp(u, -r.IntN(60))
		}
		got, want := log1pUnit(u), math.Log1p(u)
		if e := ulps(got, want); e > worstLog {
			worstLog = e
		}
		if !fmaNative && got != want {
			t.Fatalf("log1pUnit(%v) = %v, math.Log1p %v: under GOAMD64=v1 they run the same operations", u, got, want)
		}
	}
	// math.Exp is itself within 1 ulp, so the two may differ by 2.
	if worstExp > 2 || worstLog > 1 {
		t.Errorf("worst error against the standard library: exp %v ulp, log1p %v ulp", worstExp, worstLog)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1e-300, -746, math.Inf(-1)} {
		if got, want := expNeg(x), math.Exp(x); got != want {
			t.Errorf("expNeg(%v) = %v, want %v", x, got, want)
		}
	}
	for _, u := range []float64{0, 1, 1e-20, 0.5} {
		if got, want := log1pUnit(u), math.Log1p(u); got != want {
			t.Errorf("log1pUnit(%v) = %v, want %v", u, got, want)
		}
	}
}

func TestRowLoss(t *testing.T) {
	for _, eta := range []float64{-800, -40, -3, -0.5, 0, 0.5, 3, 40, 800} {
		p, q := 1/(1+math.Exp(-eta)), 1/(1+math.Exp(eta))
		for _, y := range []bool{false, true} {
			loss, resid, curv, gotP := rowLoss(eta, y)
			want := math.Log1p(math.Exp(-math.Abs(eta))) + math.Max(eta, 0)
			if y {
				want -= eta
			}
			if math.Abs(loss-want) > 1e-15*math.Max(1, math.Abs(want)) {
				t.Errorf("η=%v y=%v: loss %v, want %v", eta, y, loss, want)
			}
			wantResid := p
			if y {
				wantResid = -q
			}
			close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-15*math.Abs(b) }
			if !close(resid, wantResid) || !close(gotP, p) || !close(curv, p*q) {
				t.Errorf("η=%v y=%v: resid %v curv %v p %v, want %v %v %v", eta, y, resid, curv, gotP, wantResid, p*q, p)
			}
			if sigmoid(eta) != gotP {
				t.Errorf("sigmoid(%v) = %v, rowLoss's p %v", eta, sigmoid(eta), gotP)
			}
		}
	}
}
