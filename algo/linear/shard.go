package linear

import (
	"errors"
	"math"
)

// The per-shard side of each task. Every function visits rows in order and
// accumulates in that order; products that feed a sum are formed with
// math.FMA and any other product is rounded by an explicit conversion, so
// the compiler has no a*b+c left to fuse or not.

var errNonFinite = errors.New("the shard's rows contain NaN or ±Inf, or a sum overflowed")

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func allFinite(s []float64) bool {
	for _, v := range s {
		if !finite(v) {
			return false
		}
	}
	return true
}

// runGram computes the training rows' weighted means and centred
// cross-products. Rows go in blocks small enough to stay in L2: a first
// sweep over a block computes its means, a second centres its rows on them
// chunk by chunk (each chunk small enough for L1) and feeds AddGram, and
// the block is merged into the shard's running moments with the pairwise
// update of Chan, Golub & LeVeque, as the leader merges shards. No sum of
// squares is ever formed about 0 and then corrected (the cancellation of
// XᵀX − n·x̄x̄ᵀ), and the data are read from memory once.
func runGram(r *Result, in *rows) error {
	d1 := in.d + 1
	acc := moments{mean: make([]float64, d1), m2: make([]float64, d1*d1)}
	g := gramScratch{
		mean: make([]float64, d1), varies: make([]bool, d1), delta: make([]float64, d1),
		gb: make([]float64, d1*d1), chunk: max(8, gramBlockFloats/d1),
	}
	g.a = make([]float64, d1*g.chunk)
	if in.w != nil {
		g.aw = make([]float64, d1*g.chunk)
	}
	block := make([]int, 0, max(g.chunk, l2BlockFloats/d1))
	flush := func() {
		w := g.addBlock(in, block)
		r.NTrain += int64(len(block))
		acc.merge(w, g.mean, g.gb, d1, g.delta, true)
		block = block[:0]
	}
	for i := range in.n {
		if in.trains(i) {
			if block = append(block, i); len(block) == cap(block) {
				flush()
			}
		}
	}
	if len(block) > 0 {
		flush()
	}
	r.W = acc.w
	r.Mean = append(r.Mean, acc.mean...)
	r.M2 = packUpper(r.M2, acc.m2, d1)
	if !finite(r.W) || !allFinite(r.Mean) || !allFinite(r.M2) {
		return errNonFinite
	}
	return nil
}

// l2BlockFloats bounds the floats of one block of rows (512 KiB).
const l2BlockFloats = 1 << 16

// gramScratch holds runGram's buffers.
type gramScratch struct {
	mean   []float64 // the block's means, features then target
	varies []bool
	delta  []float64
	gb     []float64 // the block's centred cross-products, full
	a, aw  []float64 // one chunk, column-major, centred (and weighted)
	chunk  int
}

// addBlock sets g.mean and g.gb to the weighted means and centred
// cross-products of the rows idx, and returns their total weight.
func (g *gramScratch) addBlock(in *rows, idx []int) float64 {
	d := in.d
	d1 := d + 1
	w := blockMeans(in, g.mean, g.varies, idx)
	clear(g.gb)
	for lo := 0; lo < len(idx); lo += g.chunk {
		ch := idx[lo:min(len(idx), lo+g.chunk)]
		c := len(ch)
		a := g.a[:d1*c]
		for q, i := range ch {
			scatterCentred(a, in.x[i*d:(i+1)*d], g.mean, q, c)
			a[d*c+q] = in.y[i] - g.mean[d]
		}
		aw := a
		if g.aw != nil {
			aw = g.aw[:d1*c]
			for q, i := range ch {
				wi := in.w[i]
				for j := q; j < len(a); j += c {
					aw[j] = float64(wi * a[j])
				}
			}
		}
		AddGram(g.gb, aw, a, c, d1)
	}
	return w
}

// blockMeans sets mean to the weighted means of the rows idx (features then
// target) and returns their total weight. A column constant over the rows
// gets exactly its value as mean, so that it centres to exact zeros and
// cannot pose as a feature with a tiny variance. varies is scratch.
func blockMeans(in *rows, mean []float64, varies []bool, idx []int) float64 {
	d := in.d
	clear(mean)
	clear(varies)
	ref := in.x[idx[0]*d : (idx[0]+1)*d]
	yref := in.y[idx[0]]
	w := 0.0
	for _, i := range idx {
		row, yi := in.x[i*d:(i+1)*d], in.y[i]
		if yi != yref {
			varies[d] = true
		}
		if in.w == nil {
			addRow(mean[:d], varies[:d], ref, row)
			mean[d] += yi
			continue
		}
		wi := in.w[i]
		w += wi
		addRowWeighted(mean[:d], varies[:d], ref, row, wi)
		mean[d] = math.FMA(wi, yi, mean[d])
	}
	if in.w == nil {
		w = float64(len(idx))
	}
	for j := range mean {
		switch {
		case !varies[j] && j < d:
			mean[j] = ref[j]
		case !varies[j]:
			mean[j] = yref
		case w > 0:
			mean[j] /= w
		}
	}
	return w
}

// scatterCentred stores row − mean as entry q of each column of the
// column-major a, whose columns are c long.
func scatterCentred(a, row, mean []float64, q, c int) {
	mean = mean[:len(row)]
	for j, v := range row {
		a[q] = v - mean[j]
		q += c
	}
}

// addRow adds row to sum and notes in varies the columns that differ from
// ref.
func addRow(sum []float64, varies []bool, ref, row []float64) {
	sum, varies, ref = sum[:len(row)], varies[:len(row)], ref[:len(row)]
	for j, v := range row {
		sum[j] += v
		if v != ref[j] {
			varies[j] = true
		}
	}
}

// addRowWeighted is addRow for a row of weight w.
func addRowWeighted(sum []float64, varies []bool, ref, row []float64, w float64) {
	sum, varies, ref = sum[:len(row)], varies[:len(row)], ref[:len(row)]
	for j, v := range row {
		sum[j] = math.FMA(w, v, sum[j])
		if v != ref[j] {
			varies[j] = true
		}
	}
}

// runEval sums the residuals of the task's model over the training and
// the held-out rows separately.
func runEval(r *Result, t *Task, in *rows) error {
	d, coef, c := in.d, t.Coefficients, t.Centre
	for i := range in.n {
		p := t.Intercept
		for j, v := range in.x[i*d : (i+1)*d] {
			p = math.FMA(v, coef[j], p)
		}
		res, yc := in.y[i]-p, in.y[i]-c
		s := &r.Train
		if !in.trains(i) {
			s = &r.Holdout
		}
		s.N++
		if in.w == nil {
			s.W++
			s.RSS = math.FMA(res, res, s.RSS)
			s.S1 += yc
			s.S2 = math.FMA(yc, yc, s.S2)
			continue
		}
		wi := in.w[i]
		s.W += wi
		s.RSS = math.FMA(float64(wi*res), res, s.RSS)
		s.S1 = math.FMA(wi, yc, s.S1)
		s.S2 = math.FMA(float64(wi*yc), yc, s.S2)
	}
	for _, s := range []EvalSums{r.Train, r.Holdout} {
		if !allFinite([]float64{s.W, s.RSS, s.S1, s.S2}) {
			return errNonFinite
		}
	}
	return nil
}
