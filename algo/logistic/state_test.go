package logistic

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
	keys, raw, y := telco(t)
	x := standardise(raw, []float64{32, 65, 0.16, 0.55, 0.21, 0.24}, []float64{25, 30, 0.37, 0.5, 0.41, 0.43})
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%3)
	}
	for _, cfg := range []Config{
		{},
		{C: 0.1, ClassWeight: Balanced, Holdout: 0.25, SplitSeed: 4, Solver: SolverLBFGS},
		{ClassWeights: []float64{1, 3}, Holdout: 0.1, ExactAUCMaxRows: 500, Features: []string{"a", "b", "c", "d", "e", "f"}},
	} {
		for _, wts := range [][]float64{nil, w} {
			shards := append(shardsByKey(x, y, wts, keys, 6, 5), Shard{}) // an empty shard changes nothing
			ref, err := Reference(cfg, 6, shards...)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, distributed(t, cfg, 6, shards)), mustJSON(t, ref); got != want {
				t.Fatalf("distributed run differs from Reference:\n%s\n%s", got, want)
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
		{Config{C: 3, Penalty: PenaltyNone, ClassWeights: []float64{1, 2}, Solver: SolverLBFGS, Holdout: 0.5}, ""},
		{Config{C: -1}, "logistic: C must be finite and positive"},
		{Config{C: math.Inf(1)}, "C must be"},
		{Config{Penalty: "l1"}, "Penalty must be"},
		{Config{ClassWeight: "auto"}, "ClassWeight must be"},
		{Config{ClassWeights: []float64{1}}, "ClassWeights must hold 2"},
		{Config{ClassWeights: []float64{1, 0}}, "ClassWeights[1] must be finite and positive"},
		{Config{ClassWeights: []float64{1, 2}, ClassWeight: Balanced}, "exclusive"},
		{Config{Solver: "sag"}, "Solver must be"},
		{Config{MaxIter: -1}, "must not be negative"},
		{Config{Tol: math.NaN()}, "Tol must be"},
		{Config{Holdout: 1}, "Holdout must be in [0, 1)"},
		{Config{MaxCond: 0.5}, "MaxCond must be"},
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

func TestSolverChoice(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		d    int
		want string
	}{
		{Config{}, 10, SolverNewton},
		{Config{}, DefaultNewtonMaxD + 1, SolverLBFGS},
		{Config{NewtonMaxD: 5}, 6, SolverLBFGS},
		{Config{Solver: SolverNewton}, 1000, SolverNewton},
		{Config{Solver: SolverLBFGS}, 2, SolverLBFGS},
	} {
		s, err := New(c.cfg, c.d)
		if err != nil {
			t.Fatal(err)
		}
		if s.Solver != c.want {
			t.Errorf("%+v with d=%d: solver %s, want %s", c.cfg, c.d, s.Solver, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	x := []float64{0, 1, 1, 0, 2, 2, 3, 1}
	y := []float64{1, 0, 1, 0}
	nan := math.NaN()
	tests := []struct {
		name string
		cfg  Config
		d    int
		sh   []Shard
		want error
	}{
		{"d=0", Config{}, 0, []Shard{{Y: y}}, ErrShape},
		{"features vs d", Config{Features: []string{"a"}}, 2, []Shard{{X: x, Y: y}}, ErrConfig},
		{"ragged", Config{}, 2, []Shard{{X: x[:7], Y: y}}, ErrShape},
		{"no shards", Config{}, 2, nil, ErrOneClass},
		{"no rows", Config{}, 2, []Shard{{}, {}}, ErrOneClass},
		{"constant target", Config{}, 2, []Shard{{X: x, Y: []float64{1, 1, 1, 1}}}, ErrOneClass},
		{"zero weight on a class", Config{}, 2, []Shard{{X: x, Y: y, W: []float64{1, 0, 1, 0}}}, ErrOneClass},
		{"target 2", Config{}, 2, []Shard{{X: x, Y: []float64{1, 0, 2, 0}}}, ErrTarget},
		{"NaN target", Config{}, 2, []Shard{{X: x, Y: []float64{1, 0, nan, 0}}}, ErrTarget},
		{"NaN feature", Config{}, 2, []Shard{{X: []float64{0, 1, nan, 0, 2, 2, 3, 1}, Y: y}}, ErrNonFinite},
		{"Inf feature", Config{}, 2, []Shard{{X: []float64{0, 1, math.Inf(-1), 0, 2, 2, 3, 1}, Y: y}}, ErrNonFinite},
		{"huge feature", Config{}, 2, []Shard{{X: []float64{0, 1, 1e308, 0, 2, 2, 3, 1}, Y: y}}, ErrNonFinite},
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
}

func TestAbsorbRejectsBadResults(t *testing.T) {
	x, y := binary(1, 3, 3, 1)
	s, err := New(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	run := func(shard int) *Result {
		task, _ := s.Next()
		r, err := RunTask(nil, task, x, len(y), 1, y, nil, nil, shard)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := s.Absorb([]*Result{run(0), run(1)}); err != nil {
		t.Fatal(err)
	}
	before := mustJSON(t, s)
	stale := run(0)
	stale.Step = 0
	short := run(0)
	short.Hess = short.Hess[:1]
	negLoss := run(0)
	negLoss.Loss = -1
	for name, rs := range map[string][]*Result{
		"empty":         {},
		"one of two":    {run(0)},
		"nil":           {run(0), nil},
		"misplaced":     {run(1), run(0)},
		"stale":         {stale, run(1)},
		"short Hessian": {short, run(1)},
		"negative loss": {negLoss, run(1)},
	} {
		if err := s.Absorb(rs); !errors.Is(err, ErrBadResult) {
			t.Errorf("%s: err = %v, want ErrBadResult", name, err)
		}
		if mustJSON(t, s) != before {
			t.Fatalf("%s: a failed Absorb changed the state", name)
		}
	}
	var last []*Result
	for {
		if _, done := s.Next(); done {
			break
		}
		last = []*Result{run(0), run(1)}
		if err := s.Absorb(last); err != nil {
			t.Fatal(err)
		}
	}
	if s.Phase() != "done" || s.Model() == nil || s.Iteration() == 0 || s.Objective() <= 0 {
		t.Fatalf("phase %s, iteration %d, objective %v", s.Phase(), s.Iteration(), s.Objective())
	}
	if err := s.Absorb(last); !errors.Is(err, ErrDone) {
		t.Errorf("Absorb after done: err = %v, want ErrDone", err)
	}
}

func TestRunTaskRejectsBadTasks(t *testing.T) {
	x, y := []float64{1, 2}, []float64{1, 0}
	for name, task := range map[string]*Task{
		"nil":       nil,
		"kind":      {Kind: "lloyd", D: 1},
		"d":         {Kind: TaskCount, D: 2},
		"holdout":   {Kind: TaskCount, D: 1, Holdout: -1},
		"beta":      {Kind: TaskNewton, D: 1, Beta: []float64{1}},
		"NaN beta":  {Kind: TaskGrad, D: 1, Beta: []float64{1, math.NaN()}},
		"weights":   {Kind: TaskGrad, D: 1, Beta: []float64{1, 0}, ClassWeights: [2]float64{-1, 1}},
		"eval beta": {Kind: TaskEval, D: 1},
	} {
		if _, err := RunTask(nil, task, x, 2, 1, y, nil, nil, 0); !errors.Is(err, ErrBadTask) && !errors.Is(err, ErrShape) {
			t.Errorf("%s: err = %v, want ErrBadTask or ErrShape", name, err)
		}
	}
}

// A step so long that the margins overflow is reported by the shards as an
// Overflow, and the leader halves the step instead of failing.
func TestOverflowHalvesTheStep(t *testing.T) {
	x, y := binary(1, 3, 3, 1)
	for i := range x {
		x[i] *= 4 // so that 4·1e308 overflows
	}
	s, err := New(Config{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		task, _ := s.Next()
		r, err := RunTask(nil, task, x, len(y), 1, y, nil, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Absorb([]*Result{r}); err != nil {
			t.Fatal(err)
		}
	}
	step() // count
	step() // first Newton pass: a line search starts
	if s.Line == nil {
		t.Fatal("no line search after the first loss pass")
	}
	// Put an absurd trial point in place, as a wild direction would.
	s.Line.Dir[0], s.Point[0] = 1e308, 1e308
	task, _ := s.Next()
	r, err := RunTask(nil, task, x, len(y), 1, y, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Overflow {
		t.Fatal("no overflow reported")
	}
	if err := s.Absorb([]*Result{r}); err != nil {
		t.Fatal(err)
	}
	if s.Line == nil || s.Line.Halvings != 1 || s.Point[0] != float64(0.5*1e308) {
		t.Fatalf("after an overflow: line %+v, point %v", s.Line, s.Point)
	}
}

// TestEvalInTheLastNewtonPass: a newton trial expected to end the fit sums
// the eval metrics too, and when it does end it the job has no eval pass.
// The model is the same, bit for bit, as with a separate eval pass, and as
// when every trial sums them (most of them then dropped; unweighted rows
// only, for time), for exact and
// histogram AUCs, held-out rows, weights and class weights.
func TestEvalInTheLastNewtonPass(t *testing.T) {
	keys, raw, y := telco(t)
	x := standardise(raw, []float64{32, 65, 0.16, 0.55, 0.21, 0.24}, []float64{25, 30, 0.37, 0.5, 0.41, 0.43})
	w := make([]float64, len(y))
	for i := range w {
		w[i] = 0.5 + float64(i%3)
	}
	defer func(old int) { evalAhead = old }(evalAhead)
	run := func(cfg Config, shards []Shard) (model string, stages []TaskKind) {
		s, err := New(cfg, 6)
		if err != nil {
			t.Fatal(err)
		}
		for {
			s = roundTrip(t, s)
			task, done := s.Next()
			if done {
				return mustJSON(t, s.Model()), stages
			}
			stage := task.Kind
			if task.Eval {
				stage += "+eval"
			}
			stages = append(stages, stage)
			task = roundTrip(t, task)
			results := make([]*Result, len(shards))
			for i, sh := range shards {
				r, err := RunTask(nil, task, sh.X, len(sh.Y), 6, sh.Y, sh.W, sh.Keys, i)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = roundTrip(t, r)
			}
			if err := s.Absorb(results); err != nil {
				t.Fatal(err)
			}
		}
	}
	fused := 0
	for _, cfg := range []Config{
		{},
		{C: 0.1, ClassWeight: Balanced, Holdout: 0.25, SplitSeed: 4},
		{ClassWeights: []float64{1, 3}, Holdout: 0.1, ExactAUCMaxRows: 500},
		{C: 0.3, Holdout: 0.3, ExactAUCMaxRows: 1000, Tol: 1e-6},
	} {
		for _, wts := range [][]float64{nil, w} {
			shards := shardsByKey(x, y, wts, keys, 6, 5)
			evalAhead = evalNever
			want, plain := run(cfg, shards)
			if plain[len(plain)-1] != TaskEval {
				t.Fatalf("%+v: without eval ahead the passes are %v", cfg, plain)
			}
			evalAhead = evalExpected
			got, stages := run(cfg, shards)
			if got != want {
				t.Fatalf("%+v: the model with eval ahead differs:\n%s\n%s", cfg, got, want)
			}
			if last := stages[len(stages)-1]; last == TaskNewton+"+eval" {
				fused++
				if len(stages) != len(plain)-1 {
					t.Fatalf("%+v: passes %v, without eval ahead %v", cfg, stages, plain)
				}
			} else if len(stages) != len(plain) {
				t.Fatalf("%+v: passes %v, without eval ahead %v", cfg, stages, plain)
			}
			if wts != nil {
				continue
			}
			evalAhead = evalAlways
			if got, _ := run(cfg, shards); got != want {
				t.Fatalf("%+v: the model with eval sums in every newton pass differs:\n%s\n%s", cfg, got, want)
			}
		}
	}
	if fused == 0 {
		t.Fatal("no fit ended on a newton pass with the eval sums")
	}
	t.Logf("%d of 8 fits needed no eval pass", fused)
}
