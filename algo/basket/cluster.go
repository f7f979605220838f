package basket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Name is the algorithm's name in job specs and its model kind.
const Name = "basket"

// Bounds of a job's parameters.
const (
	MaxMaxLen        = 64
	MaxMaxCandidates = 50_000_000
	// DefaultMinConfidence is the min confidence of an API job that leaves
	// it out (mlxtend's and Spark's default).
	DefaultMinConfidence = 0.8
)

// Params are a basket job's parameters ("basket" in a job spec).
type Params struct {
	MinSupport    float64 `json:"min_support"`
	MinConfidence float64 `json:"min_confidence"`
	MaxLen        int     `json:"max_len"`
	// MaxCandidates bounds the candidate itemsets of one level, and so a
	// task's and a partial's size.
	MaxCandidates int `json:"max_candidates"`
	// Basket is what a basket is in a transactions dataset: invoice or
	// customer (a customer's purchases on one day); the leader fills it in.
	// An interactions dataset has one basket per user.
	Basket string `json:"basket,omitempty"`
	// ExcludeReturns leaves out returned lines: return rows of a
	// transactions dataset, interactions with a value of 0 or less.
	ExcludeReturns bool `json:"exclude_returns,omitempty"`
}

// UnmarshalJSON fills every field left out with its default.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	v := plain{MinConfidence: DefaultMinConfidence, MaxLen: DefaultMaxLen, MaxCandidates: DefaultMaxCandidates}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Params(v)
	return nil
}

// Check checks the parameters that do not depend on the dataset.
func (p *Params) Check() error {
	if err := proto.FloatParam("basket.min_support", "--min-support", p.MinSupport, p.MinSupport > 0 && p.MinSupport <= 1,
		"a share of the baskets in (0, 1]"); err != nil {
		return err
	}
	if err := proto.FloatParam("basket.min_confidence", "--min-confidence", p.MinConfidence, p.MinConfidence >= 0 && p.MinConfidence <= 1,
		"a number in [0, 1]"); err != nil {
		return err
	}
	if err := proto.IntParam("basket.max_len", "--max-len", p.MaxLen, 2, MaxMaxLen); err != nil {
		return err
	}
	if err := proto.IntParam("basket.max_candidates", "--max-candidates", p.MaxCandidates, 1, MaxMaxCandidates); err != nil {
		return err
	}
	if p.Basket == "" {
		return nil // the leader decides from the dataset
	}
	return proto.OneOf("basket.basket", "--basket", p.Basket, BasketInvoice, BasketCustomer, BasketUser)
}

func (p *Params) config() Config {
	return Config{MinSupport: p.MinSupport, MinConfidence: p.MinConfidence, MaxLen: p.MaxLen, MaxCandidates: p.MaxCandidates}
}

// Spec is a basket job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}

// ParamsOf decodes a spec's basket parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is basket mining on the cluster.
type Algorithm struct{}

// DatasetKind is decided by Check: interactions or transactions.
func (Algorithm) DatasetKind() string { return "" }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// sourceOf is where a version's baskets come from, or why it has none.
func sourceOf(name string, ver *proto.DatasetVersion, p *Params) (Source, error) {
	switch {
	case ver.Interactions != nil:
		if p.Basket != "" && p.Basket != BasketUser {
			return Source{}, job.Invalid("dataset %s is an interactions dataset: a basket is a user's items (--basket %s is for transactions)", name, p.Basket)
		}
		return Source{Kind: proto.KindInteractions, Basket: BasketUser, ExcludeReturns: p.ExcludeReturns}, nil
	case ver.Transactions != nil && ver.Transactions.Item == "":
		return Source{}, job.Invalid("dataset %s has no items: import it with --item", name)
	case ver.Transactions != nil:
		by := p.Basket
		switch {
		case by == BasketUser:
			return Source{}, job.Invalid("dataset %s is a transactions dataset: a basket is an invoice or a customer's day, not --basket %s", name, by)
		case by == "" && ver.Transactions.Invoice != "":
			by = BasketInvoice
		case by == "":
			by = BasketCustomer
		case by == BasketInvoice && ver.Transactions.Invoice == "":
			return Source{}, job.Invalid("dataset %s has no invoice column: --basket invoice needs an import with --invoice; use --basket customer", name)
		}
		return Source{Kind: proto.KindTransactions, Basket: by, ExcludeReturns: p.ExcludeReturns}, nil
	}
	return Source{}, job.Invalid("a basket job reads an interactions or a transactions dataset; %s version %d is neither", name, ver.Version)
}

// Check resolves a basket spec against the dataset version and fills in
// its defaults, so the committed spec says exactly what runs.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	src, err := sourceOf(ds.Name, ver, p)
	if err != nil {
		return err
	}
	p.Basket = src.Basket
	return job.SetParams(spec, p)
}

// clusterJob is a basket job on the leader.
type clusterJob struct {
	spec proto.JobSpec
	src  Source
	st   *State
}

const (
	stateKind = "basket.state"
	// ModelKind is the blob kind of a basket model.
	ModelKind = "model.basket"
)

// NewJob makes a basket job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	p, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	src, err := sourceOf(spec.Dataset, ver, p)
	if err != nil {
		return nil, err
	}
	st, err := New(p.config())
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return &clusterJob{spec: spec, src: src, st: st}, nil
}

func (j *clusterJob) Next() (any, bool) {
	t, done := j.st.Next()
	if done {
		return nil, true
	}
	return packTask(t, j.src), false
}

func (j *clusterJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[Result](Name, parts)
	if err != nil {
		return err
	}
	return j.st.Absorb(res)
}

// Progress is the pass and the number of frequent itemsets found so far.
func (j *clusterJob) Progress() job.Progress {
	pass, sets := j.st.Progress()
	phase := "items"
	if j.st.Stage == TaskCount {
		phase = fmt.Sprintf("%d-itemsets", j.st.Len)
	}
	if j.st.Done {
		phase = "done"
	}
	return job.Progress{Phase: phase, Iteration: pass, Objective: float64(sets)}
}

// MaxIter is the most passes a job runs: items, then one per length.
func (j *clusterJob) MaxIter() int     { return j.st.Config.MaxLen }
func (j *clusterJob) Prep() proto.Prep { return proto.Prep{} }

// saved is a job's state between passes: the state machine as JSON, its
// candidates packed as a task's are (every pair is implied).
type saved struct {
	State []byte `json:"state"`
	Pairs bool   `json:"pairs,omitempty"`
	N     int    `json:"n,omitempty"`
	Cands []byte `json:"cands,omitempty"`
}

func (j *clusterJob) Save() ([]byte, error) {
	st := *j.st
	var sv saved
	if st.Cands != nil {
		sv.Pairs, sv.N, sv.Cands = packCands(st.Cands, st.Len, len(st.Items))
		st.Cands = nil
	}
	js, err := json.Marshal(&st)
	if err != nil {
		return nil, err
	}
	sv.State = js
	return blob.Encode(stateKind, sv)
}

func (j *clusterJob) Load(b []byte) error {
	var sv saved
	if err := blob.Decode(b, stateKind, &sv); err != nil {
		return err
	}
	st := new(State)
	if err := json.Unmarshal(sv.State, st); err != nil {
		return fmt.Errorf("basket: state: %w", err)
	}
	if sv.N > 0 {
		cands, err := unpackCands(sv.Pairs, sv.N, st.Len, len(st.Items), sv.Cands)
		if err != nil {
			return fmt.Errorf("basket: state: %w", err)
		}
		st.Cands = cands
	}
	j.st = st
	return nil
}

// Finish is the model: every frequent itemset and rule.
func (j *clusterJob) Finish() (*job.Result, error) {
	m := j.st.Model()
	if m == nil {
		return nil, fmt.Errorf("basket: job has not finished mining")
	}
	out := Mined{Kind: Name, Config: m.Config, Baskets: m.Baskets, MinCount: m.MinCount, Itemsets: m.Itemsets, Rules: m.Rules,
		Names: m.Names, Source: j.src, Spec: j.spec, Dataset: j.spec.Dataset, Version: j.spec.DatasetVersion}
	b, err := blob.Encode(ModelKind, out)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: Name, Blob: b}}, nil
}

// shardTask is a pass's task on a worker: decoded and prepared once per
// pass and worker, run on each of its shards.
type shardTask struct {
	prep *Prepared
	src  Source
}

// DecodeTask decodes and prepares a pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	w := new(wireTask)
	if err := json.Unmarshal(raw, w); err != nil {
		return nil, err
	}
	t, err := w.unpack()
	if err != nil {
		return nil, err
	}
	p, err := Prepare(t)
	if err != nil {
		return nil, err
	}
	return &shardTask{prep: p, src: w.Source}, nil
}

// RunShard counts one shard's baskets.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*shardTask)
	b, err := readBaskets(ctx, sh, sh.Ref(), t.src)
	if err != nil {
		return err
	}
	p.Rows = int64(b.Len())
	res, err := t.prep.Run(nil, b, sh.Ref().Index)
	if err != nil {
		return err
	}
	return job.Encode(p, Name, res)
}

// readBaskets returns a shard's baskets, from the worker's cache when it
// holds them: every pass of a job reads the same.
func readBaskets(ctx context.Context, sh job.Shard, ref proto.ShardRef, src Source) (*Baskets, error) {
	v, err := sh.Cached("basket|"+ref.Object+"@"+ref.SHA256+"|"+src.key(), func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		var bs *Baskets
		switch src.Kind {
		case proto.KindInteractions:
			s, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return nil, 0, err
			}
			bs = FromInteractions(s, src.ExcludeReturns)
		case proto.KindTransactions:
			s, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return nil, 0, err
			}
			if s.Item == nil {
				return nil, 0, errorf(ErrBaskets, "transactions shard %d has no item column", ref.Index)
			}
			bs = FromTransactions(s, s.Item, src.Basket, src.ExcludeReturns)
			bs.Names = s.ItemNames
		default:
			return nil, 0, errorf(ErrBaskets, "baskets from a %s shard are not supported", src.Kind)
		}
		return bs, bs.size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Baskets), nil
}

// size is the bytes b holds, for the worker's cache budget.
func (b *Baskets) size() int64 {
	n := int64(len(b.Ptr)+len(b.Idx))*4 + int64(len(b.Items))*16
	for _, it := range b.Items {
		n += int64(len(it))
	}
	for it, name := range b.Names {
		n += int64(len(it)+len(name)) + 48
	}
	return n
}

// Mined is the exported form of a basket model: every frequent itemset
// with its count, and every rule.
type Mined struct {
	Kind     string `json:"kind"`
	Config   Config `json:"config"`
	Baskets  int64  `json:"baskets"`
	MinCount int64  `json:"min_count"`
	// Itemsets are by length, then by their item ids.
	Itemsets []Itemset `json:"itemsets"`
	// Rules are by confidence, then lift, descending.
	Rules []Rule `json:"rules"`
	// Names are the display names of the frequent items that have one.
	Names   map[string]string `json:"names,omitempty"`
	Source  Source            `json:"source"`
	Spec    proto.JobSpec     `json:"spec"`
	Dataset string            `json:"dataset"`
	Version int               `json:"dataset_version"`
}

// Model is the model Recommend and Similar work on.
func (m *Mined) Model() *Model {
	return &Model{Config: m.Config, Baskets: m.Baskets, MinCount: m.MinCount, Itemsets: m.Itemsets, Rules: m.Rules, Names: m.Names}
}

// Kinds are the model kinds basket mining makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: MinedKind{}} }

// MinedKind is the basket model kind.
type MinedKind struct{}

// Decode reads a model blob.
func (MinedKind) Decode(b []byte) (any, error) {
	m := new(Mined)
	if err := blob.Decode(b, ModelKind, m); err != nil {
		return nil, err
	}
	return m, nil
}

// New returns an empty model to decode into.
func (MinedKind) New() any { return new(Mined) }
