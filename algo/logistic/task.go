package logistic

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/internal/kernel"
	"github.com/mathcrm/mathcrm/algo/linear"
)

// TaskKind names the work a shard does in one pass.
type TaskKind string

// Task kinds, in the order a job uses them.
const (
	// TaskCount checks the rows and counts them by set and class.
	TaskCount TaskKind = "count"
	// TaskNewton: log-loss, gradient and Hessian at Beta (Newton solver).
	TaskNewton TaskKind = "newton"
	// TaskGrad: log-loss and gradient at Beta (L-BFGS solver).
	TaskGrad TaskKind = "grad"
	// TaskEval: held-out and training metrics of the final model.
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
	// Holdout and SplitSeed select the held-out rows (linear.IsHoldout).
	Holdout   float64 `json:"holdout"`
	SplitSeed uint64  `json:"split_seed"`
	// Beta holds the D coefficients then the intercept (newton, grad,
	// eval).
	Beta []float64 `json:"beta,omitempty"`
	// ClassWeights multiply the sample weights of class 0 and class 1 in
	// the loss (newton, grad).
	ClassWeights [2]float64 `json:"class_weights"`
	// ExactTrain and ExactHoldout ask the eval pass for every row's score
	// (an exact AUC) rather than score histograms.
	ExactTrain   bool `json:"exact_train,omitempty"`
	ExactHoldout bool `json:"exact_holdout,omitempty"`
	// Curves asks the eval pass for the curve bins (SetSums.CurveN); a
	// leader of an earlier build does not, and gets sums it can decode.
	Curves bool `json:"curves,omitempty"`
	// Eval asks a newton pass for the eval pass's sums at Beta too (with
	// ExactTrain, ExactHoldout and Curves as for an eval pass), when the
	// leader expects this pass's point to end the fit: it then needs no
	// eval pass. A worker that cannot sum them (or of an earlier build)
	// leaves them out, and the leader runs the eval pass.
	Eval bool `json:"eval,omitempty"`
}

// HistBins is the number of score bins per class of an eval histogram:
// bin b holds the scores p with ⌊p·HistBins⌋ = b (p = 1 in the last).
const HistBins = 1 << 16

// CalBins is the number of calibration bins.
const CalBins = 10

// Result is one shard's answer to a Task. Its size depends on D, never on
// the shard's row count, with one exception: an eval pass with ExactTrain
// or ExactHoldout returns each row of that set, which the leader asks for
// only when the set has at most Config.ExactAUCMaxRows rows over all
// shards. Which fields are set depends on Kind:
//
//	count:       Counts, Weights
//	newton:      Loss, Grad (D+1), Hess ((D+1)(D+2)/2), Overflow;
//	             Train, Holdout too when the task asks for Eval
//	grad:        Loss, Grad, Overflow
//	eval:        Train, Holdout
type Result struct {
	Kind  TaskKind `json:"kind"`
	Step  int64    `json:"step"`
	Shard int      `json:"shard"`
	N     int64    `json:"n"` // rows in the shard, training and held out
	// Counts and Weights hold the rows and the sums of their sample
	// weights by set and class: training 0, training 1, held-out 0,
	// held-out 1.
	Counts  [4]int64   `json:"counts"`
	Weights [4]float64 `json:"weights"`
	// Loss is Σw·ℓ over the training rows, w the sample weight times the
	// class weight.
	Loss float64 `json:"loss,omitempty"`
	// Grad is Σw(p−y)·(x, 1) and Hess the packed upper triangle (entries
	// (0,0), (0,1), …) of Σw·p(1−p)·(x, 1)(x, 1)ᵀ, intercept last.
	Grad []float64 `json:"grad,omitempty"`
	Hess []float64 `json:"hess,omitempty"`
	// Overflow reports that a sum was not finite at this Beta: the leader
	// takes a shorter step. The data themselves were checked by the count
	// pass.
	Overflow bool `json:"overflow,omitempty"`
	// Train and Holdout are the eval pass's sums.
	Train   *SetSums `json:"train,omitempty"`
	Holdout *SetSums `json:"holdout,omitempty"`
}

// SetSums are one row set's eval sums; w is the sample weight (the class
// weights do not enter the metrics) and p the predicted probability.
type SetSums struct {
	N int64   `json:"n"`
	W float64 `json:"w"` // Σw
	// LogLoss is Σw·ℓ.
	LogLoss float64 `json:"log_loss"`
	// CalN counts the rows of each calibration bin, and CalW, CalP and
	// CalY hold Σw, Σw·p and Σw·y over them. Bin b holds b/10 < p ≤
	// (b+1)/10 (bin 0 also p = 0), the edges being numpy.linspace(0, 1,
	// 11), as scikit-learn's calibration_curve bins.
	CalN []int64   `json:"cal_n"`
	CalW []float64 `json:"cal_w"`
	CalP []float64 `json:"cal_p"`
	CalY []float64 `json:"cal_y"`
	// Scores, Labels and ScoreW (nil without sample weights) list every
	// row of the set when the task asked for it, in increasing order of
	// score, tied rows (−0 and +0 tie) in row order. A leader also takes
	// rows in row order, as workers of earlier builds list them.
	Scores []float64 `json:"scores,omitempty"`
	Labels []bool    `json:"labels,omitempty"`
	ScoreW []float64 `json:"score_w,omitempty"`
	// Hist holds Σw per score bin, HistBins for class 0 then HistBins for
	// class 1, when the task did not ask for the scores.
	Hist []float64 `json:"hist,omitempty"`
	// CurveN counts the rows of each curve bin (CurveBins for class 0
	// then CurveBins for class 1), whichever way the AUC is computed:
	// exact integers, from which the leader draws the ROC, gains and lift
	// curves. CurveW holds Σw over the same bins for weighted rows (nil:
	// every weight is 1, and the weights are the counts). Both are nil
	// when the task did not ask for them (Task.Curves) and from a worker
	// of an earlier build.
	CurveN []int64   `json:"curve_n,omitempty"`
	CurveW []float64 `json:"curve_w,omitempty"`
}

// RunTask computes shard's Result for t. x is the shard's n×d feature matrix,
// row-major; y its n targets, each 0 or 1; w its n sample weights (nil means
// every weight is 1; weights must be finite and not negative); keys its n
// row keys, which decide the held-out split and may be nil when t.Holdout
// is 0. shard is the shard's index. dst is reused when not nil.
func RunTask(dst *Result, t *Task, x []float64, n, d int, y, w []float64, keys []string, shard int) (*Result, error) {
	if err := checkTask(t, x, n, d, y, w, keys, shard); err != nil {
		return nil, err
	}
	if dst == nil {
		dst = new(Result)
	}
	*dst = Result{Kind: t.Kind, Step: t.Step, Shard: shard, N: int64(n), Grad: dst.Grad[:0], Hess: dst.Hess[:0]}
	in := rows{x: x[:n*d], y: y[:n], n: n, d: d}
	if w != nil {
		in.w = w[:n]
	}
	if t.Holdout > 0 {
		in.hold = linear.HoldoutMask(nil, keys[:n], t.Holdout, t.SplitSeed)
	}
	switch t.Kind {
	case TaskCount:
		if err := runCount(dst, &in); err != nil {
			return nil, errorf(ErrNonFinite, "shard %d: %v", shard, err)
		}
	case TaskNewton, TaskGrad:
		runLoss(dst, t, &in)
	case TaskEval:
		if err := runEval(dst, t, &in); err != nil {
			return nil, errorf(ErrNonFinite, "shard %d: %v", shard, err)
		}
	}
	return dst, nil
}

func checkTask(t *Task, x []float64, n, d int, y, w []float64, keys []string, shard int) error {
	switch {
	case t == nil:
		return errorf(ErrBadTask, "nil task")
	case t.Kind != TaskCount && t.Kind != TaskNewton && t.Kind != TaskGrad && t.Kind != TaskEval:
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
	case t.Kind != TaskCount && len(t.Beta) != d+1:
		return errorf(ErrBadTask, "%s task has %d coefficients for D=%d (want D+1 with the intercept)", t.Kind, len(t.Beta), d)
	case !allFinite(t.Beta) || !allFinite(t.ClassWeights[:]) || t.ClassWeights[0] < 0 || t.ClassWeights[1] < 0:
		return errorf(ErrBadTask, "%s task has non-finite coefficients or bad class weights", t.Kind)
	}
	for i, v := range w[:min(n, len(w))] {
		if !(v >= 0) || math.IsInf(v, 1) {
			return errorf(ErrBadWeight, "shard %d row %d: weight %v is not finite and non-negative", shard, i, v)
		}
	}
	// v·(v−1) is 0 for 0 and 1 (and −0) only, NaN for NaN: one branch a
	// row that labels in random order do not mispredict.
	for i, v := range y[:n] {
		if v*(v-1) != 0 {
			return errorf(ErrTarget, "shard %d row %d: target %v", shard, i, v)
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

func (in *rows) weight(i int) float64 {
	if in.w == nil {
		return 1
	}
	return in.w[i]
}

func (in *rows) trains(i int) bool { return in.hold == nil || !in.hold[i] }

// marginBlock is how many rows' margins are computed ahead of their use.
const marginBlock = 256

// lossBlock holds the margins of a block of up to marginBlock rows and
// each row's rowLoss.
type lossBlock struct {
	eta, l, res, curv, p [marginBlock]float64
}

// run computes the block of rows from lo at beta and returns its length.
func (b *lossBlock) run(in *rows, lo int, beta []float64) int {
	m := min(marginBlock, in.n-lo)
	d := in.d
	linear.Margins(b.eta[:m], in.x[lo*d:], d, beta[:d], beta[d])
	y := in.y[lo : lo+m]
	kernel.LogLoss(b.eta[:m], y, b.l[:m], b.res[:m], b.curv[:m], b.p[:m])
	return m
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// allFiniteFast reports whether every value of s is finite: v·0 is NaN
// for a NaN or an infinity and 0 otherwise, so a sum of them is NaN
// exactly when one is not finite. Four sums run side by side; the order of
// the sums does not matter for a yes or no.
func allFiniteFast(s []float64) bool {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		v := s[i : i+4 : i+4]
		a0 += v[0] * 0
		a1 += v[1] * 0
		a2 += v[2] * 0
		a3 += v[3] * 0
	}
	for _, v := range s[i:] {
		a0 += v * 0
	}
	return a0+a1+a2+a3 == 0
}

func allFinite(s []float64) bool {
	for _, v := range s {
		if !finite(v) {
			return false
		}
	}
	return true
}
