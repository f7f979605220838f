package als

import "math"

// Regularisation scalings.
const (
	// RegWeighted is weighted-λ regularisation (Zhou et al. 2008): a row
	// with n training interactions is penalised by λ·n·‖f‖².
	RegWeighted = "weighted"
	// RegNone is plain ridge regularisation: λ·‖f‖² for every row.
	RegNone = "none"
)

// Defaults applied by DefaultConfig, and by New to zero fields.
const (
	DefaultRank       = 10
	DefaultLambda     = 0.1
	DefaultIterations = 10
	DefaultAlpha      = 40
	DefaultEvalK      = 10
	DefaultPopular    = 100

	// MaxRank bounds Rank: a row's normal equations take Rank² floats.
	MaxRank = 512
	// MaxEvalK bounds EvalK.
	MaxEvalK = 100
	// MaxIterations bounds Iterations.
	MaxIterations = 10000
)

// Config describes an ALS job.
type Config struct {
	// Rank is the number of latent factors per user and per item.
	Rank int `json:"rank"`
	// Lambda is the regularisation weight λ, positive.
	Lambda float64 `json:"lambda"`
	// Iterations is the number of full iterations (a users pass then an
	// items pass).
	Iterations int `json:"iterations"`
	// Implicit selects implicit feedback (Hu, Koren & Volinsky 2008): a
	// value is a count r ≥ 0, preference p = [r > 0] and confidence
	// c = 1 + Alpha·r. Otherwise values are explicit ratings.
	Implicit bool `json:"implicit"`
	// Alpha scales confidence in implicit jobs; ignored otherwise.
	Alpha float64 `json:"alpha"`
	// RegScaling is RegWeighted (the default when empty) or RegNone.
	RegScaling string `json:"reg_scaling"`
	// Seed selects the initial factors and, with Holdout, the held-out
	// interactions and the users whose rankings are evaluated.
	Seed uint64 `json:"seed"`
	// Holdout is the fraction of (user, item) pairs held out of training
	// for evaluation, in [0, 1); see IsHoldout.
	Holdout float64 `json:"holdout"`
	// EvalK is the cut-off k of precision@k, recall@k and NDCG@k
	// (implicit jobs with a holdout); 0 means DefaultEvalK.
	EvalK int `json:"eval_k"`
	// EvalSample is the fraction of held-out users whose rankings are
	// evaluated, in [0, 1]; 0 picks it so that evaluation costs at most a
	// quarter of a training iteration (see package doc).
	EvalSample float64 `json:"eval_sample"`
	// Popular is how many most popular items the model keeps for users
	// it cannot score; 0 means DefaultPopular.
	Popular int `json:"popular"`
}

// DefaultConfig returns the configuration used when nothing is specified:
// explicit feedback, rank 10, λ = 0.1 with weighted-λ scaling, 10
// iterations, no holdout.
func DefaultConfig() Config {
	return Config{
		Rank:       DefaultRank,
		Lambda:     DefaultLambda,
		Iterations: DefaultIterations,
		Alpha:      DefaultAlpha,
		RegScaling: RegWeighted,
		EvalK:      DefaultEvalK,
		Popular:    DefaultPopular,
	}
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case c.Rank < 1 || c.Rank > MaxRank:
		return errorf(ErrConfig, "Rank must be in [1, %d], got %d", MaxRank, c.Rank)
	case !(c.Lambda > 0) || bad(c.Lambda):
		return errorf(ErrConfig, "Lambda must be finite and positive, got %v", c.Lambda)
	case c.Iterations < 1 || c.Iterations > MaxIterations:
		return errorf(ErrConfig, "Iterations must be in [1, %d], got %d", MaxIterations, c.Iterations)
	case c.Implicit && (!(c.Alpha > 0) || bad(c.Alpha)):
		return errorf(ErrConfig, "Alpha must be finite and positive for implicit feedback, got %v", c.Alpha)
	case c.RegScaling != "" && c.RegScaling != RegWeighted && c.RegScaling != RegNone:
		return errorf(ErrConfig, "RegScaling must be %q or %q, got %q", RegWeighted, RegNone, c.RegScaling)
	case !(c.Holdout >= 0 && c.Holdout < 1):
		return errorf(ErrConfig, "Holdout must be in [0, 1), got %v", c.Holdout)
	case c.EvalK < 0 || c.EvalK > MaxEvalK:
		return errorf(ErrConfig, "EvalK must be in [0, %d], got %d", MaxEvalK, c.EvalK)
	case !(c.EvalSample >= 0 && c.EvalSample <= 1):
		return errorf(ErrConfig, "EvalSample must be in [0, 1], got %v", c.EvalSample)
	case c.Popular < 0 || c.Popular > 100000:
		return errorf(ErrConfig, "Popular must be in [0, 100000], got %d", c.Popular)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.RegScaling == "" {
		c.RegScaling = RegWeighted
	}
	if c.EvalK == 0 {
		c.EvalK = DefaultEvalK
	}
	if c.Popular == 0 {
		c.Popular = DefaultPopular
	}
	if !c.Implicit {
		c.Alpha = 0
	}
	return c
}

// weighted reports whether the regularisation scales with row counts.
func (c Config) weighted() bool { return c.RegScaling != RegNone }

// rankEval reports whether the job evaluates rankings on held-out pairs.
func (c Config) rankEval() bool { return c.Implicit && c.Holdout > 0 }
