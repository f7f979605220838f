package clv

import (
	"slices"
	"testing"
)

// TestScoreCDNOW scores the CDNOW customers: each row is the predictions
// computed one by one, and the A tier holds at least 80% of the CLV with
// fewer than the customers of B and C together.
func TestScoreCDNOW(t *testing.T) {
	m := cdnowFit(t, BGNBD, 0, 1)
	s, err := Summarize(shardRows(loadCDNOW(t), 1)[0], m.Config)
	if err != nil {
		t.Fatal(err)
	}
	sc := ScoreConfig{Horizon: 39, Value: DefaultValueConfig}
	rows, err := m.Score(nil, s, sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(s.Keys) {
		t.Fatalf("%d rows for %d customers", len(rows), len(s.Keys))
	}
	pm, sm := m.PurchaseModel(), m.SpendModel()
	clvs := make([]float64, len(rows))
	for c, r := range rows {
		pa, _ := pm.PAlive(s.X[c], s.Tx[c], s.T[c])
		e, _ := pm.ExpectedPurchases(39, s.X[c], s.Tx[c], s.T[c])
		sp, _ := sm.ExpectedSpend(s.X[c], s.Spend[c])
		v, _ := CLV(pm, sm, Week, DefaultValueConfig, s.X[c], s.Tx[c], s.T[c], s.Spend[c])
		if r != (Scores{pa, e, sp, v}) {
			t.Fatalf("customer %s: %+v, one by one %v %v %v %v", s.Keys[c], r, pa, e, sp, v)
		}
		clvs[c] = v
	}
	cuts, err := TierCuts(clvs)
	if err != nil {
		t.Fatal(err)
	}
	var n [3]int
	var value [3]float64
	total := 0.0
	for _, v := range clvs {
		i := cuts.Tier(v) - 'A'
		n[i]++
		value[i] += v
		total += v
	}
	t.Logf("tiers: %v customers, %.0f%% %.0f%% %.0f%% of CLV", n, 100*value[0]/total, 100*value[1]/total, 100*value[2]/total)
	if value[0] < 0.8*total || value[0]+value[1] < 0.95*total || n[0] >= n[1]+n[2] {
		t.Errorf("tiers %v hold %v of %v", n, value, total)
	}
	// The customers in A are exactly the top ones.
	sorted := slices.Clone(clvs)
	slices.Sort(sorted)
	if a := sorted[len(sorted)-n[0]]; a != cuts.A {
		t.Errorf("A cut %v, the %d-th highest CLV %v", cuts.A, n[0], a)
	}
	if _, err := m.Score(nil, s, ScoreConfig{Horizon: 0, Value: DefaultValueConfig}); err == nil ||
		err.Error() != "clv: Horizon 0 is not a finite number > 0" {
		t.Errorf("horizon 0: %v", err)
	}
}
