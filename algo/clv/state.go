package clv

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Stages of a job.
const (
	StageFit   = "fit"   // the purchase and spend models are being fitted
	StageFinal = "final" // the Hessians (and the holdout table) are next
	StageDone  = "done"
)

// State is the whole algorithm state of one job. It holds only exported,
// finite values and round-trips exactly through encoding/json, so a new
// leader can resume from the last committed copy.
type State struct {
	// Config is the job's configuration with defaults filled in.
	Config Config `json:"config"`
	// Stage is "fit", "final" or "done".
	Stage string `json:"stage"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// Shards is the number of shards, fixed by the first Absorb.
	Shards int `json:"shards"`
	// Counts totals the shards' counts, known after the first pass.
	Counts Counts `json:"counts"`
	// Fits are the purchase model's fit and the spend model's.
	Fits []*Fit `json:"fits"`
	// Final is the model once Stage is done.
	Final *Model `json:"model,omitempty"`
}

// UnmarshalJSON decodes a State, refusing one that New and Absorb could
// not have made: an unknown stage, a config that does not validate, fits
// missing or of the wrong shape.
func (s *State) UnmarshalJSON(b []byte) error {
	type plain State // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := p.Config.Validate(); err != nil {
		return errorf(ErrBadState, "config: %s", strings.TrimPrefix(err.Error(), "clv: "))
	}
	switch {
	case p.Stage != StageFit && p.Stage != StageFinal && p.Stage != StageDone:
		return errorf(ErrBadState, "unknown stage %q", p.Stage)
	case p.Stage == StageDone && p.Final == nil:
		return errorf(ErrBadState, "done without a model")
	case len(p.Fits) != 2 || p.Fits[0] == nil || p.Fits[1] == nil:
		return errorf(ErrBadState, "the state holds %d fits, want 2", len(p.Fits))
	case p.Fits[0].Model != p.Config.withDefaults().Model || p.Fits[1].Model != GammaGamma:
		return errorf(ErrBadState, "fits of %q and %q for model %q", p.Fits[0].Model, p.Fits[1].Model, p.Config.Model)
	}
	for _, f := range p.Fits {
		k := len(paramNames[f.Model])
		if len(f.Point) != k || (f.At != nil && len(f.At) != k) || (p.Stage != StageFit && len(f.At) != k) {
			return errorf(ErrBadState, "%s fit: %d parameters, want %d", modelName(f.Model), len(f.Point), k)
		}
	}
	*s = State(p)
	return nil
}

// New validates cfg and returns the initial state of a job. Both fits
// start at every parameter 1, as lifetimes does.
func New(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &State{
		Config: cfg,
		Stage:  StageFit,
		Fits: []*Fit{
			{Model: cfg.Model, Point: make([]float64, 4)},
			{Model: GammaGamma, Point: make([]float64, 3)},
		},
	}, nil
}

// Next returns the task every shard must run next, or done when the model
// is final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Stage != StageFit && s.Stage != StageFinal {
		return nil, true
	}
	t = &Task{Step: s.Step, CalibrationEnd: s.Config.CalibrationEnd, HoldoutEnd: s.Config.HoldoutEnd, TimeUnit: s.Config.TimeUnit}
	for _, f := range s.Fits {
		switch {
		case s.Stage == StageFit && !f.Converged:
			t.Evals = append(t.Evals, Eval{Model: f.Model, LogParams: slices.Clone(f.Point)})
		case s.Stage == StageFinal:
			for k := range f.At {
				for _, h := range []float64{hessStep, -hessStep} {
					p := slices.Clone(f.At)
					p[k] += h
					t.Evals = append(t.Evals, Eval{Model: f.Model, LogParams: p})
				}
			}
		}
	}
	if s.Stage == StageFinal && s.Config.HoldoutEnd != 0 {
		f := s.Fits[0]
		t.Holdout = &HoldoutTask{Model: f.Model, Params: expAll(f.At), Horizon: s.horizon()}
	}
	return t, false
}

// horizon returns the holdout period's length in time units.
func (s *State) horizon() float64 {
	return float64(dayOf(s.Config.HoldoutEnd)-dayOf(s.Config.CalibrationEnd)) / unitDays(s.Config.TimeUnit)
}

// Absorb takes exactly one Result per shard, results[i] being shard i's,
// and advances the state. The number of shards is fixed by the first
// call. Each Result is checked against the current task, so a misplaced,
// stale or corrupt Result is ErrBadResult. On error the state is
// unchanged; ErrNoCustomers, ErrNonFinite and ErrNoConvergence are final
// for the job. Absorb keeps no reference to results.
func (s *State) Absorb(results []*Result) error {
	if s.Stage == StageDone {
		return ErrDone
	}
	t, _ := s.Next()
	if err := s.checkResults(t, results); err != nil {
		return err
	}
	next, err := s.clone()
	if err != nil {
		return err
	}
	var counts Counts
	for _, r := range results {
		counts.add(r.Counts)
	}
	if next.Step == 0 {
		if err := checkCounts(counts, s.Config); err != nil {
			return err
		}
		next.Shards, next.Counts = len(results), counts
		next.Fits[0].N, next.Fits[1].N = counts.Customers, counts.Spend
	} else if counts != s.Counts {
		return errorf(ErrBadResult, "shards report %+v, the first pass %+v", counts, s.Counts)
	}
	sums := sumEvals(results, len(t.Evals))
	if s.Stage == StageFit {
		i := 0
		for _, f := range next.Fits {
			if f.Converged {
				continue
			}
			ll, g, bad := sums[i].values()
			i++
			if err := f.absorb(next.Config, ll, g, bad); err != nil {
				return err
			}
		}
		if next.Fits[0].Converged && next.Fits[1].Converged {
			next.Stage = StageFinal
		}
	} else {
		m, err := next.finish(sums, results)
		if err != nil {
			return err
		}
		next.Final, next.Stage = m, StageDone
	}
	next.Step++
	*s = *next
	return nil
}

// sumEvals adds the shards' eval sums in shard order.
func sumEvals(results []*Result, n int) []EvalResult {
	sums := make([]EvalResult, n)
	for j := range sums {
		sums[j].Grad = make([]Sum, len(results[0].Evals[j].Grad))
		for _, r := range results {
			sums[j].LL.AddSum(&r.Evals[j].LL)
			for k := range sums[j].Grad {
				sums[j].Grad[k].AddSum(&r.Evals[j].Grad[k])
			}
		}
	}
	return sums
}

// values rounds the exact sums; bad reports a non-finite term.
func (e *EvalResult) values() (ll float64, g []float64, bad bool) {
	g = make([]float64, len(e.Grad))
	for k := range g {
		g[k] = e.Grad[k].Float64()
		bad = bad || !e.Grad[k].Finite()
	}
	return e.LL.Float64(), g, bad || !e.LL.Finite()
}

// checkCounts reports a dataset the models cannot be fitted on.
func checkCounts(c Counts, cfg Config) error {
	switch {
	case c.Customers == 0 && c.HasPurchase:
		return errorf(ErrNoCustomers, "the calibration end %s is before the first purchase (%s): no customer has a purchase on or before it",
			date(cfg.CalibrationEnd), date(c.FirstDay*SecondsPerDay))
	case c.Customers == 0:
		return errorf(ErrNoCustomers, "the dataset holds no purchase (%d customers with only returns)", c.NoPurchase)
	case c.PositiveT == 0:
		return errorf(ErrNoCustomers, "the calibration period is empty: all %d customers made their first purchase on the calibration end %s",
			c.Customers, date(cfg.CalibrationEnd))
	case c.Spend == 0:
		return errorf(ErrNoCustomers, "no repeat customer with a positive mean spend (%d repeat customers of %d): the spend model cannot be fitted",
			c.Repeat, c.Customers)
	}
	return nil
}

// checkResults checks results against task t.
func (s *State) checkResults(t *Task, results []*Result) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.Step > 0 && len(results) != s.Shards {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), s.Shards)
	}
	for i, r := range results {
		switch {
		case r == nil:
			return errorf(ErrBadResult, "shard %d: missing result", i)
		case r.Step != t.Step:
			return errorf(ErrBadResult, "shard %d: result of step %d, want %d", i, r.Step, t.Step)
		case r.Shard != i:
			return errorf(ErrBadResult, "shard %d: result of shard %d", i, r.Shard)
		case len(r.Evals) != len(t.Evals):
			return errorf(ErrBadResult, "shard %d: %d evaluations, want %d", i, len(r.Evals), len(t.Evals))
		case (r.Holdout == nil) != (t.Holdout == nil):
			return errorf(ErrBadResult, "shard %d: holdout sums present %v, asked for %v", i, r.Holdout != nil, t.Holdout != nil)
		}
		c := r.Counts
		if c.Customers < 0 || c.Repeat < 0 || c.Spend < 0 || c.PositiveT < 0 || c.OnlyAfter < 0 || c.NoPurchase < 0 || c.Returns < 0 ||
			c.Repeat > c.Customers || c.Spend > c.Repeat || c.PositiveT > c.Customers {
			return errorf(ErrBadResult, "shard %d: impossible counts %+v", i, c)
		}
		if h := r.Holdout; h != nil {
			var n int64
			for g := range HoldoutGroups {
				if h.Customers[g] < 0 || h.Actual[g] < 0 {
					return errorf(ErrBadResult, "shard %d: negative holdout count", i)
				}
				n += h.Customers[g]
			}
			if n != c.Customers {
				return errorf(ErrBadResult, "shard %d: holdout table of %d customers, %d counted", i, n, c.Customers)
			}
		}
		for j, ev := range r.Evals {
			if len(ev.Grad) != len(t.Evals[j].LogParams) {
				return errorf(ErrBadResult, "shard %d: evaluation %d has %d gradient entries, want %d", i, j, len(ev.Grad), len(t.Evals[j].LogParams))
			}
		}
	}
	return nil
}

// clone returns a deep copy of s, through its JSON form's fields.
func (s *State) clone() (*State, error) {
	c := *s
	c.Fits = make([]*Fit, len(s.Fits))
	for i, f := range s.Fits {
		if f == nil {
			return nil, errorf(ErrBadState, "fit %d is missing", i)
		}
		g := *f
		if f.Line != nil {
			l := *f.Line
			g.Line = &l
		}
		c.Fits[i] = &g
	}
	if len(c.Fits) != 2 {
		return nil, errorf(ErrBadState, "%d fits, want 2", len(c.Fits))
	}
	return &c, nil
}

// finish computes the standard errors and the holdout table of the final
// pass and returns the model.
func (s *State) finish(sums []EvalResult, results []*Result) (*Model, error) {
	m := &Model{Config: s.Config, Counts: s.Counts}
	i := 0
	for fi, f := range s.Fits {
		k := len(f.At)
		fp := FittedParams{
			Model: f.Model, Names: paramNames[f.Model], Values: expAll(f.At),
			LogLik: f.LogLik, Objective: f.Obj, Customers: f.N, Iterations: f.Iter,
		}
		// H[a][b] = ∂²(N·F)/∂θa∂θb by central differences of the gradient.
		h := mat.NewSymDense(k, nil)
		grads := make([][]float64, 2*k)
		for j := range grads {
			ll, g, bad := sums[i+j].values()
			p := slices.Clone(f.At)
			p[j/2] += []float64{hessStep, -hessStep}[j%2]
			_, grads[j] = f.objective(s.Config.Penalty, p, ll, g)
			if bad || !allFinite(grads[j]) {
				grads[j] = nil
			}
		}
		i += 2 * k
		if b := boundary(f.Model, f.At); b != "" {
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s; the predictions are this limit's", modelName(f.Model), b))
		}
		se, warn := stdErrors(h, grads, f)
		if warn != "" {
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s", modelName(f.Model), warn))
		}
		fp.StdErrors = se
		if fi == 0 {
			m.Purchase = fp
		} else {
			m.Spend = fp
		}
	}
	if q := m.Spend.Values[1]; q <= 1 {
		m.Warnings = append(m.Warnings, fmt.Sprintf("Gamma-Gamma: q = %.3g ≤ 1: the population's mean spend p·v/(q−1) is infinite, "+
			"so scoring leaves the customers with p·x + q ≤ 1 (every customer without a repeat purchase) unscored", q))
	}
	if s.Config.HoldoutEnd != 0 {
		m.Holdout = holdoutTable(s.horizon(), results)
	}
	return m, nil
}

// stdErrors returns the parameters' standard errors from the gradients at
// θ ± h·eₖ (nil where not finite), by the delta method: SE(θₖ) =
// e^θₖ·√((N·∇²F)⁻¹)ₖₖ. warn explains a nil result.
func stdErrors(h *mat.SymDense, grads [][]float64, f *Fit) ([]float64, string) {
	k := len(f.At)
	n := float64(f.N)
	for a := range k {
		if grads[2*a] == nil || grads[2*a+1] == nil {
			return nil, "no standard errors: the log-likelihood is not finite near the estimate"
		}
	}
	for a := range k {
		for b := a; b < k; b++ {
			dab := (grads[2*a][b] - grads[2*a+1][b]) / (2 * hessStep)
			dba := (grads[2*b][a] - grads[2*b+1][a]) / (2 * hessStep)
			h.SetSym(a, b, n*(dab+dba)/2)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(h) {
		return nil, "no standard errors: the Hessian is not positive definite at the estimate"
	}
	var cov mat.SymDense
	if err := ch.InverseTo(&cov); err != nil {
		return nil, "no standard errors: " + err.Error()
	}
	se := make([]float64, k)
	for a := range k {
		se[a] = math.Exp(f.At[a]) * math.Sqrt(cov.At(a, a))
		if !finite(se[a]) {
			return nil, "no standard errors: the covariance is not finite"
		}
	}
	return se, ""
}

// Model returns the final model, or nil before the job is done.
func (s *State) Model() *Model { return s.Final }

// Phase reports "fit", "final" or "done".
func (s *State) Phase() string { return s.Stage }

// Pass reports the number of passes completed.
func (s *State) Pass() int64 { return s.Step }

// LogLik reports the purchase model's log-likelihood at its last accepted
// point (0 before the first pass).
func (s *State) LogLik() float64 {
	if len(s.Fits) == 0 || s.Fits[0] == nil {
		return 0
	}
	return s.Fits[0].LogLik
}
