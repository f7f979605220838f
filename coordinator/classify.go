package coordinator

import "errors"

// stepPermanent is the class a worker gives a step error that every worker
// would hit (worker.ClassPermanent; the coordinator does not import worker).
const stepPermanent = "permanent"

// permanentFailure reports whether a job failed for a reason that running it
// again as it is cannot change: a step refused for its data or schema, or a
// spec that does not fit its dataset. Lost workers, timeouts and an object
// store that did not answer are not permanent.
func permanentFailure(err error) bool {
	return errors.Is(err, ErrStepRefused) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound)
}

// errNoRetry marks a run's job that failed permanently.
var errNoRetry = errors.New("not retried")

// permanentRun reports whether a run's attempt failed in a way another
// attempt would repeat: a step the leader refused (the dataset's schema no
// longer fits the model, a dataset that is gone), a job that failed
// permanently, or a submit refused because the schedule's role is at its
// bound of active jobs (the window's run is refused once, recorded as
// failed with the bound's message; the next window tries again). Such a
// run fails at once, whatever its retries.
func permanentRun(err error) bool {
	return errors.Is(err, errNoRetry) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrLimit)
}
