package linear

import "math"

// DefaultMaxCond is the largest condition estimate of the equilibrated
// normal equations that a Cholesky solve is trusted with; above it, or when
// Cholesky fails, the leader solves by pseudo-inverse and says so in
// Model.Warning.
const DefaultMaxCond = 1e12

// Config describes a linear or ridge regression job. Features are in
// training space: the caller has already transformed the columns if that
// was wanted. The intercept is always fitted and never penalised.
type Config struct {
	// Lambda is the L2 penalty λ ≥ 0 on the coefficients (not the
	// intercept): the job minimises ½Σw(y−Xβ−b)² + ½λ‖β‖², which is
	// scikit-learn's Ridge(alpha=λ); λ = 0 is ordinary least squares.
	Lambda float64 `json:"lambda"`
	// Holdout is the fraction of rows, in [0, 1), held out of training by
	// a hash of their key (see Holdout); they only feed the holdout
	// metrics. 0 trains on every row and needs no keys.
	Holdout float64 `json:"holdout"`
	// SplitSeed selects a different held-out set for the same fraction.
	SplitSeed uint64 `json:"split_seed"`
	// MaxCond overrides DefaultMaxCond when not 0; it must be at least 1.
	MaxCond float64 `json:"max_cond"`
	// Features optionally names the D training columns, for the model.
	Features []string `json:"features,omitempty"`
	// Residuals asks for histograms of the residuals (Model.Residuals):
	// the eval pass then runs even without held-out rows.
	Residuals bool `json:"residuals,omitempty"`
}

// DefaultConfig returns ordinary least squares on every row.
func DefaultConfig() Config { return Config{MaxCond: DefaultMaxCond} }

// Validate reports the first thing wrong with c. It cannot check the length
// of Features against D; New does.
func (c Config) Validate() error {
	switch {
	case !(c.Lambda >= 0) || math.IsInf(c.Lambda, 0):
		return errorf(ErrConfig, "Lambda must be finite and not negative, got %v", c.Lambda)
	case !(c.Holdout >= 0 && c.Holdout < 1):
		return errorf(ErrConfig, "Holdout must be in [0, 1), got %v", c.Holdout)
	case c.MaxCond != 0 && (!(c.MaxCond >= 1) || math.IsInf(c.MaxCond, 0)):
		return errorf(ErrConfig, "MaxCond must be 0 (default) or a finite value of at least 1, got %v", c.MaxCond)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MaxCond == 0 {
		c.MaxCond = DefaultMaxCond
	}
	return c
}
