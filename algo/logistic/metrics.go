package logistic

import (
	"math"
	"slices"
)

// The leader side of the eval pass: log-loss, AUC and calibration of each
// row set, summed over the shards in shard order.

func (s *State) absorbEval(results []*Result) error {
	m := &Model{
		Features:     append([]string(nil), s.Config.Features...),
		D:            s.D,
		C:            s.Config.C,
		Penalty:      s.Config.Penalty,
		ClassWeights: append([]float64(nil), s.ClassWeights[:]...),
		Solver:       s.Solver,
		Coefficients: clone(s.Point[:s.D]),
		Intercept:    s.Point[s.D],
		Iterations:   s.Iter,
		Converged:    s.Converged,
		Objective:    s.Obj,
		History:      slices.Clone(s.History),
	}
	if s.Config.Penalty == PenaltyNone {
		m.C = 0
	}
	train := make([]*SetSums, len(results))
	hold := make([]*SetSums, len(results))
	for i, r := range results {
		train[i], hold[i] = r.Train, r.Holdout
	}
	m.Train = setMetrics(train, s.exactTrain())
	m.Holdout = setMetrics(hold, s.exactHoldout())
	m.Warning = joinWarnings(s.Warnings)
	if !finite(m.Train.LogLoss) || !finite(m.Holdout.LogLoss) {
		return errorf(ErrNonFinite, "a metric overflowed")
	}
	s.Final = m
	s.Stage = stageDone
	return nil
}

// setMetrics merges one row set's sums over the shards, in shard order.
func setMetrics(parts []*SetSums, exact bool) Metrics {
	var m Metrics
	var loss float64
	calN := make([]int64, CalBins)
	calW := make([]float64, CalBins)
	calP := make([]float64, CalBins)
	calY := make([]float64, CalBins)
	for _, p := range parts {
		m.N += p.N
		m.SumWeights += p.W
		loss += p.LogLoss
		for b := range CalBins {
			calN[b] += p.CalN[b]
			calW[b] += p.CalW[b]
			calP[b] += p.CalP[b]
			calY[b] += p.CalY[b]
		}
	}
	if m.SumWeights > 0 {
		m.LogLoss = loss / m.SumWeights
	}
	lo := 0.0
	for b := range CalBins {
		hi := 1.0
		if b < CalBins-1 {
			hi = calEdges[b]
		}
		c := CalBin{Lo: lo, Hi: hi, Count: calN[b], Weight: calW[b]}
		if calW[b] > 0 {
			c.MeanPredicted, c.ObservedRate = calP[b]/calW[b], calY[b]/calW[b]
		}
		m.Calibration = append(m.Calibration, c)
		lo = hi
	}
	var ok bool
	if exact {
		m.AUC, ok = exactAUC(parts)
		m.AUCMethod = AUCExact
	} else {
		m.AUC, ok = histAUC(parts)
		m.AUCMethod = AUCHistogram
	}
	if !ok {
		m.AUC, m.AUCMethod = 0, ""
	}
	return m
}

// AUC methods.
const (
	// AUCExact ranks every row's score; ties count one half, as
	// scikit-learn's roc_auc_score.
	AUCExact = "exact"
	// AUCHistogram ranks per-class score histograms of HistBins bins;
	// rows within one bin count as tied, so the AUC can differ from the
	// exact one by at most half the weight of pairs sharing a bin.
	AUCHistogram = "histogram"
)

// aucAcc accumulates the Mann–Whitney statistic over groups of tied scores
// visited in increasing order: each positive beats every negative below
// its group and half of those in it.
type aucAcc struct{ num, negBelow, pos float64 }

func (a *aucAcc) group(pos, neg float64) {
	a.num = math.FMA(pos, a.negBelow+float64(0.5*neg), a.num)
	a.negBelow += neg
	a.pos += pos
}

func (a *aucAcc) auc() (float64, bool) {
	if !(a.pos > 0 && a.negBelow > 0) {
		return 0, false
	}
	return a.num / a.pos / a.negBelow, true
}

// exactAUC ranks the rows the shards listed, in shard then row order before
// a stable sort, so the sums run in one fixed order: tied scores are
// visited in shard then row order.
func exactAUC(parts []*SetSums) (float64, bool) {
	n := 0
	for _, p := range parts {
		n += len(p.Scores)
	}
	keys := make([]uint64, n)
	pos := make([]bool, n)
	w := make([]float64, n)
	k := 0
	for _, p := range parts {
		for i, v := range p.Scores {
			keys[k], pos[k], w[k] = orderKey(v), p.Labels[i], 1
			if p.ScoreW != nil {
				w[k] = p.ScoreW[i]
			}
			k++
		}
	}
	order := stableOrder(keys)
	var acc aucAcc
	for i := 0; i < n; {
		var tp, tn float64
		j := i
		for ; j < n && keys[order[j]] == keys[order[i]]; j++ {
			if r := order[j]; pos[r] {
				tp += w[r]
			} else {
				tn += w[r]
			}
		}
		acc.group(tp, tn)
		i = j
	}
	return acc.auc()
}

// orderKey maps a finite float64 to a uint64 that sorts as the number does:
// equal keys for equal numbers (−0 and +0 included), a larger key for a
// larger number.
func orderKey(v float64) uint64 {
	if v == 0 {
		v = 0 // −0 ties with +0
	}
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// stableOrder returns the permutation that sorts keys, equal keys in their
// original order: a least-significant-digit radix sort, 16 bits a pass,
// skipping the digits all keys share. For a million scores it is some ten
// times faster than a stable comparison sort.
func stableOrder(keys []uint64) []uint32 {
	n := len(keys)
	var counts [4][1 << 16]uint32
	for _, k := range keys {
		counts[0][k&0xffff]++
		counts[1][k>>16&0xffff]++
		counts[2][k>>32&0xffff]++
		counts[3][k>>48]++
	}
	order, next := make([]uint32, n), make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	for p := range 4 {
		c := &counts[p]
		if n == 0 || c[keys[0]>>(16*p)&0xffff] == uint32(n) {
			continue // every key has this digit
		}
		sum := uint32(0)
		for b, v := range c {
			c[b] = sum
			sum += v
		}
		for _, r := range order {
			b := keys[r] >> (16 * p) & 0xffff
			next[c[b]] = r
			c[b]++
		}
		order, next = next, order
	}
	return order
}

// histAUC ranks the shards' histograms, summed bin by bin in shard order.
func histAUC(parts []*SetSums) (float64, bool) {
	neg := make([]float64, HistBins)
	pos := make([]float64, HistBins)
	for _, p := range parts {
		for b := range HistBins {
			neg[b] += p.Hist[b]
			pos[b] += p.Hist[HistBins+b]
		}
	}
	var acc aucAcc
	for b := range HistBins {
		acc.group(pos[b], neg[b])
	}
	return acc.auc()
}

func joinWarnings(w []string) string {
	out := ""
	for i, s := range w {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}
