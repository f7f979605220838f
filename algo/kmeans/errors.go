package kmeans

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("kmeans: invalid config")
	// ErrShape reports inputs whose dimensions disagree (D, K, n, p).
	ErrShape = errors.New("kmeans: shape mismatch")
	// ErrNoRows reports that every shard is empty.
	ErrNoRows = errors.New("kmeans: no rows")
	// ErrTooFewRows reports fewer rows, or fewer distinct rows, than K.
	ErrTooFewRows = errors.New("kmeans: fewer distinct rows than K")
	// ErrNonFinite reports a NaN or ±Inf in training data or in a sum.
	ErrNonFinite = errors.New("kmeans: non-finite value")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("kmeans: bad result")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("kmeans: bad task")
	// ErrDone reports an Absorb after the model is final.
	ErrDone = errors.New("kmeans: already done")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("kmeans", sentinel, format, args...)
}
