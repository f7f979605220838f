package linear

import (
	"fmt"
	"math"
	"strings"
)

// The leader side: merging the partials in shard order, solving the normal
// equations, and turning the eval sums into the model.

// moments are the merged weighted means and centred cross-products of
// (features, target) over every training row.
type moments struct {
	n    int64
	w    float64
	mean []float64 // d+1
	m2   []float64 // packed upper triangle of order d+1
}

// mergeMoments combines the shards' moments in shard order with the
// pairwise update of Chan, Golub & LeVeque (1979); see moments.merge.
func mergeMoments(results []*Result, d1 int) moments {
	m := moments{mean: make([]float64, d1), m2: make([]float64, upperLen(d1))}
	delta := make([]float64, d1)
	for _, r := range results {
		m.n += r.NTrain
		m.merge(r.W, r.Mean, r.M2, d1, 0, delta)
	}
	return m
}

// merge adds a part with weight w, means mean and centred cross-products
// m2 to m: with δ = mean − m.mean and W = m.w + w,
//
//	m.mean += δ·w/W
//	m.m2   += m2 + (m.w·w/W)·δδᵀ
//
// over the upper triangle, which m2 and m.m2 both hold full (row-major with
// row stride stride) or, for stride 0, both packed. A part with no weight
// changes nothing, and equal means (δ = 0) stay exact. delta is scratch of
// length d1.
func (m *moments) merge(w float64, mean, m2 []float64, d1, stride int, delta []float64) {
	if w == 0 {
		return
	}
	f, fb := 0.0, 1.0 // the first part is copied: m.m2 + m2 + 0·δδᵀ
	if m.w != 0 {
		fb = w / (m.w + w)
		f = float64(m.w * fb)
	}
	for j := range d1 {
		delta[j] = mean[j] - m.mean[j]
	}
	i := 0
	for j := range d1 {
		fj := float64(f * delta[j])
		if stride != 0 {
			i = j*stride + j
		}
		for k := j; k < d1; k++ {
			m.m2[i] = math.FMA(fj, delta[k], m.m2[i]+m2[i])
			i++
		}
		m.mean[j] = math.FMA(delta[j], fb, m.mean[j])
	}
	m.w += w
}

func (s *State) absorbGram(results []*Result) error {
	d := s.D
	m := mergeMoments(results, d+1)
	if m.w == 0 {
		return errorf(ErrNoRows, "no training row with positive weight in %d shards", len(results))
	}
	if !allFinite(m.mean) || !allFinite(m.m2) {
		return errorf(ErrNonFinite, "merged sums overflowed")
	}
	lambda := s.Config.Lambda
	a := make([]float64, d*d)
	b := make([]float64, d)
	fit := &Fit{NTrain: m.n, SumW: m.w, Mean: m.mean, Rank: d}
	var constant []string
	for j := range d {
		for k := j; k < d; k++ {
			a[j*d+k] = m.m2[upperAt(j, k, d+1)]
		}
		if a[j*d+j] == 0 {
			constant = append(constant, s.featureName(j))
		}
		a[j*d+j] += lambda
		b[j] = m.m2[upperAt(j, d, d+1)]
	}
	f := FactorSym(a, d, s.Config.MaxCond)
	fit.Coefficients = f.Solve(nil, b)
	fit.Cond, fit.Rank = finiteCond(f.Cond()), f.Rank()
	fit.Intercept = m.mean[d]
	for j, c := range fit.Coefficients {
		fit.Intercept = math.FMA(-c, m.mean[j], fit.Intercept)
	}
	if len(constant) > 0 && lambda == 0 {
		fit.Warnings = append(fit.Warnings, fmt.Sprintf("constant over the training rows, coefficient set to 0: %s", strings.Join(constant, ", ")))
	}
	if f.PseudoInverse() {
		fit.Warnings = append(fit.Warnings, fmt.Sprintf(
			"normal equations singular or ill-conditioned (condition estimate %.3g > %.3g): solved by pseudo-inverse with %d of %d directions; collinear coefficients are not identifiable and have no standard errors",
			f.Cond(), s.Config.MaxCond, f.Rank(), d))
	} else if lambda == 0 {
		fit.InvDiag = f.InverseDiag()
		q := f.Solve(nil, m.mean[:d])
		for j, v := range q {
			fit.MeanQuad = math.FMA(v, m.mean[j], fit.MeanQuad)
		}
	}
	if !allFinite(fit.Coefficients) || !finite(fit.Intercept) || !allFinite(fit.InvDiag) || !finite(fit.MeanQuad) {
		return errorf(ErrNonFinite, "the solution of the normal equations overflowed")
	}
	s.Fit = fit
	if s.Config.Residuals {
		fit.ResidualUnit = residualUnit(&m, fit.Coefficients, d)
	} else if s.Config.Holdout == 0 {
		if tr, ok := gramEval(&m, fit.Coefficients, d); ok {
			return s.finish(tr, EvalSums{})
		}
	}
	s.Stage = TaskEval
	return nil
}

// residualUnit is the unit of the residual histograms: the training RMSE
// √(Σw·r²/Σw) as the cross-products give it (gramRSS), the sum floored at
// the margin below which they cannot resolve it, so that a near-perfect
// fit gets a small unit rather than none; 1 when even that is 0.
func residualUnit(m *moments, beta []float64, d int) float64 {
	rss, scale := gramRSS(m, beta, d)
	u := math.Sqrt(max(rss, float64(gramEvalMargin*scale)) / m.w)
	if !(u > 0) || !finite(u) {
		return 1
	}
	return u
}

// gramEvalMargin is how far the training residual sum of squares must stay
// above the rounding error of forming it from the cross-products: with RSS
// at least this fraction of the sum of its terms' magnitudes, its relative
// error is below about 10⁻¹⁰.
const gramEvalMargin = 1e-6

// gramEval returns the training rows' residual sums from the merged
// moments, without another pass over the data: with r = (y − ȳ) − (x − x̄)·β
// (the intercept makes the residuals centred), Σw·r² = m2_yy − 2β·m2_xy +
// βᵀm2_xxβ, and the centre of the eval pass is ȳ, where Σw(y − ȳ) = 0 and
// Σw(y − ȳ)² = m2_yy. It reports false when the fit is so close that the
// sum would lose its digits to cancellation; the eval pass then computes
// the residuals row by row.
func gramEval(m *moments, beta []float64, d int) (EvalSums, bool) {
	rss, scale := gramRSS(m, beta, d)
	if !(rss >= gramEvalMargin*scale) || !finite(scale) {
		return EvalSums{}, false
	}
	return EvalSums{N: m.n, W: m.w, RSS: rss, S2: m.m2[upperAt(d, d, d+1)]}, true
}

// gramRSS returns the training residual sum of squares from the merged
// moments and the sum of its terms' magnitudes.
func gramRSS(m *moments, beta []float64, d int) (rss, scale float64) {
	d1 := d + 1
	syy := m.m2[upperAt(d, d, d1)]
	rss, scale = syy, math.Abs(syy)
	for j, bj := range beta {
		sjy := m.m2[upperAt(j, d, d1)]
		rss = math.FMA(float64(-2*bj), sjy, rss)
		scale = math.FMA(math.Abs(float64(2*bj)), math.Abs(sjy), scale)
		for k, bk := range beta {
			sjk := m.m2[upperAt(min(j, k), max(j, k), d1)]
			bb := float64(bj * bk)
			rss = math.FMA(bb, sjk, rss)
			scale = math.FMA(math.Abs(bb), math.Abs(sjk), scale)
		}
	}
	return rss, scale
}

func (s *State) featureName(j int) string {
	if len(s.Config.Features) > j {
		return s.Config.Features[j]
	}
	return fmt.Sprintf("x%d", j)
}

func (s *State) absorbEval(results []*Result) error {
	var tr, ho EvalSums
	tr.Hist, ho.Hist = make([]int64, ResidualBins), make([]int64, ResidualBins)
	for _, r := range results {
		tr.add(r.Train)
		ho.add(r.Holdout)
		if r.Train.Hist == nil || r.Holdout.Hist == nil {
			tr.Hist, ho.Hist = nil, nil // a worker of an earlier build
		}
		if tr.Hist != nil {
			for b := range ResidualBins {
				tr.Hist[b] += r.Train.Hist[b]
				ho.Hist[b] += r.Holdout.Hist[b]
			}
		}
	}
	return s.finish(tr, ho)
}

// finish makes the final model from the fit and the residual sums of the
// training and the held-out rows.
func (s *State) finish(tr, ho EvalSums) error {
	fit := s.Fit
	m := &Model{
		Features:     clone2(s.Config.Features),
		D:            s.D,
		Lambda:       s.Config.Lambda,
		Coefficients: clone(fit.Coefficients),
		Intercept:    fit.Intercept,
		N:            tr.N,
		SumWeights:   tr.W,
		NHoldout:     ho.N,
		Cond:         fit.Cond,
		Rank:         fit.Rank,
	}
	if fit.ResidualUnit != 0 && tr.Hist != nil {
		m.Residuals = &Residuals{Unit: fit.ResidualUnit, Train: tr.Hist}
		if ho.N > 0 {
			m.Residuals.Holdout = ho.Hist
		}
	}
	m.R2, m.RMSE = scores(tr)
	m.HoldoutR2, m.HoldoutRMSE = scores(ho)
	pen := 0.0
	for _, c := range fit.Coefficients {
		pen = math.FMA(c, c, pen)
	}
	m.Objective = float64(0.5*tr.RSS) + float64(0.5*float64(s.Config.Lambda*pen))
	warnings := append([]string(nil), fit.Warnings...)
	if w := m.standardErrors(fit, tr.RSS); w != "" {
		warnings = append(warnings, w)
	}
	m.Warning = strings.Join(warnings, "; ")
	if !finite(m.R2) || !finite(m.RMSE) || !finite(m.HoldoutR2) || !finite(m.HoldoutRMSE) || !finite(m.Objective) {
		return errorf(ErrNonFinite, "metrics overflowed")
	}
	s.Final = m
	s.Stage = stageDone
	return nil
}

func (e *EvalSums) add(o EvalSums) {
	e.N += o.N
	e.W += o.W
	e.RSS += o.RSS
	e.S1 += o.S1
	e.S2 += o.S2
}

// scores returns R² and RMSE of one row set. R² follows scikit-learn's
// r2_score: 1 − RSS/TSS, and for a constant target 1 when the fit is
// perfect and 0 otherwise. An empty set scores 0 and 0.
func scores(e EvalSums) (r2, rmse float64) {
	if e.W == 0 {
		return 0, 0
	}
	tss := max(0, e.S2-float64(e.S1*e.S1)/e.W)
	rmse = math.Sqrt(e.RSS / e.W)
	switch {
	case tss > 0:
		r2 = 1 - e.RSS/tss
	case e.RSS == 0:
		r2 = 1
	}
	return r2, rmse
}

// standardErrors fills the standard errors and t values of an unpenalised
// full-rank fit, with σ̂² = RSS/(n−D−1), and returns a warning when they
// are left out for a reason the user may not expect.
func (m *Model) standardErrors(fit *Fit, rss float64) string {
	if fit.InvDiag == nil {
		return ""
	}
	df := fit.NTrain - int64(m.D) - 1
	if df < 1 {
		return fmt.Sprintf("no standard errors: %d training rows leave no residual degree of freedom for %d coefficients and an intercept", fit.NTrain, m.D)
	}
	m.DF = df
	m.Sigma2 = rss / float64(df)
	if m.Sigma2 == 0 {
		return "no standard errors: the fit is exact (RSS = 0)"
	}
	m.StdErrors = make([]float64, m.D)
	m.TValues = make([]float64, m.D)
	for j, v := range fit.InvDiag {
		m.StdErrors[j] = math.Sqrt(float64(m.Sigma2 * max(v, 0)))
		if m.StdErrors[j] > 0 {
			m.TValues[j] = m.Coefficients[j] / m.StdErrors[j]
		}
	}
	m.InterceptStdError = math.Sqrt(float64(m.Sigma2 * (1/fit.SumW + fit.MeanQuad)))
	if m.InterceptStdError > 0 {
		m.InterceptT = m.Intercept / m.InterceptStdError
	}
	return ""
}

func clone2(s []string) []string { return append([]string(nil), s...) }
