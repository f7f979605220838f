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

// TestExactAUCMatchesStableSort holds the merged AUC to the one of a
// stable comparison sort of every row in shard then row order, bit for
// bit, on scores with many ties (where the order of the weights within a
// tie decides the rounding), both zeros, negative and tiny values,
// weighted and unweighted sets, from 1 to 70 shards, each listing its rows
// sorted (as workers do) or in row order (as workers of earlier builds
// did), with runs long enough for the leader's 16-bit radix digits.
func TestExactAUCMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	pool := []float64{0, math.Copysign(0, -1), 1, 0.5, 1e-300, 5e-324, -0.25, 0.3, 0.30000000000000004, 0.9999999999999999}
	for trial := range 200 {
		nparts := 1 + r.IntN(5)
		if trial%5 == 0 {
			nparts = 1 + r.IntN(70)
		}
		var parts []*SetSums
		for range nparts {
			n := r.IntN(300)
			if trial%50 == 7 {
				n = 1<<18 + r.IntN(1000)
			}
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
		want, wok := sortedAUC(parts)
		listed := make([]*SetSums, len(parts))
		for i, p := range parts {
			q := *p
			if r.IntN(2) == 0 {
				sortScores(&q)
			}
			listed[i] = &q
		}
		got, gok := exactAUC(listed)
		if gok != wok || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: AUC %v (%v), stable sort gives %v (%v)", trial, got, gok, want, wok)
		}
	}
}

// TestSortScores holds a shard's sorted listing to a stable comparison
// sort of its rows by score, labels and weights moving with their scores.
func TestSortScores(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	pool := []float64{0, math.Copysign(0, -1), 1, 0.5, 5e-324, -0.25, 0.3}
	for trial := range 100 {
		n := r.IntN(2000)
		s := &SetSums{Scores: make([]float64, n), Labels: make([]bool, n)}
		if trial%2 == 1 {
			s.ScoreW = make([]float64, n)
		}
		idx := make([]int, n)
		for i := range n {
			s.Scores[i] = pool[r.IntN(len(pool))]
			if r.IntN(2) == 0 {
				s.Scores[i] = r.Float64() * math.Pow(2, float64(-r.IntN(60)))
			}
			s.Labels[i] = r.IntN(2) == 0
			if s.ScoreW != nil {
				s.ScoreW[i] = float64(i)
			}
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch pa, pb := s.Scores[a], s.Scores[b]; {
			case pa < pb:
				return -1
			case pa > pb:
				return 1
			}
			return 0
		})
		got := *s
		sortScores(&got)
		for q, i := range idx {
			if math.Float64bits(got.Scores[q]) != math.Float64bits(s.Scores[i]) || got.Labels[q] != s.Labels[i] ||
				s.ScoreW != nil && got.ScoreW[q] != s.ScoreW[i] {
				t.Fatalf("trial %d: position %d holds (%v, %v), the stable sort puts row %d (%v, %v) there",
					trial, q, got.Scores[q], got.Labels[q], i, s.Scores[i], s.Labels[i])
			}
		}
	}
}
