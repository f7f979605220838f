package worker

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Error classes a worker puts in a failed step's reply
// (proto.HeaderErrorKey): a transient failure is worth sending to another
// worker, a permanent one fails the same way everywhere.
const (
	ClassTransient = "transient"
	ClassPermanent = "permanent"
)

// Classify says whether a step's error is transient (retry elsewhere) or
// permanent (the job cannot succeed: fail it with this message). The
// algorithms' errors (*step.Error) come from the step and its data alone,
// never from the worker, the network or the object store; anything else is
// transient.
func Classify(err error) string {
	if _, ok := errors.AsType[*step.Error](err); ok {
		return ClassPermanent
	}
	return ClassTransient
}

// classHeader is set on a failed step's reply.
const classHeader = proto.HeaderErrorKey
