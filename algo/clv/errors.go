package clv

import (
	"errors"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/step"
)

// Sentinel errors. Returned errors wrap one of them with context; test with
// errors.Is.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("clv: invalid config")
	// ErrBadTx reports a transactions shard whose columns disagree in
	// length, whose keys are not strictly ascending, or whose rows are not
	// ascending in time within a customer.
	ErrBadTx = errors.New("clv: bad transactions")
	// ErrNonFinite reports a NaN or ±Inf amount, or a log-likelihood that
	// is not finite where the fit cannot step around it.
	ErrNonFinite = errors.New("clv: non-finite value")
	// ErrNoCustomers reports that the shards hold no customer to fit: no
	// purchase on or before the calibration end, an empty calibration
	// period, or no repeat customer with a positive mean spend. It is final
	// for the job.
	ErrNoCustomers = errors.New("clv: no customers to fit")
	// ErrNoConvergence reports a fit that did not converge.
	ErrNoConvergence = errors.New("clv: fit did not converge")
	// ErrBadTask reports a Task that RunTask cannot run.
	ErrBadTask = errors.New("clv: bad task")
	// ErrBadResult reports a Result that does not answer the current Task.
	ErrBadResult = errors.New("clv: bad result")
	// ErrDone reports an Absorb after the model is final.
	ErrDone = errors.New("clv: already done")
	// ErrBadState reports a State that New and Absorb could not have made.
	ErrBadState = errors.New("clv: bad state")
	// ErrPredict reports a prediction that cannot be computed: a series
	// that does not converge, or a parameter outside the formula's range.
	ErrPredict = errors.New("clv: cannot predict")
	// ErrNoSpend reports a customer whose Gamma-Gamma expected spend is
	// infinite (p·x + q ≤ 1: with q ≤ 1, every customer without a repeat
	// purchase). It is an ErrPredict; scoring leaves the customer unscored.
	ErrNoSpend = fmt.Errorf("%w: infinite expected spend", ErrPredict)
)

func errorf(sentinel error, format string, args ...any) error {
	return step.Errorf("clv", sentinel, format, args...)
}
