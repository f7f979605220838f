package linear

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

// distributed drives a State as a cluster would: the State, every Task and
// every Result go through JSON, shards run concurrently and their Results
// are put in place by shard index, in whatever order they finish.
func distributed(t *testing.T, cfg Config, d int, shards []Shard) *Model {
	t.Helper()
	s, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	for {
		s = roundTrip(t, s)
		task, done := s.Next()
		if done {
			return s.Model()
		}
		task = roundTrip(t, task)
		results := make([]*Result, len(shards))
		var wg sync.WaitGroup
		for i, sh := range shards {
			wg.Go(func() {
				r, err := RunTask(nil, task, sh.X, len(sh.Y), d, sh.Y, sh.W, sh.Keys, i)
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = roundTrip(t, r)
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if err := s.Absorb(results); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDistributedMatchesReferenceBitForBit(t *testing.T) {
	names, x, y, keys := diabetes(t)
	d := len(names)
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%4)
	}
	for _, cfg := range []Config{
		{},
		{Lambda: 3, Holdout: 0.2, SplitSeed: 5, Features: names},
	} {
		for _, wts := range [][]float64{nil, w} {
			shards := shardsByKey(x, y, wts, keys, d, 6)
			shards = append(shards, Shard{}) // an empty shard changes nothing
			ref, err := Reference(cfg, d, shards...)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, distributed(t, cfg, d, shards)), mustJSON(t, ref); got != want {
				t.Fatalf("distributed run differs from Reference:\n%s\n%s", got, want)
			}
		}
	}
}

// The partials are centred per shard and merged pairwise, so how the rows
// are sharded changes only rounding.
func TestShardingChangesOnlyRounding(t *testing.T) {
	names, x, y, keys := diabetes(t)
	d := len(names)
	one, err := Reference(Config{Lambda: 1}, d, Shard{X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{2, 7, 64} {
		m, err := Reference(Config{Lambda: 1}, d, shardsByKey(x, y, nil, keys, d, s)...)
		if err != nil {
			t.Fatal(err)
		}
		for j := range d {
			if e := relErr(m.Coefficients[j], one.Coefficients[j], 1); e > 1e-12 {
				t.Errorf("%d shards: coefficient %d off by %.2g", s, j, e)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // substring of the message; "" means valid
	}{
		{Config{}, ""},
		{DefaultConfig(), ""},
		{Config{Lambda: 1, Holdout: 0.999, MaxCond: 1}, ""},
		{Config{Lambda: -1}, "linear: Lambda must be finite and not negative"},
		{Config{Lambda: math.NaN()}, "Lambda must be"},
		{Config{Lambda: math.Inf(1)}, "Lambda must be"},
		{Config{Holdout: 1}, "Holdout must be in [0, 1)"},
		{Config{Holdout: -0.1}, "Holdout must be"},
		{Config{Holdout: math.NaN()}, "Holdout must be"},
		{Config{MaxCond: 0.5}, "MaxCond must be"},
		{Config{MaxCond: math.Inf(1)}, "MaxCond must be"},
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

func TestErrors(t *testing.T) {
	x := []float64{0, 1, 1, 0, 2, 2, 3, 1}
	y := []float64{1, 2, 3, 4}
	nan := math.NaN()
	tests := []struct {
		name string
		cfg  Config
		d    int
		sh   []Shard
		want error
	}{
		{"d=0", Config{}, 0, []Shard{{X: nil, Y: y}}, ErrShape},
		{"features vs d", Config{Features: []string{"a"}}, 2, []Shard{{X: x, Y: y}}, ErrConfig},
		{"ragged", Config{}, 2, []Shard{{X: x[:7], Y: y}}, ErrShape},
		{"no shards", Config{}, 2, nil, ErrNoRows},
		{"no rows", Config{}, 2, []Shard{{}, {}}, ErrNoRows},
		{"zero weights", Config{}, 2, []Shard{{X: x, Y: y, W: []float64{0, 0, 0, 0}}}, ErrNoRows},
		{"NaN feature", Config{}, 2, []Shard{{X: []float64{0, 1, nan, 0, 2, 2, 3, 1}, Y: y}}, ErrNonFinite},
		{"Inf feature", Config{}, 2, []Shard{{X: []float64{0, 1, math.Inf(1), 0, 2, 2, 3, 1}, Y: y}}, ErrNonFinite},
		{"NaN target", Config{}, 2, []Shard{{X: x, Y: []float64{1, nan, 3, 4}}}, ErrNonFinite},
		{"NaN weight", Config{}, 2, []Shard{{X: x, Y: y, W: []float64{1, nan, 1, 1}}}, ErrBadWeight},
		{"negative weight", Config{}, 2, []Shard{{X: x, Y: y, W: []float64{1, -1, 1, 1}}}, ErrBadWeight},
		{"short weights", Config{}, 2, []Shard{{X: x, Y: y, W: []float64{1}}}, ErrShape},
		{"holdout without keys", Config{Holdout: 0.5}, 2, []Shard{{X: x, Y: y}}, ErrShape},
	}
	for _, tc := range tests {
		_, err := Reference(tc.cfg, tc.d, tc.sh...)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A NaN in a held-out row is found by the eval pass.
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var hx, hy []float64
	var hk []string
	for i, k := range keys {
		v := float64(i)
		if IsHoldout(k, 0.5, 0) && hx == nil {
			v = nan
		}
		hx = append(hx, v, float64(i*i%5))
		hy = append(hy, float64(i))
		hk = append(hk, k)
	}
	if _, err := Reference(Config{Holdout: 0.5}, 2, Shard{X: hx, Y: hy, Keys: hk}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN in a held-out row: err = %v, want ErrNonFinite", err)
	}
}

func TestAbsorbRejectsBadResults(t *testing.T) {
	// An exact fit, so that the eval pass runs after the gram pass.
	x := []float64{0, 1, 2, 3}
	y := []float64{1, 3, 5, 7}
	s, err := New(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := s.Next()
	good := func(shard int) *Result {
		r, err := RunTask(nil, task, x, 4, 1, y, nil, nil, shard)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	before := mustJSON(t, s)
	stale := good(0)
	stale.Step = 7
	short := good(0)
	short.M2 = short.M2[:1]
	inf := good(0)
	inf.Mean[0] = math.Inf(1)
	for name, rs := range map[string][]*Result{
		"empty":           {},
		"nil":             {nil},
		"misplaced":       {good(1)},
		"stale":           {stale},
		"short":           {short},
		"non-finite":      {inf},
		"two, one absent": {good(0), nil},
	} {
		if err := s.Absorb(rs); !errors.Is(err, ErrBadResult) {
			t.Errorf("%s: err = %v, want ErrBadResult", name, err)
		}
		if mustJSON(t, s) != before {
			t.Fatalf("%s: a failed Absorb changed the state", name)
		}
	}
	if err := s.Absorb([]*Result{good(0), good(1)}); err != nil {
		t.Fatal(err)
	}
	task, _ = s.Next()
	r, err := RunTask(nil, task, x, 4, 1, y, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Absorb([]*Result{r}); !errors.Is(err, ErrBadResult) {
		t.Errorf("one result for two shards: err = %v, want ErrBadResult", err)
	}
	r2, _ := RunTask(nil, task, x[:3], 3, 1, y, nil, nil, 1)
	if err := s.Absorb([]*Result{r, r2}); !errors.Is(err, ErrBadResult) {
		t.Errorf("shard 1 changed its row count: err = %v, want ErrBadResult", err)
	}
	r2, _ = RunTask(nil, task, x, 4, 1, y, nil, nil, 1)
	if err := s.Absorb([]*Result{r, r2}); err != nil {
		t.Fatal(err)
	}
	if _, done := s.Next(); !done || s.Phase() != "done" || s.Iteration() != 2 {
		t.Fatalf("after two passes: done %v, phase %s, iteration %d", done, s.Phase(), s.Iteration())
	}
	if err := s.Absorb([]*Result{r, r2}); !errors.Is(err, ErrDone) {
		t.Errorf("Absorb after done: err = %v, want ErrDone", err)
	}
}

func TestRunTaskRejectsBadTasks(t *testing.T) {
	x, y := []float64{1, 2}, []float64{1, 2}
	for name, task := range map[string]*Task{
		"nil":          nil,
		"kind":         {Kind: "lloyd", D: 1},
		"d":            {Kind: TaskGram, D: 2},
		"holdout":      {Kind: TaskGram, D: 1, Holdout: 1.5},
		"coefficients": {Kind: TaskEval, D: 1},
	} {
		if _, err := RunTask(nil, task, x, 2, 1, y, nil, nil, 0); !errors.Is(err, ErrBadTask) && !errors.Is(err, ErrShape) {
			t.Errorf("%s: err = %v, want ErrBadTask or ErrShape", name, err)
		}
	}
	if _, err := RunTask(nil, &Task{Kind: TaskGram, D: 1}, x, 2, 1, y, nil, nil, -1); !errors.Is(err, ErrShape) {
		t.Errorf("negative shard: err = %v, want ErrShape", err)
	}
}
