package kmeans

import "math"

// TaskKind names the work a shard does in one pass.
type TaskKind string

// Task kinds, in the order a k-means|| job uses them.
const (
	TaskPick   TaskKind = "pick"   // the M rows with the smallest random priority
	TaskCost   TaskKind = "cost"   // Σ d²(x, C) over the shard
	TaskSample TaskKind = "sample" // rows kept with probability min(1, ℓ·d²(x,C)/φ)
	TaskCounts TaskKind = "counts" // rows nearest each candidate
	TaskLloyd  TaskKind = "lloyd"  // per-cluster sums, counts, inertia, farthest rows
	TaskFinal  TaskKind = "final"  // sizes, inertia and profile sums for the model
)

// Task is everything a shard needs to compute its Result. It is the same for
// every shard of a pass and is JSON-serialisable.
type Task struct {
	Kind TaskKind `json:"kind"`
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// K is the number of centres in C (candidates for cost, sample and
	// counts; centroids for lloyd and final). It is 0 for pick.
	K int `json:"k"`
	// D is the number of training columns.
	D int `json:"d"`
	// C holds K*D centres, row-major.
	C    []float64 `json:"c,omitempty"`
	Seed uint64    `json:"seed"`
	// Round selects the random stream of a sample task.
	Round int `json:"round"`
	// M is the number of rows a pick task returns.
	M int `json:"m,omitempty"`
	// Phi is the total cost φ of the current candidates (sample).
	Phi float64 `json:"phi,omitempty"`
	// Oversample is ℓ for this round (sample).
	Oversample float64 `json:"oversample,omitempty"`
	// Far is the number of farthest rows a lloyd task reports.
	Far int `json:"far,omitempty"`
	// NProfile is the number of profile columns (final).
	NProfile int `json:"nprofile,omitempty"`
}

// Result is one shard's answer to a Task. Its size depends on K, D and the
// number of profile columns, not on the shard's row count, except for a
// sample task, whose rows number about Oversample in total over all shards.
// Which fields are set depends on Kind:
//
//	pick:   Rows, Keys (priorities), X
//	cost:   Cost (Σ d² to the nearest candidate)
//	sample: Rows, X
//	counts: Counts (per candidate)
//	lloyd:  Sums (K*D), Counts (K), Cost (inertia), and the farthest rows
//	        from their centres as Rows, Keys (squared distances), Labels, X
//	final:  Counts (sizes), Cost (inertia), ProfSums and ProfCounts (K*p)
//
// Rows are row indices within the shard; X holds those rows, len(Rows)*D.
type Result struct {
	Kind       TaskKind  `json:"kind"`
	Step       int64     `json:"step"`
	Shard      int       `json:"shard"`
	N          int64     `json:"n"` // rows in the shard
	Cost       float64   `json:"cost,omitempty"`
	Rows       []int64   `json:"rows,omitempty"`
	Keys       []float64 `json:"keys,omitempty"`
	Labels     []int     `json:"labels,omitempty"`
	X          []float64 `json:"x,omitempty"`
	Counts     []int64   `json:"counts,omitempty"`
	Sums       []float64 `json:"sums,omitempty"`
	ProfSums   []float64 `json:"prof_sums,omitempty"`
	ProfCounts []int64   `json:"prof_counts,omitempty"`
}

// reset empties r for reuse, keeping its buffers.
func (r *Result) reset(t *Task, shard, n int) {
	*r = Result{
		Kind: t.Kind, Step: t.Step, Shard: shard, N: int64(n),
		Rows: r.Rows[:0], Keys: r.Keys[:0], Labels: r.Labels[:0], X: r.X[:0],
		Counts: r.Counts[:0], Sums: r.Sums[:0],
		ProfSums: r.ProfSums[:0], ProfCounts: r.ProfCounts[:0],
	}
}

// RunTask computes shard's Result for t. x is the shard's n×d training
// matrix, row-major, without missing values. prof is the same rows' n×p
// profile matrix in original units, NaN meaning missing; it is read only by
// the final task and may be nil when p is 0. shard is the shard's index, which
// seeds its per-row randomness. dst is reused when not nil.
func RunTask(dst *Result, t *Task, x []float64, n, d int, prof []float64, p int, shard int) (*Result, error) {
	if err := checkTask(t, x, n, d, prof, p, shard); err != nil {
		return nil, err
	}
	if dst == nil {
		dst = new(Result)
	}
	dst.reset(t, shard, n)
	x = x[:n*d]
	var err error
	switch t.Kind {
	case TaskPick:
		err = runPick(dst, t, x, n, shard)
	case TaskCost:
		err = runCost(dst, t, x, n)
	case TaskSample:
		err = runSample(dst, t, x, n, shard)
	case TaskCounts:
		runCounts(dst, t, x, n)
	case TaskLloyd:
		err = runLloyd(dst, t, x, n)
	case TaskFinal:
		err = runFinal(dst, t, x, n, prof, p)
	}
	if err != nil {
		return nil, errorf(ErrNonFinite, "shard %d: %v task: %v", shard, t.Kind, err)
	}
	return dst, nil
}

func checkTask(t *Task, x []float64, n, d int, prof []float64, p int, shard int) error {
	switch {
	case t == nil:
		return errorf(ErrBadTask, "nil task")
	case shard < 0:
		return errorf(ErrShape, "negative shard index %d", shard)
	case d != t.D || d < 1:
		return errorf(ErrShape, "shard %d has %d training columns, the task has D=%d", shard, d, t.D)
	case n < 0 || len(x)/d < n:
		return errorf(ErrShape, "shard %d: %d values cannot hold %d rows of %d", shard, len(x), n, d)
	case t.Kind == TaskFinal && p != t.NProfile:
		return errorf(ErrShape, "shard %d has %d profile columns, the task has %d", shard, p, t.NProfile)
	case p < 0 || (p > 0 && len(prof)/p < n):
		return errorf(ErrShape, "shard %d: %d profile values cannot hold %d rows of %d", shard, len(prof), n, p)
	}
	switch t.Kind {
	case TaskPick:
		if t.M < 1 {
			return errorf(ErrBadTask, "pick task wants M >= 1, got %d", t.M)
		}
	case TaskCost, TaskSample, TaskCounts, TaskLloyd, TaskFinal:
		if t.K < 1 || t.K > len(t.C)/d || len(t.C) != t.K*d {
			return errorf(ErrBadTask, "%s task has K=%d and %d centre values for D=%d", t.Kind, t.K, len(t.C), d)
		}
	default:
		return errorf(ErrBadTask, "unknown task kind %q", t.Kind)
	}
	switch {
	case t.Kind == TaskSample && (!(t.Phi > 0) || math.IsInf(t.Phi, 0) || !(t.Oversample > 0) || math.IsInf(t.Oversample, 0)):
		return errorf(ErrBadTask, "sample task wants finite positive Phi and Oversample, got %v and %v", t.Phi, t.Oversample)
	case t.Far < 0 || t.M < 0:
		return errorf(ErrBadTask, "negative row count (Far=%d, M=%d)", t.Far, t.M)
	}
	return nil
}
