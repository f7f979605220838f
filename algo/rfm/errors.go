package rfm

import (
	"errors"
	"strings"

	"github.com/mathcrm/mathcrm/algo/quantile"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("rfm: invalid config")
	// ErrSegments reports a segment map that is malformed or leaves a
	// combination of scores without a segment.
	ErrSegments = errors.New("rfm: bad segment map")
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
	// ErrBadState reports a State that New and Absorb could not have made,
	// such as one decoded from damaged JSON or saved by a version that
	// kept the search in another form.
	ErrBadState = errors.New("rfm: bad state")
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("rfm", sentinel, format, args...)
}

// fromQuantile restates an error of the quantile search under this
// package's sentinels. Its columns are the features in Feature order:
// column 0 is recency, 1 frequency, 2 monetary.
func fromQuantile(err error) error {
	var qe *quantile.Error
	if !errors.As(err, &qe) {
		return err
	}
	sentinel := ErrBadState // quantile.ErrBadState, and ErrConfig from a damaged state
	switch {
	case errors.Is(err, quantile.ErrBadTask):
		sentinel = ErrBadTask
	case errors.Is(err, quantile.ErrBadResult):
		sentinel = ErrBadResult
	case errors.Is(err, quantile.ErrDone):
		sentinel = ErrDone
	}
	return &step.Error{Msg: "rfm: " + strings.TrimPrefix(qe.Msg, "quantile: "), Err: sentinel}
}
