package kmeans

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // substring of the message; "" means valid
	}{
		{Config{K: 1}, ""},
		{DefaultConfig(3), ""},
		{Config{K: 2, Init: InitGiven, Given: []float64{1, 2, 3, 4}}, ""},
		{Config{K: 0}, "kmeans: K must be at least 1"},
		{Config{K: -3}, "K must be at least 1"},
		{Config{K: 2, Init: "kmeans++"}, "Init must be"},
		{Config{K: 2, Init: InitGiven}, "Given must hold K*D values"},
		{Config{K: 2, Init: InitGiven, Given: []float64{1, 2, 3}}, "Given must hold K*D values"},
		{Config{K: 1, Init: InitGiven, Given: []float64{math.NaN()}}, "Given[0] is NaN"},
		{Config{K: 1, Given: []float64{1}}, "Given is set but Init"},
		{Config{K: 1, MaxIter: -1}, "MaxIter must not be negative"},
		{Config{K: 1, Tol: -1}, "Tol must be finite"},
		{Config{K: 1, Tol: math.Inf(1)}, "Tol must be finite"},
		{Config{K: 1, Rounds: -1}, "Rounds must not be negative"},
		{Config{K: 1, Oversample: math.NaN()}, "Oversample must be finite"},
		{Config{K: 1, NProfile: -1}, "NProfile must not be negative"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrConfig)):
			t.Errorf("%+v: err = %v, want ErrConfig containing %q", tc.cfg, err, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{K: 2, Init: InitGiven, Given: []float64{1, 2, 3, 4}}, 3); !errors.Is(err, ErrConfig) {
		t.Errorf("Given of 4 values for K=2, D=3: err = %v, want ErrConfig", err)
	}
	if _, err := New(Config{K: 2}, 0); !errors.Is(err, ErrShape) {
		t.Errorf("D=0: err = %v, want ErrShape", err)
	}
	if _, err := New(Config{K: 0}, 2); !errors.Is(err, ErrConfig) {
		t.Errorf("K=0: err = %v, want ErrConfig", err)
	}
}

func TestDataErrors(t *testing.T) {
	x := []float64{0, 0, 1, 1, 2, 2}
	inf := []float64{0, 0, math.Inf(1), 1, 2, 2}
	given := []float64{0, 0, 1, 1, 2, 2, 3, 3}
	tests := []struct {
		name   string
		cfg    Config
		shards [][]float64
		want   error
	}{
		{"K > rows", Config{K: 4}, [][]float64{x}, ErrTooFewRows},
		{"K > rows, random", Config{K: 4, Init: InitRandom}, [][]float64{x}, ErrTooFewRows},
		{"K > rows, given", Config{K: 4, Init: InitGiven, Given: given}, [][]float64{x}, ErrTooFewRows},
		{"all shards empty", Config{K: 1}, [][]float64{nil, {}}, ErrNoRows},
		{"all shards empty, given", Config{K: 1, Init: InitGiven, Given: []float64{0, 0}}, [][]float64{nil}, ErrNoRows},
		{"no shards", Config{K: 1}, nil, ErrNoRows},
		{"ragged shard", Config{K: 1}, [][]float64{{1, 2, 3}}, ErrShape},
		{"infinite value", Config{K: 2}, [][]float64{inf}, ErrNonFinite},
		{"infinite value picked", Config{K: 3, Init: InitRandom}, [][]float64{inf}, ErrNonFinite},
		{"infinite value, given", Config{K: 2, Init: InitGiven, Given: given[:4]}, [][]float64{inf}, ErrNonFinite},
		{"overflow", Config{K: 1, Init: InitGiven, Given: []float64{0, 0}}, [][]float64{{1e308, 0, 1e308, 0}}, ErrNonFinite},
	}
	for _, tc := range tests {
		_, err := Reference(tc.cfg, tc.shards, 2, nil, 0)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRunTaskShapeErrors(t *testing.T) {
	task := &Task{Kind: TaskLloyd, K: 2, D: 2, C: []float64{0, 0, 1, 1}, Far: 2}
	x := []float64{0, 0, 1, 1, 2, 2}
	tests := []struct {
		name string
		task *Task
		x    []float64
		n, d int
		prof []float64
		p    int
		want error
	}{
		{"ok", task, x, 3, 2, nil, 0, nil},
		{"D mismatch", task, x, 2, 3, nil, 0, ErrShape},
		{"short x", task, x, 4, 2, nil, 0, ErrShape},
		{"short profile", &Task{Kind: TaskFinal, K: 2, D: 2, C: task.C, NProfile: 1}, x, 3, 2, []float64{1}, 1, ErrShape},
		{"profile width", &Task{Kind: TaskFinal, K: 2, D: 2, C: task.C, NProfile: 2}, x, 3, 2, []float64{1, 2, 3}, 1, ErrShape},
		{"centres", &Task{Kind: TaskLloyd, K: 2, D: 2, C: []float64{1}}, x, 3, 2, nil, 0, ErrBadTask},
		{"kind", &Task{Kind: "nope", K: 2, D: 2, C: task.C}, x, 3, 2, nil, 0, ErrBadTask},
		{"nil", nil, x, 3, 2, nil, 0, ErrBadTask},
		{"phi", &Task{Kind: TaskSample, K: 2, D: 2, C: task.C, Oversample: 1}, x, 3, 2, nil, 0, ErrBadTask},
	}
	for _, tc := range tests {
		_, err := RunTask(nil, tc.task, tc.x, tc.n, tc.d, tc.prof, tc.p, 0)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
