package logistic

// The ROC, cumulative gains and lift of a row set, drawn on the leader from
// the eval pass's curve bins: CurveBins bins of equal width in predicted
// probability, each with its rows of each class. The bins hold exact
// counts (and, for weighted rows, weights summed in shard order), so the
// curves have the same bits whatever the number of workers.
//
// Rows that share a bin count as tied: the ROC joins the points at the bin
// edges with straight lines (as scikit-learn's roc_curve joins tied
// scores), its area is the Mann–Whitney statistic with ties within a bin
// counting one half — roc_auc_score of the scores rounded down to their
// bin — and a decile boundary that falls inside a bin takes the bin's rows
// pro rata, which is what a random order of the tied rows gives on
// average.

// CurveBins is the number of curve bins: bin b holds the rows with
// ⌊p·CurveBins⌋ = b (p = 1 in the last bin).
const CurveBins = 100

// curveBin returns the curve bin of a probability p in [0, 1].
func curveBin(p float64) int {
	return min(max(int(float64(p*CurveBins)), 0), CurveBins-1)
}

// CurveBin is one curve bin: the rows with Lo ≤ p < Hi (the last bin also
// p = 1) of each class, with the sums of their sample weights.
type CurveBin struct {
	Lo             float64 `json:"lo"`
	Hi             float64 `json:"hi"`
	Negatives      int64   `json:"negatives"`
	Positives      int64   `json:"positives"`
	NegativeWeight float64 `json:"negative_weight"`
	PositiveWeight float64 `json:"positive_weight"`
}

// ROCPoint is one point of the ROC curve: the false and true positive
// rates of predicting class 1 for the rows of the bins whose lower edge is
// at least Threshold (the first point, Threshold 1, predicts it for none).
type ROCPoint struct {
	Threshold float64 `json:"threshold"`
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
}

// Decile is one tenth of the rows' weight, in decreasing order of
// predicted probability: Decile 1 is the top tenth.
type Decile struct {
	Decile int `json:"decile"`
	// Share is the share of the rows from the top down to the end of this
	// decile, Decile/10.
	Share float64 `json:"share"`
	// Gains is the share of class 1 (by weight) found in those rows.
	Gains float64 `json:"gains"`
	// Lift is the decile's rate of class 1 over the set's; CumulativeLift
	// the rate in the top Share over the set's, Gains/Share.
	Lift           float64 `json:"lift"`
	CumulativeLift float64 `json:"cumulative_lift"`
}

// mergeCurve sums the shards' curve bins in shard order; ok is false when
// a shard sent none (a worker of an earlier build).
func mergeCurve(parts []*SetSums) (bins []CurveBin, ok bool) {
	bins = make([]CurveBin, CurveBins)
	for b := range bins {
		bins[b].Lo, bins[b].Hi = float64(b)/CurveBins, float64(b+1)/CurveBins
	}
	for _, p := range parts {
		if p.CurveN == nil {
			return nil, false
		}
		for b := range bins {
			neg, pos := p.CurveN[b], p.CurveN[CurveBins+b]
			nw, pw := float64(neg), float64(pos)
			if p.CurveW != nil {
				nw, pw = p.CurveW[b], p.CurveW[CurveBins+b]
			}
			c := &bins[b]
			c.Negatives += neg
			c.Positives += pos
			c.NegativeWeight += nw
			c.PositiveWeight += pw
		}
	}
	return bins, true
}

// curves derives the ROC (len(bins)+1 points), its area and the ten
// deciles from a set's curve bins; ok is false when the set lacks a class.
func curves(bins []CurveBin) (roc []ROCPoint, auc float64, deciles []Decile, ok bool) {
	var acc aucAcc
	for _, b := range bins {
		acc.group(b.PositiveWeight, b.NegativeWeight)
	}
	auc, ok = acc.auc()
	if !ok {
		return nil, 0, nil, false
	}
	pos, neg := acc.pos, acc.negBelow
	// Walk down from the top bin: cw and cp are the weights of all rows
	// and of class 1 in the bins walked so far.
	k := len(bins)
	roc = make([]ROCPoint, 0, k+1)
	roc = append(roc, ROCPoint{Threshold: 1})
	cw, cp := make([]float64, k+1), make([]float64, k+1)
	var tp, fp float64
	for i := range k {
		b := bins[k-1-i]
		tp += b.PositiveWeight
		fp += b.NegativeWeight
		cw[i+1], cp[i+1] = float64(tp+fp), tp
		roc = append(roc, ROCPoint{Threshold: b.Lo, FPR: fp / neg, TPR: tp / pos})
	}
	total := cw[k]
	gains := func(share float64) float64 {
		at := float64(share * total)
		j := 1
		for j < k && cw[j] < at {
			j++
		}
		w := float64(cw[j] - cw[j-1])
		if w == 0 {
			return cp[j] / pos
		}
		frac := float64(at-cw[j-1]) / w
		return float64(cp[j-1]+float64(frac*float64(cp[j]-cp[j-1]))) / pos
	}
	prev := 0.0
	for d := 1; d <= 10; d++ {
		share := float64(d) / 10
		g := 1.0
		if d < 10 {
			g = gains(share)
		}
		deciles = append(deciles, Decile{Decile: d, Share: share, Gains: g,
			Lift: float64(g-prev) * 10, CumulativeLift: g / share})
		prev = g
	}
	return roc, auc, deciles, true
}
