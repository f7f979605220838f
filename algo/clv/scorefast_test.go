package clv

import (
	"math"
	"slices"
	"sync"
	"testing"
)

// plainScores are a BG/NBD customer's scores by the textbook expressions,
// each expectation on its own: P(alive) = 1/(1 + e^z) (eq. 13 in logs),
// E = bgnbdNum/bgnbdDen, and the CLV month by month as lifetimes sums it,
// spend·(Eᵢ − Eᵢ₋₁)/(1+rate)^i.
func plainScores(pm *PurchaseModel, sm *SpendModel, unit string, sc ScoreConfig, x, tx, T, m float64) (Scores, error) {
	p := pm.Params
	r, alpha, a, b := p[0], p[1], p[2], p[3]
	var s Scores
	s.PAlive = 1
	if x > 0 {
		z := (r+x)*math.Log((alpha+T)/(alpha+tx)) + math.Log(a/(b+(x-1)))
		s.PAlive = 1 / (1 + math.Exp(z))
	}
	den := bgnbdDen(p, x, tx, T)
	num, err := bgnbdNum(p, sc.Horizon, x, T)
	if err != nil {
		return s, err
	}
	s.ExpectedPurchases = num / den
	if s.ExpectedSpend, err = sm.ExpectedSpend(x, m); err != nil {
		return s, err
	}
	prev := 0.0
	for i := 1; i <= sc.Value.Months; i++ {
		num, err := bgnbdNum(p, float64(i)*monthUnits(unit), x, T)
		if err != nil {
			return s, err
		}
		e := num / den
		s.CLV += s.ExpectedSpend * (e - prev) / math.Pow(1+sc.Value.Rate, float64(i))
		prev = e
	}
	return s, nil
}

// TestScoresMatchPlain holds the scorer, which shares one denominator per
// customer and the series per distinct (x, T) across the months and, on a
// worker, across shards, to the textbook expressions within 1e-12
// relative (1e-300 absolute), over the bench's kind of customers (whole
// days, 366 first-purchase days) and models at the series' edges (a near
// 1, a and b towards 0, a > 1), in weeks and days; the scores are the
// same bits with the table shared and without it.
func TestScoresMatchPlain(t *testing.T) {
	n := 20_000
	if raceEnabled {
		n = 1_500
	}
	shards := generateDays(9, n, 4)
	for _, c := range []struct {
		bg, gg []float64
		unit   string
		sc     ScoreConfig
	}{
		{[]float64{1.0034, 14.314, 0.9899, 2.4722}, []float64{6.0327, 3.9823, 14.911}, Week, ScoreConfig{52, DefaultValueConfig}},
		{[]float64{0.243, 4.414, 0.793, 2.426}, []float64{6.25, 3.74, 15.44}, Week, ScoreConfig{39, ValueConfig{Months: 24, Rate: 0.02}}},
		{[]float64{0.5, 3, 1.0004, 2}, []float64{6.25, 3.74, 15.44}, Week, ScoreConfig{52, DefaultValueConfig}},
		{[]float64{0.7, 6.4, 1e-12, 6e-9}, []float64{6.25, 3.74, 15.44}, Day, ScoreConfig{365, DefaultValueConfig}},
		{[]float64{2, 30, 3, 0.5}, []float64{6.25, 3.74, 15.44}, Day, ScoreConfig{100, ValueConfig{Months: 3, Rate: 0}}},
	} {
		m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: c.unit},
			Purchase: FittedParams{Model: BGNBD, Values: c.bg}, Spend: FittedParams{Model: GammaGamma, Values: c.gg}}
		pm, sm := m.PurchaseModel(), m.SpendModel()
		table := newTermsTable()
		worst := 0.0
		for _, s := range shards {
			if c.unit == Day {
				s = &Summaries{Keys: s.Keys, X: s.X, Spend: s.Spend, Tx: times(s.Tx, 7), T: times(s.T, 7)}
			}
			_, alone, _, err := scoreShard(m, s, c.sc, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, shared, _, err := scoreShard(m, s, c.sc, table)
			if err != nil {
				t.Fatal(err)
			}
			for i := range s.Keys {
				if alone[i] != shared[i] {
					t.Fatalf("%v: customer %s: %+v alone, %+v with the shared table", c.bg, s.Keys[i], alone[i], shared[i])
				}
				want, err := plainScores(pm, sm, c.unit, c.sc, s.X[i], s.Tx[i], s.T[i], s.Spend[i])
				if err != nil {
					t.Fatal(err)
				}
				got := alone[i]
				for j, g := range []float64{got.PAlive, got.ExpectedPurchases, got.ExpectedSpend, got.CLV} {
					w := []float64{want.PAlive, want.ExpectedPurchases, want.ExpectedSpend, want.CLV}[j]
					d := math.Abs(g-w) / max(math.Abs(w), 1e-300)
					worst = max(worst, d)
					if !(d <= 1e-12) {
						t.Fatalf("%v: customer %s (x %v, tx %v, T %v) score %d: %v, plainly %v (%.3g relative)", c.bg, s.Keys[i], s.X[i], s.Tx[i], s.T[i], j, g, w, d)
					}
				}
			}
		}
		t.Logf("%v, %s: worst relative difference %.3g", c.bg, c.unit, worst)
	}
}

func times(v []float64, f float64) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = x * f
	}
	return o
}

// TestTermsTableConcurrent scores shards at once with one shared table,
// as a worker's slots do: the scores are those of each shard alone.
func TestTermsTableConcurrent(t *testing.T) {
	m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: Week},
		Purchase: FittedParams{Model: BGNBD, Values: []float64{1.0034, 14.314, 0.9899, 2.4722}},
		Spend:    FittedParams{Model: GammaGamma, Values: []float64{6.0327, 3.9823, 14.911}}}
	sc := ScoreConfigOf(Week, 52, DefaultDiscountRate)
	shards := generateDays(11, 8_000, 8)
	table := newTermsTable()
	got := make([][]Scores, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() {
			_, got[i], _, _ = scoreShard(m, s, sc, table)
		})
	}
	wg.Wait()
	if len(table.m) == 0 {
		t.Fatal("the shared table is empty")
	}
	for i, s := range shards {
		_, want, _, err := scoreShard(m, s, sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[i], want) {
			t.Fatalf("shard %d scored with the shared table differs from alone", i)
		}
	}
}
