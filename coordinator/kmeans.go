package coordinator

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

const (
	kmeansStateKind = "kmeans.state"
	kmeansModelKind = proto.KMeansModelKind
)

// checkKMeans validates a k-means spec against the dataset version and fills
// in its defaults, so the committed spec says exactly what ran.
func checkKMeans(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	km := spec.KMeans
	if km == nil {
		return fmt.Errorf("%w: kmeans parameters missing", ErrInvalid)
	}
	if len(km.Columns) == 0 {
		km.Columns = columnNames(ver)
	}
	cols, err := expandColumns(ver, km.Columns)
	if err != nil {
		return err
	}
	if km.Init == "given" && len(cols) != len(km.Columns) {
		return fmt.Errorf("%w: starting centroids must name one-hot columns (col=value), not a categorical column", ErrInvalid)
	}
	km.Columns = cols
	if km.Init == "" {
		km.Init = "kmeans||"
	}
	if km.Tol < 0 {
		return fmt.Errorf("%w: tol must not be negative", ErrInvalid)
	}
	if int64(km.K) > ver.Rows {
		return fmt.Errorf("%w: k=%d is more than the dataset's %d rows", ErrInvalid, km.K, ver.Rows)
	}
	cfg, err := kmeansConfig(*spec, ver)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

func columnStats(ver *proto.DatasetVersion, name string) *proto.ColumnStats {
	for i := range ver.Columns {
		if ver.Columns[i].Name == name {
			return &ver.Columns[i]
		}
	}
	return nil
}

func columnNames(ver *proto.DatasetVersion) []string {
	out := make([]string, len(ver.Columns))
	for i, c := range ver.Columns {
		out[i] = c.Name
	}
	return out
}

// kmeansPrep derives the worker's matrix recipe: the training columns,
// standardised with the version's statistics when asked, and every numeric
// column for the segment profile.
func kmeansPrep(km *proto.KMeansSpec, ver *proto.DatasetVersion) proto.Prep {
	p := proto.Prep{Columns: km.Columns, Profile: allFeatures(ver)}
	if km.Standardize {
		for _, name := range km.Columns {
			mean, scale := featureStats(ver, name)
			if scale == 0 {
				scale = 1 // a constant column stays constant
			}
			p.Mean = append(p.Mean, mean)
			p.Scale = append(p.Scale, scale)
		}
	}
	p.Categories = categories(ver, p.Columns, p.Profile)
	return p
}

func kmeansConfig(spec proto.JobSpec, ver *proto.DatasetVersion) (kmeans.Config, error) {
	km := spec.KMeans
	prep := kmeansPrep(km, ver)
	cfg := kmeans.Config{K: km.K, Init: km.Init, MaxIter: km.MaxIter, Tol: km.Tol, Seed: spec.Seed, NProfile: len(prep.Profile)}
	if km.Init == "given" {
		d := len(km.Columns)
		if len(km.Given) != km.K*d {
			return cfg, fmt.Errorf("%w: %d starting centroid values given, want k×columns = %d×%d", ErrInvalid, len(km.Given), km.K, d)
		}
		cfg.Given = make([]float64, len(km.Given))
		for i, v := range km.Given {
			if len(prep.Mean) > 0 {
				v = (v - prep.Mean[i%d]) / prep.Scale[i%d]
			}
			cfg.Given[i] = v
		}
	}
	return cfg, nil
}

type kmeansJob struct {
	spec    proto.JobSpec
	ver     *proto.DatasetVersion
	prep    proto.Prep
	st      *kmeans.State
	skipped int64
}

type kmeansSaved struct {
	State   []byte // the state machine, as JSON
	Skipped int64
}

func newKMeansJob(spec proto.JobSpec, ver *proto.DatasetVersion) (*kmeansJob, error) {
	cfg, err := kmeansConfig(spec, ver)
	if err != nil {
		return nil, err
	}
	st, err := kmeans.New(cfg, len(spec.KMeans.Columns))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &kmeansJob{spec: spec, ver: ver, prep: kmeansPrep(spec.KMeans, ver), st: st}, nil
}

func (k *kmeansJob) Next() (any, bool) { return k.st.Next() }

func (k *kmeansJob) Absorb(parts []*proto.Partial) error {
	res := make([]*kmeans.Result, len(parts))
	var skipped int64
	for i, p := range parts {
		if p.KMeans == nil {
			return fmt.Errorf("coordinator: shard %d sent no k-means result", i)
		}
		res[i] = p.KMeans
		skipped += p.Skipped
	}
	k.skipped = skipped
	return k.st.Absorb(res)
}

func (k *kmeansJob) Progress() (string, int, float64, float64) {
	return k.st.Phase(), k.st.Iteration(), k.st.Objective(), k.st.Shift()
}

func (k *kmeansJob) MaxIter() int     { return k.spec.KMeans.MaxIter }
func (k *kmeansJob) Prep() proto.Prep { return k.prep }

func (k *kmeansJob) Save() ([]byte, error) {
	js, err := json.Marshal(k.st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(kmeansStateKind, kmeansSaved{State: js, Skipped: k.skipped})
}

func (k *kmeansJob) Load(b []byte) error {
	var s kmeansSaved
	if err := blob.Decode(b, kmeansStateKind, &s); err != nil {
		return err
	}
	st := new(kmeans.State)
	if err := json.Unmarshal(s.State, st); err != nil {
		return fmt.Errorf("coordinator: k-means state: %w", err)
	}
	k.st, k.skipped = st, s.Skipped
	return nil
}

func (k *kmeansJob) Model() (string, []byte, error) {
	m := k.st.Model()
	km := k.spec.KMeans
	d := len(km.Columns)
	out := proto.KMeansModel{
		Kind: "kmeans", Columns: km.Columns, Sizes: m.Sizes, Inertia: m.Inertia, Iterations: m.Iterations,
		Converged: m.Converged, Standardize: km.Standardize, Mean: k.prep.Mean, Scale: k.prep.Scale,
		Skipped: k.skipped, Spec: k.spec, Dataset: k.spec.Dataset, Version: k.spec.DatasetVersion,
	}
	for c := 0; c < m.K; c++ {
		tr := append([]float64(nil), m.Centroids[c*d:(c+1)*d]...)
		orig := make([]float64, d)
		for j, v := range tr {
			if km.Standardize {
				v = float64(v*k.prep.Scale[j]) + k.prep.Mean[j] // never fused: same bits on every build
			}
			orig[j] = v
		}
		out.Centroids = append(out.Centroids, orig)
		out.TrainingCentroids = append(out.TrainingCentroids, tr)
	}
	if p := len(k.prep.Profile); p > 0 && len(m.Profile) == m.K*p {
		prof := &proto.Profile{Columns: k.prep.Profile}
		for c := 0; c < m.K; c++ {
			prof.Means = append(prof.Means, append([]float64(nil), m.Profile[c*p:(c+1)*p]...))
		}
		out.Profile = prof
	}
	b, err := blob.Encode(kmeansModelKind, out)
	return "kmeans", b, err
}

func (c *Coordinator) loadKMeansModel(ctx context.Context, ref proto.BlobRef) (*proto.KMeansModel, error) {
	b, err := c.store.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	var m proto.KMeansModel
	if err := blob.Decode(b, kmeansModelKind, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
