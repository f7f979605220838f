// Package job is the contract between the cluster and an algorithm: what a
// package under algo/ implements so that the coordinator can drive it, the
// workers can run it, and the CLI and the console can show its models —
// without any of them naming it. The registry (algo/builtin) maps each name
// to its Algorithm, the way nomad's scheduler.BuiltinSchedulers maps a
// scheduler's name to its factory.
//
// The protocol is the same for every algorithm. On the leader, a Job is a
// state machine: Next gives the task of a pass, the leader sends it to every
// shard, and Absorb takes one Partial per shard, in shard order; after each
// pass the leader commits Save's bytes through raft, so a new leader resumes
// with Load at the last committed pass. On a worker, RunShard runs one task
// on one shard and returns its Partial. A Partial carries the algorithm's
// own payload (Encode, Decode), plus the few fields every algorithm shares.
//
// docs/architecture.md walks through adding an algorithm.
package job

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// ErrInvalid reports a spec that cannot run on its dataset: the leader
// answers the submit with it, and no job exists.
var ErrInvalid = proto.ErrInvalid

// Invalid returns an error wrapping ErrInvalid.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Algorithm is one algorithm as the cluster sees it.
type Algorithm interface {
	// DatasetKind is the kind of dataset it reads (proto.KindFeatures,
	// ...), or "" when Check decides.
	DatasetKind() string
	// CheckParams checks the parameters that do not depend on the dataset,
	// with the rules the CLI uses too: a value out of range is a
	// *proto.ParamError naming the field and the flag. It changes nothing.
	CheckParams(params json.RawMessage) error
	// Check resolves a spec against the dataset version it will read, on
	// the leader before the job exists: it fills in every default (so the
	// committed spec says exactly what runs) and fails with ErrInvalid
	// when the spec cannot run on this version.
	Check(ctx context.Context, env Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error
	// NewJob makes the leader's state machine of one job.
	NewJob(ctx context.Context, env Leader, id string, spec proto.JobSpec, ver *proto.DatasetVersion) (Job, error)
	// DecodeTask decodes a pass's task as Next returned it, once per pass
	// and worker; the result is read-only.
	DecodeTask(raw json.RawMessage) (any, error)
	// RunShard runs one task on one shard and fills in p.
	RunShard(ctx context.Context, sh Shard, task any, p *proto.Partial) error
}

// Progress is where a job stands after a pass.
type Progress struct {
	Phase     string
	Iteration int
	Objective float64
	Shift     float64
}

// Job is one job's state machine on the leader.
type Job interface {
	// Next returns the task every shard runs next, or done. It may be
	// called again before Absorb and must then return the same task.
	Next() (task any, done bool)
	// Absorb takes one partial per shard, parts[i] being shard i's.
	Absorb(parts []*proto.Partial) error
	Progress() Progress
	// MaxIter is the iteration bound progress is shown against (0: none).
	MaxIter() int
	// Prep is the matrix recipe of the next pass's steps (the zero Prep
	// when the algorithm does not read a feature matrix).
	Prep() proto.Prep
	// Save and Load are the state committed after every pass.
	Save() ([]byte, error)
	Load(b []byte) error
	// Finish is what the job made, once Next says done.
	Finish() (*Result, error)
}

// Result is what a finished job made: a model, a new dataset version or a
// new score set version; it becomes visible in the raft entry that ends
// the job.
type Result struct {
	Model  *ModelBlob
	Output *proto.DatasetCommit
	Scores *proto.ScoreSet
}

// ModelBlob is a model as stored: its kind, its blob and the further blobs
// it is made of (ALS's factor shards).
type ModelBlob struct {
	Kind string
	Blob []byte
	Refs []proto.BlobRef
}

// Optional leader-side interfaces a Job may implement.
type (
	// Referrer is a job whose committed state refers to blobs (factor or
	// output shards) besides the state itself, kept until the job ends.
	Referrer interface{ Refs() []proto.BlobRef }
	// Measurer is a job that reports held-out metrics after a pass.
	Measurer interface{ Metrics() []proto.Metric }
	// Layouter is a job whose passes run over another layout of the
	// dataset than its primary shards (ALS's by-item passes).
	Layouter interface {
		Shards(ver *proto.DatasetVersion) []proto.ShardRef
	}
	// Predecoder is a job whose partials' payloads the leader decodes as
	// they arrive, while the pass's other steps still run, instead of all
	// at once in Absorb. DecodePartial returns p's payload decoded as the
	// pass under way's Absorb will ask Decode for it (see Predecode); it is
	// called from several goroutines at once and must not touch the job.
	Predecoder interface {
		DecodePartial(p *proto.Partial) (any, error)
	}
)

// Predecode decodes a partial's payload as a T, for a Predecoder's
// DecodePartial: Decode[T] then takes it as it is.
func Predecode[T any](p *proto.Partial) (any, error) {
	v := new(T)
	if err := unmarshalPayload(p.Payload, v); err != nil {
		return nil, err
	}
	return v, nil
}

// A payload's compact binary form. A result type may implement Wirer (on
// its pointer) to be sent as wireTag, wireVersion and its AppendWire bytes
// instead of MessagePack, which encodes a []float64 one tagged value at a
// time and decodes it through reflection: for a k-means partial, about 20
// µs each way against under one. A worker sends the binary form only when
// the step's leader said it reads it (proto.StepBody.Wire, passed on as
// proto.Partial.WireOK), so that a leader of an earlier build, during a
// rolling upgrade, keeps getting MessagePack; a leader reads both.
type Wirer interface {
	// AppendWire appends the value's binary form to b.
	AppendWire(b []byte) []byte
	// UnmarshalWire sets the value from its binary form; it must fail,
	// not panic, on any malformed input.
	UnmarshalWire(b []byte) error
}

// wireTag starts a payload in binary form: 0xc1 is the one byte
// MessagePack never uses, so no MessagePack payload starts with it.
const (
	wireTag     = 0xc1
	wireVersion = 1
)

// unmarshalPayload decodes a payload in either form into v.
func unmarshalPayload(b []byte, v any) error {
	if len(b) > 0 && b[0] == wireTag {
		w, ok := v.(Wirer)
		switch {
		case !ok:
			return fmt.Errorf("a binary payload for %T, which has no binary form", v)
		case len(b) < 2 || b[1] != wireVersion:
			return fmt.Errorf("a binary payload of unknown version")
		}
		return w.UnmarshalWire(b[2:])
	}
	return blob.Unmarshal(b, v)
}

// Leader is what the leader offers an algorithm's Check and Job.
type Leader interface {
	// Model returns a committed model by id.
	Model(id string) (*proto.Model, error)
	// Blob reads a blob from the object store, verified.
	Blob(ctx context.Context, ref proto.BlobRef) ([]byte, error)
	// Kind returns the registered model kind, for jobs that use models of
	// other algorithms (scoring).
	Kind(kind string) (ModelKind, bool)
	// Dataset returns a dataset by name, for jobs that read a second one.
	Dataset(name string) (*proto.Dataset, error)
	// CheckWrite checks that a job may write a new version of dc.Name:
	// a valid name, and the kind and schema of its latest version unless
	// dc.Replace; flag names the option that replaces, for the message.
	CheckWrite(dc *proto.DatasetCommit, flag string) error
}

// Shard is what a worker offers one step: the shard, the caches and the
// object store.
type Shard interface {
	// Job, Pass and Ref say which step this is.
	Job() string
	Pass() int
	Ref() proto.ShardRef
	// Features loads the shard as a features (or transactions) shard.
	Features(ctx context.Context) (*partition.Shard, error)
	// Matrix is the shard prepared with the step's recipe (proto.Prep).
	Matrix(ctx context.Context) (*feature.Matrix, error)
	// Cached returns the value cached under key, computing it once with fn
	// (value, size in bytes) however many steps ask at the same time.
	Cached(key string, fn func() (any, int64, error)) (any, error)
	// Keep puts a value in the cache.
	Keep(key string, v any, size int64)
	// Get reads a blob from the object store, verified.
	Get(ctx context.Context, ref proto.BlobRef) ([]byte, error)
	// Put stores a blob in a bucket under name.
	Put(ctx context.Context, bucket, name string, b []byte) (proto.BlobRef, error)
	// Kind returns a registered model kind (scoring).
	Kind(kind string) (ModelKind, bool)
}

// ModelKind is one kind of model: how it is read, shown and scored.
type ModelKind interface {
	// Decode reads a model blob of this kind into its exported form, the
	// value `model show` and `model export --format json` print.
	Decode(b []byte) (any, error)
	// New returns an empty exported form (a pointer) to decode its JSON
	// into.
	New() any
}

// Describer is a model kind that describes its models for people: the
// console's model page, `model show` and reports (package describe).
type Describer interface {
	Describe(d *proto.ModelDetail, model any) (*describe.Description, error)
}

// Encode sets a partial's payload: the algorithm's result for the shard.
func Encode(p *proto.Partial, algo string, v any) error {
	if w, ok := v.(Wirer); ok && p.WireOK {
		p.Algo, p.Payload = algo, w.AppendWire([]byte{wireTag, wireVersion})
		return nil
	}
	b, err := blob.Marshal(v)
	if err != nil {
		return err
	}
	p.Algo, p.Payload = algo, b
	return nil
}

// Decode reads every partial's payload, checking that each is from algo
// and from the shard its position says. A payload the leader decoded as it
// arrived (Predecoder) is taken as it is; the others are decoded on every
// core (each on its own, so the values are the same); the first error in
// shard order is the one returned.
func Decode[T any](algo string, parts []*proto.Partial) ([]*T, error) {
	out := make([]*T, len(parts))
	errs := make([]error, len(parts))
	one := func(i int) {
		p := parts[i]
		if p == nil || p.Algo != algo || p.Payload == nil {
			errs[i] = fmt.Errorf("shard %d sent no %s result", i, algo)
			return
		}
		if p.Shard != i {
			errs[i] = fmt.Errorf("shard %d's place holds shard %d's result", i, p.Shard)
			return
		}
		if v, ok := p.Decoded.(*T); ok && v != nil {
			out[i] = v
			return
		}
		v := new(T)
		if err := unmarshalPayload(p.Payload, v); err != nil {
			errs[i] = fmt.Errorf("shard %d's %s result: %w", i, algo, err)
			return
		}
		out[i] = v
	}
	left := 0
	for _, p := range parts {
		if p == nil || p.Decoded == nil {
			left++
		}
	}
	if n := min(runtime.GOMAXPROCS(0), left/decodeChunk); n > 1 {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(parts); i = int(next.Add(1)) - 1 {
					one(i)
				}
			}()
		}
		wg.Wait()
	} else {
		for i := range parts {
			one(i)
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeChunk is how many partials make another core worth waking.
const decodeChunk = 8

// Params decodes a spec's parameters into v (whose UnmarshalJSON fills in
// the defaults of what is left out).
func Params(spec *proto.JobSpec, v any) error {
	if len(spec.Params) == 0 {
		return fmt.Errorf("%w: %s parameters missing", proto.ErrParam, spec.Algo)
	}
	if err := json.Unmarshal(spec.Params, v); err != nil {
		return fmt.Errorf("%w: %s parameters: %v", proto.ErrParam, spec.Algo, err)
	}
	return nil
}

// SetParams stores v as a spec's parameters.
func SetParams(spec *proto.JobSpec, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	spec.Params = b
	return nil
}

// Modeler is an algorithm whose jobs make models: the kinds it makes, by
// name (Result.Model.Kind).
type Modeler interface {
	Kinds() map[string]ModelKind
}

// NewSpec is a spec of algo on dataset with parameters p, which must encode
// as JSON (a parameters struct always does).
func NewSpec(algo, dataset string, p any) proto.JobSpec {
	s := proto.JobSpec{Algo: algo, Dataset: dataset}
	if err := SetParams(&s, p); err != nil {
		panic(fmt.Sprintf("job: %s parameters do not encode: %v", algo, err))
	}
	return s
}

// ParamsAs decodes a spec's parameters as a P.
func ParamsAs[P any](spec *proto.JobSpec) (*P, error) {
	p := new(P)
	return p, Params(spec, p)
}

// Checked is a parameters type that checks its own ranges.
type Checked[P any] interface {
	*P
	Check() error
}

// CheckRaw decodes raw as algo's parameters P and checks them: what an
// Algorithm's CheckParams does for a parameters type with a Check method.
func CheckRaw[P any, PP Checked[P]](algo string, raw json.RawMessage) error {
	p := PP(new(P))
	if err := json.Unmarshal(raw, p); err != nil {
		return fmt.Errorf("%w: %s parameters: %v", proto.ErrParam, algo, err)
	}
	return p.Check()
}
