// Package migrate computes the transition table of one column (a segment)
// between two snapshots of the same customers — two features datasets
// keyed by customer, such as RFM features as of two dates — on the
// workers: how many customers of each segment of the first are in each
// segment of the second, and how many are only in one of them (new, gone).
//
// Both datasets place a customer in shard keyhash.Shard(key, n) of their
// n shards (partition.ShardOf), so with the same shard count shard i of
// one and shard i of the other hold the same customers: each step joins
// one pair of shards, and its partial is one count per pair of values, as
// small as the table. A worker checks that every key of the pair hashes to
// the pair's shard. Datasets of different shard counts are refused.
package migrate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/keyhash"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Name is the algorithm's name in job specs; its model kind is Kind.
const Name = "migrate"

// KindName is the kind of the models it makes.
const KindName = "migration"

// DefaultColumn is the column compared when a job names none.
const DefaultColumn = "segment"

// Params are a migration job's parameters ("migrate" in a job spec); the
// job's dataset is the later snapshot.
type Params struct {
	// From is the earlier snapshot, FromVersion its version (0: the
	// latest, which Check fills in).
	From        string `json:"from"`
	FromVersion int    `json:"from_version"`
	// Column is the column compared in both; left out or empty, DefaultColumn.
	Column string `json:"column,omitempty"`
}

// UnmarshalJSON fills the column left out with DefaultColumn.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Column == "" {
		v.Column = DefaultColumn
	}
	*p = Params(v)
	return nil
}

// Check checks the parameters that do not depend on the datasets.
func (p *Params) Check() error {
	if !proto.ValidName(p.From) {
		return &proto.ParamError{Field: "migrate.from", Flag: "--from", Value: fmt.Sprintf("%q", p.From), Want: "a dataset name"}
	}
	if p.FromVersion < 0 {
		return &proto.ParamError{Field: "migrate.from_version", Flag: "--from-version", Value: fmt.Sprint(p.FromVersion),
			Want: "a version number, or 0 for the latest"}
	}
	return nil
}

// Spec is the spec of a migration from p.From to dataset to.
func Spec(to string, p Params) proto.JobSpec {
	return job.NewSpec(Name, to, p)
}

// ParamsOf decodes a spec's parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is the migration table on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of both snapshots.
func (Algorithm) DatasetKind() string { return proto.KindFeatures }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// fromVersion returns the earlier snapshot's version.
func fromVersion(env job.Leader, p *Params) (*proto.Dataset, *proto.DatasetVersion, error) {
	ds, err := env.Dataset(p.From)
	if err != nil {
		return nil, nil, err
	}
	if ds.Kind != proto.KindFeatures {
		return nil, nil, job.Invalid("a migration compares two features datasets; %s is %s", ds.Name, ds.Kind)
	}
	if p.FromVersion == 0 {
		if v := ds.Latest(); v != nil {
			return ds, v, nil
		}
	}
	for i := range ds.Versions {
		if ds.Versions[i].Version == p.FromVersion {
			return ds, &ds.Versions[i], nil
		}
	}
	return nil, nil, job.Invalid("dataset %s has no version %d", ds.Name, p.FromVersion)
}

// column returns the snapshot's column, or an error naming what it has.
func column(ds string, ver *proto.DatasetVersion, name string) (*proto.ColumnStats, error) {
	var names []string
	for i := range ver.Columns {
		if ver.Columns[i].Name == name {
			return &ver.Columns[i], nil
		}
		names = append(names, ver.Columns[i].Name)
	}
	return nil, job.Invalid("dataset %s version %d has no column %q (it has %v)", ds, ver.Version, name, names)
}

// Check resolves the earlier snapshot's version and checks that both have
// the column and the same number of shards.
func (Algorithm) Check(_ context.Context, env job.Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	fds, fver, err := fromVersion(env, p)
	if err != nil {
		return err
	}
	p.FromVersion = fver.Version
	fc, err := column(fds.Name, fver, p.Column)
	if err != nil {
		return err
	}
	tc, err := column(ds.Name, ver, p.Column)
	if err != nil {
		return err
	}
	if fc.Categorical() != tc.Categorical() {
		return job.Invalid("column %q is categorical in one snapshot and numeric in the other", p.Column)
	}
	if len(fver.Shards) != len(ver.Shards) {
		return job.Invalid("dataset %s version %d has %d shards and %s version %d has %d: the snapshots must be imported with the same number of shards, so that shard i of both holds the same customers",
			fds.Name, fver.Version, len(fver.Shards), ds.Name, ver.Version, len(ver.Shards))
	}
	return job.SetParams(spec, p)
}

// Task is the one pass of a migration job: the earlier snapshot's shards
// and the column.
type Task struct {
	From   []proto.ShardRef `json:"from"`
	Column string           `json:"column"`
}

// Cell counts the customers with one pair of values: From in the earlier
// snapshot and To in the later (a category's code or a number, as their
// IEEE bits; missing is NaN), or only in one of them (Status).
type Cell struct {
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	Status int    `json:"status"`
	N      int64  `json:"n"`
}

// Cell statuses.
const (
	InBoth = iota
	New    // only in the later snapshot: To is its value
	Gone   // only in the earlier snapshot: From is its value
)

// Partial is one shard pair's cells, sorted.
type Partial struct {
	Cells []Cell `json:"cells"`
}

// bits is a value's key: NaN in one form, −0 as +0.
func bits(v float64) uint64 {
	if v != v {
		return math.Float64bits(math.NaN())
	}
	return math.Float64bits(v + 0)
}

// RunShard joins shard i of both snapshots on the key.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*Task)
	ref := sh.Ref()
	if ref.Index < 0 || ref.Index >= len(t.From) {
		return fmt.Errorf("migrate: shard %d of %d", ref.Index, len(t.From))
	}
	to, err := sh.Features(ctx)
	if err != nil {
		return err
	}
	fref := t.From[ref.Index]
	v, err := sh.Cached("shard|"+fref.Object+"@"+fref.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: fref.Object, Size: fref.Size, SHA256: fref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		s, err := partition.ReadShard(bytesReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("migrate: shard %s: %w", fref.Object, err)
		}
		return s, s.SizeBytes(), nil
	})
	if err != nil {
		return err
	}
	from := v.(*partition.Shard)
	cells, err := join(from, to, t.Column, ref.Index, len(t.From))
	if err != nil {
		return err
	}
	p.Rows = int64(from.Rows() + to.Rows())
	return job.Encode(p, Name, Partial{Cells: cells})
}

// join counts the value pairs of shard i of n of both snapshots.
func join(from, to *partition.Shard, col string, i, n int) ([]Cell, error) {
	fv, ok1 := from.Column(col)
	tv, ok2 := to.Column(col)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("migrate: shard %d has no column %q", i, col)
	}
	type pair struct {
		from, to uint64
		status   int
	}
	counts := map[pair]int64{}
	seen := make(map[string]int, from.Rows())
	for r, k := range from.Keys {
		if s := keyhash.Shard(k, n); s != i {
			return nil, fmt.Errorf("migrate: customer %q is in shard %d of the earlier snapshot, its key hashes to shard %d", k, i, s)
		}
		if _, dup := seen[k]; dup {
			return nil, fmt.Errorf("migrate: customer %q twice in shard %d of the earlier snapshot", k, i)
		}
		seen[k] = r
	}
	matched := make([]bool, from.Rows())
	for r, k := range to.Keys {
		if s := keyhash.Shard(k, n); s != i {
			return nil, fmt.Errorf("migrate: customer %q is in shard %d of the later snapshot, its key hashes to shard %d", k, i, s)
		}
		fr, ok := seen[k]
		switch {
		case !ok:
			counts[pair{0, bits(tv[r]), New}]++
		case matched[fr]:
			return nil, fmt.Errorf("migrate: customer %q twice in shard %d of the later snapshot", k, i)
		default:
			matched[fr] = true
			counts[pair{bits(fv[fr]), bits(tv[r]), InBoth}]++
		}
	}
	for r, m := range matched {
		if !m {
			counts[pair{bits(fv[r]), 0, Gone}]++
		}
	}
	cells := make([]Cell, 0, len(counts))
	for k, c := range counts {
		cells = append(cells, Cell{From: k.from, To: k.to, Status: k.status, N: c})
	}
	slices.SortFunc(cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return cells, nil
}

// DecodeTask decodes the task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(Task)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	return t, nil
}

// migrateJob is a migration job on the leader: one pass, then the table.
type migrateJob struct {
	spec  proto.JobSpec
	p     *Params
	from  *proto.DatasetVersion
	to    *proto.DatasetVersion
	cells []Cell // merged, once the pass is absorbed
}

const stateKind = "migrate.state"

// NewJob makes a migration job's state machine.
func (Algorithm) NewJob(_ context.Context, env job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	p, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	_, fver, err := fromVersion(env, p)
	if err != nil {
		return nil, err
	}
	if len(fver.Shards) != len(ver.Shards) {
		return nil, job.Invalid("%d shards in the earlier snapshot, %d in the later", len(fver.Shards), len(ver.Shards))
	}
	return &migrateJob{spec: spec, p: p, from: fver, to: ver}, nil
}

func (j *migrateJob) Next() (any, bool) {
	if j.cells != nil {
		return nil, true
	}
	return &Task{From: j.from.Shards, Column: j.p.Column}, false
}

func (j *migrateJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[Partial](Name, parts)
	if err != nil {
		return err
	}
	type pair struct {
		from, to uint64
		status   int
	}
	counts := map[pair]int64{}
	for _, r := range res { // in shard order
		for _, c := range r.Cells {
			if c.N < 1 || c.Status < InBoth || c.Status > Gone {
				return fmt.Errorf("migrate: a cell of %d customers, status %d", c.N, c.Status)
			}
			counts[pair{c.From, c.To, c.Status}] += c.N
		}
	}
	cells := make([]Cell, 0, len(counts))
	for k, c := range counts {
		cells = append(cells, Cell{From: k.from, To: k.to, Status: k.status, N: c})
	}
	slices.SortFunc(cells, func(a, b Cell) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	j.cells = cells
	return nil
}

func (j *migrateJob) Progress() job.Progress {
	if j.cells != nil {
		return job.Progress{Phase: "done"}
	}
	return job.Progress{Phase: "join"}
}

func (j *migrateJob) MaxIter() int     { return 0 }
func (j *migrateJob) Prep() proto.Prep { return proto.Prep{} }

type saved struct {
	Cells []Cell `json:"cells"`
	Done  bool   `json:"done"`
}

func (j *migrateJob) Save() ([]byte, error) {
	return blob.Encode(stateKind, saved{Cells: j.cells, Done: j.cells != nil})
}

func (j *migrateJob) Load(b []byte) error {
	var s saved
	if err := blob.Decode(b, stateKind, &s); err != nil {
		return err
	}
	j.cells = nil
	if s.Done {
		j.cells = append([]Cell{}, s.Cells...)
	}
	return nil
}

// Finish is the transition table.
func (j *migrateJob) Finish() (*job.Result, error) {
	if j.cells == nil {
		return nil, fmt.Errorf("migrate: the join has not run")
	}
	m, err := table(j.spec, j.p, j.from, j.to, j.cells)
	if err != nil {
		return nil, err
	}
	b, err := blob.Encode(ModelKind, m)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: KindName, Blob: b}}, nil
}

// ModelKind is the blob kind of a migration table.
const ModelKind = "model.migration"

// Kinds are the model kinds a migration job makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{KindName: Kind{}} }
