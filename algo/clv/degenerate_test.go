package clv

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// degenerateGolden is testdata/degenerate/degenerate_golden.json, written
// by make_degenerate_golden.py in exact arithmetic.
type degenerateGolden struct {
	GammaGamma []float64 `json:"gammagamma"`
	Models     []struct {
		Name      string    `json:"name"`
		Params    []float64 `json:"params"`
		New52     float64   `json:"new_52"`
		Customers []struct {
			X, Tx, T, M float64
			PAlive      float64            `json:"p_alive"`
			Expected    map[string]float64 `json:"expected"`
			CLV         float64            `json:"clv"`
		} `json:"customers"`
	} `json:"models"`
}

// TestDegenerateGolden holds the BG/NBD predictions where a and b ran
// towards 0 (the Online Retail fit, and further), where a = 1, and where
// a+b+x−1 is next to 0, to the exact reference
// (testdata/degenerate/make_degenerate_golden.py, 100 digits) within 1e-9
// relative, for customers from fresh to 360 repeat purchases and T from 0
// to 1000 weeks.
func TestDegenerateGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/degenerate/degenerate_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g degenerateGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Models) < 8 {
		t.Fatalf("%d models in the golden file", len(g.Models))
	}
	sm := &SpendModel{Params: g.GammaGamma}
	const tol = 1e-9
	for _, m := range g.Models {
		pm := &PurchaseModel{Model: BGNBD, Params: m.Params}
		if v, err := pm.ExpectedPurchasesNew(52); err != nil || !relClose(v, m.New52, tol) {
			t.Errorf("%s: E[X(52)] = %v (%v), exact %v", m.Name, v, err, m.New52)
		}
		for _, c := range m.Customers {
			at := m.Name + " x=" + strconv.FormatFloat(c.X, 'g', -1, 64) + " tx=" + strconv.FormatFloat(c.Tx, 'g', -1, 64) +
				" T=" + strconv.FormatFloat(c.T, 'g', -1, 64)
			if v, err := pm.PAlive(c.X, c.Tx, c.T); err != nil || !relClose(v, c.PAlive, tol) {
				t.Errorf("%s: p_alive %v (%v), exact %v", at, v, err, c.PAlive)
			}
			for h, want := range c.Expected {
				hf, _ := strconv.ParseFloat(h, 64)
				if v, err := pm.ExpectedPurchases(hf, c.X, c.Tx, c.T); err != nil || !relClose(v, want, tol) {
					t.Errorf("%s: expected purchases in %s weeks %v (%v), exact %v (rel. error %.2g)", at, h, v, err, want, (v-want)/want)
				}
			}
			if v, err := CLV(pm, sm, Week, DefaultValueConfig, c.X, c.Tx, c.T, c.M); err != nil || !relClose(v, c.CLV, tol) {
				t.Errorf("%s: CLV %v (%v), exact %v", at, v, err, c.CLV)
			}
		}
	}
}

// TestBGNBDFormsAgree holds the two evaluations of the BG/NBD expectation,
// the power series of ₂F₁ and Euler's transformation, to each other
// within 1e-10 where both keep their digits: the CDNOW parameters and
// customers from fresh to 200 repeat purchases.
func TestBGNBDFormsAgree(t *testing.T) {
	for _, p := range [][]float64{{0.243, 4.414, 0.793, 2.426}, {0.7, 6.4, 2.5, 3}, {1.5, 10, 0.2, 0.9}} {
		for _, c := range [][2]float64{{0, 0}, {0, 30}, {1, 5}, {2, 38.86}, {7, 52}, {40, 52}, {200, 60}} {
			for _, h := range []float64{0.5, 4.345, 52, 300} {
				x, T := c[0], c[1]
				a, b := p[2], p[3]
				if !bgnbdSeriesOK(a, b, x, a+b+x-1) {
					continue
				}
				s, err1 := bgnbdNum(p, h, x, T)
				e, err2 := bgnbdNumEuler(p, h, x, T)
				if err1 != nil || err2 != nil || !relClose(s, e, 1e-10) {
					t.Errorf("p=%v x=%v T=%v t=%v: series %v (%v), Euler %v (%v)", p, x, T, h, s, err1, e, err2)
				}
			}
		}
	}
}

// TestDegenerateLimit checks the limits the Euler form reaches exactly:
// a = 0 is the NBD, nobody dropping out, E = (r+x)·t/(α+T); and the
// expectation is continuous through a = 1, where the series form divides
// by a − 1.
func TestDegenerateLimit(t *testing.T) {
	p := []float64{0.7, 6.4, 0, 1e-9}
	for _, c := range [][3]float64{{0, 0, 0}, {0, 0, 30}, {1, 3, 5}, {360, 51, 52}} {
		x, tx, T := c[0], c[1], c[2]
		pm := &PurchaseModel{Model: BGNBD, Params: p}
		got, err := pm.ExpectedPurchases(52, x, tx, T)
		want := (p[0] + x) * 52 / (p[1] + T)
		if err != nil || !relClose(got, want, 1e-12) {
			t.Errorf("a = 0, x=%v T=%v: %v (%v), NBD %v", x, T, got, err, want)
		}
		if pa, err := pm.PAlive(x, tx, T); err != nil || pa != 1 {
			t.Errorf("a = 0: p_alive %v (%v), want 1", pa, err)
		}
	}
	at := func(a float64) float64 {
		pm := &PurchaseModel{Model: BGNBD, Params: []float64{0.243, 4.414, a, 2.426}}
		v, err := pm.ExpectedPurchases(39, 2, 30.43, 38.86)
		if err != nil || !finite(v) {
			t.Fatalf("a = %v: %v (%v)", a, v, err)
		}
		return v
	}
	if mid, lo, hi := at(1), at(1-1e-7), at(1+1e-7); math.Abs(lo-mid) > 1e-6*mid || math.Abs(hi-mid) > 1e-6*mid {
		t.Errorf("a = 1: %v, either side %v %v", mid, lo, hi)
	}
}

// TestSeriesStopKeepsBits holds bgnbdNums, which stops each series once
// the rest of it falls geometrically below half an ulp, to the series
// summed on to the conservative bound of hyp2f1, bit for bit, for
// customers up to 400 repeat purchases.
func TestSeriesStopKeepsBits(t *testing.T) {
	ts := []float64{52, 4.345, 8.69, 13.035, 39, 300}
	for _, p := range [][]float64{{0.243, 4.414, 0.793, 2.426}, {1.0034, 14.31, 0.9899, 2.472}, {1.5, 10, 2.2, 0.9}} {
		r, alpha, a, b := p[0], p[1], p[2], p[3]
		for _, x := range []float64{0, 1, 2, 5, 13, 40, 120, 400} {
			for _, T := range []float64{0, 1, 26, 38.86, 150, 182.57} {
				got := make([]float64, len(ts))
				if err := bgnbdNums(p, ts, x, T, got); err != nil {
					t.Fatal(err)
				}
				for i, h := range ts {
					f, ok := hyp2f1(r+x, b+x, a+b+x-1, h/(alpha+T+h))
					if !ok || !(f > 0) {
						continue // the Euler form serves
					}
					want := (a + b + x - 1) / (a - 1) * -math.Expm1(math.Log(f)+(r+x)*math.Log((alpha+T)/(alpha+h+T)))
					if math.Float64bits(got[i]) != math.Float64bits(want) {
						t.Errorf("p=%v x=%v T=%v t=%v: %v, summed on %v", p, x, T, h, got[i], want)
					}
				}
			}
		}
	}
}
