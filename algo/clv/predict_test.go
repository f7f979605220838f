package clv

import (
	"errors"
	"math"
	"testing"
)

// TestTierCuts checks the Pareto cut on hand-made CLVs: A holds the
// customers up to the one that brings the running total to 80%, B those up
// to 95%, ties share a tier.
func TestTierCuts(t *testing.T) {
	cases := []struct {
		clvs []float64
		want string
	}{
		// total 100: 50 (50%), 30 (80%) → A; 10 (90%), 5 (95%) → B; rest C.
		{[]float64{5, 50, 1, 10, 30, 4}, "BACBAC"},
		// ties at the A cut are all A.
		{[]float64{40, 40, 40, 1}, "AAAC"},
		{[]float64{0, 0}, "CC"},
		{[]float64{7}, "A"},
		{nil, ""},
	}
	for _, c := range cases {
		tc, err := TierCuts(c.clvs)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, v := range c.clvs {
			got += string(tc.Tier(v))
		}
		want := ""
		for _, r := range c.want {
			if r != ' ' {
				want += string(r)
			}
		}
		if got != want {
			t.Errorf("tiers of %v = %q (cuts %+v), want %q", c.clvs, got, tc, want)
		}
	}
	if _, err := TierCuts([]float64{1, -1}); !errors.Is(err, ErrPredict) || err.Error() != "clv: CLV 1 is -1, not a finite number ≥ 0" {
		t.Errorf("negative CLV: %v", err)
	}
}

// TestPredictEdges checks the predictions' limits and errors.
func TestPredictEdges(t *testing.T) {
	bg := &PurchaseModel{Model: BGNBD, Params: []float64{0.243, 4.414, 0.793, 2.426}}
	pn := &PurchaseModel{Model: ParetoNBD, Params: []float64{0.553, 10.578, 1, 11.669}}
	for _, pm := range []*PurchaseModel{bg, pn} {
		if e, err := pm.ExpectedPurchases(0, 3, 10, 20); e != 0 || err != nil {
			t.Errorf("%s: expected purchases in 0 weeks %v (%v)", pm.Model, e, err)
		}
		// Far ahead the conditional expectation of a fresh customer
		// approaches the unconditional one of a new customer.
		a, err1 := pm.ExpectedPurchases(52, 0, 0, 0)
		b, err2 := pm.ExpectedPurchasesNew(52)
		if err1 != nil || err2 != nil || !relClose(a, b, 1e-12) {
			t.Errorf("%s: at T=0 %v (%v), new customer %v (%v)", pm.Model, a, err1, b, err2)
		}
		// Right after a purchase the Pareto/NBD customer is alive; the
		// BG/NBD one may have dropped out with it.
		want := 1.0
		if pm.Model == BGNBD {
			want = 1 / (1 + 0.793/(2.426+3-1))
		}
		p, err := pm.PAlive(3, 10, 10)
		if err != nil || !relClose(p, want, 1e-15) {
			t.Errorf("%s: p_alive right after a purchase %v (%v), want %v", pm.Model, p, err, want)
		}
	}
	one := &PurchaseModel{Model: BGNBD, Params: []float64{0.243, 4.414, 1, 2.426}}
	if v, err := one.ExpectedPurchases(39, 1, 2, 3); err != nil || !(v > 0) || !finite(v) {
		t.Errorf("a = 1 (the series form divides by a − 1, Euler's does not): %v (%v)", v, err)
	}
	sm := &SpendModel{Params: []float64{6.25, 0.5, 15.44}}
	if _, err := sm.ExpectedSpend(0, 0); err == nil ||
		err.Error() != "clv: Gamma-Gamma p·x + q − 1 = -0.5 ≤ 0 at x=0: the expected spend is infinite" {
		t.Errorf("q < 1: %v", err)
	}
	gg := &SpendModel{Params: []float64{6.25, 3.74, 15.44}}
	v, err := CLV(bg, gg, Week, ValueConfig{Months: 1, Rate: 0}, 2, 30.43, 38.86, 20)
	e, _ := bg.ExpectedPurchases(4.345, 2, 30.43, 38.86)
	s, _ := gg.ExpectedSpend(2, 20)
	if err != nil || math.Abs(v-e*s) > 1e-12*v {
		t.Errorf("one undiscounted month: CLV %v (%v), want %v", v, err, e*s)
	}
	if err := (ValueConfig{Months: 0, Rate: 0.01}).Validate(); err == nil || err.Error() != "clv: Months 0 is outside [1, 1200]" {
		t.Errorf("Months 0: %v", err)
	}
}
