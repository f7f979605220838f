package coordinator

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// A value sent through the API is checked, 0 included; only a field left
// out takes the algorithm's default.
func TestExplicitZeroIsAnErrorAtTheLeader(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"algo":"logistic","dataset":"t","logistic":{"target":"y","c":0}}`,
			"coordinator: invalid request: logistic.c 0 is out of range: must be a finite number greater than 0"},
		{`{"algo":"logistic","dataset":"t","logistic":{"target":"y","max_iter":0}}`,
			"coordinator: invalid request: logistic.max_iter 0 is out of range: must be an integer from 1 to 100000"},
		{`{"algo":"logistic","dataset":"t","logistic":{"target":"y","tol":-1}}`,
			"coordinator: invalid request: logistic.tol -1 is out of range: must be a finite number greater than 0"},
		{`{"algo":"logistic","dataset":"t","logistic":{"target":"y","tol":0}}`,
			"coordinator: invalid request: logistic.tol 0 is out of range: must be a finite number greater than 0"},
		{`{"algo":"score","dataset":"t","score":{"model":"model-1","top":0}}`,
			"coordinator: invalid request: score.top 0 is out of range: must be an integer from 1 to 1000"},
	} {
		spec, err := parse[proto.JobSpec](json.RawMessage(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkParams(&spec); !errors.Is(err, ErrInvalid) || !errors.Is(err, proto.ErrParam) || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.body, err, c.want)
		}
	}

	f := scheduleFSM(t)
	body := `{"name":"n","cron":"0 2 * * *","model":"model-1","dataset":"c","retries":1,"backoff_seconds":0}`
	s, err := parseScheduleSpec(json.RawMessage(body))
	if err != nil {
		t.Fatal(err)
	}
	want := "coordinator: invalid request: backoff_seconds 0 is out of range: must be a finite number of seconds greater than 0"
	if err := checkScheduleSpec(f, &s, w0); !errors.Is(err, ErrInvalid) || err.Error() != want {
		t.Errorf("backoff 0:\n got %v\nwant %s", err, want)
	}
}

func TestFieldLeftOutTakesTheDefault(t *testing.T) {
	spec, err := parse[proto.JobSpec](json.RawMessage(`{"algo":"logistic","dataset":"t","logistic":{"target":"y","features":["x"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkParams(&spec); err != nil {
		t.Fatal(err)
	}
	j, err := newRegressionJob(spec, &proto.DatasetVersion{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := j.log.Config; cfg.C != logistic.DefaultC || cfg.MaxIter != logistic.DefaultMaxIter || cfg.Tol != logistic.DefaultTol ||
		j.MaxIter() != logistic.DefaultMaxIter {
		t.Errorf("logistic defaults: C %v, max iter %d (%d), tol %v", cfg.C, cfg.MaxIter, j.MaxIter(), cfg.Tol)
	}
	// A spec committed with the values filled in decodes to the same values
	// and the same configuration.
	spec, err = parse[proto.JobSpec](json.RawMessage(`{"algo":"logistic","dataset":"t","logistic":{"target":"y","features":["x"],"c":1,"max_iter":100,"tol":1e-8}}`))
	if err != nil {
		t.Fatal(err)
	}
	if j2, err := newRegressionJob(spec, &proto.DatasetVersion{}); err != nil || !reflect.DeepEqual(j2.log.Config, j.log.Config) {
		t.Errorf("filled in: %+v, %v; left out: %+v", j2.log.Config, err, j.log.Config)
	}

	// score top: left out, an ALS model's score job gets DefaultTop in its
	// committed spec; given, it is kept.
	f := scheduleFSM(t)
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "als", Dataset: "c", DatasetVersion: 1}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-2", Time: t0})
	if r := apply(t, f, msgJobFinish, entryJobFinish{ID: "job-2", State: proto.JobSucceeded, Kind: "als",
		Model: &proto.BlobRef{Bucket: proto.BucketModels, Object: "m2"}, Time: t0}); r.ID != "model-2" {
		t.Fatalf("model: %+v", r)
	}
	c := &Coordinator{fsm: f}
	ds := &proto.Dataset{Name: "r", Kind: proto.KindInteractions}
	ver := &proto.DatasetVersion{Key: "user"}
	for _, body := range []string{`{"model":"model-2"}`, `{"model":"model-2","top":3}`} {
		spec, err := parse[proto.JobSpec](json.RawMessage(`{"algo":"score","dataset":"r","score":` + body + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.checkScore(&spec, ds, ver); err != nil {
			t.Fatal(err)
		}
		want := proto.DefaultTop
		if body != `{"model":"model-2"}` {
			want = 3
		}
		if spec.Score.Top == nil || *spec.Score.Top != want {
			t.Errorf("%s: top %v, want %d", body, spec.Score.Top, want)
		}
	}

	// schedule backoff: left out, DefaultScheduleBackoff.
	s, err := parseScheduleSpec(json.RawMessage(`{"name":"n","cron":"0 2 * * *","model":"model-1","dataset":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkScheduleSpec(f, &s, w0); err != nil || s.BackoffSeconds != proto.DefaultScheduleBackoff.Seconds() {
		t.Errorf("backoff left out: %v, %v", s.BackoffSeconds, err)
	}
}
