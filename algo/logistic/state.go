package logistic

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
	// Solver is the solver in use, "newton" or "lbfgs".
	Solver string `json:"solver"`
	// Stage is the kind of the next task, or "done".
	Stage TaskKind `json:"stage"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// ShardRows holds each shard's row count, fixed by the first Absorb.
	ShardRows []int64 `json:"shard_rows,omitempty"`
	// Counts and Weights are the count pass's totals (training 0,
	// training 1, held-out 0, held-out 1).
	Counts  [4]int64   `json:"counts"`
	Weights [4]float64 `json:"weights"`
	// ClassWeights are the weights of class 0 and class 1 in the loss.
	ClassWeights [2]float64 `json:"class_weights"`
	// Point holds the D coefficients and the intercept at which the next
	// loss pass evaluates, or of the final model for the eval pass.
	Point []float64 `json:"point,omitempty"`
	// Line is the pending line search: Point is Base + T·Dir on trial.
	Line *Line `json:"line,omitempty"`
	// S and Y hold the L-BFGS correction pairs, oldest first.
	S [][]float64 `json:"s,omitempty"`
	Y [][]float64 `json:"y,omitempty"`
	// Iter counts accepted steps.
	Iter int `json:"iter"`
	// Obj is the objective at the last accepted point (Σw·ℓ + ½λ‖β‖²).
	Obj float64 `json:"obj"`
	// Converged records that a tolerance test passed.
	Converged bool `json:"converged"`
	// Unresolved counts the consecutive accepted steps whose change of the
	// objective was within rounding noise.
	Unresolved int `json:"unresolved,omitempty"`
	// Warnings collects the caveats the model will carry.
	Warnings []string `json:"warnings,omitempty"`
	// History holds one entry per accepted step.
	History []Iter `json:"history,omitempty"`
	// Final is the model once Stage is done.
	Final *Model `json:"model,omitempty"`
}

// Line is a backtracking line search in progress.
type Line struct {
	Base     []float64 `json:"base"`
	BaseObj  float64   `json:"base_obj"`
	BaseGrad []float64 `json:"base_grad"`
	Dir      []float64 `json:"dir"`
	// Slope is the directional derivative BaseGrad·Dir, negative.
	Slope float64 `json:"slope"`
	// T is the step length on trial; Halvings counts the rejections.
	T        float64 `json:"t"`
	Halvings int     `json:"halvings"`
	// Eval asks the trial's newton pass for the eval sums too: the step
	// is expected to end the fit (finalStep).
	Eval bool `json:"eval,omitempty"`
}

// Iter records one accepted step.
type Iter struct {
	// Objective after the step.
	Objective float64 `json:"objective"`
	// Step is the largest change of a coefficient or the intercept.
	Step float64 `json:"step"`
	// Gradient is the largest entry of the objective's gradient after it.
	Gradient float64 `json:"gradient"`
	// Halvings counts the step halvings the line search needed.
	Halvings int `json:"halvings"`
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
	cfg = cfg.withDefaults()
	s := &State{Config: cfg, D: d, Solver: cfg.Solver, Stage: TaskCount}
	if s.Solver == SolverAuto {
		s.Solver = SolverNewton
		if d > cfg.NewtonMaxD {
			s.Solver = SolverLBFGS
		}
	}
	return s, nil
}

// Next returns the task every shard must run next, or done when the model is
// final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Stage == stageDone {
		return nil, true
	}
	t = &Task{Kind: s.Stage, Step: s.Step, D: s.D, Holdout: s.Config.Holdout, SplitSeed: s.Config.SplitSeed}
	if s.Stage != TaskCount {
		t.Beta = clone(s.Point)
		t.ClassWeights = s.ClassWeights
	}
	if s.Stage == TaskEval || (s.Stage == TaskNewton && s.Line != nil && s.Line.Eval) {
		t.ExactTrain, t.ExactHoldout = s.exactTrain(), s.exactHoldout()
		t.Curves = true
		t.Eval = s.Stage == TaskNewton
	}
	return t, false
}

// Absorb takes exactly one Result per shard, results[i] being shard i's, and
// advances the state. The number of shards is fixed by the first call. Each
// Result is checked against the current task (kind, step, shard index, row
// count, lengths, finiteness), so a misplaced, stale or corrupt Result is
// ErrBadResult. On error the state is unchanged; ErrOneClass is final for
// the job. Absorb keeps no reference to results.
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
	case TaskCount:
		err = next.absorbCount(results)
	case TaskNewton, TaskGrad:
		err = next.absorbLoss(results)
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

// Model returns the final model, or nil before the job is done.
func (s *State) Model() *Model { return s.Final }

// Phase reports "count", "fit", "eval" or "done".
func (s *State) Phase() string {
	switch s.Stage {
	case TaskCount:
		return "count"
	case TaskNewton, TaskGrad:
		return "fit"
	case TaskEval:
		return "eval"
	}
	return "done"
}

// Iteration reports the number of accepted steps.
func (s *State) Iteration() int { return s.Iter }

// Objective reports Σw·ℓ + ½λ‖β‖² over the training rows at the last
// accepted point (scikit-learn's objective divided by C), 0 before the
// first loss pass.
func (s *State) Objective() float64 { return s.Obj }

func clone(s []float64) []float64 { return append([]float64(nil), s...) }
