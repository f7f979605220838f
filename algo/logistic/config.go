package logistic

import (
	"math"

	"github.com/mathcrm/mathcrm/algo/linear"
)

// Solvers, penalties and class weightings.
const (
	SolverAuto   = "auto"   // Newton when D ≤ NewtonMaxD, else L-BFGS
	SolverNewton = "newton" // Newton/IRLS: the partial holds the Hessian
	SolverLBFGS  = "lbfgs"  // L-BFGS: the partial holds the gradient only

	PenaltyL2   = "l2"
	PenaltyNone = "none"

	Balanced = "balanced"
)

// Defaults applied by New to zero fields.
const (
	DefaultC          = 1.0
	DefaultMaxIter    = 100
	DefaultTol        = 1e-8
	DefaultNewtonMaxD = 256 // a Hessian partial of (D+1)(D+2)/2 ≈ 33k floats
	DefaultMemory     = 10
	// DefaultExactAUCMaxRows bounds the rows of a set (training or held
	// out) whose scores the eval pass returns for an exact AUC; a larger
	// set is summarised by per-class score histograms.
	DefaultExactAUCMaxRows = 1_000_000

	// maxHalvings bounds the step halvings of one line search.
	maxHalvings = 40
	// armijo is the sufficient-decrease constant c₁ of the line search.
	armijo = 1e-4
)

// Config describes a logistic regression job. Features are in training
// space: the caller has already standardised the columns if that was
// wanted. The intercept is always fitted and never penalised.
//
// The job minimises Σᵢ wᵢ·ℓᵢ + ½λ‖β‖², ℓᵢ the log-loss of row i and wᵢ its
// sample weight times its class weight, with λ = 1/C: the minimiser of
// scikit-learn's LogisticRegression(C=C), whose objective is C times this.
type Config struct {
	// C is the inverse of the L2 penalty, as in scikit-learn; 0 means
	// DefaultC. It is ignored when Penalty is "none".
	C float64 `json:"c"`
	// Penalty is "l2" (the default when empty) or "none".
	Penalty string `json:"penalty"`
	// ClassWeight is "" (every class weight 1, unless ClassWeights is
	// set) or "balanced": n/(2·n_c) over the training rows, n_c the rows
	// of class c, as scikit-learn's class_weight="balanced".
	ClassWeight string `json:"class_weight"`
	// ClassWeights optionally gives the weights of class 0 and class 1.
	ClassWeights []float64 `json:"class_weights,omitempty"`
	// Solver is "auto" (the default when empty), "newton" or "lbfgs".
	Solver string `json:"solver"`
	// NewtonMaxD is the widest D for which "auto" picks Newton; 0 means
	// DefaultNewtonMaxD.
	NewtonMaxD int `json:"newton_max_d"`
	// Memory is the number of L-BFGS correction pairs; 0 means
	// DefaultMemory.
	Memory int `json:"memory"`
	// MaxIter bounds the accepted steps; 0 means DefaultMaxIter.
	MaxIter int `json:"max_iter"`
	// Tol stops the iteration once the largest coefficient change of a
	// step, the relative change of the objective, or the largest gradient
	// entry is at most Tol; 0 means DefaultTol.
	Tol float64 `json:"tol"`
	// Holdout is the fraction of rows, in [0, 1), held out of training by
	// a hash of their key (linear.IsHoldout); they only feed the holdout
	// metrics. 0 needs no keys.
	Holdout   float64 `json:"holdout"`
	SplitSeed uint64  `json:"split_seed"`
	// ExactAUCMaxRows overrides DefaultExactAUCMaxRows when not 0.
	ExactAUCMaxRows int64 `json:"exact_auc_max_rows"`
	// MaxCond overrides linear.DefaultMaxCond, the condition estimate
	// above which a Newton step is solved by pseudo-inverse.
	MaxCond float64 `json:"max_cond"`
	// Features optionally names the D training columns, for the model.
	Features []string `json:"features,omitempty"`
}

// DefaultConfig returns scikit-learn's default: L2 with C = 1.
func DefaultConfig() Config {
	return Config{C: DefaultC, Penalty: PenaltyL2, Solver: SolverAuto, MaxIter: DefaultMaxIter, Tol: DefaultTol}
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// Validate reports the first thing wrong with c. It cannot check the length
// of Features against D; New does.
func (c Config) Validate() error {
	switch {
	case c.C < 0 || bad(c.C):
		return errorf(ErrConfig, "C must be finite and positive (0 for the default), got %v", c.C)
	case c.Penalty != "" && c.Penalty != PenaltyL2 && c.Penalty != PenaltyNone:
		return errorf(ErrConfig, "Penalty must be %q or %q, got %q", PenaltyL2, PenaltyNone, c.Penalty)
	case c.ClassWeight != "" && c.ClassWeight != Balanced:
		return errorf(ErrConfig, "ClassWeight must be empty or %q, got %q", Balanced, c.ClassWeight)
	case len(c.ClassWeights) != 0 && len(c.ClassWeights) != 2:
		return errorf(ErrConfig, "ClassWeights must hold 2 weights, got %d", len(c.ClassWeights))
	case len(c.ClassWeights) != 0 && c.ClassWeight != "":
		return errorf(ErrConfig, "ClassWeights and ClassWeight %q are exclusive", c.ClassWeight)
	case c.Solver != "" && c.Solver != SolverAuto && c.Solver != SolverNewton && c.Solver != SolverLBFGS:
		return errorf(ErrConfig, "Solver must be %q, %q or %q, got %q", SolverAuto, SolverNewton, SolverLBFGS, c.Solver)
	case c.NewtonMaxD < 0 || c.Memory < 0 || c.MaxIter < 0 || c.ExactAUCMaxRows < 0:
		return errorf(ErrConfig, "NewtonMaxD, Memory, MaxIter and ExactAUCMaxRows must not be negative")
	case c.Tol < 0 || bad(c.Tol):
		return errorf(ErrConfig, "Tol must be finite and not negative, got %v", c.Tol)
	case !(c.Holdout >= 0 && c.Holdout < 1):
		return errorf(ErrConfig, "Holdout must be in [0, 1), got %v", c.Holdout)
	case c.MaxCond != 0 && (!(c.MaxCond >= 1) || bad(c.MaxCond)):
		return errorf(ErrConfig, "MaxCond must be 0 (default) or a finite value of at least 1, got %v", c.MaxCond)
	}
	for i, w := range c.ClassWeights {
		if !(w > 0) || bad(w) {
			return errorf(ErrConfig, "ClassWeights[%d] must be finite and positive, got %v", i, w)
		}
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.C == 0 {
		c.C = DefaultC
	}
	if c.Penalty == "" {
		c.Penalty = PenaltyL2
	}
	if c.Solver == "" {
		c.Solver = SolverAuto
	}
	if c.NewtonMaxD == 0 {
		c.NewtonMaxD = DefaultNewtonMaxD
	}
	if c.Memory == 0 {
		c.Memory = DefaultMemory
	}
	if c.MaxIter == 0 {
		c.MaxIter = DefaultMaxIter
	}
	if c.Tol == 0 {
		c.Tol = DefaultTol
	}
	if c.ExactAUCMaxRows == 0 {
		c.ExactAUCMaxRows = DefaultExactAUCMaxRows
	}
	if c.MaxCond == 0 {
		c.MaxCond = linear.DefaultMaxCond
	}
	return c
}

// lambda is the penalty λ = 1/C, or 0 without one.
func (c Config) lambda() float64 {
	if c.Penalty == PenaltyNone {
		return 0
	}
	return 1 / c.C
}
