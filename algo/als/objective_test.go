package als

import "testing"

// TestObjectiveDecreases: each half-iteration minimises the objective
// exactly over one side, so the objective can only go down (up to
// rounding) from one iteration to the next.
func TestObjectiveDecreases(t *testing.T) {
	tr := readTriples(t, "../../testdata/ratings/spark_sample_movielens.csv")
	u, i := tr.blocks(3)
	for _, implicit := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Holdout, cfg.Seed, cfg.Implicit = 0.2, 1, implicit
		m, err := Reference(cfg, u, i)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k < len(m.History); k++ {
			a, b := m.History[k-1].Objective, m.History[k].Objective
			if b > a*(1+1e-12) {
				t.Errorf("implicit=%v: objective rose from %v to %v in iteration %d", implicit, a, b, k+1)
			}
		}
		last := m.History[len(m.History)-1]
		t.Logf("implicit=%v: %+v", implicit, last)
	}
}
