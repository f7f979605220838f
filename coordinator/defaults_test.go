package coordinator

import (
	"encoding/json"
	"errors"
	"testing"

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
	f := scheduleFSM(t)
	// schedule backoff: left out, DefaultScheduleBackoff.
	s, err := parseScheduleSpec(json.RawMessage(`{"name":"n","cron":"0 2 * * *","model":"model-1","dataset":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkScheduleSpec(f, &s, w0); err != nil || s.BackoffSeconds != proto.DefaultScheduleBackoff.Seconds() {
		t.Errorf("backoff left out: %v, %v", s.BackoffSeconds, err)
	}
}
