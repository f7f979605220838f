package clv

import (
	"math"
	"time"
)

// Purchase models, time units.
const (
	BGNBD      = "bgnbd"     // BG/NBD (Fader, Hardie & Lee 2005), the default
	ParetoNBD  = "paretonbd" // Pareto/NBD (Schmittlein, Morrison & Colombo 1987)
	GammaGamma = "gammagamma"

	Day   = "day"
	Week  = "week" // the default
	Month = "month"
)

// SecondsPerDay converts unix seconds to days.
const SecondsPerDay = 86400

// Defaults applied by New to zero fields.
const (
	DefaultMaxIter = 1000
	DefaultTol     = 1e-10
	DefaultMemory  = 10

	// maxHalvings bounds the step halvings of one line search.
	maxHalvings = 60
	// armijo is the sufficient-decrease constant c₁ of the line search.
	armijo = 1e-4
	// hessStep is the step in log-parameter space of the central
	// differences of the summed gradient that give the Hessian.
	hessStep = 1e-4
)

// Config describes a customer-value job.
type Config struct {
	// CalibrationEnd is midnight UTC (unix seconds) starting the last day
	// of the calibration period: purchases on that day or before it are
	// fitted. It must be set.
	CalibrationEnd int64 `json:"calibration_end"`
	// HoldoutEnd, when set, is midnight UTC starting the last day of the
	// holdout period, after CalibrationEnd: the purchases after the
	// calibration end up to that day are compared with the model's
	// predictions.
	HoldoutEnd int64 `json:"holdout_end,omitempty"`
	// TimeUnit is "day", "week" (7 days, the default when empty) or
	// "month" (365.25/12 days).
	TimeUnit string `json:"time_unit"`
	// Model is the purchase model, "bgnbd" (the default when empty) or
	// "paretonbd". The spend model is always Gamma-Gamma.
	Model string `json:"model"`
	// Penalty is lifetimes' penalizer_coef λ ≥ 0: each fit minimises the
	// mean negative log-likelihood plus λ times the sum of the squared
	// parameters.
	Penalty float64 `json:"penalty,omitempty"`
	// MaxIter bounds the accepted L-BFGS steps of each fit; 0 means
	// DefaultMaxIter.
	MaxIter int `json:"max_iter,omitempty"`
	// Tol is the convergence test: the largest entry of the gradient of
	// the objective (mean negative log-likelihood plus penalty) with
	// respect to the log-parameters; 0 means DefaultTol.
	Tol float64 `json:"tol,omitempty"`
	// Memory is the number of L-BFGS correction pairs; 0 means
	// DefaultMemory.
	Memory int `json:"memory,omitempty"`
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.TimeUnit == "" {
		c.TimeUnit = Week
	}
	if c.Model == "" {
		c.Model = BGNBD
	}
	if c.MaxIter == 0 {
		c.MaxIter = DefaultMaxIter
	}
	if c.Tol == 0 {
		c.Tol = DefaultTol
	}
	if c.Memory == 0 {
		c.Memory = DefaultMemory
	}
	return c
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.CalibrationEnd == 0:
		return errorf(ErrConfig, "CalibrationEnd is not set")
	case c.CalibrationEnd%SecondsPerDay != 0:
		return errorf(ErrConfig, "CalibrationEnd %d is not midnight UTC (a multiple of 86400)", c.CalibrationEnd)
	case c.HoldoutEnd != 0 && c.HoldoutEnd%SecondsPerDay != 0:
		return errorf(ErrConfig, "HoldoutEnd %d is not midnight UTC (a multiple of 86400)", c.HoldoutEnd)
	case c.HoldoutEnd != 0 && c.HoldoutEnd <= c.CalibrationEnd:
		return errorf(ErrConfig, "HoldoutEnd %s is not after CalibrationEnd %s", date(c.HoldoutEnd), date(c.CalibrationEnd))
	case c.TimeUnit != "" && c.TimeUnit != Day && c.TimeUnit != Week && c.TimeUnit != Month:
		return errorf(ErrConfig, "TimeUnit %q is not day, week or month", c.TimeUnit)
	case c.Model != "" && c.Model != BGNBD && c.Model != ParetoNBD:
		return errorf(ErrConfig, "Model %q is not bgnbd or paretonbd", c.Model)
	case !(c.Penalty >= 0) || math.IsInf(c.Penalty, 0):
		return errorf(ErrConfig, "Penalty %v is not a finite number ≥ 0", c.Penalty)
	case c.MaxIter < 0 || c.MaxIter > 1_000_000:
		return errorf(ErrConfig, "MaxIter %d is outside [0, 1000000]", c.MaxIter)
	case !(c.Tol >= 0) || c.Tol > 1e-3:
		return errorf(ErrConfig, "Tol %v is outside [0, 0.001]", c.Tol)
	case c.Memory < 0 || c.Memory > 100:
		return errorf(ErrConfig, "Memory %d is outside [0, 100]", c.Memory)
	}
	return nil
}

// unitDays returns the length of the time unit in days.
func unitDays(unit string) float64 {
	switch unit {
	case Day:
		return 1
	case Month:
		return 365.25 / 12
	}
	return 7
}

// date formats a unix-second instant as a UTC date.
func date(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02") }

// dayOf returns the UTC day number (floor) of unix instant t.
func dayOf(t int64) int64 {
	d := t / SecondsPerDay
	if t%SecondsPerDay < 0 {
		d--
	}
	return d
}
