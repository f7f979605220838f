package supervised

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func decode(t *testing.T, s string) proto.JobSpec {
	t.Helper()
	var spec proto.JobSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return spec
}

func TestLogisticTargetMustBeZeroOne(t *testing.T) {
	ver := &proto.DatasetVersion{Version: 2, Columns: []proto.ColumnStats{
		{Name: "tenure", Count: 100, Min: 0, Max: 72, Mean: 32, Std: 24},
		{Name: "churn", Count: 4, Min: 0, Max: 1, Mean: 0.25, Std: 0.4330127018922193}, // 0, 0, 0, 1
		{Name: "half", Count: 4, Min: 0, Max: 1, Mean: 0.375, Std: 0.414578098794425},  // 0, 0, 0.5, 1
		{Name: "ones", Count: 4, Min: 1, Max: 1, Mean: 1},
		{Name: "empty", Missing: 4},
		{Name: "Contract", Count: 4, Levels: []string{"Month-to-month", "One year"}, LevelCounts: []int64{3, 1}},
	}}
	for _, c := range []struct{ target, want string }{
		{"churn", ""},
		{"Contract=One year", ""},
		{"tenure", `coordinator: invalid request: logistic target "tenure" must hold only 0 and 1, but its values range from 0 to 72 (or name one value of a categorical column, e.g. --target Contract=One year)`},
		{"half", `coordinator: invalid request: logistic target "half" must hold only 0 and 1, but it holds values between 0 and 1 (or name one value of a categorical column, e.g. --target Contract=One year)`},
		{"ones", `coordinator: invalid request: logistic target "ones" holds only 1: it needs rows of both classes, 0 and 1`},
		{"empty", `coordinator: invalid request: logistic target "empty" has no value in version 2`},
	} {
		err := checkBinaryTarget(ver, c.target)
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
			t.Errorf("%s: got %v\nwant %s", c.target, err, c.want)
		}
		// The leader's check of a whole spec says the same.
		feat := "tenure"
		if c.target == feat {
			feat = "churn"
		}
		spec := Spec(LogisticName, "t", Params{Target: c.target, Features: []string{feat}})
		err = (Logistic{}).Check(context.Background(), nil, &spec, nil, ver)
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
			t.Errorf("spec with target %s: got %v\nwant %s", c.target, err, c.want)
		}
	}
	// A linear target may hold any number.
	spec := Spec(LinearName, "t", Params{Target: "half", Features: []string{"tenure"}})
	if err := (Linear{}).Check(context.Background(), nil, &spec, nil, ver); err != nil {
		t.Errorf("linear target: %v", err)
	}
	// A feature with no value in the version is refused before the job
	// exists.
	spec = Spec(LinearName, "t", Params{Target: "churn", Features: []string{"tenure", "empty"}})
	if err := (Linear{}).Check(context.Background(), nil, &spec, nil, ver); err == nil ||
		err.Error() != `coordinator: invalid request: column "empty" has no value in version 2 (every row is missing it)` {
		t.Errorf("empty column: %v", err)
	}
}

// The leader fills in the features, leaving the target and the categorical
// column it is a value of out, and expands categorical features one-hot.
func TestCheckFillsInTheFeatures(t *testing.T) {
	ver := &proto.DatasetVersion{Version: 1, Columns: []proto.ColumnStats{
		{Name: "tenure", Count: 4, Min: 0, Max: 72, Mean: 32, Std: 24},
		{Name: "Contract", Count: 4, Levels: []string{"Month-to-month", "One year"}, LevelCounts: []int64{3, 1}},
		{Name: "Churn", Count: 4, Levels: []string{"No", "Yes"}, LevelCounts: []int64{3, 1}},
	}}
	spec := Spec(LogisticName, "t", Params{Target: "Churn=Yes"})
	if err := (Logistic{}).Check(context.Background(), nil, &spec, nil, ver); err != nil {
		t.Fatal(err)
	}
	p, err := ParamsOf(&spec)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tenure", "Contract=Month-to-month", "Contract=One year"}; !reflect.DeepEqual(p.Features, want) {
		t.Errorf("features %q, want %q", p.Features, want)
	}
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{Target: "Churn"}, `coordinator: invalid request: target "Churn" is categorical: name one value, e.g. Churn=Yes`},
		{Params{Target: "tenure", Features: []string{"tenure"}}, `coordinator: invalid request: the target "tenure" cannot also be a feature`},
		{Params{Target: "Churn=Yes", Features: []string{"Churn"}}, `coordinator: invalid request: the target "Churn=Yes" cannot also be a feature`},
	} {
		spec := Spec(LinearName, "t", c.p)
		if err := (Linear{}).Check(context.Background(), nil, &spec, nil, ver); err == nil || err.Error() != c.want {
			t.Errorf("%+v: got %v\nwant %s", c.p, err, c.want)
		}
	}
}

// A logistic spec's fields left out take the algorithm's defaults; a spec
// committed with them filled in runs with the same configuration.
func TestFieldLeftOutTakesTheDefault(t *testing.T) {
	spec := decode(t, `{"algo":"logistic","dataset":"t","logistic":{"target":"y","features":["x"]}}`)
	if err := (Logistic{}).CheckParams(spec.Params); err != nil {
		t.Fatal(err)
	}
	jb, err := (Logistic{}).NewJob(context.Background(), nil, "job-1", spec, &proto.DatasetVersion{})
	if err != nil {
		t.Fatal(err)
	}
	j := jb.(*regressionJob)
	if cfg := j.log.Config; cfg.C != logistic.DefaultC || cfg.MaxIter != logistic.DefaultMaxIter || cfg.Tol != logistic.DefaultTol ||
		j.MaxIter() != logistic.DefaultMaxIter {
		t.Errorf("logistic defaults: C %v, max iter %d (%d), tol %v", cfg.C, cfg.MaxIter, j.MaxIter(), cfg.Tol)
	}
	spec = decode(t, `{"algo":"logistic","dataset":"t","logistic":{"target":"y","features":["x"],"c":1,"max_iter":100,"tol":1e-8}}`)
	j2, err := (Logistic{}).NewJob(context.Background(), nil, "job-2", spec, &proto.DatasetVersion{})
	if err != nil || !reflect.DeepEqual(j2.(*regressionJob).log.Config, j.log.Config) {
		t.Errorf("filled in: %+v, %v; left out: %+v", j2, err, j.log.Config)
	}
}
