package rfm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("rfm: invalid config")
	// ErrBadTx reports a transactions shard whose columns disagree in
	// length, whose keys are not strictly ascending, or whose rows are not
	// ascending in time within a customer.
	ErrBadTx = errors.New("rfm: bad transactions")
	// ErrNonFinite reports a NaN or ±Inf amount, or a customer's monetary
	// sum that overflowed.
	ErrNonFinite = errors.New("rfm: non-finite value")
	// ErrNoCustomers reports that no customer has a purchase before AsOf in
	// any shard; it is final for the job.
	ErrNoCustomers = errors.New("rfm: no customer with a purchase before as-of")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("rfm: bad task")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("rfm: bad result")
	// ErrBadCuts reports Cuts that cannot score: not final, for another
	// as-of, or not ordered.
	ErrBadCuts = errors.New("rfm: bad cuts")
	// ErrDone reports an Absorb after the cuts are final.
	ErrDone = errors.New("rfm: already done")
)

// wrapped is an error whose message stands alone but which unwraps to a
// sentinel, so messages read "rfm: AsOf is not set" rather than repeating
// the sentinel's text.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

func errorf(sentinel error, format string, args ...any) error {
	return &wrapped{msg: "rfm: " + fmt.Sprintf(format, args...), err: sentinel}
}
