package linear

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("linear: invalid config")
	// ErrShape reports inputs whose dimensions disagree (d, n, lengths of
	// y, w or keys).
	ErrShape = errors.New("linear: shape mismatch")
	// ErrNoRows reports that no training row (or no training weight) is
	// left over all shards.
	ErrNoRows = errors.New("linear: no training rows")
	// ErrNonFinite reports a NaN or ±Inf in the data or in a sum.
	ErrNonFinite = errors.New("linear: non-finite value")
	// ErrBadWeight reports a negative sample weight.
	ErrBadWeight = errors.New("linear: bad sample weight")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("linear: bad result")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("linear: bad task")
	// ErrDone reports an Absorb after the model is final.
	ErrDone = errors.New("linear: already done")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("linear", sentinel, format, args...)
}
