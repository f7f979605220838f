package logistic

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/linear"
)

// The per-shard side of each task. Every function visits rows in order and
// accumulates in that order; products that feed a sum are formed with
// math.FMA and any other product is rounded by an explicit conversion, so
// the compiler has no a*b+c left to fuse or not.

// runCount checks every row's features and counts the rows by set and
// class. It is the job's only full check of the features: later passes
// report a non-finite sum as an overflow of the coefficients.
func runCount(r *Result, in *rows) error {
	d := in.d
	if !allFiniteFast(in.x) {
		for i := range in.n {
			for j, v := range in.x[i*d : (i+1)*d] {
				if !finite(v) {
					return fmt.Errorf("row %d column %d is %v", i, j, v)
				}
			}
		}
	}
	for i := range in.n {
		k := int(in.y[i])
		if !in.trains(i) {
			k += 2
		}
		r.Counts[k]++
		r.Weights[k] += in.weight(i)
	}
	if !allFinite(r.Weights[:]) {
		return errors.New("the sum of the weights overflowed")
	}
	return nil
}

// runLoss computes the weighted log-loss and its gradient over the training
// rows at t.Beta, and for a newton task the Hessian. The margins of a block
// of rows come first (linear.Margins), then each row's loss, residual and
// curvature in row order. A newton task with Eval sums the eval pass's
// metrics of the same rows in the same loop (evalRow, as runEval does), so
// that the rows' margins are computed once; if those sums overflow they
// are left out, and the leader runs the eval pass.
func runLoss(r *Result, t *Task, in *rows) {
	d := in.d
	d1 := d + 1
	r.Grad = grow(r.Grad, d1)
	var h *hessian
	if t.Kind == TaskNewton {
		h = newHessian(in.x, d)
	}
	eval := t.Eval && t.Kind == TaskNewton
	if eval {
		r.Train = newSetSums(t.ExactTrain, t.Curves, in.n, in.w != nil)
		r.Holdout = newSetSums(t.ExactHoldout, t.Curves, 0, in.w != nil)
	}
	loss := 0.0
	var b lossBlock
	for lo := 0; lo < in.n; lo += marginBlock {
		m := b.run(in, lo, t.Beta)
		for q := range m {
			i := lo + q
			if !in.trains(i) {
				if eval {
					evalRow(r.Holdout, in.y[i] == 1, b.l[q], b.p[q], in.weight(i), in.w != nil)
				}
				continue
			}
			if eval {
				evalRow(r.Train, in.y[i] == 1, b.l[q], b.p[q], in.weight(i), in.w != nil)
			}
			wi := t.ClassWeights[0]
			if in.y[i] == 1 {
				wi = t.ClassWeights[1]
			}
			if in.w != nil {
				wi = float64(wi * in.w[i])
			}
			l, res, curv := b.l[q], b.res[q], b.curv[q]
			loss = math.FMA(wi, l, loss)
			gr := float64(wi * res)
			if h != nil {
				h.add(i, gr, float64(wi*curv))
				continue
			}
			addScaled(r.Grad[:d], gr, in.x[i*d:(i+1)*d])
			r.Grad[d] += gr
		}
	}
	r.Loss = loss
	if h != nil {
		h.flush()
		h.results(r)
	}
	if eval && finishEval(r) != nil {
		r.Train, r.Holdout = nil, nil
	}
	if !finite(r.Loss) || !allFinite(r.Grad) || !allFinite(r.Hess) {
		r.Overflow, r.Loss = true, 0
		r.Train, r.Holdout = nil, nil
		clear(r.Grad)
		clear(r.Hess)
	}
}

// addScaled adds s·x to dst, one FMA per entry.
func addScaled(dst []float64, s float64, x []float64) {
	dst = dst[:len(x)]
	for j, v := range x {
		dst[j] = math.FMA(s, v, dst[j])
	}
}

// hessian accumulates the gradient Σ g·(x, 1) and the Hessian
// Σ c·(x, 1)(x, 1)ᵀ of the rows added with their residual weight g and
// curvature weight c, as one linear.AddGram of order D+2 over chunks of
// rows: row q of the left operand is (g, c·x, c) and of the right one
// (0, x, 1). Entry (0, 1+j) of the result is then the FMA chain
// Σ g·x_j in row order, which is exactly what addScaled accumulates, and
// entry (0, D+1) is Σ g·1 = Σ g, so the gradient comes with the Hessian at
// the cost of one more output row.
type hessian struct {
	x              []float64 // the shard's rows
	d, s, chunk, m int
	g              []float64 // the Gram, s×s
	a, b           []float64 // one chunk of rows, row stride s
	idx            []int     // the chunk's rows
	gw, cw         []float64 // their residual and curvature weights
}

// gramChunkFloats bounds the floats of one chunk operand handed to
// linear.AddGram (16 KiB, so that both operands stay in L1).
const gramChunkFloats = 2048

func newHessian(x []float64, d int) *hessian {
	s := linear.GramStride(d + 2)
	c := max(8, gramChunkFloats/s)
	h := &hessian{x: x, d: d, s: s, chunk: c, g: make([]float64, s*s), a: make([]float64, s*c), b: make([]float64, s*c),
		idx: make([]int, c), gw: make([]float64, c), cw: make([]float64, c)}
	for q := range c {
		h.b[q*s+d+1] = 1
	}
	return h
}

// add puts row i with residual weight g and curvature weight c in the
// chunk, and hands a full chunk to AddGram.
func (h *hessian) add(i int, g, c float64) {
	h.idx[h.m], h.gw[h.m], h.cw[h.m] = i, g, c
	if h.m++; h.m == h.chunk {
		h.flush()
	}
}

// flush fills the chunk's operands and adds them to the Gram: a gets
// (g, c·x, c) and b (0, x, 1), the padding untouched (kernel.FillRows; b's
// last entry is set once, when the chunk is made).
func (h *hessian) flush() {
	if h.m == 0 {
		return
	}
	d := h.d
	kernel.FillRows(h.a, h.b, h.s, h.x, d, h.idx[:h.m], h.gw, h.cw)
	linear.AddGram(h.g, h.a, h.b, h.m, d+2)
	h.m = 0
}

// results sets r's gradient (row 0 of the Gram) and packed Hessian (the
// Gram's rows and columns 1 to D+1).
func (h *hessian) results(r *Result) {
	d, s := h.d, h.s
	copy(r.Grad, h.g[1:d+2])
	r.Hess = slices.Grow(r.Hess[:0], upperLen(d+1))
	for j := 1; j <= d+1; j++ {
		r.Hess = append(r.Hess, h.g[j*s+j:j*s+d+2]...)
	}
}

// runEval sums the metrics of the model t.Beta over the training and the
// held-out rows.
func runEval(r *Result, t *Task, in *rows) error {
	r.Train = newSetSums(t.ExactTrain, t.Curves, in.n, in.w != nil)
	r.Holdout = newSetSums(t.ExactHoldout, t.Curves, 0, in.w != nil)
	var blk lossBlock
	for lo := 0; lo < in.n; lo += marginBlock {
		for q := range blk.run(in, lo, t.Beta) {
			i := lo + q
			s := r.Train
			if !in.trains(i) {
				s = r.Holdout
			}
			evalRow(s, in.y[i] == 1, blk.l[q], blk.p[q], in.weight(i), in.w != nil)
		}
	}
	return finishEval(r)
}

// finishEval checks the eval sums of r and sorts their scores.
func finishEval(r *Result) error {
	for _, s := range []*SetSums{r.Train, r.Holdout} {
		if !finite(s.W) || !finite(s.LogLoss) || !allFinite(s.CalP) || !allFinite(s.CalW) || !allFinite(s.CurveW) {
			return errors.New("a metric sum is not finite: a held-out row's margin overflowed")
		}
		sortScores(s)
	}
	return nil
}

// evalRow adds a row with label pos, log-loss l, score p and weight wi to
// the sums s.
func evalRow(s *SetSums, pos bool, l, p, wi float64, weighted bool) {
	s.N++
	s.W += wi
	s.LogLoss = math.FMA(wi, l, s.LogLoss)
	b := calBin(p)
	s.CalN[b]++
	s.CalW[b] += wi
	if s.CurveN != nil {
		c := curveBin(p)
		if pos {
			c += CurveBins
		}
		s.CurveN[c]++
		if s.CurveW != nil {
			s.CurveW[c] += wi
		}
	}
	s.CalP[b] = math.FMA(wi, p, s.CalP[b])
	if pos {
		s.CalY[b] += wi
	}
	switch {
	case s.Hist != nil:
		k := min(int(float64(p*HistBins)), HistBins-1)
		if pos {
			k += HistBins
		}
		s.Hist[k] += wi
	default:
		s.Scores = append(s.Scores, p)
		s.Labels = append(s.Labels, pos)
		if weighted {
			s.ScoreW = append(s.ScoreW, wi)
		}
	}
}

// newSetSums returns empty sums, with room for n scores in exact mode and
// curve bins when asked.
func newSetSums(exact, curves bool, n int, weighted bool) *SetSums {
	s := &SetSums{
		CalN: make([]int64, CalBins), CalW: make([]float64, CalBins),
		CalP: make([]float64, CalBins), CalY: make([]float64, CalBins),
	}
	if curves {
		s.CurveN = make([]int64, 2*CurveBins)
		if weighted {
			s.CurveW = make([]float64, 2*CurveBins)
		}
	}
	switch {
	case !exact:
		s.Hist = make([]float64, 2*HistBins)
	case n > 0:
		s.Scores, s.Labels = make([]float64, 0, n), make([]bool, 0, n)
		if weighted {
			s.ScoreW = make([]float64, 0, n)
		}
	}
	return s
}

// calEdges are the inner calibration bin edges numpy.linspace(0, 1, 11)
// produces: i·0.1 rounded, so 0.30000000000000004, not 0.3.
var calEdges = func() (e [CalBins - 1]float64) {
	step := 0.1
	for i := range e {
		e[i] = float64(i+1) * step
	}
	return e
}()

// calBin returns the calibration bin of p: the number of inner edges below
// it, as numpy.searchsorted(edges[1:-1], p) does.
func calBin(p float64) int {
	// Start from ⌊10p⌋, clamped (whatever int gives for NaN or ±Inf), and
	// step to the count: the edges are sorted, so the count is the b with
	// edge b−1 below p and edge b not.
	b := min(max(int(p*CalBins), 0), CalBins-1)
	for b > 0 && !(calEdges[b-1] < p) {
		b--
	}
	for b < CalBins-1 && calEdges[b] < p {
		b++
	}
	return b
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// upperAt is the index of entry (j, k), j ≤ k, in a packed upper triangle
// of order d.
func upperAt(j, k, d int) int { return j*d - j*(j-1)/2 + k - j }

// upperLen is the length of a packed upper triangle of order d.
func upperLen(d int) int { return d * (d + 1) / 2 }
