// Package alsjob runs ALS (package als) on the cluster: the job's
// parameters and their checks against an interactions dataset, the
// leader's state machine that alternates the by-user and the by-item
// layouts, the worker's step on one block with the factor tables it keeps
// between passes, the model kind with its description, and the scoring of
// a dataset's users into their top items.
//
// The factors never travel through the leader: every pass's shards write
// their new factors to the object store (als.EncodeFactors), the state
// names them (als.FactorRef), and the next pass's workers read them back.
// A model is a manifest (Factorization) naming its final factor blobs.
package alsjob

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Name is the algorithm's name in job specs, and the kind of its models.
const Name = "als"

// Blob kinds.
const (
	// ModelKind is the blob kind of an ALS model manifest.
	ModelKind = "model.als"
	stateKind = "als.state"
)

// Params are an ALS job's parameters ("als" in a job spec).
type Params struct {
	Rank       int     `json:"rank"`
	Lambda     float64 `json:"lambda"`
	Iterations int     `json:"iterations"`
	Implicit   bool    `json:"implicit"`
	// Alpha is written even when 0, so that a 0 given for an implicit
	// job is refused, not replaced by the default.
	Alpha      float64 `json:"alpha"`
	RegScaling string  `json:"reg_scaling,omitempty"`
	Holdout    float64 `json:"holdout"`
}

// UnmarshalJSON fills every field left out with its default
// (als.DefaultConfig); a value given is kept, 0 included.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	d := als.DefaultConfig()
	v := plain{Rank: d.Rank, Lambda: d.Lambda, Iterations: d.Iterations, Alpha: d.Alpha, RegScaling: d.RegScaling}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Params(v)
	return nil
}

// Check checks the parameters that do not depend on the dataset.
func (p *Params) Check() error {
	if err := proto.IntParam("als.rank", "--rank", p.Rank, 1, als.MaxRank); err != nil {
		return err
	}
	if err := proto.FloatParam("als.lambda", "--lambda", p.Lambda, p.Lambda > 0, "a finite number greater than 0"); err != nil {
		return err
	}
	if err := proto.IntParam("als.iterations", "--iterations", p.Iterations, 1, als.MaxIterations); err != nil {
		return err
	}
	if p.Implicit {
		if err := proto.FloatParam("als.alpha", "--alpha", p.Alpha, p.Alpha > 0, "a finite number greater than 0"); err != nil {
			return err
		}
	}
	if p.RegScaling != "" {
		if err := proto.OneOf("als.reg_scaling", "--reg-scaling", p.RegScaling, als.RegWeighted, als.RegNone); err != nil {
			return err
		}
	}
	return proto.FloatParam("als.holdout", "--holdout", p.Holdout, p.Holdout >= 0 && p.Holdout < 1, "at least 0 and less than 1")
}

// Config is the algorithm's configuration of a job with these parameters
// and seed. A field left out of the spec took its default when the spec
// was decoded; a value given is used as it is.
func (p *Params) Config(seed uint64) (als.Config, error) {
	cfg := als.DefaultConfig()
	cfg.Rank, cfg.Lambda, cfg.Iterations = p.Rank, p.Lambda, p.Iterations
	if p.Alpha > 0 || p.Implicit {
		cfg.Alpha = p.Alpha
	}
	if p.RegScaling != "" {
		cfg.RegScaling = p.RegScaling
	}
	cfg.Implicit, cfg.Holdout, cfg.Seed = p.Implicit, p.Holdout, seed
	if err := cfg.Validate(); err != nil {
		return cfg, job.Invalid("%v", err)
	}
	return cfg, nil
}

// Spec is an ALS job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}

// ParamsOf decodes a spec's ALS parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is ALS on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of dataset ALS reads.
func (Algorithm) DatasetKind() string { return proto.KindInteractions }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// Check resolves an ALS spec against an interactions version: both
// layouts are there, the configuration is valid for their shard counts,
// and implicit feedback has counts, not negative values. It fills in the
// defaults, so the committed spec says exactly what runs.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if ver.Interactions == nil || len(ver.ItemShards) == 0 {
		return job.Invalid("als needs an interactions dataset")
	}
	if _, err := newJob(*spec, p, ver); err != nil {
		return err
	}
	if err := checkValues(p, ver); err != nil {
		return err
	}
	return job.SetParams(spec, p)
}

// checkValues checks that implicit feedback has counts, not negative
// values.
func checkValues(p *Params, ver *proto.DatasetVersion) error {
	if !p.Implicit || ver.Interactions == nil || ver.Interactions.Value == "" || len(ver.Columns) == 0 {
		return nil
	}
	if cs := ver.Columns[0]; cs.Count > 0 && cs.Min < 0 {
		return job.Invalid("implicit feedback needs counts of at least 0, but column %q has values down to %v",
			ver.Interactions.Value, cs.Min)
	}
	return nil
}

// NewJob makes an ALS job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	p, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	return newJob(spec, p, ver)
}

// alsJob drives ALS: passes alternate between the by-user and the by-item
// layout, and the factors stay in the object store, named by the state.
type alsJob struct {
	spec proto.JobSpec
	ver  *proto.DatasetVersion
	st   *als.State
	side als.Side // side of the task Next returned last
}

func newJob(spec proto.JobSpec, p *Params, ver *proto.DatasetVersion) (*alsJob, error) {
	cfg, err := p.Config(spec.Seed)
	if err != nil {
		return nil, err
	}
	st, err := als.New(cfg, len(ver.Shards), len(ver.ItemShards))
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return &alsJob{spec: spec, ver: ver, st: st}, nil
}

func (j *alsJob) Next() (any, bool) {
	t, done := j.st.Next()
	if done {
		return nil, true
	}
	j.side = t.Side
	return t, false
}

// Shards is the layout of the side the current pass runs on.
func (j *alsJob) Shards(ver *proto.DatasetVersion) []proto.ShardRef {
	if j.side == als.Items {
		return ver.ItemShards
	}
	return ver.Shards
}

func (j *alsJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[als.Result](Name, parts)
	if err != nil {
		return err
	}
	return j.st.Absorb(res)
}

func (j *alsJob) Progress() job.Progress {
	return job.Progress{Phase: j.st.Phase(), Iteration: j.st.Iteration(), Objective: j.st.Objective()}
}

// Metrics are the newest measurements: training and held-out RMSE
// (explicit), or precision, recall and NDCG at K (implicit, one iteration
// behind: they need the next pass).
func (j *alsJob) Metrics() []proto.Metric {
	hist := j.st.Metrics()
	var out []proto.Metric
	for i := len(hist) - 1; i >= 0; i-- {
		it := hist[i]
		if !j.st.Config.Implicit {
			out = append(out, proto.Metric{Name: "train_rmse", Value: it.TrainRMSE})
			if j.st.Config.Holdout > 0 {
				out = append(out, proto.Metric{Name: "holdout_rmse", Value: it.HoldoutRMSE})
			}
			return out
		}
		if it.EvalUsers > 0 {
			k := fmt.Sprint(it.K)
			return []proto.Metric{{Name: "iteration", Value: float64(it.Iteration)},
				{Name: "precision@" + k, Value: it.Precision}, {Name: "recall@" + k, Value: it.Recall},
				{Name: "ndcg@" + k, Value: it.NDCG}}
		}
	}
	return nil
}

func (j *alsJob) MaxIter() int     { return j.st.Config.Iterations }
func (j *alsJob) Prep() proto.Prep { return proto.Prep{} }

func (j *alsJob) Save() ([]byte, error) {
	b, err := json.Marshal(j.st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(stateKind, json.RawMessage(b))
}

func (j *alsJob) Load(b []byte) error {
	var raw json.RawMessage
	if err := blob.Decode(b, stateKind, &raw); err != nil {
		return err
	}
	st := new(als.State)
	if err := json.Unmarshal(raw, st); err != nil {
		return fmt.Errorf("als: state: %w", err)
	}
	j.st = st
	return nil
}

// BlobRef is where a factor shard is stored.
func BlobRef(r als.FactorRef) proto.BlobRef {
	return proto.BlobRef{Bucket: proto.BucketModels, Object: r.Object, Size: r.Size, SHA256: r.SHA256}
}

func factorRefs(refs ...[]als.FactorRef) []proto.BlobRef {
	var out []proto.BlobRef
	for _, side := range refs {
		for _, r := range side {
			if r.Object != "" {
				out = append(out, BlobRef(r))
			}
		}
	}
	return out
}

// Refs are the latest factor shards of both sides.
func (j *alsJob) Refs() []proto.BlobRef { return factorRefs(j.st.UserRefs, j.st.ItemRefs) }

// Finish is the model: a manifest of the final factor shards, which it
// keeps (job.ModelBlob.Refs).
func (j *alsJob) Finish() (*job.Result, error) {
	sum := j.st.Summary()
	if sum == nil {
		return nil, fmt.Errorf("als: the job is not done")
	}
	in := j.ver.Interactions
	m := Factorization{Kind: Name, Summary: *sum, Spec: j.spec, Dataset: j.spec.Dataset, Version: j.spec.DatasetVersion}
	if in != nil {
		m.User, m.Item, m.Users, m.Items = in.User, in.Item, in.Users, in.Items
	}
	b, err := blob.Encode(ModelKind, m)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: Name, Blob: b, Refs: j.Refs()}}, nil
}

// DecodeTask decodes a pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(als.Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// Factorization is the exported form of an ALS model, its manifest: the
// factors stay in the object store, one blob per shard and side, named by
// the summary.
type Factorization struct {
	Kind    string        `json:"kind"`
	Summary als.Summary   `json:"summary"`
	Spec    proto.JobSpec `json:"spec"`
	Dataset string        `json:"dataset"`
	Version int           `json:"dataset_version"`
	// User and Item are the interactions' column names; Users and Items
	// count the distinct ids of the training dataset.
	User  string `json:"user"`
	Item  string `json:"item"`
	Users int64  `json:"users"`
	Items int64  `json:"items"`
}

// Kinds are the model kinds ALS makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: Kind{}} }
