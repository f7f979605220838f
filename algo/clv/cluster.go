package clv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Name is the algorithm's name in job specs, and the model kind it makes.
const Name = "clv"

// DateLayout is the layout of the dates of a job's parameters.
const DateLayout = "2006-01-02"

// Params are a customer-value job's parameters ("clv" in a job spec); the
// JSON names are the CLI's flags.
type Params struct {
	// CalibrationEnd is the last day (YYYY-MM-DD, UTC) of the calibration
	// period: the purchases on or before it are fitted.
	CalibrationEnd string `json:"calibration_end"`
	// HoldoutEnd, when set, is the last day of the holdout period, for the
	// calibration-vs-holdout table.
	HoldoutEnd string `json:"holdout_end,omitempty"`
	// TimeUnit is day, week (the default) or month.
	TimeUnit string `json:"time_unit"`
	// Model is the purchase model, bgnbd (the default) or paretonbd.
	Model string `json:"model"`
	// Penalty is λ ≥ 0 on the squared parameters (lifetimes'
	// penalizer_coef).
	Penalty float64 `json:"penalty"`
	// MaxIter bounds the L-BFGS steps of each fit.
	MaxIter int `json:"max_iter"`
}

// MaxIterations bounds Params.MaxIter.
const MaxIterations = 100000

// UnmarshalJSON fills every field left out with its default.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	v := plain{TimeUnit: Week, Model: BGNBD, MaxIter: DefaultMaxIter}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Params(v)
	return nil
}

// day parses a parameter's date: midnight UTC in unix seconds.
func day(field, flag, v string) (int64, error) {
	t, err := time.Parse(DateLayout, v)
	if err != nil {
		return 0, &proto.ParamError{Field: field, Flag: flag, Value: fmt.Sprintf("%q", v), Want: "a date YYYY-MM-DD"}
	}
	return t.Unix(), nil
}

// Check checks the parameters that do not depend on the dataset.
func (p *Params) Check() error {
	cal, err := day("clv.calibration_end", "--calibration-end", p.CalibrationEnd)
	if err != nil {
		return err
	}
	if p.HoldoutEnd != "" {
		ho, err := day("clv.holdout_end", "--holdout-end", p.HoldoutEnd)
		if err != nil {
			return err
		}
		if ho <= cal {
			return &proto.ParamError{Field: "clv.holdout_end", Flag: "--holdout-end", Value: p.HoldoutEnd,
				Want: "a date after the calibration end " + p.CalibrationEnd}
		}
	}
	if err := proto.OneOf("clv.time_unit", "--time-unit", p.TimeUnit, Day, Week, Month); err != nil {
		return err
	}
	if err := proto.OneOf("clv.model", "--model", p.Model, BGNBD, ParetoNBD); err != nil {
		return err
	}
	if err := proto.FloatParam("clv.penalty", "--penalty", p.Penalty, p.Penalty >= 0, "a finite number of at least 0"); err != nil {
		return err
	}
	return proto.IntParam("clv.max_iter", "--max-iter", p.MaxIter, 1, MaxIterations)
}

// Config is the fit's configuration of checked parameters.
func (p *Params) Config() Config {
	cal, _ := day("", "", p.CalibrationEnd)
	var ho int64
	if p.HoldoutEnd != "" {
		ho, _ = day("", "", p.HoldoutEnd)
	}
	return Config{CalibrationEnd: cal, HoldoutEnd: ho, TimeUnit: p.TimeUnit, Model: p.Model, Penalty: p.Penalty, MaxIter: p.MaxIter}
}

// Spec is a customer-value job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}

// ParamsOf decodes a spec's customer-value parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is the customer-value fit on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of dataset it reads.
func (Algorithm) DatasetKind() string { return proto.KindTransactions }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// Check resolves a spec against the transactions version it will read:
// the calibration period must hold purchases.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	cfg := p.Config()
	if err := cfg.Validate(); err != nil {
		return job.Invalid("%v", err)
	}
	if ver.Rows == 0 || len(ver.Shards) == 0 {
		return job.Invalid("dataset %s version %d holds no transactions", ds.Name, ver.Version)
	}
	if info := ver.Transactions; info != nil && !info.First.IsZero() {
		first := dayOf(info.First.Unix())
		switch cal := dayOf(cfg.CalibrationEnd); {
		case cal < first:
			return job.Invalid("the calibration end %s is before the first transaction of %s version %d (%s): no customer has a purchase on or before it",
				p.CalibrationEnd, ds.Name, ver.Version, info.First.UTC().Format(DateLayout))
		case cal == first:
			return job.Invalid("the calibration period is empty: the calibration end %s is the day of the first transaction of %s version %d, so every customer's T is 0",
				p.CalibrationEnd, ds.Name, ver.Version)
		}
	}
	return job.SetParams(spec, p)
}

// fitJob is a customer-value job on the leader.
type fitJob struct {
	spec proto.JobSpec
	p    *Params
	st   *State
}

const (
	stateKind = "clv.state"
	// ModelKind is the blob kind of a customer-value model.
	ModelKind = "model.clv"
)

// NewJob makes a customer-value job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, _ *proto.DatasetVersion) (job.Job, error) {
	p, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	st, err := New(p.Config())
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return &fitJob{spec: spec, p: p, st: st}, nil
}

func (j *fitJob) Next() (any, bool) {
	t, done := j.st.Next()
	if done {
		return nil, true
	}
	return t, false
}

// wire is a shard's Result on the wire: its JSON, which keeps the exact
// sums exactly.
type wire struct {
	Result []byte `json:"result"`
}

func (j *fitJob) Absorb(parts []*proto.Partial) error {
	ws, err := job.Decode[wire](Name, parts)
	if err != nil {
		return err
	}
	res := make([]*Result, len(ws))
	for i, w := range ws {
		res[i] = new(Result)
		if err := json.Unmarshal(w.Result, res[i]); err != nil {
			return fmt.Errorf("shard %d's clv result: %w", i, err)
		}
	}
	return j.st.Absorb(res)
}

func (j *fitJob) Progress() job.Progress {
	it := 0 // the accepted steps of every fit so far, purchase and spend
	for _, f := range j.st.Fits {
		if f != nil {
			it += f.Iter
		}
	}
	return job.Progress{Phase: j.st.Phase(), Iteration: it, Objective: -j.st.LogLik()}
}

func (j *fitJob) MaxIter() int     { return j.st.Config.MaxIter }
func (j *fitJob) Prep() proto.Prep { return proto.Prep{} }

func (j *fitJob) Save() ([]byte, error) {
	b, err := json.Marshal(j.st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(stateKind, wire{Result: b})
}

func (j *fitJob) Load(b []byte) error {
	var w wire
	if err := blob.Decode(b, stateKind, &w); err != nil {
		return err
	}
	st := new(State)
	if err := json.Unmarshal(w.Result, st); err != nil {
		return fmt.Errorf("clv: state: %w", err)
	}
	j.st = st
	return nil
}

// Finish is the model in its exported form.
func (j *fitJob) Finish() (*job.Result, error) {
	m := j.st.Model()
	if m == nil {
		return nil, fmt.Errorf("clv: the fit has not finished")
	}
	out := exportOf(m, j.spec, j.p)
	b, err := blob.Encode(ModelKind, out)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: Name, Blob: b}}, nil
}

// DecodeTask decodes a pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// RunShard runs one pass on one transactions shard, from its summaries
// cached for the job's calibration.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*Task)
	if err := t.check(); err != nil {
		return err
	}
	s, err := summaries(ctx, sh, Config{CalibrationEnd: t.CalibrationEnd, HoldoutEnd: t.HoldoutEnd, TimeUnit: t.TimeUnit})
	if err != nil {
		return err
	}
	p.Rows = int64(len(s.Keys))
	r, err := runOn(t, s, sh.Ref().Index)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return job.Encode(p, Name, wire{Result: b})
}

// txKeyPrefix marks cache entries that are transactions shards, as RFM
// caches them.
const txKeyPrefix = "tx|"

// Transactions loads and verifies one transactions shard, once per worker
// however many steps read it.
func Transactions(ctx context.Context, sh job.Shard) (*Tx, error) {
	ref := sh.Ref()
	v, err := sh.Cached(txKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		ts, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("clv: shard %s: %w", ref.Object, err)
		}
		if int64(len(ts.Time)) != ref.Rows {
			return nil, 0, fmt.Errorf("clv: shard %s has %d rows, recorded %d", ref.Object, len(ts.Time), ref.Rows)
		}
		tx := &Tx{Keys: ts.Keys, Ptr: ts.Ptr, Time: ts.Time, Amount: ts.Amount, Invoice: ts.Invoice, Return: ts.Return}
		return tx, ts.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Tx), nil
}

// summaries returns a shard's customer summaries for cfg's calibration,
// computed once per worker.
func summaries(ctx context.Context, sh job.Shard, cfg Config) (*Summaries, error) {
	ref := sh.Ref()
	cfg = cfg.withDefaults()
	key := fmt.Sprintf("clv.summaries|%s@%s|%d|%d|%s", ref.Object, ref.SHA256, cfg.CalibrationEnd, cfg.HoldoutEnd, cfg.TimeUnit)
	v, err := sh.Cached(key, func() (any, int64, error) {
		tx, err := Transactions(ctx, sh)
		if err != nil {
			return nil, 0, err
		}
		s, err := Summarize(tx, cfg)
		if err != nil {
			return nil, 0, err
		}
		return s, s.size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Summaries), nil
}

// size is the summaries' size in bytes, for the cache's budget.
func (s *Summaries) size() int64 {
	n := int64(len(s.Keys)) * (16 + 4*8)
	for _, k := range s.Keys {
		n += int64(len(k))
	}
	return n + int64(len(s.Holdout))*8
}

// Kinds are the model kinds the fit makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: Kind{}} }
