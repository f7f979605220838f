package coordinator

import (
	"encoding/json"
	"fmt"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// alsModelKind is the blob kind of an ALS model manifest.
const alsModelKind = proto.ALSModelKind

func alsConfig(spec proto.JobSpec) (als.Config, error) {
	as := spec.ALS
	if as == nil {
		return als.Config{}, fmt.Errorf("%w: als parameters missing", ErrInvalid)
	}
	// A spec's fields left out took their defaults when it was decoded
	// (proto.ALSSpec.UnmarshalJSON); a value given is used as it is.
	cfg := als.DefaultConfig()
	cfg.Rank, cfg.Lambda, cfg.Iterations = as.Rank, as.Lambda, as.Iterations
	if as.Alpha > 0 || as.Implicit {
		cfg.Alpha = as.Alpha
	}
	if as.RegScaling != "" {
		cfg.RegScaling = as.RegScaling
	}
	cfg.Implicit, cfg.Holdout, cfg.Seed = as.Implicit, as.Holdout, spec.Seed
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return cfg, nil
}

// checkALS validates an ALS spec against an interactions version.
func checkALS(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	if ver.Interactions == nil || len(ver.ItemShards) == 0 {
		return fmt.Errorf("%w: als needs an interactions dataset", ErrInvalid)
	}
	_, err := newALSJob(*spec, ver)
	return err
}

// alsJob drives ALS: passes alternate between the by-user and the by-item
// layout, and the factors stay in the object store, named by the state.
type alsJob struct {
	spec proto.JobSpec
	ver  *proto.DatasetVersion
	st   *als.State
	side als.Side // side of the task Next returned last
}

func newALSJob(spec proto.JobSpec, ver *proto.DatasetVersion) (*alsJob, error) {
	cfg, err := alsConfig(spec)
	if err != nil {
		return nil, err
	}
	st, err := als.New(cfg, len(ver.Shards), len(ver.ItemShards))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
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
	res := make([]*als.Result, len(parts))
	for i, p := range parts {
		if p.ALS == nil {
			return fmt.Errorf("coordinator: shard %d sent no als result", i)
		}
		res[i] = p.ALS
	}
	return j.st.Absorb(res)
}

func (j *alsJob) Progress() (string, int, float64, float64) {
	return j.st.Phase(), j.st.Iteration(), j.st.Objective(), 0
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
	return blob.Encode("als.state", json.RawMessage(b))
}

func (j *alsJob) Load(b []byte) error {
	var raw json.RawMessage
	if err := blob.Decode(b, "als.state", &raw); err != nil {
		return err
	}
	j.st = new(als.State)
	return json.Unmarshal(raw, j.st)
}

func factorRefs(refs ...[]als.FactorRef) []proto.BlobRef {
	var out []proto.BlobRef
	for _, side := range refs {
		for _, r := range side {
			if r.Object != "" {
				out = append(out, proto.BlobRef{Bucket: proto.BucketModels, Object: r.Object, Size: r.Size, SHA256: r.SHA256})
			}
		}
	}
	return out
}

// Refs are the latest factor shards of both sides.
func (j *alsJob) Refs() []proto.BlobRef { return factorRefs(j.st.UserRefs, j.st.ItemRefs) }

// ModelRefs are the factor shards the model is made of.
func (j *alsJob) ModelRefs() []proto.BlobRef { return j.Refs() }

func (j *alsJob) Model() (string, []byte, error) {
	sum := j.st.Summary()
	if sum == nil {
		return "", nil, fmt.Errorf("coordinator: als job is not done")
	}
	in := j.ver.Interactions
	m := proto.ALSModel{Kind: "als", Summary: *sum, Spec: j.spec, Dataset: j.spec.Dataset, Version: j.spec.DatasetVersion,
		User: in.User, Item: in.Item, Users: in.Users, Items: in.Items}
	b, err := blob.Encode(alsModelKind, m)
	return "als", b, err
}
