package linear

import "math"

// TaskKind names the work a shard does in one pass.
type TaskKind string

// Task kinds, in the order a job uses them.
const (
	// TaskGram: weighted means and centred cross-products of the training
	// rows' features and target.
	TaskGram TaskKind = "gram"
	// TaskEval: residual sums of the fitted model over the training and
	// the held-out rows.
	TaskEval TaskKind = "eval"
)

// Task is everything a shard needs to compute its Result. It is the same for
// every shard of a pass and is JSON-serialisable.
type Task struct {
	Kind TaskKind `json:"kind"`
	// Step numbers the passes of a job; the Result echoes it so that a late
	// Result from an earlier pass is rejected.
	Step int64 `json:"step"`
	// D is the number of feature columns.
	D int `json:"d"`
	// Holdout and SplitSeed select the held-out rows (see IsHoldout).
	Holdout   float64 `json:"holdout"`
	SplitSeed uint64  `json:"split_seed"`
	// Coefficients and Intercept are the fitted model (eval).
	Coefficients []float64 `json:"coefficients,omitempty"`
	Intercept    float64   `json:"intercept,omitempty"`
	// Centre is the training mean of the target (eval); sums of squares
	// about it keep the total sum of squares free of cancellation.
	Centre float64 `json:"centre,omitempty"`
	// ResidualUnit, when not 0, asks the eval pass for histograms of the
	// residuals in this unit (ResidualBin).
	ResidualUnit float64 `json:"residual_unit,omitempty"`
}

// ResidualBins is the number of bins of a residual histogram: 32 bins
// of a quarter unit from −4 to 4 units, then one for the residuals below
// −4 units and one for those of 4 units and more at either end.
const ResidualBins = 34

// ResidualBin returns the bin of residual r in unit u: 0 below −4u,
// ResidualBins−1 from 4u up, else ⌊r·(4/u)⌋ + 17.
func ResidualBin(r, u float64) int { return residualBin(r, float64(4/u)) }

// residualBin is ResidualBin with s = 4/u computed once: z = r·s + 17 is
// at least 1 inside the bins, where truncation is the floor.
func residualBin(r, s float64) int {
	z := float64(r*s) + 17
	switch {
	case !(z >= 1):
		return 0
	case z >= ResidualBins-1:
		return ResidualBins - 1
	}
	return int(z)
}

// Result is one shard's answer to a Task. Its size depends on D, never on
// the shard's row count. Which fields are set depends on Kind:
//
//	gram: NTrain, W, Mean (D+1), M2 ((D+1)(D+2)/2)
//	eval: Train, Holdout
type Result struct {
	Kind  TaskKind `json:"kind"`
	Step  int64    `json:"step"`
	Shard int      `json:"shard"`
	N     int64    `json:"n"` // rows in the shard, training and held out
	// NTrain counts the training rows and W sums their weights.
	NTrain int64   `json:"ntrain,omitempty"`
	W      float64 `json:"w,omitempty"`
	// Mean holds the weighted means of the D features then of the target
	// over the training rows (0 when W is 0). A column that is constant
	// over them has exactly that value as its mean.
	Mean []float64 `json:"mean,omitempty"`
	// M2 holds Σw(z−mean)(z−mean)ᵀ over the training rows, z being a row's
	// features followed by its target, as a packed upper triangle of order
	// D+1 (entries (0,0), (0,1), …, (0,D), (1,1), …).
	M2 []float64 `json:"m2,omitempty"`
	// Train and Holdout are the residual sums of an eval task.
	Train   EvalSums `json:"train"`
	Holdout EvalSums `json:"holdout"`
}

// EvalSums are one row set's sums in an eval pass, with r = y − ŷ the
// residual and c the Task's Centre.
type EvalSums struct {
	N   int64   `json:"n"`
	W   float64 `json:"w"`   // Σw
	RSS float64 `json:"rss"` // Σw·r²
	S1  float64 `json:"s1"`  // Σw·(y−c)
	S2  float64 `json:"s2"`  // Σw·(y−c)²
	// Hist counts the rows per ResidualBin when the task asked for it
	// (nil otherwise, and from a worker of an earlier build).
	Hist []int64 `json:"hist,omitempty"`
}

// reset empties r for reuse, keeping its buffers.
func (r *Result) reset(t *Task, shard, n int) {
	*r = Result{Kind: t.Kind, Step: t.Step, Shard: shard, N: int64(n), Mean: r.Mean[:0], M2: r.M2[:0]}
}

// RunTask computes shard's Result for t. x is the shard's n×d feature matrix,
// row-major; y its n targets; w its n sample weights (nil means every weight
// is 1; weights must be finite and not negative); keys its n row keys, which
// decide the held-out split and may be nil when t.Holdout is 0. shard is the
// shard's index. dst is reused when not nil. A NaN or ±Inf among the rows a
// task reads is ErrNonFinite.
func RunTask(dst *Result, t *Task, x []float64, n, d int, y, w []float64, keys []string, shard int) (*Result, error) {
	if err := checkTask(t, x, n, d, y, w, keys, shard); err != nil {
		return nil, err
	}
	if dst == nil {
		dst = new(Result)
	}
	dst.reset(t, shard, n)
	in := rows{x: x[:n*d], y: y[:n], n: n, d: d}
	if w != nil {
		in.w = w[:n]
	}
	if t.Holdout > 0 {
		in.hold = HoldoutMask(nil, keys[:n], t.Holdout, t.SplitSeed)
	}
	var err error
	switch t.Kind {
	case TaskGram:
		err = runGram(dst, &in)
	case TaskEval:
		err = runEval(dst, t, &in)
	}
	if err != nil {
		return nil, errorf(ErrNonFinite, "shard %d: %v task: %v", shard, t.Kind, err)
	}
	return dst, nil
}

func checkTask(t *Task, x []float64, n, d int, y, w []float64, keys []string, shard int) error {
	switch {
	case t == nil:
		return errorf(ErrBadTask, "nil task")
	case t.Kind != TaskGram && t.Kind != TaskEval:
		return errorf(ErrBadTask, "unknown task kind %q", t.Kind)
	case shard < 0:
		return errorf(ErrShape, "negative shard index %d", shard)
	case d != t.D || d < 1:
		return errorf(ErrShape, "shard %d has %d feature columns, the task has D=%d", shard, d, t.D)
	case n < 0 || len(x)/d < n:
		return errorf(ErrShape, "shard %d: %d values cannot hold %d rows of %d", shard, len(x), n, d)
	case len(y) < n:
		return errorf(ErrShape, "shard %d: %d targets for %d rows", shard, len(y), n)
	case w != nil && len(w) < n:
		return errorf(ErrShape, "shard %d: %d weights for %d rows", shard, len(w), n)
	case t.Holdout > 0 && len(keys) < n:
		return errorf(ErrShape, "shard %d: %d keys for %d rows; a held-out split needs every row's key", shard, len(keys), n)
	case !(t.Holdout >= 0 && t.Holdout < 1):
		return errorf(ErrBadTask, "Holdout must be in [0, 1), got %v", t.Holdout)
	case t.Kind == TaskEval && len(t.Coefficients) != d:
		return errorf(ErrBadTask, "eval task has %d coefficients for D=%d", len(t.Coefficients), d)
	}
	for i, v := range w[:min(n, len(w))] {
		if !(v >= 0) || math.IsInf(v, 1) {
			return errorf(ErrBadWeight, "shard %d row %d: weight %v is not finite and non-negative", shard, i, v)
		}
	}
	return nil
}

// rows is one shard's input as the kernels read it.
type rows struct {
	x, y, w []float64
	hold    []bool // nil: every row trains
	n, d    int
}

func (in *rows) trains(i int) bool { return in.hold == nil || !in.hold[i] }
