package quantile

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config or column count.
	ErrConfig = errors.New("quantile: invalid config")
	// ErrBadTask reports a Task that RunTask cannot run, or values that do
	// not match it.
	ErrBadTask = errors.New("quantile: bad task")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("quantile: bad result")
	// ErrBadState reports a State that New could not have produced, such
	// as one decoded from damaged JSON.
	ErrBadState = errors.New("quantile: bad state")
	// ErrDone reports an Absorb after the cuts are final.
	ErrDone = errors.New("quantile: already done")
)

// Error is the type of the errors the package returns: a message that
// stands alone ("quantile: shard 3: result for step 1, want step 2") and
// the sentinel it unwraps to. Packages built on this one may take Msg to
// restate the error under their own sentinels.
type Error = step.Error

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("quantile", sentinel, format, args...)
}
