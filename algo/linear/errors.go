package linear

import (
	"errors"
	"fmt"
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

// wrapped is an error whose message stands alone but which unwraps to a
// sentinel, so messages read "linear: Lambda must be ..." rather than
// repeating the sentinel's text.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &wrapped{msg: "linear: " + fmt.Sprintf(format, args...), err: sentinel}
}
