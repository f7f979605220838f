package clv

import (
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Task is everything a shard needs to compute its Result for one pass. It
// is the same for every shard of a pass and is JSON-serialisable.
type Task struct {
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// CalibrationEnd, HoldoutEnd and TimeUnit are the job's, with which
	// the shard computes its customers' summaries.
	CalibrationEnd int64  `json:"calibration_end"`
	HoldoutEnd     int64  `json:"holdout_end,omitempty"`
	TimeUnit       string `json:"time_unit"`
	// Evals are the log-likelihood evaluations of the pass.
	Evals []Eval `json:"evals,omitempty"`
	// Holdout, when set, asks for the calibration-vs-holdout sums.
	Holdout *HoldoutTask `json:"holdout,omitempty"`
}

// Eval asks for a model's log-likelihood and its gradient with respect to
// the log-parameters, summed over the shard's customers (for Gamma-Gamma,
// its repeat customers with a positive mean spend), at the parameters
// exp(LogParams).
type Eval struct {
	Model     string    `json:"model"`
	LogParams []float64 `json:"log_params"`
}

// HoldoutTask asks for the holdout sums of a fitted purchase model:
// Horizon is the holdout period's length in time units.
type HoldoutTask struct {
	Model   string    `json:"model"`
	Params  []float64 `json:"params"`
	Horizon float64   `json:"horizon"`
}

// HoldoutGroups is the number of groups of the holdout table: customers
// with 0, 1, …, 6 and 7 or more calibration repeat purchases.
const HoldoutGroups = 8

// HoldoutSums are one shard's holdout sums by group.
type HoldoutSums struct {
	Customers [HoldoutGroups]int64 `json:"customers"`
	Actual    [HoldoutGroups]int64 `json:"actual"`
	Predicted [HoldoutGroups]Sum   `json:"predicted"`
}

// Result is one shard's answer to a Task. Its size does not depend on the
// shard's size.
type Result struct {
	Step  int64 `json:"step"`
	Shard int   `json:"shard"`
	// Counts are the shard's customer counts; they are the same every
	// pass.
	Counts Counts `json:"counts"`
	// Evals answer the Task's Evals in order.
	Evals []EvalResult `json:"evals,omitempty"`
	// Holdout answers the Task's Holdout.
	Holdout *HoldoutSums `json:"holdout,omitempty"`

	// sum caches the shard's summaries for the next pass.
	sum    *Summaries
	sumKey [2]int64
	sumU   string
}

// EvalResult is the exact sum of the customers' log-likelihoods and of
// their gradients; LL is NaN ("nan") when a customer's value or gradient
// is not finite.
type EvalResult struct {
	LL   Sum   `json:"ll"`
	Grad []Sum `json:"grad"`
}

// RunTask computes shard's Result for t from its transactions tx. prev is
// the shard's Result of the previous pass, or nil: its cached summaries
// are reused when the task's calibration is the same. It keeps no
// reference to tx beyond the summaries it derives.
func RunTask(prev *Result, t *Task, tx *Tx, shard int) (*Result, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var s *Summaries
	key := [2]int64{t.CalibrationEnd, t.HoldoutEnd}
	if prev != nil && prev.sum != nil && prev.sumKey == key && prev.sumU == t.TimeUnit {
		s = prev.sum
	} else {
		var err error
		s, err = Summarize(tx, Config{CalibrationEnd: t.CalibrationEnd, HoldoutEnd: t.HoldoutEnd, TimeUnit: t.TimeUnit})
		if err != nil {
			return nil, err
		}
	}
	r, err := runOn(t, s, shard)
	if err != nil {
		return nil, err
	}
	r.sumKey, r.sumU = key, t.TimeUnit
	return r, nil
}

// runOn computes shard's Result for the checked task t from its
// summaries s.
func runOn(t *Task, s *Summaries, shard int) (*Result, error) {
	r := &Result{Step: t.Step, Shard: shard, Counts: s.Counts, sum: s}
	for _, ev := range t.Evals {
		r.Evals = append(r.Evals, evalSums(ev, s))
	}
	if h := t.Holdout; h != nil {
		hs, err := holdoutSums(h, s)
		if err != nil {
			return nil, err
		}
		r.Holdout = hs
	}
	return r, nil
}

// evalChunk is the number of customers one goroutine of evalSums sums at
// a time.
const evalChunk = 1 << 14

// evalSums sums ev's log-likelihood and gradient over s's customers, in
// chunks on up to GOMAXPROCS goroutines: the sums are exact, so the
// result does not depend on how the customers are split.
func evalSums(ev Eval, s *Summaries) EvalResult {
	k := len(ev.LogParams)
	p := make([]float64, k)
	for i, lp := range ev.LogParams {
		p[i] = math.Exp(lp)
	}
	n := len(s.X)
	chunks := (n + evalChunk - 1) / evalChunk
	workers := max(1, min(runtime.GOMAXPROCS(0), chunks))
	parts := make([]EvalResult, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := EvalResult{Grad: make([]Sum, k)}
			terms := &xCache{p: p, model: ev.Model}
			g := make([]float64, k)
			for {
				c := int(next.Add(1)-1) * evalChunk
				if c >= n || !res.LL.Finite() {
					break
				}
				sumRange(&res, terms, g, ev.Model, s, c, min(c+evalChunk, n))
			}
			parts[w] = res
		}()
	}
	wg.Wait()
	res := parts[0]
	for _, o := range parts[1:] {
		res.LL.AddSum(&o.LL)
		for i := range res.Grad {
			res.Grad[i].AddSum(&o.Grad[i])
		}
	}
	if !res.LL.Finite() { // one form for every split
		res = EvalResult{Grad: make([]Sum, k)}
		res.LL.Add(math.NaN())
	}
	return res
}

// sumRange adds the terms of customers lo…hi−1 of s to res.
func sumRange(res *EvalResult, terms *xCache, g []float64, model string, s *Summaries, lo, hi int) {
	for c := lo; c < hi; c++ {
		var ll float64
		var ok bool
		x := s.X[c]
		switch model {
		case BGNBD:
			ll, ok = bgnbdLLx(terms.p, terms.of(x), x, s.Tx[c], s.T[c], g)
		case ParetoNBD:
			ll, ok = paretoLLx(terms.p, terms.of(x), x, s.Tx[c], s.T[c], g)
		default:
			if x == 0 || !(s.Spend[c] > 0) {
				continue
			}
			ll, ok = ggLLx(terms.p, terms.of(x), x, s.Spend[c], g)
		}
		if !ok {
			res.LL.Add(math.NaN())
			return
		}
		res.LL.Add(ll)
		for i := range g {
			res.Grad[i].Add(g[i])
		}
	}
}

// xCache holds the terms of the small repeat counts of one evaluation.
type xCache struct {
	p     []float64
	model string
	terms [256]xTerms
	have  [256]bool
	spare xTerms
}

// of returns the terms of x, computed once for x < 256.
func (c *xCache) of(x float64) *xTerms {
	i := int(x)
	if i < len(c.terms) && float64(i) == x {
		if !c.have[i] {
			c.terms[i], c.have[i] = c.compute(x), true
		}
		return &c.terms[i]
	}
	c.spare = c.compute(x)
	return &c.spare
}

func (c *xCache) compute(x float64) xTerms {
	switch c.model {
	case BGNBD:
		return bgnbdTerms(c.p, x)
	case ParetoNBD:
		return paretoTerms(c.p, x)
	}
	return ggTerms(c.p, x)
}

// holdoutSums sums the actual and predicted holdout purchases by group.
func holdoutSums(h *HoldoutTask, s *Summaries) (*HoldoutSums, error) {
	if s.Holdout == nil {
		return nil, errorf(ErrBadTask, "holdout sums asked for without a holdout end")
	}
	pm := &PurchaseModel{Model: h.Model, Params: h.Params}
	out := &HoldoutSums{}
	for c := range s.X {
		pred, err := pm.ExpectedPurchases(h.Horizon, s.X[c], s.Tx[c], s.T[c])
		if err != nil {
			return nil, errorf(ErrPredict, "customer %q: %v", s.Keys[c], err)
		}
		gi := min(int(s.X[c]), HoldoutGroups-1)
		out.Customers[gi]++
		out.Actual[gi] += s.Holdout[c]
		out.Predicted[gi].Add(pred)
	}
	return out, nil
}

// check reports what is wrong with t.
func (t *Task) check() error {
	if t == nil {
		return errorf(ErrBadTask, "nil task")
	}
	cfg := Config{CalibrationEnd: t.CalibrationEnd, HoldoutEnd: t.HoldoutEnd, TimeUnit: t.TimeUnit}
	if err := cfg.Validate(); err != nil {
		return errorf(ErrBadTask, "task: %s", strings.TrimPrefix(err.Error(), "clv: "))
	}
	for i, ev := range t.Evals {
		names, ok := paramNames[ev.Model]
		if !ok {
			return errorf(ErrBadTask, "eval %d: unknown model %q", i, ev.Model)
		}
		if len(ev.LogParams) != len(names) {
			return errorf(ErrBadTask, "eval %d: %d log-parameters for %s, want %d", i, len(ev.LogParams), ev.Model, len(names))
		}
		for _, v := range ev.LogParams {
			if !finite(v) {
				return errorf(ErrBadTask, "eval %d: log-parameter %v", i, v)
			}
		}
	}
	if h := t.Holdout; h != nil {
		if h.Model != BGNBD && h.Model != ParetoNBD {
			return errorf(ErrBadTask, "holdout: unknown purchase model %q", h.Model)
		}
		if len(h.Params) != 4 || !(h.Horizon > 0) || !finite(h.Horizon) {
			return errorf(ErrBadTask, "holdout: %d parameters, horizon %v", len(h.Params), h.Horizon)
		}
		for _, v := range h.Params {
			if !(v > 0) || !finite(v) {
				return errorf(ErrBadTask, "holdout: parameter %v", v)
			}
		}
	}
	return nil
}
