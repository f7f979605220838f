package kmeans

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// An API job that leaves tol out runs with the tolerance the CLI defaults
// to: not with no convergence test.
func TestAPIDefaultsAreTheCLIs(t *testing.T) {
	var spec proto.JobSpec
	if err := json.Unmarshal([]byte(`{"algo":"kmeans","dataset":"c","kmeans":{"k":2,"columns":["a"]}}`), &spec); err != nil {
		t.Fatal(err)
	}
	ver := &proto.DatasetVersion{Version: 1, Rows: 10, Columns: []proto.ColumnStats{{Name: "a", Count: 10, Max: 3, Mean: 1, Std: 1}}}
	if err := (Algorithm{}).Check(context.Background(), nil, &spec, nil, ver); err != nil {
		t.Fatal(err)
	}
	p, err := ParamsOf(&spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config(spec.Seed, p, ver)
	if err != nil {
		t.Fatal(err)
	}
	if d := DefaultConfig(2); cfg.Tol != d.Tol || cfg.MaxIter != d.MaxIter || cfg.Init != d.Init {
		t.Fatalf("API defaults %+v, algo defaults %+v", cfg, d)
	}
}

// A training column with no value in the version is refused before the job
// exists.
func TestEmptyColumnIsRefused(t *testing.T) {
	ver := &proto.DatasetVersion{Version: 2, Rows: 100, Columns: []proto.ColumnStats{
		{Name: "tenure", Count: 100, Min: 0, Max: 72, Mean: 32, Std: 24},
		{Name: "empty", Missing: 100},
	}}
	spec := Spec("c", Params{K: 2, Columns: []string{"tenure", "empty"}, MaxIter: 5})
	err := (Algorithm{}).Check(context.Background(), nil, &spec, nil, ver)
	if err == nil || err.Error() != `coordinator: invalid request: column "empty" has no value in version 2 (every row is missing it)` {
		t.Errorf("empty column: %v", err)
	}
}
