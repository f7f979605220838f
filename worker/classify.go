package worker

import (
	"errors"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// ErrColumn reports a shard that lacks a column the step needs, or a
// category value the step's dictionary does not hold: the dataset does not
// have the schema the job was planned for.
var ErrColumn = errors.New("worker: column missing")

// Error classes a worker puts in a failed step's reply
// (proto.HeaderErrorKey): a transient failure is worth sending to another
// worker, a permanent one fails the same way everywhere.
const (
	ClassTransient = "transient"
	ClassPermanent = "permanent"
)

// deterministic are the errors that come from the step and its data alone,
// never from the worker, the network or the object store.
var deterministic = []error{
	ErrColumn,
	kmeans.ErrConfig, kmeans.ErrShape, kmeans.ErrNonFinite, kmeans.ErrBadTask,
	linear.ErrConfig, linear.ErrShape, linear.ErrNonFinite, linear.ErrBadWeight, linear.ErrBadTask,
	logistic.ErrConfig, logistic.ErrShape, logistic.ErrTarget, logistic.ErrNonFinite, logistic.ErrBadWeight, logistic.ErrBadTask,
	rfm.ErrConfig, rfm.ErrBadTx, rfm.ErrNonFinite, rfm.ErrBadTask, rfm.ErrBadCuts,
	als.ErrConfig, als.ErrBlock, als.ErrUnknownID, als.ErrNonFinite, als.ErrBadTask,
	quantile.ErrConfig, quantile.ErrBadTask,
}

// Classify says whether a step's error is transient (retry elsewhere) or
// permanent (the job cannot succeed: fail it with this message). Anything
// not known to be deterministic is transient.
func Classify(err error) string {
	for _, d := range deterministic {
		if errors.Is(err, d) {
			return ClassPermanent
		}
	}
	return ClassTransient
}

// classHeader is set on a failed step's reply.
const classHeader = proto.HeaderErrorKey
