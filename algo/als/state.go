package als

import (
	"math"
	"slices"
)

// stageDone ends a job: Next hands out no task.
const stageDone TaskKind = "done"

// State is the whole algorithm state of one job, kept by the leader. It
// holds only exported, finite values and round-trips exactly through
// encoding/json, so a new leader can resume from the last committed copy.
// It never holds factors: only the references of the latest factor blobs
// of each side.
type State struct {
	// Config is the job's configuration with defaults filled in.
	Config Config `json:"config"`
	// UserShards and ItemShards are the number of shards of each side.
	UserShards int `json:"user_shards"`
	ItemShards int `json:"item_shards"`
	// Stage is the kind of the next task, or "done".
	Stage TaskKind `json:"stage"`
	// Step counts completed passes; Tasks carry it and Results echo it.
	Step int64 `json:"step"`
	// Iter is the iteration of the next users or items pass, the last
	// iteration once the iterations are over.
	Iter int `json:"iter"`
	// UserRefs and ItemRefs name the latest factor shards of each side.
	UserRefs []FactorRef `json:"user_refs,omitempty"`
	ItemRefs []FactorRef `json:"item_refs,omitempty"`
	// UserRows and ItemRows hold each shard's row count, fixed by the
	// first pass over the side.
	UserRows []int64 `json:"user_rows,omitempty"`
	ItemRows []int64 `json:"item_rows,omitempty"`
	// NTrain and NHoldout count training and held-out interactions (see
	// Result); TrainedUsers, TrainedItems and HeldUsers count rows, all
	// from the passes of iteration 1.
	NTrain       int64 `json:"ntrain"`
	NHoldout     int64 `json:"nholdout"`
	TrainedUsers int64 `json:"trained_users"`
	TrainedItems int64 `json:"trained_items"`
	HeldUsers    int64 `json:"held_users"`
	// EvalFraction is the fraction of eligible users whose rankings are
	// evaluated, fixed after iteration 1.
	EvalFraction float64 `json:"eval_fraction,omitempty"`
	// RegUsers is the users' regularisation sum of the current iteration.
	RegUsers float64 `json:"reg_users"`
	// History holds one entry per completed iteration.
	History []Iter `json:"history,omitempty"`
	// Popular holds the most popular items, from iteration 1.
	Popular []Popular `json:"popular,omitempty"`
}

// Iter records the measurements of one iteration, on the factors it ended
// with.
type Iter struct {
	Iteration int `json:"iteration"`
	// Objective is Loss + λ·(RegUsers + RegItems): with weighted-λ
	// Σ(r − u·v)² + λ(Σ n_u‖u‖² + Σ n_i‖v‖²) (explicit), or the HKV
	// objective Σ_all c(p − u·v)² + λ(…) (implicit).
	Objective float64 `json:"objective"`
	Loss      float64 `json:"loss"`
	RegUsers  float64 `json:"reg_users"`
	RegItems  float64 `json:"reg_items"`
	// TrainRMSE is √(Loss/NTrain) (explicit).
	TrainRMSE float64 `json:"train_rmse,omitempty"`
	// HoldoutRMSE is the RMSE over the NHoldout held-out interactions
	// whose user and item are trained (explicit); NCold counts the others.
	HoldoutRMSE float64 `json:"holdout_rmse,omitempty"`
	NHoldout    int64   `json:"nholdout,omitempty"`
	NCold       int64   `json:"ncold,omitempty"`
	// Precision, Recall and NDCG are the means of precision@K, recall@K
	// and NDCG@K over EvalUsers evaluated users of Eligible (implicit with
	// a holdout). They are filled in by the next pass.
	K         int     `json:"k,omitempty"`
	Precision float64 `json:"precision,omitempty"`
	Recall    float64 `json:"recall,omitempty"`
	NDCG      float64 `json:"ndcg,omitempty"`
	EvalUsers int64   `json:"eval_users,omitempty"`
	Eligible  int64   `json:"eligible,omitempty"`
}

// Summary is what a finished job leaves: the references of the final
// factor shards of each side, the measurements and the popular items.
// NewModel assembles a Model from it and the factor shards.
type Summary struct {
	Config     Config      `json:"config"`
	Iterations int         `json:"iterations"`
	Users      []FactorRef `json:"users"`
	Items      []FactorRef `json:"items"`
	NTrain     int64       `json:"ntrain"`
	NHoldout   int64       `json:"nholdout"`
	Popular    []Popular   `json:"popular,omitempty"`
	History    []Iter      `json:"history"`
}

// New validates cfg and returns the initial state of a job over
// userShards user blocks and itemShards item blocks.
func New(cfg Config, userShards, itemShards int) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if userShards < 1 || itemShards < 1 {
		return nil, errorf(ErrConfig, "need at least one shard per side, got %d user and %d item shards", userShards, itemShards)
	}
	return &State{Config: cfg.withDefaults(), UserShards: userShards, ItemShards: itemShards, Stage: TaskInit}, nil
}

// Next returns the task every shard of the task's side must run next, or
// done when the job is finished. The Task is a fresh copy that the caller
// may keep or send.
func (s *State) Next() (t *Task, done bool) {
	if s.Stage == stageDone {
		return nil, true
	}
	cfg := s.Config
	t = &Task{Kind: s.Stage, Step: s.Step, Iteration: s.Iter, Config: cfg}
	switch s.Stage {
	case TaskInit:
		t.Side = Items
	case TaskUsers:
		t.Side, t.Other = Users, slices.Clone(s.ItemRefs)
		if cfg.rankEval() && s.Iter >= 2 {
			t.Prev = slices.Clone(s.UserRefs)
			t.Eval = &EvalSpec{Iteration: s.Iter - 1, K: cfg.EvalK, Fraction: s.EvalFraction}
		}
	case TaskItems:
		t.Side, t.Other = Items, slices.Clone(s.UserRefs)
		if s.Iter == 1 {
			t.Popular = cfg.Popular
		}
	case TaskEval:
		t.Side, t.Other, t.Prev = Users, slices.Clone(s.ItemRefs), slices.Clone(s.UserRefs)
		t.Eval = &EvalSpec{Iteration: s.Iter, K: cfg.EvalK, Fraction: s.EvalFraction}
	}
	return t, false
}

// Absorb takes exactly one Result per shard of the task's side, results[i]
// being shard i's, and advances the state. Each Result is checked against
// the current task (kind, step, shard index, row count, reference,
// finiteness), so a misplaced, stale or corrupt Result is ErrBadResult. On
// error the state is unchanged; ErrNoData and ErrNonFinite are final for
// the job. Absorb keeps no reference to results.
func (s *State) Absorb(results []*Result) error {
	if s.Stage == stageDone {
		return ErrDone
	}
	if err := s.checkResults(results); err != nil {
		return err
	}
	next := *s
	next.History = slices.Clone(s.History)
	var err error
	switch s.Stage {
	case TaskInit:
		next.ItemRows = rowsOf(results)
		next.ItemRefs = refsOf(results)
		next.Stage, next.Iter = TaskUsers, 1
	case TaskUsers:
		err = next.absorbUsers(results)
	case TaskItems:
		err = next.absorbItems(results)
	case TaskEval:
		next.absorbRanking(results)
		next.Stage = stageDone
	}
	if err != nil {
		return err
	}
	next.Step++
	*s = next
	return nil
}

func (s *State) absorbUsers(results []*Result) error {
	if s.UserRows == nil {
		s.UserRows = rowsOf(results)
	}
	if s.Iter >= 2 && s.Config.rankEval() {
		s.absorbRanking(results)
	}
	var reg float64
	var ntrain, nhold, trained, held int64
	for _, r := range results {
		reg += r.Reg
		ntrain += r.NTrain
		nhold += r.NHoldout
		trained += r.Trained
		held += r.Held
	}
	if !finite(reg) {
		return errorf(ErrNonFinite, "users' regularisation sum overflowed in iteration %d", s.Iter)
	}
	if ntrain == 0 {
		return errorf(ErrNoData, "no training interaction in %d user shards", len(results))
	}
	if s.Iter == 1 {
		s.NTrain, s.NHoldout, s.TrainedUsers, s.HeldUsers = ntrain, nhold, trained, held
	}
	s.RegUsers = reg
	s.UserRefs = refsOf(results)
	s.Stage = TaskItems
	return nil
}

func (s *State) absorbItems(results []*Result) error {
	cfg := s.Config
	if s.Iter == 1 {
		var pop []Popular
		for _, r := range results {
			s.TrainedItems += r.Trained
			pop = append(pop, r.Popular...)
		}
		sortPopular(pop)
		s.Popular = slices.Clip(pop[:min(len(pop), cfg.Popular)])
		s.EvalFraction = s.evalFraction()
	}
	it := Iter{Iteration: s.Iter, RegUsers: s.RegUsers}
	var hold HoldSums
	for _, r := range results {
		it.Loss += r.Loss
		it.RegItems += r.Reg
		hold.N += r.Hold.N
		hold.Cold += r.Hold.Cold
		hold.SSE += r.Hold.SSE
	}
	it.Objective = it.Loss + float64(cfg.Lambda*(it.RegUsers+it.RegItems))
	if !cfg.Implicit {
		it.TrainRMSE = math.Sqrt(it.Loss / float64(s.NTrain))
		it.NHoldout, it.NCold = hold.N, hold.Cold
		if hold.N > 0 {
			it.HoldoutRMSE = math.Sqrt(hold.SSE / float64(hold.N))
		}
	}
	if !finite(it.Objective) || !finite(it.HoldoutRMSE) || !finite(it.TrainRMSE) {
		return errorf(ErrNonFinite, "objective sums overflowed in iteration %d", s.Iter)
	}
	s.History = append(s.History, it)
	s.ItemRefs = refsOf(results)
	switch {
	case s.Iter < cfg.Iterations:
		s.Iter++
		s.Stage = TaskUsers
	case cfg.rankEval():
		s.Stage = TaskEval
	default:
		s.Stage = stageDone
	}
	return nil
}

// evalFraction applies Config.EvalSample, or the rule: evaluate a
// fraction of the users such that scoring their rankings, about
// HeldUsers·TrainedItems·Rank multiply-adds in all, costs at most a quarter
// of the NTrain·Rank² multiply-adds of the normal equations of an
// iteration (both passes, counting the symmetric half).
func (s *State) evalFraction() float64 {
	cfg := s.Config
	if cfg.EvalSample > 0 {
		return cfg.EvalSample
	}
	if s.HeldUsers == 0 || s.TrainedItems == 0 {
		return 1
	}
	f := float64(s.NTrain) * float64(cfg.Rank) / (4 * float64(s.HeldUsers) * float64(s.TrainedItems))
	return min(1, f)
}

// absorbRanking puts the ranking sums of results into the history entry
// of the iteration evaluated.
func (s *State) absorbRanking(results []*Result) {
	var sums RankSums
	for _, r := range results {
		sums.Users += r.Rank.Users
		sums.Eligible += r.Rank.Eligible
		sums.Precision += r.Rank.Precision
		sums.Recall += r.Rank.Recall
		sums.NDCG += r.Rank.NDCG
	}
	it := &s.History[len(s.History)-1]
	it.K, it.EvalUsers, it.Eligible = s.Config.EvalK, sums.Users, sums.Eligible
	if sums.Users > 0 {
		n := float64(sums.Users)
		it.Precision, it.Recall, it.NDCG = sums.Precision/n, sums.Recall/n, sums.NDCG/n
	}
}

func (s *State) checkResults(results []*Result) error {
	side, shards, rows := Items, s.ItemShards, s.ItemRows
	if s.Stage == TaskUsers || s.Stage == TaskEval {
		side, shards, rows = Users, s.UserShards, s.UserRows
	}
	if len(results) != shards {
		return errorf(ErrBadResult, "%d results for %d %s shards", len(results), shards, side.singular())
	}
	cfg := s.Config
	for i, r := range results {
		bad := func(format string, args ...any) error {
			return errorf(ErrBadResult, "%s shard %d: "+format, append([]any{side.singular(), i}, args...)...)
		}
		switch {
		case r == nil:
			return bad("missing result")
		case r.Kind != s.Stage || r.Step != s.Step:
			return bad("result for %s step %d, want %s step %d", r.Kind, r.Step, s.Stage, s.Step)
		case r.Shard != i:
			return bad("result carries shard index %d", r.Shard)
		case r.Rows < 0 || (rows != nil && r.Rows != rows[i]):
			return bad("%d rows, earlier passes saw %v", r.Rows, rows)
		case r.Trained < 0 || r.Trained > r.Rows || r.NTrain < r.Trained || r.NHoldout < 0 || r.Held < 0 || r.Held > r.Trained:
			return bad("inconsistent counts")
		case !(r.Reg >= 0) || !finite(r.Reg) || !finite(r.Loss) || (!cfg.Implicit && !(r.Loss >= 0)):
			return bad("bad objective sums")
		case r.Hold.N < 0 || r.Hold.Cold < 0 || !(r.Hold.SSE >= 0) || !finite(r.Hold.SSE):
			return bad("bad held-out sums")
		case r.Rank.Users < 0 || r.Rank.Users > r.Rank.Eligible || r.Rank.Eligible > r.Rows ||
			!(r.Rank.Precision >= 0) || !(r.Rank.Recall >= 0) || !(r.Rank.NDCG >= 0) ||
			r.Rank.Precision > float64(r.Rank.Users) || r.Rank.Recall > float64(r.Rank.Users) || r.Rank.NDCG > float64(r.Rank.Users)*(1+1e-12):
			return bad("bad ranking sums")
		case len(r.Popular) > cfg.Popular:
			return bad("%d popular items, at most %d asked", len(r.Popular), cfg.Popular)
		case s.Stage != TaskEval && r.Ref.Object == "":
			return bad("no factor reference")
		}
	}
	return nil
}

func rowsOf(results []*Result) []int64 {
	out := make([]int64, len(results))
	for i, r := range results {
		out[i] = r.Rows
	}
	return out
}

func refsOf(results []*Result) []FactorRef {
	out := make([]FactorRef, len(results))
	for i, r := range results {
		out[i] = r.Ref
	}
	return out
}

// Phase reports "init", "train", "eval" or "done".
func (s *State) Phase() string {
	switch s.Stage {
	case TaskInit:
		return "init"
	case TaskUsers, TaskItems:
		return "train"
	case TaskEval:
		return "eval"
	}
	return "done"
}

// Iteration reports the number of completed iterations.
func (s *State) Iteration() int { return len(s.History) }

// Objective reports the objective of the last completed iteration, 0
// before any.
func (s *State) Objective() float64 {
	if len(s.History) == 0 {
		return 0
	}
	return s.History[len(s.History)-1].Objective
}

// Metrics returns the measurements of every completed iteration. The
// ranking metrics of an iteration appear after the next pass.
func (s *State) Metrics() []Iter { return slices.Clone(s.History) }

// Summary returns what the finished job leaves, or nil before it is done.
func (s *State) Summary() *Summary {
	if s.Stage != stageDone {
		return nil
	}
	return &Summary{
		Config: s.Config, Iterations: len(s.History),
		Users: slices.Clone(s.UserRefs), Items: slices.Clone(s.ItemRefs),
		NTrain: s.NTrain, NHoldout: s.NHoldout,
		Popular: slices.Clone(s.Popular), History: slices.Clone(s.History),
	}
}
