package linear

import (
	"errors"
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
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
	s := GramStride(d1)
	acc := moments{mean: make([]float64, d1), m2: make([]float64, s*s)}
	g := gramScratch{
		mean: make([]float64, d1), varies: make([]bool, d1), delta: make([]float64, d1),
		gb: make([]float64, s*s), chunk: max(8, gramBlockFloats/s),
	}
	g.a = make([]float64, s*g.chunk)
	if in.w != nil {
		g.aw = make([]float64, s*g.chunk)
	}
	block := make([]int, 0, blockRows(d1))
	flush := func() {
		w := g.addBlock(in, block)
		r.NTrain += int64(len(block))
		acc.merge(w, g.mean, g.gb, d1, s, g.delta)
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
	r.M2 = packUpper(r.M2, acc.m2, d1, s)
	if !finite(r.W) || !allFinite(r.Mean) || !allFinite(r.M2) {
		return errNonFinite
	}
	return nil
}

// blockRows is the number of training rows of d1 columns (features and
// target) in one block: about 512 KiB of them, which stay in L2 between
// the two sweeps. The blocks decide which means the rows are centred on,
// so this number is part of the result's bits: never change it without
// re-recording the pinned models.
func blockRows(d1 int) int { return max(8, 2048/d1, (1<<16)/d1) }

// gramScratch holds runGram's buffers.
type gramScratch struct {
	mean   []float64 // the block's means, features then target
	varies []bool
	delta  []float64
	gb     []float64 // the block's centred cross-products, s×s
	a, aw  []float64 // one chunk of rows, row stride s, centred (and weighted)
	chunk  int
}

// addBlock sets g.mean and g.gb to the weighted means and centred
// cross-products of the rows idx, and returns their total weight. Rows go
// to AddGram in chunks small enough for L1; the chunk buffers' padding
// columns stay zero.
func (g *gramScratch) addBlock(in *rows, idx []int) float64 {
	d := in.d
	d1 := d + 1
	s := GramStride(d1)
	w := blockMeans(in, g.mean, g.varies, idx)
	clear(g.gb)
	for lo := 0; lo < len(idx); lo += g.chunk {
		ch := idx[lo:min(len(idx), lo+g.chunk)]
		c := len(ch)
		a := g.a[:s*c]
		kernel.CentreRows(a, s, in.x, d, ch, g.mean)
		my := g.mean[d]
		for q, i := range ch {
			a[q*s+d] = in.y[i] - my
		}
		aw := a
		if g.aw != nil {
			aw = g.aw[:s*c]
			kernel.ScaleRows(aw, a, s, in.w, ch)
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
	kernel.ColSums(mean, varies, ref, in.x, in.w, d, idx)
	w := 0.0
	for _, i := range idx {
		yi := in.y[i]
		if yi != yref {
			varies[d] = true
		}
		if in.w == nil {
			mean[d] += yi
			continue
		}
		wi := in.w[i]
		w += wi
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

// runEval sums the residuals of the task's model over the training and
// the held-out rows separately. The predictions come from Margins a block
// of rows ahead of the sums.
func runEval(r *Result, t *Task, in *rows) error {
	d, c := in.d, t.Centre
	// The residual histograms are counted on the stack, training rows in
	// hist[0] and held-out ones in hist[1], after each block's sums.
	var hist [2][ResidualBins]int64
	scale := float64(4 / t.ResidualUnit)
	var buf [evalBlock]float64
	for lo := 0; lo < in.n; lo += evalBlock {
		pred := buf[:min(evalBlock, in.n-lo)]
		Margins(pred, in.x[lo*d:], d, t.Coefficients, t.Intercept)
		if t.ResidualUnit != 0 {
			for q, p := range pred {
				i := lo + q
				h := &hist[0]
				if !in.trains(i) {
					h = &hist[1]
				}
				h[residualBin(in.y[i]-p, scale)]++
			}
		}
		for q, p := range pred {
			i := lo + q
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
	}
	if t.ResidualUnit != 0 {
		r.Train.Hist, r.Holdout.Hist = append([]int64(nil), hist[0][:]...), append([]int64(nil), hist[1][:]...)
	}
	for _, s := range []EvalSums{r.Train, r.Holdout} {
		if !allFinite([]float64{s.W, s.RSS, s.S1, s.S2}) {
			return errNonFinite
		}
	}
	return nil
}

// evalBlock is how many rows' predictions runEval computes ahead of their
// use.
const evalBlock = 256
