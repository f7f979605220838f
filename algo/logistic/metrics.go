package logistic

import "slices"

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
	if bins, ok := mergeCurve(parts); ok && m.N > 0 {
		m.Curve = bins
		m.ROC, m.CurveAUC, m.Deciles, _ = curves(bins)
	}
	return m
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
