package logistic

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("logistic: invalid config")
	// ErrShape reports inputs whose dimensions disagree (d, n, lengths of
	// y, w or keys).
	ErrShape = errors.New("logistic: shape mismatch")
	// ErrTarget reports a target that is not 0 or 1.
	ErrTarget = errors.New("logistic: target not 0 or 1")
	// ErrOneClass reports training rows that hold only one class (or no
	// weight on one), for which the model does not exist.
	ErrOneClass = errors.New("logistic: training rows hold one class")
	// ErrNonFinite reports a NaN or ±Inf in the data or in a sum.
	ErrNonFinite = errors.New("logistic: non-finite value")
	// ErrBadWeight reports a negative or non-finite sample weight.
	ErrBadWeight = errors.New("logistic: bad sample weight")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("logistic: bad result")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("logistic: bad task")
	// ErrDone reports an Absorb after the model is final.
	ErrDone = errors.New("logistic: already done")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("logistic", sentinel, format, args...)
}
