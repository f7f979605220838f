package logistic

import (
	"errors"
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/linear"
)

// The per-shard side of each task. Every function visits rows in order and
// accumulates in that order; products that feed a sum are formed with
// math.FMA and any other product is rounded by an explicit conversion, so
// the compiler has no a*b+c left to fuse or not.

// gramChunkFloats bounds the floats of one chunk buffer handed to
// linear.AddGram (16 KiB, so that both operands stay in L1).
const gramChunkFloats = 2048

// runCount checks every row's features and counts the rows by set and
// class. It is the job's only full check of the features: later passes
// report a non-finite sum as an overflow of the coefficients.
func runCount(r *Result, in *rows) error {
	d := in.d
	for i := range in.n {
		for j, v := range in.x[i*d : (i+1)*d] {
			if !finite(v) {
				return fmt.Errorf("row %d column %d is %v", i, j, v)
			}
		}
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
// rows at t.Beta, and for a newton task the Hessian, as linear.AddGram of
// the rows (x, 1) against the same rows scaled by w·p(1−p).
func runLoss(r *Result, t *Task, in *rows) {
	d, beta := in.d, t.Beta
	d1 := d + 1
	r.Grad = grow(r.Grad, d1)
	grad := r.Grad
	var h hessian
	if t.Kind == TaskNewton {
		h.init(d1)
	}
	loss := 0.0
	in.forRows(beta, true, func(i int, eta float64) {
		pos := in.y[i] == 1
		wi := t.ClassWeights[0]
		if pos {
			wi = t.ClassWeights[1]
		}
		if in.w != nil {
			wi = float64(wi * in.w[i])
		}
		l, res, curv, _ := rowLoss(eta, pos)
		loss = math.FMA(wi, l, loss)
		gr := float64(wi * res)
		row := in.x[i*d : (i+1)*d]
		addScaled(grad[:d], gr, row)
		grad[d] += gr
		if h.g != nil {
			h.add(row, float64(wi*curv))
		}
	})
	r.Loss = loss
	if h.g != nil {
		h.flush()
		r.Hess = packUpper(r.Hess, h.g, d1)
	}
	if !finite(r.Loss) || !allFinite(r.Grad) || !allFinite(r.Hess) {
		r.Overflow, r.Loss = true, 0
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

// hessian accumulates Σ h·(x, 1)(x, 1)ᵀ through column-major chunks.
type hessian struct {
	d1, chunk, m int
	g, a, aw     []float64
	scale        []float64
	rows         [][]float64
}

func (h *hessian) init(d1 int) {
	h.d1 = d1
	h.chunk = max(8, gramChunkFloats/d1)
	h.g = make([]float64, d1*d1)
	h.a = make([]float64, d1*h.chunk)
	h.aw = make([]float64, d1*h.chunk)
	h.scale = make([]float64, h.chunk)
	h.rows = make([][]float64, h.chunk)
}

func (h *hessian) add(row []float64, s float64) {
	h.rows[h.m], h.scale[h.m] = row, s
	h.m++
	if h.m == h.chunk {
		h.flush()
	}
}

func (h *hessian) flush() {
	c, d := h.m, h.d1-1
	if c == 0 {
		return
	}
	a, aw := h.a[:h.d1*c], h.aw[:h.d1*c]
	for q, row := range h.rows[:c] {
		s := h.scale[q]
		for j, v := range row {
			a[j*c+q] = v
			aw[j*c+q] = float64(s * v)
		}
		a[d*c+q], aw[d*c+q] = 1, s
	}
	linear.AddGram(h.g, aw, a, c, h.d1)
	h.m = 0
}

// runEval sums the metrics of the model t.Beta over the training and the
// held-out rows.
func runEval(r *Result, t *Task, in *rows) error {
	r.Train = newSetSums(t.ExactTrain, in.n, in.w != nil)
	r.Holdout = newSetSums(t.ExactHoldout, 0, in.w != nil)
	in.forRows(t.Beta, false, func(i int, eta float64) {
		s := r.Train
		if !in.trains(i) {
			s = r.Holdout
		}
		pos := in.y[i] == 1
		l, _, _, p := rowLoss(eta, pos)
		wi := in.weight(i)
		s.N++
		s.W += wi
		s.LogLoss = math.FMA(wi, l, s.LogLoss)
		b := calBin(p)
		s.CalN[b]++
		s.CalW[b] += wi
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
			if in.w != nil {
				s.ScoreW = append(s.ScoreW, wi)
			}
		}
	})
	for _, s := range []*SetSums{r.Train, r.Holdout} {
		if !finite(s.W) || !finite(s.LogLoss) || !allFinite(s.CalP) || !allFinite(s.CalW) {
			return errors.New("a metric sum is not finite: a held-out row's margin overflowed")
		}
	}
	return nil
}

// newSetSums returns empty sums, with room for n scores in exact mode.
func newSetSums(exact bool, n int, weighted bool) *SetSums {
	s := &SetSums{
		CalN: make([]int64, CalBins), CalW: make([]float64, CalBins),
		CalP: make([]float64, CalBins), CalY: make([]float64, CalBins),
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
	b := 0
	for _, e := range calEdges {
		if e < p {
			b++
		}
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

// packUpper appends the upper triangle of the d×d row-major g to dst, row by
// row.
func packUpper(dst, g []float64, d int) []float64 {
	for j := range d {
		dst = append(dst, g[j*d+j:(j+1)*d]...)
	}
	return dst
}

// upperAt is the index of entry (j, k), j ≤ k, in a packed upper triangle
// of order d.
func upperAt(j, k, d int) int { return j*d - j*(j-1)/2 + k - j }

// upperLen is the length of a packed upper triangle of order d.
func upperLen(d int) int { return d * (d + 1) / 2 }
