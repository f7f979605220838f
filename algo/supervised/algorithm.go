package supervised

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Linear is linear (and ridge) regression on the cluster.
type Linear struct{}

// Logistic is logistic regression on the cluster.
type Logistic struct{}

// DatasetKind is the kind of dataset linear regression reads.
func (Linear) DatasetKind() string { return proto.KindFeatures }

// DatasetKind is the kind of dataset logistic regression reads.
func (Logistic) DatasetKind() string { return proto.KindFeatures }

// CheckParams checks a linear spec's parameters.
func (Linear) CheckParams(raw json.RawMessage) error { return checkParams(LinearName, raw) }

// CheckParams checks a logistic spec's parameters.
func (Logistic) CheckParams(raw json.RawMessage) error { return checkParams(LogisticName, raw) }

func checkParams(algo string, raw json.RawMessage) error {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%w: %s parameters: %v", proto.ErrParam, algo, err)
	}
	return p.Check(algo)
}

// Check resolves a linear spec against the dataset version and fills in
// its defaults, so the committed spec says exactly what ran.
func (Linear) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	return check(spec, ver)
}

// Check resolves a logistic spec against the dataset version and fills in
// its defaults; the target must hold 0 and 1.
func (Logistic) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	return check(spec, ver)
}

// NewJob makes a linear job's state machine.
func (Linear) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	return newJobOf(spec, ver)
}

// NewJob makes a logistic job's state machine.
func (Logistic) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	return newJobOf(spec, ver)
}

func newJobOf(spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	rs, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	return newJob(spec.Algo, spec, rs, ver)
}

// DecodeTask decodes a linear pass's task.
func (Linear) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(linear.Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// DecodeTask decodes a logistic pass's task.
func (Logistic) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(logistic.Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// RunShard runs one linear task on one shard's prepared matrix.
func (Linear) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	mx, err := matrix(ctx, sh, p)
	if err != nil {
		return err
	}
	res, err := linear.RunTask(nil, task.(*linear.Task), mx.X, mx.N, mx.D, mx.Y, nil, mx.Keys, sh.Ref().Index)
	if err != nil {
		return err
	}
	return job.Encode(p, LinearName, res)
}

// RunShard runs one logistic task on one shard's prepared matrix.
func (Logistic) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	mx, err := matrix(ctx, sh, p)
	if err != nil {
		return err
	}
	res, err := logistic.RunTask(nil, task.(*logistic.Task), mx.X, mx.N, mx.D, mx.Y, nil, mx.Keys, sh.Ref().Index)
	if err != nil {
		return err
	}
	return job.Encode(p, LogisticName, res)
}

func matrix(ctx context.Context, sh job.Shard, p *proto.Partial) (*feature.Matrix, error) {
	mx, err := sh.Matrix(ctx)
	if err != nil {
		return nil, err
	}
	p.Rows, p.Skipped = int64(mx.N), mx.Skipped
	return mx, nil
}

// Kinds are the model kinds linear regression makes.
func (Linear) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{LinearName: Kind{}} }

// Kinds are the model kinds logistic regression makes.
func (Logistic) Kinds() map[string]job.ModelKind {
	return map[string]job.ModelKind{LogisticName: Kind{}}
}

// regressionJob drives a linear or a logistic regression on the leader.
type regressionJob struct {
	spec proto.JobSpec
	rs   *Params
	prep proto.Prep
	lin  *linear.State
	log  *logistic.State
	skip int64
}

// saved is the state committed after every pass.
type saved struct {
	State   []byte // the state machine, as JSON
	Skipped int64
}

func newJob(algo string, spec proto.JobSpec, rs *Params, ver *proto.DatasetVersion) (*regressionJob, error) {
	j := &regressionJob{spec: spec, rs: rs}
	j.prep = proto.Prep{Columns: rs.Features, Target: rs.Target}
	j.prep.Categories = feature.Categories(ver, j.prep.Columns, []string{rs.Target})
	d := len(rs.Features)
	var err error
	switch algo {
	case LinearName:
		cfg := linear.DefaultConfig()
		cfg.Lambda, cfg.Holdout, cfg.SplitSeed, cfg.Features = rs.L2, rs.Holdout, spec.Seed, rs.Features
		cfg.Residuals = true // for the model's page
		j.lin, err = linear.New(cfg, d)
	case LogisticName:
		j.log, err = logistic.New(logisticConfig(spec.Seed, rs), d)
	default:
		return nil, job.Invalid("%q is not a regression", algo)
	}
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return j, nil
}

func (j *regressionJob) Next() (any, bool) {
	if j.lin != nil {
		return j.lin.Next()
	}
	return j.log.Next()
}

func (j *regressionJob) Absorb(parts []*proto.Partial) error {
	var skipped int64
	for _, p := range parts {
		if p != nil {
			skipped += p.Skipped
		}
	}
	if j.lin != nil {
		res, err := job.Decode[linear.Result](LinearName, parts)
		if err != nil {
			return err
		}
		j.skip = skipped
		return j.lin.Absorb(res)
	}
	res, err := job.Decode[logistic.Result](LogisticName, parts)
	if err != nil {
		return err
	}
	j.skip = skipped
	return j.log.Absorb(res)
}

// DecodePartial decodes a partial as it arrives (job.Predecoder), while
// the pass's other steps run: a logistic pass that ranks the scores for the
// exact AUC gets every row's score, 140 KB a shard over 1M rows, and
// decoding the 64 of them after the last one arrived took a few
// milliseconds of the pass. It reads only the job's spec, which does not
// change.
func (j *regressionJob) DecodePartial(p *proto.Partial) (any, error) {
	if j.spec.Algo == LinearName {
		return job.Predecode[linear.Result](p)
	}
	return job.Predecode[logistic.Result](p)
}

func (j *regressionJob) Progress() job.Progress {
	if j.lin != nil {
		return job.Progress{Phase: j.lin.Phase(), Iteration: j.lin.Iteration(), Objective: j.lin.Objective()}
	}
	return job.Progress{Phase: j.log.Phase(), Iteration: j.log.Iteration(), Objective: j.log.Objective()}
}

func (j *regressionJob) MaxIter() int {
	if j.log == nil {
		return 1
	}
	if j.rs.MaxIter != nil {
		return *j.rs.MaxIter
	}
	return logistic.DefaultMaxIter
}

func (j *regressionJob) Prep() proto.Prep { return j.prep }

func (j *regressionJob) stateKind() string { return j.spec.Algo + ".state" }

func (j *regressionJob) Save() ([]byte, error) {
	var st any = j.lin
	if j.log != nil {
		st = j.log
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(j.stateKind(), saved{State: b, Skipped: j.skip})
}

func (j *regressionJob) Load(b []byte) error {
	var s saved
	if err := blob.Decode(b, j.stateKind(), &s); err != nil {
		return err
	}
	j.skip = s.Skipped
	if j.lin != nil {
		j.lin = new(linear.State)
		return json.Unmarshal(s.State, j.lin)
	}
	j.log = new(logistic.State)
	return json.Unmarshal(s.State, j.log)
}

// Finish is the model with what scoring needs: the features and the
// dictionaries of the categorical columns they come from.
func (j *regressionJob) Finish() (*job.Result, error) {
	m := Model{Kind: j.spec.Algo, Target: j.rs.Target, Features: j.rs.Features, Categories: j.prep.Categories,
		Skipped: j.skip, Spec: j.spec, Dataset: j.spec.Dataset, Version: j.spec.DatasetVersion}
	if j.lin != nil {
		m.Linear = j.lin.Model()
	} else {
		m.Logistic = j.log.Model()
	}
	b, err := blob.Encode(ModelKind, m)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: j.spec.Algo, Blob: b}}, nil
}

// ModelKind is the blob kind of a linear or logistic model.
const ModelKind = "model.supervised"

// Model is the exported form of a linear or logistic regression model,
// with what is needed to score new rows: the features (one-hot columns
// named col=value) and the dictionaries of the categorical columns they
// come from.
type Model struct {
	Kind       string              `json:"kind"`
	Target     string              `json:"target"`
	Features   []string            `json:"features"`
	Categories map[string][]string `json:"categories,omitempty"`
	Skipped    int64               `json:"rows_skipped"`
	Spec       proto.JobSpec       `json:"spec"`
	Dataset    string              `json:"dataset"`
	Version    int                 `json:"dataset_version"`
	Linear     *linear.Model       `json:"linear,omitempty"`
	Logistic   *logistic.Model     `json:"logistic,omitempty"`
}
