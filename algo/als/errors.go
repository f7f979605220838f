package als

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("als: invalid config")
	// ErrBlock reports a malformed Block: ids out of order, a bad Ptr, a
	// non-finite value, or a negative count in an implicit job.
	ErrBlock = errors.New("als: malformed block")
	// ErrFactors reports malformed factor shards: lengths that disagree
	// with the rank, ids out of order, the same id in two shards, or a
	// non-finite factor.
	ErrFactors = errors.New("als: malformed factors")
	// ErrUnknownID reports an interaction whose other-side id is in none
	// of the other side's factor shards.
	ErrUnknownID = errors.New("als: unknown id")
	// ErrPrep reports a Prep that was made for another block, layout or
	// split than the one a task runs on.
	ErrPrep = errors.New("als: prep does not fit")
	// ErrSolve reports a row whose normal equations are not positive
	// definite in floating point, or whose solution is not finite.
	ErrSolve = errors.New("als: solve failed")
	// ErrNoData reports a job with no training interaction at all.
	ErrNoData = errors.New("als: no training interactions")
	// ErrNonFinite reports a NaN or ±Inf in a sum.
	ErrNonFinite = errors.New("als: non-finite value")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("als: bad result")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("als: bad task")
	// ErrDone reports an Absorb after the job is finished.
	ErrDone = errors.New("als: already done")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("als", sentinel, format, args...)
}

// contextf puts context in front of err's message, keeping what it wraps.
func contextf(err error, format string, args ...any) error {
	return &step.Error{Msg: "als: " + fmt.Sprintf(format, args...) + ": " + strings.TrimPrefix(err.Error(), "als: "), Err: err}
}
