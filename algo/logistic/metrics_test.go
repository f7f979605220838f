package logistic

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortedAUC is exactAUC by a stable comparison sort, as it was first
// written: the radix sort must give the same bits.
func sortedAUC(parts []*SetSums) (float64, bool) {
	type scored struct {
		p   float64
		pos bool
		w   float64
	}
	var rows []scored
	for _, p := range parts {
		for i, v := range p.Scores {
			w := 1.0
			if p.ScoreW != nil {
				w = p.ScoreW[i]
			}
			rows = append(rows, scored{v, p.Labels[i], w})
		}
	}
	slices.SortStableFunc(rows, func(a, b scored) int {
		switch {
		case a.p < b.p:
			return -1
		case a.p > b.p:
			return 1
		}
		return 0
	})
	var acc aucAcc
	for i := 0; i < len(rows); {
		var pos, neg float64
		j := i
		for ; j < len(rows) && rows[j].p == rows[i].p; j++ {
			if rows[j].pos {
				pos += rows[j].w
			} else {
				neg += rows[j].w
			}
		}
		acc.group(pos, neg)
		i = j
	}
	return acc.auc()
}

// TestExactAUCMatchesStableSort holds the radix-sorted AUC to the
// comparison-sorted one bit for bit, on scores with many ties (where the
// order of the weights within a tie decides the rounding), both zeros,
// negative and tiny values, and weighted and unweighted sets.
func TestExactAUCMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	pool := []float64{0, math.Copysign(0, -1), 1, 0.5, 1e-300, 5e-324, -0.25, 0.3, 0.30000000000000004, 0.9999999999999999}
	for trial := range 200 {
		nparts := 1 + r.IntN(5)
		var parts []*SetSums
		for range nparts {
			n := r.IntN(300)
			p := &SetSums{Scores: make([]float64, n), Labels: make([]bool, n)}
			if trial%2 == 1 {
				p.ScoreW = make([]float64, n)
			}
			for i := range n {
				switch r.IntN(3) {
				case 0:
					p.Scores[i] = pool[r.IntN(len(pool))]
				case 1:
					p.Scores[i] = float64(r.IntN(20)) / 19
				default:
					p.Scores[i] = r.Float64()
				}
				p.Labels[i] = r.IntN(3) == 0
				if p.ScoreW != nil {
					p.ScoreW[i] = r.Float64() * 3
				}
			}
			parts = append(parts, p)
		}
		got, gok := exactAUC(parts)
		want, wok := sortedAUC(parts)
		if gok != wok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: AUC %v (%v), stable sort gives %v (%v)", trial, got, gok, want, wok)
		}
	}
}
