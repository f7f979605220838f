package kmeans

import (
	"errors"
	"fmt"
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

// wrapped is an error whose message stands alone but which unwraps to a
// sentinel, so messages read "kmeans: K must be at least 1" rather than
// repeating the sentinel's text.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &wrapped{msg: "kmeans: " + fmt.Sprintf(format, args...), err: sentinel}
}
