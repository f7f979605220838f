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
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"

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
	// Value is what a customer × item cell of a transactions dataset
	// holds: count, quantity or amount (TxSource); the leader fills in
	// count. An interactions dataset has its own values.
	Value string `json:"value,omitempty"`
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
	if p.Value != "" {
		if err := proto.OneOf("als.value", "--value", p.Value, ValueCount, ValueQuantity, ValueAmount); err != nil {
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

// DatasetKind is decided by Check: interactions, or transactions with
// items.
func (Algorithm) DatasetKind() string { return "" }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// Check resolves an ALS spec against an interactions version: both
// layouts are there, the configuration is valid for their shard counts,
// and implicit feedback has counts, not negative values. It fills in the
// defaults, so the committed spec says exactly what runs.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	switch {
	case ver.Transactions != nil:
		name := spec.Dataset
		if ds != nil {
			name = ds.Name
		}
		p.Value = cmp.Or(p.Value, ValueCount)
		if _, err := txSourceOf(name, ver, p.Value); err != nil {
			return err
		}
	case p.Value != "":
		return job.Invalid("--value is for a transactions dataset; an interactions dataset has its own values")
	case ver.Interactions == nil || len(ver.ItemShards) == 0:
		return job.Invalid("als needs an interactions dataset, or a transactions dataset imported with --item")
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
	// tx is the source of a transactions dataset's blocks, nil for an
	// interactions dataset; names are its items' names, gathered by the
	// init pass.
	tx    *TxSource
	names map[string]string
}

func newJob(spec proto.JobSpec, p *Params, ver *proto.DatasetVersion) (*alsJob, error) {
	cfg, err := p.Config(spec.Seed)
	if err != nil {
		return nil, err
	}
	j := &alsJob{spec: spec, ver: ver}
	items := len(ver.ItemShards)
	if ver.Transactions != nil {
		if j.tx, err = txSourceOf(spec.Dataset, ver, cmp.Or(p.Value, ValueCount)); err != nil {
			return nil, err
		}
		items = len(ver.Shards)
	}
	if j.st, err = als.New(cfg, len(ver.Shards), items); err != nil {
		return nil, job.Invalid("%v", err)
	}
	return j, nil
}

// Task is a pass's task as it travels: the ALS task, and the source of a
// transactions dataset's blocks.
type Task struct {
	*als.Task
	Tx *TxSource `json:"tx,omitempty"`
}

func (j *alsJob) Next() (any, bool) {
	t, done := j.st.Next()
	if done {
		return nil, true
	}
	j.side = t.Side
	if j.tx != nil {
		return &Task{Task: t, Tx: j.tx}, false
	}
	return t, false
}

// Shards is the layout of the side the current pass runs on; both sides
// of a transactions dataset run on its one layout.
func (j *alsJob) Shards(ver *proto.DatasetVersion) []proto.ShardRef {
	if j.side == als.Items && j.tx == nil {
		return ver.ItemShards
	}
	return ver.Shards
}

// txResult is a shard's result on a transactions dataset: the ALS result
// and, from the init pass, the names of the block's items.
type txResult struct {
	Result *als.Result       `json:"result"`
	Names  map[string]string `json:"names,omitempty"`
}

func (j *alsJob) Absorb(parts []*proto.Partial) error {
	if j.tx == nil {
		res, err := job.Decode[als.Result](Name, parts)
		if err != nil {
			return err
		}
		return j.st.Absorb(res)
	}
	trs, err := job.Decode[txResult](Name, parts)
	if err != nil {
		return err
	}
	res := make([]*als.Result, len(trs))
	var names map[string]string
	for i, tr := range trs {
		if tr.Result == nil {
			return fmt.Errorf("shard %d sent no ALS result", i)
		}
		res[i] = tr.Result
		for it, name := range tr.Names {
			if names == nil {
				names = maps.Clone(j.names)
				if names == nil {
					names = map[string]string{}
				}
			}
			names[it] = name
		}
	}
	if err := j.st.Absorb(res); err != nil {
		return err
	}
	if names != nil {
		j.names = names
	}
	return nil
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

// txSaved is a transactions job's state: the ALS state and the item names.
type txSaved struct {
	State json.RawMessage   `json:"state"`
	Names map[string]string `json:"names,omitempty"`
}

const txStateKind = "als.state.tx"

func (j *alsJob) Save() ([]byte, error) {
	b, err := json.Marshal(j.st)
	if err != nil {
		return nil, err
	}
	if j.tx != nil {
		return blob.Encode(txStateKind, txSaved{State: b, Names: j.names})
	}
	return blob.Encode(stateKind, json.RawMessage(b))
}

func (j *alsJob) Load(b []byte) error {
	var raw json.RawMessage
	if j.tx != nil {
		var sv txSaved
		if err := blob.Decode(b, txStateKind, &sv); err != nil {
			return err
		}
		raw, j.names = sv.State, sv.Names
	} else if err := blob.Decode(b, stateKind, &raw); err != nil {
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
	if tx := j.ver.Transactions; tx != nil && j.tx != nil {
		m.User, m.Item, m.Users, m.Items = tx.Key, tx.Item, tx.Customers, tx.Items
		m.Source, m.Value, m.ItemNames = proto.KindTransactions, j.tx.Value, j.names
	}
	b, err := blob.Encode(ModelKind, m)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: Name, Blob: b, Refs: j.Refs()}}, nil
}

// DecodeTask decodes a pass's task: an *als.Task, or a *Task on a
// transactions dataset.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := &Task{Task: new(als.Task)}
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	if t.Tx == nil {
		return t.Task, nil
	}
	if t.Tx.Value == "" || len(t.Tx.Shards) == 0 {
		return nil, fmt.Errorf("als: task on transactions names no value or no shards")
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
	// Source is the training dataset's kind when it is transactions (""
	// for interactions), and Value what its cells held (TxSource).
	Source string `json:"source,omitempty"`
	Value  string `json:"value,omitempty"`
	// ItemNames are the display names of the items that have one.
	ItemNames map[string]string `json:"item_names,omitempty"`
}

// txSource is the source a transactions model scores customers from, nil
// for an interactions model.
func (m *Factorization) txSource() *TxSource {
	if m.Source != proto.KindTransactions {
		return nil
	}
	return &TxSource{Value: m.Value}
}

// Kinds are the model kinds ALS makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: Kind{}} }
