// Package rfmjob runs package rfm on the cluster (job.Algorithm): the job
// that computes RFM features and named segments from a transactions
// dataset into a new version of a features dataset, keyed by customer.
//
// The leader's job runs the passes of rfm.State until the quintile cuts
// are exact, then one write pass in which every shard writes its
// customers' features as a features shard of the new version; the version
// becomes visible in the raft entry that ends the job. It lives beside
// package rfm, not in it, because the cluster's messages (internal/proto)
// carry rfm's types.
package rfmjob

import (
	"encoding/json"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Name is the algorithm's name in job specs.
const Name = "rfm"

// Params are an RFM job's parameters ("rfm" in a job spec).
type Params struct {
	// As names the features dataset the job writes a version of.
	As string `json:"as"`
	// AsOf is the instant the features are computed at; zero is the day
	// after the last transaction (rfm.DefaultAsOf).
	AsOf time.Time `json:"as_of,omitzero"`
	// Replace allows writing into a dataset of another kind or schema.
	Replace bool `json:"replace,omitempty"`
	// Segments maps the scores to the segment column's names; empty is
	// rfm.StandardSegments.
	Segments rfm.SegmentMap `json:"segments,omitempty"`
}

// Check checks the parameters that do not depend on the dataset: as-of,
// when given, is a whole day.
func (p *Params) Check() error {
	if !p.AsOf.IsZero() && !p.AsOf.Equal(p.AsOf.Truncate(24*time.Hour)) {
		return &proto.ParamError{Field: "rfm.as_of", Flag: "--as-of", Value: p.AsOf.Format(time.RFC3339), Want: "a whole day, UTC midnight"}
	}
	return nil
}

// Spec is an RFM job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}

// ParamsOf decodes a spec's RFM parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is RFM features on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of dataset RFM reads.
func (Algorithm) DatasetKind() string { return proto.KindTransactions }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// DecodeTask decodes a pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// Task is the task of one pass of an RFM job: a search pass for the
// quintile cuts, or, once the cuts are known, the pass that writes the
// features dataset's shards.
type Task struct {
	Search *rfm.Task `json:"search,omitempty"`
	Write  *Write    `json:"write,omitempty"`
}

// Write asks for one features shard per transactions shard.
type Write struct {
	Config rfm.Config `json:"config"`
	Cuts   rfm.Cuts   `json:"cuts"`
	// Key names the key column of the written shards.
	Key string `json:"key"`
	// Prefix names the written shard objects: Prefix + "/shard-NNNN-<random>.parquet".
	Prefix string `json:"prefix"`
}

// Written is a write pass's result for one shard, beside the shard it
// wrote (proto.Partial.Output): the moments of each column and the number
// of customers in each segment, by code, for the new version's statistics.
type Written struct {
	Moments  []proto.Moments
	Segments []int64
}
