package basket

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("basket: invalid config")
	// ErrBaskets reports malformed baskets: pointers out of order, an item
	// index out of range, or items not strictly ascending in a basket.
	ErrBaskets = errors.New("basket: malformed baskets")
	// ErrTooManyCandidates reports a level with more candidate itemsets
	// than Config.MaxCandidates allows.
	ErrTooManyCandidates = errors.New("basket: too many candidate itemsets")
	// ErrUnknownItem reports an item that is not a frequent item of a
	// model.
	ErrUnknownItem = errors.New("basket: unknown item")
	// ErrNoBaskets reports that no shard holds a basket.
	ErrNoBaskets = errors.New("basket: no baskets")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("basket: bad result")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("basket: bad task")
	// ErrDone reports an Absorb after the model is final.
	ErrDone = errors.New("basket: already done")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("basket", sentinel, format, args...)
}
