package clv

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// searchTiers runs a TierSearch over the shards in one process.
func searchTiers(t *testing.T, shards [][]float64) *TierSearch {
	t.Helper()
	s := &TierSearch{}
	for pass := 0; ; pass++ {
		task, done := s.Next()
		if done {
			return s
		}
		if pass >= 8 { // the first pass totals and narrows at once
			t.Fatalf("no end after %d passes", pass)
		}
		answers := make([]*TierAnswer, len(shards))
		for i, sh := range shards {
			a, err := RunTierTask(task, sh)
			if err != nil {
				t.Fatal(err)
			}
			answers[i] = a
		}
		if err := s.Absorb(answers); err != nil {
			t.Fatal(err)
		}
	}
}

// The search finds TierCuts' cuts on all the values at once, and the share
// of the top fifth, whatever the sharding; ties, zeros and a total of 0
// included.
func TestTierSearchMatchesTierCuts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]float64{}
	var skewed, ties, few []float64
	for range 20000 {
		skewed = append(skewed, math.Exp(3*r.NormFloat64()))
		ties = append(ties, float64(r.IntN(5)))
	}
	few = []float64{7, 0, 3}
	cases["skewed"], cases["ties"], cases["few"] = skewed, ties, few
	cases["zeros"] = []float64{0, 0, 0, 0}
	cases["one"] = []float64{42}
	for name, vals := range cases {
		want, err := TierCuts(vals)
		if err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		slices.Reverse(sorted)
		k := (len(vals) + 4) / 5
		var top, total Sum
		for i, v := range sorted {
			if i < k {
				top.Add(v)
			}
			total.Add(v)
		}
		for _, n := range []int{1, 3, 8} {
			shards := make([][]float64, n)
			for i, v := range vals {
				shards[i%n] = append(shards[i%n], v)
			}
			s := searchTiers(t, shards)
			got, err := s.Tiers()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s over %d shards: cuts %+v, TierCuts %+v", name, n, got, want)
			}
			rows, share := s.TopShare()
			wantShare := 0.0
			if total.Float64() > 0 {
				wantShare = top.Float64() / total.Float64()
			}
			if rows != int64(max(1, k)) || share != wantShare {
				t.Errorf("%s over %d shards: top %d hold %v, want %d holding %v", name, n, rows, share, k, wantShare)
			}
		}
	}
}

func TestTierSearchRefusesBadValues(t *testing.T) {
	for _, v := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := RunTierTask(&TierTask{}, []float64{1, v}); err == nil {
			t.Errorf("CLV %v accepted", v)
		}
	}
}

// The scoring job's shard scores are Score's, bit for bit; with the
// Gamma-Gamma q < 1 the customers without a repeat purchase, whose
// expected spend is infinite, are left unscored and the others keep the
// bits of the one-by-one predictions.
func TestScoreShardIsScore(t *testing.T) {
	m := &Model{Config: Config{CalibrationEnd: cdnowCalEnd, TimeUnit: Week},
		Purchase: FittedParams{Model: BGNBD, Values: []float64{0.243, 4.414, 0.793, 2.426}},
		Spend:    FittedParams{Model: GammaGamma, Values: []float64{6.25, 3.74, 15.44}}}
	sc := ScoreConfigOf(Week, 39, 0.02)
	for _, tx := range shardRows(loadCDNOW(t), 2) {
		s, err := Summarize(tx, m.Config)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.Score(nil, s, sc)
		if err != nil {
			t.Fatal(err)
		}
		keys, got, unscored, err := scoreShard(m, s, sc, nil)
		if err != nil || len(unscored) != 0 || !slices.Equal(keys, s.Keys) {
			t.Fatalf("%d scored, %d unscored (%v)", len(keys), len(unscored), err)
		}
		for i := range want {
			if math.Float64bits(got[i].CLV) != math.Float64bits(want[i].CLV) || got[i] != want[i] {
				t.Fatalf("customer %s: %+v, Score gives %+v", s.Keys[i], got[i], want[i])
			}
		}
		q := *m
		q.Spend.Values = []float64{11.26, 0.834, 11.27} // the Online Retail sample's q < 1
		if _, err := q.Score(nil, s, sc); !errors.Is(err, ErrNoSpend) || !errors.Is(err, ErrPredict) {
			t.Fatalf("Score with q < 1: %v", err)
		}
		keys, got, unscored, err = scoreShard(&q, s, sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		pm, sm := q.PurchaseModel(), q.SpendModel()
		n := 0
		for c, k := range s.Keys {
			if s.X[c] == 0 {
				if !slices.Contains(unscored, k) {
					t.Fatalf("customer %s without a repeat purchase scored", k)
				}
				continue
			}
			if keys[n] != k {
				t.Fatalf("scored %s, want %s", keys[n], k)
			}
			pa, _ := pm.PAlive(s.X[c], s.Tx[c], s.T[c])
			e, _ := pm.ExpectedPurchases(39, s.X[c], s.Tx[c], s.T[c])
			sp, _ := sm.ExpectedSpend(s.X[c], s.Spend[c])
			v, _ := CLV(pm, sm, Week, sc.Value, s.X[c], s.Tx[c], s.T[c], s.Spend[c])
			if got[n] != (Scores{pa, e, sp, v}) {
				t.Fatalf("customer %s: %+v, one by one %v %v %v %v", k, got[n], pa, e, sp, v)
			}
			n++
		}
		if n != len(keys) || n+len(unscored) != len(s.Keys) {
			t.Fatalf("%d scored, %d unscored of %d", len(keys), len(unscored), len(s.Keys))
		}
	}
}
