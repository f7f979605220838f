package linear

import "math"

// stageDone ends a job: Next hands out no task.
const stageDone TaskKind = "done"

// State is the whole algorithm state of one job. It holds only exported,
// finite values and round-trips exactly through encoding/json, so a new
// leader can resume from the last committed copy.
type State struct {
	// Config is the job's configuration with defaults filled in.
	Config Config `json:"config"`
	// D is the number of feature columns.
	D int `json:"d"`
	// Stage is the kind of the next task, or "done".
	Stage TaskKind `json:"stage"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// ShardRows holds each shard's row count, fixed by the first Absorb.
	ShardRows []int64 `json:"shard_rows,omitempty"`
	// Fit holds what the gram pass decided, once it has run.
	Fit *Fit `json:"fit,omitempty"`
	// Final is the model once Stage is done.
	Final *Model `json:"model,omitempty"`
}

// Fit is the solution of the normal equations, kept between the gram and
// the eval pass.
type Fit struct {
	NTrain       int64     `json:"ntrain"`
	SumW         float64   `json:"sum_w"`
	Mean         []float64 `json:"mean"` // D feature means, then the target's
	Coefficients []float64 `json:"coefficients"`
	Intercept    float64   `json:"intercept"`
	// Cond is the condition estimate of the equilibrated system,
	// math.MaxFloat64 standing for +Inf.
	Cond float64 `json:"cond"`
	// Rank is the number of directions solved for: D unless the solve fell
	// back to the pseudo-inverse.
	Rank int `json:"rank"`
	// InvDiag is the diagonal of the inverse of the centred weighted
	// cross-product matrix, and MeanQuad is x̄ᵀ(that inverse)x̄; both are
	// set only for λ = 0 and a full-rank Cholesky solve, for the standard
	// errors.
	InvDiag  []float64 `json:"inv_diag,omitempty"`
	MeanQuad float64   `json:"mean_quad,omitempty"`
	// ResidualUnit is the unit of the residual histograms the eval pass
	// is asked for (0: none).
	ResidualUnit float64  `json:"residual_unit,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
}

// New validates cfg and returns the initial state of a job over d feature
// columns.
func New(cfg Config, d int) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d < 1 {
		return nil, errorf(ErrShape, "need at least 1 feature column, got %d", d)
	}
	if len(cfg.Features) != 0 && len(cfg.Features) != d {
		return nil, errorf(ErrConfig, "Features names %d columns for D=%d", len(cfg.Features), d)
	}
	return &State{Config: cfg.withDefaults(), D: d, Stage: TaskGram}, nil
}

// Next returns the task every shard must run next, or done when the model is
// final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Stage == stageDone {
		return nil, true
	}
	t = &Task{Kind: s.Stage, Step: s.Step, D: s.D, Holdout: s.Config.Holdout, SplitSeed: s.Config.SplitSeed}
	if s.Stage == TaskEval {
		t.Coefficients = clone(s.Fit.Coefficients)
		t.Intercept = s.Fit.Intercept
		t.Centre = s.Fit.Mean[s.D]
		t.ResidualUnit = s.Fit.ResidualUnit
	}
	return t, false
}

// Absorb takes exactly one Result per shard, results[i] being shard i's, and
// advances the state. The number of shards is fixed by the first call. Each
// Result is checked against the current task (kind, step, shard index, row
// count, lengths, finiteness), so a misplaced, stale or corrupt Result is
// ErrBadResult. On error the state is unchanged; ErrNoRows is final for the
// job. Absorb keeps no reference to results.
func (s *State) Absorb(results []*Result) error {
	if s.Stage == stageDone {
		return ErrDone
	}
	if err := s.checkResults(results); err != nil {
		return err
	}
	next := *s
	if next.ShardRows == nil {
		next.ShardRows = make([]int64, len(results))
		for i, r := range results {
			next.ShardRows[i] = r.N
		}
	}
	var err error
	switch s.Stage {
	case TaskGram:
		err = next.absorbGram(results)
	case TaskEval:
		err = next.absorbEval(results)
	}
	if err != nil {
		return err
	}
	next.Step++
	*s = next
	return nil
}

func (s *State) checkResults(results []*Result) error {
	if len(results) == 0 {
		return errorf(ErrBadResult, "no results")
	}
	if s.ShardRows != nil && len(results) != len(s.ShardRows) {
		return errorf(ErrBadResult, "%d results for %d shards", len(results), len(s.ShardRows))
	}
	d1 := s.D + 1
	for i, r := range results {
		bad := func(format string, args ...any) error {
			return errorf(ErrBadResult, "shard %d: "+format, append([]any{i}, args...)...)
		}
		switch {
		case r == nil:
			return bad("missing result")
		case r.Kind != s.Stage || r.Step != s.Step:
			return bad("result for %s step %d, want %s step %d", r.Kind, r.Step, s.Stage, s.Step)
		case r.Shard != i:
			return bad("result carries shard index %d", r.Shard)
		case r.N < 0:
			return bad("negative row count %d", r.N)
		case s.ShardRows != nil && r.N != s.ShardRows[i]:
			return bad("%d rows, earlier passes saw %d", r.N, s.ShardRows[i])
		}
		switch s.Stage {
		case TaskGram:
			switch {
			case len(r.Mean) != d1 || len(r.M2) != upperLen(d1):
				return bad("gram result has %d means and %d cross-products, want %d and %d", len(r.Mean), len(r.M2), d1, upperLen(d1))
			case r.NTrain < 0 || r.NTrain > r.N || !(r.W >= 0) || !allFinite([]float64{r.W}) || !allFinite(r.Mean) || !allFinite(r.M2):
				return bad("gram result has bad counts or non-finite sums")
			}
		case TaskEval:
			for _, e := range []EvalSums{r.Train, r.Holdout} {
				if e.N < 0 || !(e.W >= 0) || !(e.RSS >= 0) || !(e.S2 >= 0) || !allFinite([]float64{e.W, e.RSS, e.S1, e.S2}) {
					return bad("eval result has bad counts or non-finite sums")
				}
			}
			if r.Train.N+r.Holdout.N != r.N {
				return bad("eval result counts %d+%d rows of %d", r.Train.N, r.Holdout.N, r.N)
			}
			for _, e := range []EvalSums{r.Train, r.Holdout} {
				if !histOK(e) {
					return bad("eval result's residual histogram has %d bins or does not count its %d rows", len(e.Hist), e.N)
				}
			}
		}
	}
	return nil
}

// Model returns the final model, or nil before the job is done.
func (s *State) Model() *Model { return s.Final }

// Phase reports "fit" (the gram pass is next), "eval" or "done".
func (s *State) Phase() string {
	switch s.Stage {
	case TaskGram:
		return "fit"
	case TaskEval:
		return "eval"
	}
	return "done"
}

// Iteration reports the number of passes completed (at most 2).
func (s *State) Iteration() int { return int(s.Step) }

// Objective reports ½Σw(y−ŷ)² + ½λ‖β‖² over the training rows once the eval
// pass has run, and 0 before.
func (s *State) Objective() float64 {
	if s.Final == nil {
		return 0
	}
	return s.Final.Objective
}

func clone(s []float64) []float64 { return append([]float64(nil), s...) }

// finiteCond maps +Inf to math.MaxFloat64, which JSON can carry.
func finiteCond(c float64) float64 {
	if !(c <= math.MaxFloat64) {
		return math.MaxFloat64
	}
	return c
}

// histOK reports whether a set's residual histogram is absent or has
// ResidualBins non-negative counts that add up to its rows.
func histOK(e EvalSums) bool {
	if e.Hist == nil {
		return true
	}
	if len(e.Hist) != ResidualBins {
		return false
	}
	var n int64
	for _, c := range e.Hist {
		if c < 0 {
			return false
		}
		n += c
	}
	return n == e.N
}
