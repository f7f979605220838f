package histogram

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func TestCount(t *testing.T) {
	col := []float64{0, 1, 2.5, 5, 7.5, 10, math.NaN(), 9.999}
	r, err := Count(&Task{Min: 0, Max: 10, Bins: 4}, col)
	if err != nil {
		t.Fatal(err)
	}
	// [0,2.5) [2.5,5) [5,7.5) [7.5,10]: the maximum falls in the last bin.
	if want := []int64{2, 1, 1, 3}; !equal(r.Counts, want) || r.Missing != 1 {
		t.Fatalf("counts %v missing %d, want %v 1", r.Counts, r.Missing, want)
	}
	r, _ = Count(&Task{Min: 3, Max: 3, Bins: 5}, []float64{3, 3})
	if r.Counts[0] != 2 {
		t.Fatalf("a constant column: %v", r.Counts)
	}
	if _, err := Count(&Task{Min: 0, Max: 1, Bins: 0}, nil); !errors.Is(err, ErrBadTask) {
		t.Fatalf("0 bins: %v", err)
	}
	if _, ok := errors.AsType[*step.Error](func() error { _, err := Count(&Task{Bins: 0}, nil); return err }()); !ok {
		t.Fatal("a bad task is not a step.Error (it would be retried)")
	}
}

// The leader adds the shards' counts, and a model in the making survives a
// save and load (a new leader resumes it).
func TestJob(t *testing.T) {
	ver := &proto.DatasetVersion{Version: 1, Columns: []proto.ColumnStats{{Name: "x", Count: 6, Min: 0, Max: 4}}}
	spec := Spec("d", Params{Column: "x", Bins: 2})
	if err := (Algorithm{}).Check(context.Background(), nil, &spec, nil, ver); err != nil {
		t.Fatal(err)
	}
	j, err := (Algorithm{}).NewJob(context.Background(), nil, "job-1", spec, ver)
	if err != nil {
		t.Fatal(err)
	}
	task, done := j.Next()
	if done {
		t.Fatal("done before a pass")
	}
	var parts []*proto.Partial
	for i, col := range [][]float64{{0, 1, 4}, {3, math.NaN(), 2}} {
		r, err := Count(task.(*Task), col)
		if err != nil {
			t.Fatal(err)
		}
		p := &proto.Partial{Shard: i}
		if err := job.Encode(p, Name, r); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if err := j.Absorb(parts); err != nil {
		t.Fatal(err)
	}
	b, err := j.Save()
	if err != nil {
		t.Fatal(err)
	}
	j2, _ := (Algorithm{}).NewJob(context.Background(), nil, "job-1", spec, ver)
	if err := j2.Load(b); err != nil {
		t.Fatal(err)
	}
	if _, done := j2.Next(); !done {
		t.Fatal("a loaded finished job is not done")
	}
	res, err := j2.Finish()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Kind{}.Decode(res.Model.Blob)
	if err != nil {
		t.Fatal(err)
	}
	h := m.(*Histogram)
	if !equal(h.Counts, []int64{2, 3}) || h.Missing != 1 {
		t.Fatalf("histogram %+v", h)
	}
}

func TestParams(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`{"column":"x","bins":0}`, "histogram.bins 0 is out of range: must be an integer from 1 to 10000"},
		{`{"bins":3}`, "proto: invalid parameter: histogram.column: a column is required (--column)"},
	} {
		if err := (Algorithm{}).CheckParams(json.RawMessage(c.raw)); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.raw, err, c.want)
		}
	}
	ver := &proto.DatasetVersion{Version: 3, Columns: []proto.ColumnStats{{Name: "plan", Levels: []string{"a"}}}}
	for col, want := range map[string]string{
		"plan": `coordinator: invalid request: column "plan" is categorical: a histogram needs a numeric column`,
		"nope": `coordinator: invalid request: dataset d version 3 has no column "nope"`,
	} {
		spec := Spec("d", Params{Column: col, Bins: 2})
		if err := (Algorithm{}).Check(context.Background(), nil, &spec, nil, ver); err == nil || err.Error() != want {
			t.Errorf("%s: %v", col, err)
		}
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
