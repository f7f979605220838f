package logistic

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// curveGolden is testdata/golden/logistic_telco_curves.json, written by
// make_curve_golden.py with scikit-learn 1.2.1 from the newton-cholesky
// solutions of logistic_telco.json.
type curveGolden struct {
	Bins  int `json:"bins"`
	Cases []struct {
		Name    string    `json:"name"`
		Train   *curveSet `json:"train"`
		Holdout *curveSet `json:"holdout"`
	} `json:"cases"`
}

type curveSet struct {
	N         int64     `json:"n"`
	Negatives []int64   `json:"negatives"`
	Positives []int64   `json:"positives"`
	BinnedAUC float64   `json:"binned_auc"`
	AUC       float64   `json:"auc"`
	FPR       []float64 `json:"roc_fpr"`
	TPR       []float64 `json:"roc_tpr"`
	ROCBins   []int     `json:"roc_bins"`
	Gains     []float64 `json:"gains"`
}

// TestCurvesGoldenTelco holds the ROC, its area and the cumulative gains
// of the Telco models against scikit-learn: the bins' counts exactly, the
// ROC points (scikit-learn's roc_curve of the bin numbers, which lists a
// point per bin that holds rows) to the bit, the area to 1e-12 of
// roc_auc_score of the bin numbers, and the gains to 1e-12 of numpy's
// interpolation. The area from bins is within the bound binning allows of
// the exact AUC (roc_auc_score of the probabilities), and the curves have
// the same bits over 1, 4 or 9 shards.
func TestCurvesGoldenTelco(t *testing.T) {
	var cases struct {
		Cases []logisticCase `json:"cases"`
	}
	var g curveGolden
	for file, v := range map[string]any{"logistic_telco.json": &cases, "logistic_telco_curves.json": &g} {
		b, err := os.ReadFile("../../testdata/golden/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if g.Bins != CurveBins || len(g.Cases) != 3 {
		t.Fatalf("golden curves: %d bins, %d cases", g.Bins, len(g.Cases))
	}
	keys, raw, y := telco(t)
	for _, gc := range g.Cases {
		var c *logisticCase
		for i := range cases.Cases {
			if cases.Cases[i].Name == gc.Name {
				c = &cases.Cases[i]
			}
		}
		if c == nil {
			t.Fatalf("no case %s in logistic_telco.json", gc.Name)
		}
		x := standardise(raw, c.Mean, c.Scale)
		cfg := Config{C: c.C, Penalty: c.Penalty, ClassWeight: c.ClassWeight, Holdout: c.Holdout, SplitSeed: c.SplitSeed, Tol: 1e-12}
		var first *Model
		for _, shards := range []int{4, 1, 9} {
			m, err := Reference(cfg, 6, shardsByKey(x, y, nil, keys, 6, shards)...)
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if first != nil {
				for _, pair := range [][2]*Metrics{{&first.Train, &m.Train}, {&first.Holdout, &m.Holdout}} {
					if a, b := mustJSON(t, curvesOf(pair[0])), mustJSON(t, curvesOf(pair[1])); a != b {
						t.Errorf("%s: the curves over %d shards differ from those over 4", c.Name, shards)
					}
				}
				continue
			}
			first = m
			checkCurveSet(t, c.Name+" train", &m.Train, gc.Train)
			checkCurveSet(t, c.Name+" holdout", &m.Holdout, gc.Holdout)
		}
	}
}

func curvesOf(m *Metrics) []any { return []any{m.Curve, m.ROC, m.CurveAUC, m.Deciles} }

func checkCurveSet(t *testing.T, name string, m *Metrics, want *curveSet) {
	t.Helper()
	if want == nil {
		if m.N != 0 || m.Curve != nil || m.ROC != nil || m.Deciles != nil {
			t.Errorf("%s: curves for an empty set", name)
		}
		return
	}
	if len(m.Curve) != CurveBins || len(m.ROC) != CurveBins+1 || len(m.Deciles) != 10 {
		t.Fatalf("%s: %d bins, %d ROC points, %d deciles", name, len(m.Curve), len(m.ROC), len(m.Deciles))
	}
	var pos, neg, ties float64
	for b, cb := range m.Curve {
		if cb.Negatives != want.Negatives[b] || cb.Positives != want.Positives[b] {
			t.Errorf("%s: bin %d holds %d and %d rows, scikit-learn %d and %d", name, b, cb.Negatives, cb.Positives, want.Negatives[b], want.Positives[b])
		}
		if cb.NegativeWeight != float64(cb.Negatives) || cb.PositiveWeight != float64(cb.Positives) {
			t.Errorf("%s: bin %d weighs %v and %v without sample weights", name, b, cb.NegativeWeight, cb.PositiveWeight)
		}
		pos += cb.PositiveWeight
		neg += cb.NegativeWeight
		ties += cb.PositiveWeight * cb.NegativeWeight
	}
	if int64(pos+neg) != want.N {
		t.Errorf("%s: bins hold %v rows, want %d", name, pos+neg, want.N)
	}
	// roc_curve lists (0, 0) and then one point per bin that holds rows,
	// from the top: the ROC's points without those of empty bins.
	var fpr, tpr []float64
	var bins []int
	for i, p := range m.ROC {
		if i == 0 || p.FPR != m.ROC[i-1].FPR || p.TPR != m.ROC[i-1].TPR {
			fpr, tpr = append(fpr, p.FPR), append(tpr, p.TPR)
			if i > 0 {
				bins = append(bins, CurveBins-i)
			}
		}
	}
	if len(fpr) != len(want.FPR) {
		t.Fatalf("%s: %d distinct ROC points, roc_curve %d", name, len(fpr), len(want.FPR))
	}
	for i := range fpr {
		if fpr[i] != want.FPR[i] || tpr[i] != want.TPR[i] {
			t.Errorf("%s: ROC point %d (%v, %v), roc_curve (%v, %v)", name, i, fpr[i], tpr[i], want.FPR[i], want.TPR[i])
		}
	}
	for i, b := range bins {
		if b != want.ROCBins[i] {
			t.Errorf("%s: ROC point %d at bin %d, roc_curve's threshold %d", name, i+1, b, want.ROCBins[i])
		}
	}
	if e := math.Abs(m.CurveAUC - want.BinnedAUC); e > 1e-12 {
		t.Errorf("%s: area from bins %.17g, roc_auc_score of the bins %.17g", name, m.CurveAUC, want.BinnedAUC)
	}
	// Ranking the rows of a bin as tied moves the area by at most half the
	// share of the pairs (positive, negative) that share a bin.
	bound := ties / 2 / (pos * neg)
	if e := math.Abs(m.CurveAUC - want.AUC); e > bound || bound > 0.01 {
		t.Errorf("%s: area from bins %.6f, exact AUC %.6f: %.2g apart, bound %.2g", name, m.CurveAUC, want.AUC, e, bound)
	}
	if m.AUCMethod == AUCExact && math.Abs(m.AUC-want.AUC) > 1e-10 {
		t.Errorf("%s: exact AUC %.17g, roc_auc_score %.17g", name, m.AUC, want.AUC)
	}
	prev := 0.0
	for i, d := range m.Deciles {
		if e := math.Abs(d.Gains - want.Gains[i]); e > 1e-12 {
			t.Errorf("%s: gains at decile %d %.17g, numpy %.17g", name, i+1, d.Gains, want.Gains[i])
		}
		if lift := (want.Gains[i] - prev) * 10; math.Abs(d.Lift-lift) > 1e-11 || math.Abs(d.CumulativeLift-want.Gains[i]/d.Share) > 1e-11 {
			t.Errorf("%s: decile %d lift %v cumulative %v, want %v and %v", name, i+1, d.Lift, d.CumulativeLift, lift, want.Gains[i]/d.Share)
		}
		prev = want.Gains[i]
	}
	t.Logf("%s: AUC %.6f exact, %.6f from %d bins (bound %.2g); top-decile lift %.3f", name, want.AUC, m.CurveAUC, CurveBins, bound, m.Deciles[0].Lift)
}
