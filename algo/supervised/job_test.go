package supervised

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/describe"
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
	cfg.Lambda, cfg.Holdout, cfg.SplitSeed, cfg.Features, cfg.Residuals = p.L2, p.Holdout, spec.Seed, feats, true
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
	checkLinearPage(t, m)
	ols := Spec(LinearName, "d", Params{Target: "y", Features: feats, Holdout: 0.2})
	ols.Seed = 9
	m, _ = run(t, Linear{}, ols, lin)
	checkLinearPage(t, m)

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
	checkLogisticPage(t, m)
}

// chartsByTitle describes a model and indexes its charts by the start of
// their titles.
func chartsByTitle(t *testing.T, m *Model, prefixes ...string) (*describe.Description, map[string]describe.Chart) {
	t.Helper()
	desc, err := Kind{}.Describe(&proto.ModelDetail{Model: proto.Model{ID: "model-1", Kind: m.Kind}}, m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]describe.Chart{}
	for _, c := range desc.Charts {
		for _, p := range prefixes {
			if strings.HasPrefix(c.Title, p) {
				out[p] = c
			}
		}
	}
	if len(out) != len(prefixes) {
		t.Fatalf("charts %v, want one starting with each of %q", titles(desc), prefixes)
	}
	return desc, out
}

func titles(d *describe.Description) []string {
	var out []string
	for _, c := range d.Charts {
		out = append(out, c.Title)
	}
	return out
}

// A linear model's page shows 95 % intervals and a bar per residual bin of
// each row set, as many rows in the bars as in the set.
func checkLinearPage(t *testing.T, m *Model) {
	t.Helper()
	desc, charts := chartsByTitle(t, m, "Coefficients", "Residuals (training rows)", "Residuals (held-out rows)")
	for set, n := range map[string]int64{"training": m.Linear.N, "held-out": m.Linear.NHoldout} {
		c := charts["Residuals ("+set+" rows)"]
		sum := 0.0
		for _, b := range c.Bars {
			sum += b.Value
		}
		if len(c.Bars) != linear.ResidualBins || int64(sum) != n || c.Bars[0].Label != "<-4" || c.Bars[17].Label != "0" || c.Bars[33].Label != "≥4" {
			t.Errorf("%s residuals: %d bars holding %v rows of %d: %+v", set, len(c.Bars), sum, n, c.Bars)
		}
	}
	tab := desc.Tables[0]
	if tab.Columns[4] != "95% interval" || len(tab.Rows) != 4 {
		t.Fatalf("coefficients table %+v", tab)
	}
	// The interval is centred on the coefficient, about two standard errors
	// either side; a ridge fit has none.
	for i, row := range tab.Rows[1:] {
		if m.Linear.StdErrors == nil {
			if row[4] != "-" {
				t.Errorf("%s: interval %q without standard errors", row[0], row[4])
			}
			continue
		}
		var lo, hi float64
		if _, err := fmt.Sscanf(row[4], "%g to %g", &lo, &hi); err != nil {
			t.Fatalf("interval %q: %v", row[4], err)
		}
		b, se := m.Linear.Coefficients[i], m.Linear.StdErrors[i]
		if math.Abs((lo+hi)/2-b) > 1e-4*math.Abs(b)+1e-9 || math.Abs((hi-lo)/(2*se)-1.97) > 0.03 {
			t.Errorf("%s: interval %v to %v for %v ± %v", row[0], lo, hi, b, se)
		}
	}
}

// A logistic model's page shows the ROC with a point per score bin edge
// from (0, 0) to (1, 1), the gains at each decile ending at 1, a lift bar
// per decile whose mean is 1, and the calibration.
func checkLogisticPage(t *testing.T, m *Model) {
	t.Helper()
	_, charts := chartsByTitle(t, m, "ROC (held-out rows", "Cumulative gains (held-out rows)", "Lift by decile (held-out rows)", "Calibration (held-out rows)")
	roc := charts["ROC (held-out rows"].Series[0].Points
	if len(roc) != logistic.CurveBins+1 || roc[0] != (describe.Point{}) || roc[len(roc)-1] != (describe.Point{X: 1, Y: 1}) {
		t.Errorf("ROC of %d points from %v to %v", len(roc), roc[0], roc[len(roc)-1])
	}
	for i := 1; i < len(roc); i++ {
		if roc[i].X < roc[i-1].X || roc[i].Y < roc[i-1].Y {
			t.Fatalf("ROC goes back at point %d: %v after %v", i, roc[i], roc[i-1])
		}
	}
	gains := charts["Cumulative gains (held-out rows)"].Series[0].Points
	if len(gains) != 11 || gains[10] != (describe.Point{X: 1, Y: 1}) {
		t.Errorf("gains %v", gains)
	}
	lift := charts["Lift by decile (held-out rows)"].Bars
	mean := 0.0
	for _, b := range lift {
		mean += b.Value / 10
	}
	if len(lift) != 10 || math.Abs(mean-1) > 1e-12 || lift[0].Value <= 1 {
		t.Errorf("lift bars %+v (mean %v)", lift, mean)
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
