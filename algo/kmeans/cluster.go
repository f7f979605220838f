package kmeans

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Name is the algorithm's name in job specs.
const Name = "kmeans"

// MaxK and MaxIterations bound a job's parameters.
const (
	MaxK          = 10000
	MaxIterations = 100000
)

// Params are a k-means job's parameters ("kmeans" in a job spec).
type Params struct {
	K           int       `json:"k"`
	Columns     []string  `json:"columns"`
	Standardize bool      `json:"standardize"`
	Init        string    `json:"init"`
	Given       []float64 `json:"given,omitempty"`
	MaxIter     int       `json:"max_iter"`
	Tol         float64   `json:"tol"`
}

// UnmarshalJSON fills every field left out with its default: an API job
// without tol runs with the same convergence test as the CLI's.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	v := plain{Init: InitKMeansParallel, MaxIter: DefaultMaxIter, Tol: DefaultTol}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Params(v)
	return nil
}

// Check checks the parameters that do not depend on the dataset.
func (p *Params) Check() error {
	if err := proto.IntParam("kmeans.k", "--k", p.K, 1, MaxK); err != nil {
		return err
	}
	if err := proto.IntParam("kmeans.max_iter", "--max-iter", p.MaxIter, 1, MaxIterations); err != nil {
		return err
	}
	if err := proto.FloatParam("kmeans.tol", "--tol", p.Tol, p.Tol >= 0, "a finite number of at least 0 (0: run max-iter iterations)"); err != nil {
		return err
	}
	if p.Init == "" {
		return nil // the algorithm's default, as an empty string means in Config
	}
	return proto.OneOf("kmeans.init", "--init", p.Init, InitKMeansParallel, InitRandom, InitGiven)
}

// Spec is a k-means job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	return job.NewSpec(Name, dataset, p)
}

// ParamsOf decodes a spec's k-means parameters.
func ParamsOf(spec *proto.JobSpec) (*Params, error) {
	return job.ParamsAs[Params](spec)
}

// Algorithm is k-means on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of dataset k-means reads.
func (Algorithm) DatasetKind() string { return proto.KindFeatures }

// CheckParams checks a spec's parameters.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	return job.CheckRaw[Params](Name, raw)
}

// Check resolves a k-means spec against the dataset version and fills in
// its defaults, so the committed spec says exactly what ran.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	km, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if len(km.Columns) == 0 {
		km.Columns = feature.Names(ver)
	}
	cols, err := feature.Expand(ver, km.Columns)
	if err != nil {
		return err
	}
	if km.Init == InitGiven && len(cols) != len(km.Columns) {
		return job.Invalid("starting centroids must name one-hot columns (col=value), not a categorical column")
	}
	km.Columns = cols
	if km.Init == "" {
		km.Init = InitKMeansParallel
	}
	if km.Tol < 0 {
		return job.Invalid("tol must not be negative")
	}
	if int64(km.K) > ver.Rows {
		return job.Invalid("k=%d is more than the dataset's %d rows", km.K, ver.Rows)
	}
	for _, name := range km.Columns {
		cs := feature.Column(ver, name)
		if cs == nil {
			cs, _, _ = feature.OneHot(ver, name)
		}
		if cs != nil && cs.Count == 0 {
			return job.Invalid("column %q has no value in version %d (every row is missing it)", name, ver.Version)
		}
	}
	cfg, err := config(spec.Seed, km, ver)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return job.Invalid("%v", err)
	}
	return job.SetParams(spec, km)
}

// prep derives the worker's matrix recipe: the training columns,
// standardised with the version's statistics when asked, and every numeric
// column for the segment profile.
func prep(km *Params, ver *proto.DatasetVersion) proto.Prep {
	p := proto.Prep{Columns: km.Columns, Profile: feature.All(ver)}
	if km.Standardize {
		p.Mean, p.Scale = feature.Standardization(ver, km.Columns)
	}
	p.Categories = feature.Categories(ver, p.Columns, p.Profile)
	return p
}

func config(seed uint64, km *Params, ver *proto.DatasetVersion) (Config, error) {
	pr := prep(km, ver)
	cfg := Config{K: km.K, Init: km.Init, MaxIter: km.MaxIter, Tol: km.Tol, Seed: seed, NProfile: len(pr.Profile)}
	if km.Init == InitGiven {
		d := len(km.Columns)
		if len(km.Given) != km.K*d {
			return cfg, job.Invalid("%d starting centroid values given, want k×columns = %d×%d", len(km.Given), km.K, d)
		}
		cfg.Given = make([]float64, len(km.Given))
		for i, v := range km.Given {
			if len(pr.Mean) > 0 {
				v = feature.Standardize(v, pr.Mean[i%d], pr.Scale[i%d])
			}
			cfg.Given[i] = v
		}
	}
	return cfg, nil
}

// clusterJob is a k-means job on the leader.
type clusterJob struct {
	spec    proto.JobSpec
	km      *Params
	ver     *proto.DatasetVersion
	prep    proto.Prep
	st      *State
	skipped int64
}

type saved struct {
	State   []byte // the state machine, as JSON
	Skipped int64
}

const (
	stateKind = "kmeans.state"
	// ModelKind is the blob kind of a k-means model.
	ModelKind = "model.kmeans"
)

// NewJob makes a k-means job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	km, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	cfg, err := config(spec.Seed, km, ver)
	if err != nil {
		return nil, err
	}
	st, err := New(cfg, len(km.Columns))
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return &clusterJob{spec: spec, km: km, ver: ver, prep: prep(km, ver), st: st}, nil
}

func (k *clusterJob) Next() (any, bool) { return k.st.Next() }

// DecodePartial decodes a partial as it arrives (job.Predecoder): every
// pass of the job answers with a Result.
func (k *clusterJob) DecodePartial(p *proto.Partial) (any, error) { return job.Predecode[Result](p) }

func (k *clusterJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[Result](Name, parts)
	if err != nil {
		return err
	}
	var skipped int64
	for _, p := range parts {
		skipped += p.Skipped
	}
	k.skipped = skipped
	return k.st.Absorb(res)
}

func (k *clusterJob) Progress() job.Progress {
	return job.Progress{Phase: k.st.Phase(), Iteration: k.st.Iteration(), Objective: k.st.Objective(), Shift: k.st.Shift()}
}

func (k *clusterJob) MaxIter() int     { return k.km.MaxIter }
func (k *clusterJob) Prep() proto.Prep { return k.prep }

func (k *clusterJob) Save() ([]byte, error) {
	js, err := json.Marshal(k.st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(stateKind, saved{State: js, Skipped: k.skipped})
}

func (k *clusterJob) Load(b []byte) error {
	var s saved
	if err := blob.Decode(b, stateKind, &s); err != nil {
		return err
	}
	st := new(State)
	if err := json.Unmarshal(s.State, st); err != nil {
		return fmt.Errorf("kmeans: state: %w", err)
	}
	k.st, k.skipped = st, s.Skipped
	return nil
}

// Finish is the model, in original units.
func (k *clusterJob) Finish() (*job.Result, error) {
	m := k.st.Model()
	km := k.km
	d := len(km.Columns)
	out := Segmentation{
		Kind: Name, Columns: km.Columns, Sizes: m.Sizes, Inertia: m.Inertia, Iterations: m.Iterations,
		Converged: m.Converged, Standardize: km.Standardize, Mean: k.prep.Mean, Scale: k.prep.Scale,
		Skipped: k.skipped, Spec: k.spec, Dataset: k.spec.Dataset, Version: k.spec.DatasetVersion,
	}
	for c := 0; c < m.K; c++ {
		tr := append([]float64(nil), m.Centroids[c*d:(c+1)*d]...)
		orig := make([]float64, d)
		for j, v := range tr {
			if km.Standardize {
				v = feature.Invert(v, k.prep.Mean[j], k.prep.Scale[j])
			}
			orig[j] = v
		}
		out.Centroids = append(out.Centroids, orig)
		out.TrainingCentroids = append(out.TrainingCentroids, tr)
	}
	if p := len(k.prep.Profile); p > 0 && len(m.Profile) == m.K*p {
		prof := &Profile{Columns: k.prep.Profile}
		for c := 0; c < m.K; c++ {
			prof.Means = append(prof.Means, append([]float64(nil), m.Profile[c*p:(c+1)*p]...))
		}
		out.Profile = prof
	}
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

// RunShard runs one task on one shard's prepared matrix.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	mx, err := sh.Matrix(ctx)
	if err != nil {
		return err
	}
	p.Rows, p.Skipped = int64(mx.N), mx.Skipped
	res, err := RunTask(nil, task.(*Task), mx.X, mx.N, mx.D, mx.Prof, mx.P, sh.Ref().Index)
	if err != nil {
		return err
	}
	return job.Encode(p, Name, res)
}

// Segmentation is the exported form of a k-means model, in original units.
type Segmentation struct {
	Kind        string      `json:"kind"`
	Columns     []string    `json:"columns"`
	Centroids   [][]float64 `json:"centroids"`
	Sizes       []int64     `json:"sizes"`
	Inertia     float64     `json:"inertia"`
	Iterations  int         `json:"iterations"`
	Converged   bool        `json:"converged"`
	Standardize bool        `json:"standardize"`
	// Mean and Scale are the standardisation used in training, if any.
	Mean    []float64     `json:"mean,omitempty"`
	Scale   []float64     `json:"scale,omitempty"`
	Profile *Profile      `json:"profile,omitempty"`
	Skipped int64         `json:"rows_skipped"`
	Spec    proto.JobSpec `json:"spec"`
	Dataset string        `json:"dataset"`
	Version int           `json:"dataset_version"`
	// TrainingCentroids are in the space the model was trained in.
	TrainingCentroids [][]float64 `json:"training_centroids,omitempty"`
}

// Profile is the per-segment mean of every numeric feature, in original units.
type Profile struct {
	Columns []string    `json:"columns"`
	Means   [][]float64 `json:"means"`
}

// Kinds are the model kinds k-means makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: Kind{}} }
