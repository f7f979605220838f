package kmeans

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// detData is shared by the determinism tests: blobs with a profile column
// that has missing values, over four uneven shards (one empty).
func detData() (shards, profs [][]float64, d, p int) {
	d, p = 4, 2
	x := blobs(21, planted, 400, 0.8)
	n := len(x) / d
	prof := make([]float64, n*p)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range prof {
		prof[i] = 100 * r.Float64()
		if r.IntN(10) == 0 {
			prof[i] = math.NaN()
		}
	}
	sizes := []int{700, 0, 1, 600}
	return split(x, d, sizes...), split(prof, p, sizes...), d, p
}

func detConfig(init string, seed uint64) Config {
	cfg := Config{K: 6, Init: init, Seed: seed, Tol: 1e-7, MaxIter: 30}
	if init == InitGiven {
		cfg.Given = blobs(3, [][]float64{{1, 2, 3, 4}}, 6, 5)
	}
	return cfg
}

func TestReferenceIsDeterministic(t *testing.T) {
	shards, profs, d, p := detData()
	for _, init := range []string{InitKMeansParallel, InitRandom, InitGiven} {
		a, err := Reference(detConfig(init, 9), shards, d, profs, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Reference(detConfig(init, 9), shards, d, profs, p)
		if err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, a) != mustJSON(t, b) {
			t.Fatalf("%s: two runs differ", init)
		}
		if init != InitGiven {
			c, err := Reference(detConfig(init, 10), shards, d, profs, p)
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, a) == mustJSON(t, c) {
				t.Fatalf("%s: seeds 9 and 10 gave the same model; the seed is ignored", init)
			}
		}
	}
}

// distributed drives a State as a cluster would: the State, every Task and
// every Result go through JSON (Results also through gob), shards run
// concurrently in goroutines and their Results are put in place by shard
// index, in whatever order they finish.
func distributed(t *testing.T, cfg Config, shards, profs [][]float64, d, p int) *Model {
	t.Helper()
	cfg.NProfile = p
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
		for i := range shards {
			wg.Go(func() {
				n := len(shards[i]) / d
				r, err := RunTask(nil, task, shards[i], n, d, profs[i], p, i)
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = r
			})
		}
		wg.Wait()
		for i, r := range results {
			results[i] = gobTrip(t, roundTrip(t, r))
		}
		s = roundTrip(t, s)
		if err := s.Absorb(results); err != nil {
			t.Fatal(err)
		}
	}
}

func roundTrip[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func gobTrip(t *testing.T, r *Result) *Result {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	out := new(Result)
	if err := gob.NewDecoder(&buf).Decode(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDistributedMatchesReference(t *testing.T) {
	shards, profs, d, p := detData()
	for _, init := range []string{InitKMeansParallel, InitRandom, InitGiven} {
		want, err := Reference(detConfig(init, 4), shards, d, profs, p)
		if err != nil {
			t.Fatal(err)
		}
		got := distributed(t, detConfig(init, 4), shards, profs, d, p)
		if mustJSON(t, got) != mustJSON(t, want) {
			t.Fatalf("%s: distributed model differs from Reference:\n%s\n%s", init, mustJSON(t, got), mustJSON(t, want))
		}
		recompute(t, want, shards)
		if want.P != p || len(want.Profile) != want.K*p {
			t.Fatalf("%s: profile shape %d/%d", init, want.P, len(want.Profile))
		}
	}
}

// Results are taken by shard index: handing them over in another order is
// rejected, stale or foreign results are rejected, and a rejected Absorb
// leaves the state unchanged.
func TestAbsorbRejectsMisplacedResults(t *testing.T) {
	shards, _, d, _ := detData()
	s, err := New(detConfig(InitKMeansParallel, 1), d)
	if err != nil {
		t.Fatal(err)
	}
	run := func(task *Task) []*Result {
		var rs []*Result
		for i, x := range shards {
			r, err := RunTask(nil, task, x, len(x)/d, d, nil, 0, i)
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	task, _ := s.Next()
	first := run(task)
	if err := s.Absorb(first); err != nil {
		t.Fatal(err)
	}
	task, _ = s.Next()
	good := run(task)
	before := mustJSON(t, s)
	swapped := []*Result{good[3], good[1], good[2], good[0]}
	cases := map[string][]*Result{
		"swapped":      swapped,
		"stale":        first,
		"too few":      good[:3],
		"nil":          {good[0], nil, good[2], good[3]},
		"wrong kind":   {good[0], {Kind: TaskLloyd, Step: good[1].Step, Shard: 1}, good[2], good[3]},
		"wrong n":      {good[0], good[1], good[2], {Kind: good[3].Kind, Step: good[3].Step, Shard: 3, N: 5}},
		"negative":     {good[0], good[1], good[2], {Kind: good[3].Kind, Step: good[3].Step, Shard: 3, N: good[3].N, Cost: -1}},
		"other shards": append(append([]*Result(nil), good...), good[0]),
	}
	for name, rs := range cases {
		if err := s.Absorb(rs); !errors.Is(err, ErrBadResult) {
			t.Errorf("%s: err = %v, want ErrBadResult", name, err)
		}
		if mustJSON(t, s) != before {
			t.Fatalf("%s: a rejected Absorb changed the state", name)
		}
	}
	if err := s.Absorb(good); err != nil {
		t.Fatal(err)
	}
}

// Progress accessors move as documented.
func TestProgress(t *testing.T) {
	shards, _, d, _ := detData()
	s, err := New(detConfig(InitKMeansParallel, 2), d)
	if err != nil {
		t.Fatal(err)
	}
	if s.Phase() != "init" || s.Iteration() != 0 || s.Objective() != 0 || s.Model() != nil {
		t.Fatalf("fresh state: phase %q iteration %d objective %v", s.Phase(), s.Iteration(), s.Objective())
	}
	stepUntil(t, s, shards, d, TaskLloyd)
	if s.Phase() != "lloyd" {
		t.Fatalf("phase %q, want lloyd", s.Phase())
	}
	task, _ := s.Next()
	absorbAll(t, s, task, shards, d)
	if s.Iteration() != 1 || s.Objective() <= 0 || s.Shift() <= 0 {
		t.Fatalf("after one Lloyd pass: iteration %d objective %v shift %v", s.Iteration(), s.Objective(), s.Shift())
	}
	stepUntil(t, s, shards, d, TaskFinal)
	if s.Phase() != "final" {
		t.Fatalf("phase %q, want final", s.Phase())
	}
	task, _ = s.Next()
	absorbAll(t, s, task, shards, d)
	if _, done := s.Next(); !done || s.Phase() != "done" || s.Model() == nil {
		t.Fatalf("after final: phase %q, done %v", s.Phase(), done)
	}
	if err := s.Absorb(nil); !errors.Is(err, ErrDone) {
		t.Fatalf("Absorb after done: %v, want ErrDone", err)
	}
}

// dst is reused without changing the answer.
func TestRunTaskReusesDst(t *testing.T) {
	shards, _, d, _ := detData()
	s, err := New(detConfig(InitKMeansParallel, 3), d)
	if err != nil {
		t.Fatal(err)
	}
	var dst *Result
	for {
		task, done := s.Next()
		if done {
			return
		}
		results := make([]*Result, len(shards))
		for i, x := range shards {
			fresh, err := RunTask(nil, task, x, len(x)/d, d, nil, 0, i)
			if err != nil {
				t.Fatal(err)
			}
			if dst, err = RunTask(dst, task, x, len(x)/d, d, nil, 0, i); err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, dst) != mustJSON(t, fresh) {
				t.Fatalf("%s shard %d: reused dst differs", task.Kind, i)
			}
			results[i] = fresh
		}
		if err := s.Absorb(results); err != nil {
			t.Fatal(err)
		}
	}
}
