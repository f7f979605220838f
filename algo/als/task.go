package als

// Side names one side of the interactions.
type Side string

// The two sides.
const (
	Users Side = "users"
	Items Side = "items"
)

// Other returns the other side.
func (s Side) Other() Side {
	if s == Users {
		return Items
	}
	return Users
}

// TaskKind names the work a shard does in one pass.
type TaskKind string

// Task kinds, in the order a job uses them.
const (
	// TaskInit runs on the item blocks: each shard writes the initial
	// factors of its items (InitFactor), so that every later pass reads
	// the other side from blobs.
	TaskInit TaskKind = "init"
	// TaskUsers solves the user factors of iteration t from the item
	// factors of iteration t−1 (after TaskInit, the initial ones). From
	// iteration 2 of an implicit job with a holdout it first evaluates the
	// rankings of iteration t−1 (Task.Eval).
	TaskUsers TaskKind = "users"
	// TaskItems solves the item factors of iteration t from the user
	// factors of iteration t, and measures the objective and the held-out
	// error of iteration t.
	TaskItems TaskKind = "items"
	// TaskEval runs on the user blocks after the last iteration of an
	// implicit job with a holdout: it evaluates the final rankings and
	// writes no factors.
	TaskEval TaskKind = "eval"
)

// Task is everything a shard needs to compute its Result. It is the same
// for every shard of a pass and is JSON-serialisable. Its size depends on
// the number of shards, not on the data.
type Task struct {
	Kind TaskKind `json:"kind"`
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// Iteration is the iteration the pass belongs to: 0 for init, t for
	// the users and items passes of iteration t, the last iteration for
	// eval.
	Iteration int `json:"iteration"`
	// Side is the side whose blocks the pass runs on: items for init and
	// items, users for users and eval.
	Side Side `json:"side"`
	// Config is the job's configuration, defaults filled in.
	Config Config `json:"config"`
	// Other holds the other side's factor shards, in shard order: the
	// worker reads every one of them and builds a Table (users, items,
	// eval). It is nil for init.
	Other []FactorRef `json:"other,omitempty"`
	// Prev holds this side's factor shards of the previous iteration when
	// the pass evaluates rankings (Eval set): the worker reads Prev[shard]
	// only.
	Prev []FactorRef `json:"prev,omitempty"`
	// Eval, when set, asks for the ranking metrics of the factors in Prev
	// and Other over the held-out pairs of the shard's users.
	Eval *EvalSpec `json:"eval,omitempty"`
	// Popular, when positive, asks an items pass for the shard's Popular
	// items with the most training interactions.
	Popular int `json:"popular,omitempty"`
}

// EvalSpec says which held-out users a ranking evaluation covers.
type EvalSpec struct {
	// Iteration is the iteration whose factors are evaluated.
	Iteration int `json:"iteration"`
	// K is the cut-off of precision@K, recall@K and NDCG@K.
	K int `json:"k"`
	// Fraction is the fraction of eligible users evaluated, chosen by a
	// hash of the user id and the seed (1 evaluates all).
	Fraction float64 `json:"fraction"`
}

// Result is one shard's answer to a Task. Its size depends on the rank,
// EvalK and Config.Popular, never on the shard's data. Which fields are set
// depends on Kind:
//
//	init:  Rows
//	users: Rows, Trained, NTrain, NHoldout, Held, Reg, Rank (from iteration 2
//	       of an implicit job with a holdout)
//	items: Rows, Trained, NTrain, NHoldout, Held, Reg, Loss, Hold (explicit),
//	       Popular (when asked)
//	eval:  Rows, Rank
//
// Ref names the blob holding the shard's new factors; RunTask leaves it
// empty and the worker fills it in after storing them (init, users,
// items).
type Result struct {
	Kind      TaskKind `json:"kind"`
	Step      int64    `json:"step"`
	Iteration int      `json:"iteration"`
	Shard     int      `json:"shard"`
	// Rows counts the block's rows.
	Rows int64 `json:"rows"`
	// Trained counts the rows with at least one training interaction.
	Trained int64 `json:"trained"`
	// NTrain counts training interactions (explicit: observations;
	// implicit: distinct pairs with a positive count) and NHoldout the
	// held-out ones, counted the same way.
	NTrain   int64 `json:"ntrain"`
	NHoldout int64 `json:"nholdout"`
	// Held counts the rows with at least one training and one held-out
	// interaction.
	Held int64 `json:"held"`
	// Reg is Σ n_r‖f_r‖² over the block's new factors with weighted-λ, or
	// Σ‖f_r‖² with RegNone (λ not applied).
	Reg float64 `json:"reg"`
	// Loss is the data term of the objective over the block's training
	// interactions with the new factors: Σ(r − u·v)² (explicit), or
	// Σ_pairs [c(p − u·v)² − (u·v)²] + Σ_rows vᵀ(UᵀU)v (implicit, so that
	// the sum over all shards is the HKV data term over every (user,
	// item) pair).
	Loss float64 `json:"loss"`
	// Hold holds the held-out squared errors of an explicit items pass.
	Hold HoldSums `json:"hold"`
	// Rank holds the ranking sums of an evaluation.
	Rank RankSums `json:"rank"`
	// Popular holds the shard's most popular items, most popular first.
	Popular []Popular `json:"popular,omitempty"`
	// Ref names the blob of the new factors, set by the worker.
	Ref FactorRef `json:"ref"`
}

// HoldSums are the held-out error sums of one shard. A held-out
// interaction whose user or item is cold (no training interaction) is not
// predicted: it counts in Cold only.
type HoldSums struct {
	N    int64   `json:"n"`
	Cold int64   `json:"cold"`
	SSE  float64 `json:"sse"` // Σ(r − u·v)²
}

// RankSums are the ranking sums of one shard's evaluated users.
type RankSums struct {
	// Users counts the evaluated users; Eligible counts the users that
	// could have been (trained, with a held-out pair with an item that has
	// a training interaction).
	Users    int64 `json:"users"`
	Eligible int64 `json:"eligible"`
	// Precision, Recall and NDCG sum precision@K, recall@K and NDCG@K
	// over the evaluated users.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	NDCG      float64 `json:"ndcg"`
}

// Popular is an item with its number of training interactions.
type Popular struct {
	ID    string `json:"id"`
	Count int64  `json:"count"`
}
