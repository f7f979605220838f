package kmeans

// Stages of a job. Stage names the task Next hands out; stageDone ends it.
const stageDone TaskKind = "done"

// State is the whole algorithm state of one job. It holds only exported,
// finite values and round-trips exactly through encoding/json, so a new
// leader can resume from the last committed copy.
type State struct {
	// Config is the job's configuration with defaults filled in.
	Config Config `json:"config"`
	// D is the number of training columns.
	D int `json:"d"`
	// Stage is the kind of the next task, or "done".
	Stage TaskKind `json:"stage"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// ShardRows holds each shard's row count, fixed by the first Absorb.
	ShardRows []int64 `json:"shard_rows,omitempty"`
	// Round counts the sampling rounds absorbed so far.
	Round int `json:"round"`
	// Phi is the cost φ of Candidates over all rows, from the last cost pass.
	Phi float64 `json:"phi"`
	// Candidates holds distinct initial candidate rows, row-major.
	Candidates []float64 `json:"candidates,omitempty"`
	// Centroids holds the current K*D centroids once initialisation ends.
	Centroids []float64 `json:"centroids,omitempty"`
	// Iter counts Lloyd iterations absorbed.
	Iter int `json:"iter"`
	// Inertia is the inertia of the last Lloyd pass.
	Inertia float64 `json:"inertia"`
	// LastShift is the largest centroid shift of the last Lloyd update.
	LastShift float64 `json:"last_shift"`
	// Converged records that the last shift was at most Tol.
	Converged bool `json:"converged"`
	// History holds one entry per Lloyd iteration.
	History []Iter `json:"history,omitempty"`
	// Final is the model once Stage is done.
	Final *Model `json:"model,omitempty"`
}

// New validates cfg and returns the initial state of a job over d training
// columns.
func New(cfg Config, d int) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d < 1 {
		return nil, errorf(ErrShape, "need at least 1 training column, got %d", d)
	}
	cfg = cfg.withDefaults()
	s := &State{Config: cfg, D: d, Stage: TaskPick}
	if cfg.Init == InitGiven {
		if len(cfg.Given) != cfg.K*d {
			return nil, errorf(ErrConfig, "Given must hold K*D = %d*%d = %d values, got %d", cfg.K, d, cfg.K*d, len(cfg.Given))
		}
		s.Centroids = append([]float64(nil), cfg.Given...)
		s.Stage = TaskLloyd
	}
	return s, nil
}

// Next returns the task every shard must run next, or done when the model is
// final. The Task is a fresh copy that the caller may keep or send.
func (s *State) Next() (t *Task, done bool) {
	cfg := s.Config
	t = &Task{Kind: s.Stage, Step: s.Step, D: s.D, Seed: cfg.Seed, Round: s.Round}
	switch s.Stage {
	case stageDone:
		return nil, true
	case TaskPick:
		t.M = 1
		if cfg.Init == InitRandom {
			t.M = cfg.K
		}
	case TaskCost, TaskCounts:
		t.K, t.C = s.nCand(), clone(s.Candidates)
	case TaskSample:
		t.K, t.C = s.nCand(), clone(s.Candidates)
		t.Phi, t.Oversample = s.Phi, s.oversample()
	case TaskLloyd:
		t.K, t.C, t.Far = cfg.K, clone(s.Centroids), cfg.K
	case TaskFinal:
		t.K, t.C, t.NProfile = cfg.K, clone(s.Centroids), cfg.NProfile
	}
	return t, false
}

// Absorb takes exactly one Result per shard, results[i] being shard i's, and
// advances the state. The number of shards is fixed by the first call. Each
// Result is checked against the current task (kind, step, shard index, row
// count, lengths, finiteness), so a misplaced, stale or corrupt Result is
// ErrBadResult. On error the state is unchanged; ErrTooFewRows, ErrNoRows
// and ErrNonFinite are final for the job. Absorb keeps no reference to
// results.
func (s *State) Absorb(results []*Result) error {
	if s.Stage == stageDone {
		return ErrDone
	}
	if err := s.checkResults(results); err != nil {
		return err
	}
	// Work on a copy so that a failure leaves s untouched.
	next := *s
	if next.ShardRows == nil {
		next.ShardRows = make([]int64, len(results))
		for i, r := range results {
			next.ShardRows[i] = r.N
		}
	}
	var err error
	switch s.Stage {
	case TaskPick:
		err = next.absorbPick(results)
	case TaskCost:
		err = next.absorbCost(results)
	case TaskSample:
		err = next.absorbSample(results)
	case TaskCounts:
		err = next.absorbCounts(results)
	case TaskLloyd:
		err = next.absorbLloyd(results)
	case TaskFinal:
		err = next.absorbFinal(results)
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

// Phase reports "init", "lloyd", "final" or "done".
func (s *State) Phase() string {
	switch s.Stage {
	case TaskLloyd:
		return "lloyd"
	case TaskFinal:
		return "final"
	case stageDone:
		return "done"
	}
	return "init"
}

// Iteration reports the number of Lloyd iterations completed.
func (s *State) Iteration() int { return s.Iter }

// Objective reports the inertia of the last Lloyd pass, 0 before any.
func (s *State) Objective() float64 { return s.Inertia }

// Shift reports the largest centroid shift of the last Lloyd update.
func (s *State) Shift() float64 { return s.LastShift }

func (s *State) nCand() int { return len(s.Candidates) / s.D }

func (s *State) totalRows() int64 {
	var n int64
	for _, r := range s.ShardRows {
		n += r
	}
	return n
}

func clone(s []float64) []float64 { return append([]float64(nil), s...) }
