package supervised

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/partition"
)

// shard is a worker's view of one shard: its prepared matrix and its rows.
type shard struct {
	job.Shard
	i  int
	mx *feature.Matrix
	sh *partition.Shard
}

func (s *shard) Ref() proto.ShardRef                                { return proto.ShardRef{Index: s.i} }
func (s *shard) Matrix(context.Context) (*feature.Matrix, error)    { return s.mx, nil }
func (s *shard) Features(context.Context) (*partition.Shard, error) { return s.sh, nil }

// shards makes n shards of rows with d features, the target of each row
// from target, and some rows skipped for a missing value.
func shards(n, d int, target func(r *rand.Rand, x []float64) float64) []*shard {
	r := rand.New(rand.NewPCG(5, 6))
	out := make([]*shard, n)
	for i := range out {
		rows := 200 + 37*i
		mx := &feature.Matrix{N: rows, D: d, Skipped: int64(i)}
		for k := range rows {
			x := make([]float64, d)
			for j := range x {
				x[j] = r.NormFloat64()
			}
			mx.X = append(mx.X, x...)
			mx.Y = append(mx.Y, target(r, x))
			mx.Keys = append(mx.Keys, strconv.Itoa(1000*i+k))
		}
		out[i] = &shard{i: i, mx: mx}
	}
	return out
}

// run drives a job as the leader does: every pass's task through JSON to
// every shard, the partials absorbed in shard order, and the state saved
// and loaded into a new job (a new leader) after every pass.
func run(t *testing.T, a job.Algorithm, spec proto.JobSpec, shs []*shard) (*Model, job.Job) {
	t.Helper()
	ctx := context.Background()
	ver := &proto.DatasetVersion{Version: 1}
	j, err := a.NewJob(ctx, nil, "job-1", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	for {
		task, done := j.Next()
		if done {
			break
		}
		raw, err := json.Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := a.DecodeTask(raw)
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]*proto.Partial, len(shs))
		for i, sh := range shs {
			parts[i] = &proto.Partial{Shard: i}
			if err := a.RunShard(ctx, sh, tk, parts[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Absorb(parts); err != nil {
			t.Fatal(err)
		}
		b, err := j.Save()
		if err != nil {
			t.Fatal(err)
		}
		if j, err = a.NewJob(ctx, nil, "job-1", spec, ver); err != nil {
			t.Fatal(err)
		}
		if err := j.Load(b); err != nil {
			t.Fatal(err)
		}
	}
	res, err := j.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Model == nil || res.Model.Kind != spec.Algo {
		t.Fatalf("result %+v", res)
	}
	m, err := Kind{}.Decode(res.Model.Blob)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Model), j
}

// A job on the cluster makes the model the algorithm's reference makes in
// one process, bit for bit, whatever leader absorbs which pass.
func TestJobsMatchTheReference(t *testing.T) {
	const d = 3
	feats := []string{"a", "b", "c"}
	lin := shards(3, d, func(r *rand.Rand, x []float64) float64 { return 2*x[0] - x[1] + 0.5*x[2] + 3 + r.NormFloat64() })
	p := Params{Target: "y", Features: feats, L2: 0.5, Holdout: 0.2}
	spec := Spec(LinearName, "d", p)
	spec.Seed = 9
	m, j := run(t, Linear{}, spec, lin)
	cfg := linear.DefaultConfig()
	cfg.Lambda, cfg.Holdout, cfg.SplitSeed, cfg.Features = p.L2, p.Holdout, spec.Seed, feats
	var ref []linear.Shard
	for _, sh := range lin {
		ref = append(ref, linear.Shard{X: sh.mx.X, Y: sh.mx.Y, Keys: sh.mx.Keys})
	}
	want, err := linear.Reference(cfg, d, ref...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Linear, want) || m.Logistic != nil || m.Skipped != 0+1+2 || m.Kind != LinearName || m.Target != "y" {
		t.Fatalf("linear model %+v\nwant %+v", m, want)
	}
	if j.MaxIter() != 1 {
		t.Errorf("linear max iter %d", j.MaxIter())
	}

	lg := shards(4, d, func(r *rand.Rand, x []float64) float64 {
		if r.Float64() < 1/(1+math.Exp(-(x[0]-2*x[2]))) {
			return 1
		}
		return 0
	})
	p = Params{Target: "y", Features: feats, C: new(2.0), Holdout: 0.25, ClassWeight: logistic.Balanced}
	spec = Spec(LogisticName, "d", p)
	spec.Seed = 4
	m, j = run(t, Logistic{}, spec, lg)
	var lref []logistic.Shard
	for _, sh := range lg {
		lref = append(lref, logistic.Shard{X: sh.mx.X, Y: sh.mx.Y, Keys: sh.mx.Keys})
	}
	lwant, err := logistic.Reference(logisticConfig(spec.Seed, &p), d, lref...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Logistic, lwant) || m.Linear != nil || m.Kind != LogisticName {
		t.Fatalf("logistic model %+v\nwant %+v", m.Logistic, lwant)
	}
	if j.MaxIter() != logistic.DefaultMaxIter || j.Progress().Iteration != lwant.Iterations {
		t.Errorf("logistic max iter %d, progress %+v, %d iterations", j.MaxIter(), j.Progress(), lwant.Iterations)
	}
}

// A model scores a shard row by row, a one-hot feature by the scored
// version's dictionary; a row with a missing feature is left unscored.
func TestValuesAreRowByRow(t *testing.T) {
	nan := math.NaN()
	sh := &shard{sh: &partition.Shard{Key: "id", Keys: []string{"a", "b", "c", "d"}, Columns: []string{"tenure", "plan"},
		Values: [][]float64{{1, 2, nan, 4}, {1, 0, 0, nan}}}}
	levels := map[string][]string{"plan": {"basic", "pro"}}
	feats := []string{"tenure", "plan=pro"}
	lin := &Model{Kind: LinearName, Features: feats, Linear: &linear.Model{Coefficients: []float64{2, -3}, Intercept: 0.5}}
	lg := &Model{Kind: LogisticName, Features: feats, Logistic: &logistic.Model{Coefficients: []float64{0.25, -1}, Intercept: 0.1}}
	for _, m := range []*Model{lin, lg} {
		v, err := Kind{}.Values(context.Background(), sh, m, &score.Task{Levels: levels})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v.Keys, []string{"a", "b"}) || !reflect.DeepEqual(v.Unscored, []string{"c", "d"}) {
			t.Fatalf("%s: keys %q, unscored %q", m.Kind, v.Keys, v.Unscored)
		}
		for i, x := range [][]float64{{1, 1}, {2, 0}} {
			want := 0.0
			if m.Linear != nil {
				want = m.Linear.Predict(x)
			} else {
				want = m.Logistic.Probability(x)
			}
			if v.Values[i] != want {
				t.Errorf("%s row %d: %v, want %v", m.Kind, i, v.Values[i], want)
			}
		}
		kind, cols := Kind{}.Output(m)
		want, err := scoreset.Schema(kind)
		if err != nil || !reflect.DeepEqual(cols, want) {
			t.Errorf("%s writes %s %+v, schema %+v (%v)", m.Kind, kind, cols, want, err)
		}
		if dk, in := (Kind{}).Input(m); dk != proto.KindFeatures || !reflect.DeepEqual(in, feats) {
			t.Errorf("%s reads %s %q", m.Kind, dk, in)
		}
	}
	if k, _ := (Kind{}).Output(lg); k != proto.ScoresProbabilities {
		t.Errorf("logistic writes %s", k)
	}
}
