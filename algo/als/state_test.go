package als

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// modelHash digests a model's factors, counts and measurements bit for
// bit.
func modelHash(m *Model) string {
	var b []byte
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	for _, tab := range []*Table{m.Users, m.Items} {
		b = append(b, fmt.Sprint(tab.Rank, tab.IDs, tab.Count)...)
		for _, v := range tab.F {
			f(v)
		}
	}
	b = append(b, mustJSON(nil, m.History)...)
	b = append(b, fmt.Sprint(m.Popular)...)
	return fmt.Sprintf("%x", sha256.Sum256(b))[:16]
}

// factorsHash digests the factors and counts only, keyed by id, so that
// models over different shardings compare.
func factorsHash(m *Model) string {
	var b []byte
	for _, tab := range []*Table{m.Users, m.Items} {
		for _, i := range tab.lay.ord {
			b = append(b, tab.IDs[i]...)
			b = binary.LittleEndian.AppendUint32(b, uint32(tab.Count[i]))
			for _, v := range tab.Row(int(i)) {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			}
		}
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))[:16]
}

// mustJSON returns the JSON encoding of v. encoding/json writes the
// shortest decimal that round-trips each float64, so equal encodings mean
// equal bits.
func mustJSON(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		panic(err)
	}
	return string(b)
}

func retail(t testing.TB) triples {
	return readTriples(t, "../../testdata/ratings/online_retail_sample.csv")
}

func spark(t testing.TB) triples {
	return readTriples(t, "../../testdata/ratings/spark_sample_movielens.csv")
}

func testConfigs() map[string]Config {
	exp := DefaultConfig()
	exp.Rank, exp.Iterations, exp.Holdout, exp.Seed = 6, 4, 0.2, 5
	plain := exp
	plain.RegScaling, plain.Lambda = RegNone, 0.5
	imp := exp
	imp.Implicit, imp.Alpha, imp.Rank, imp.EvalSample = true, 2, 5, 0.5
	impPlain := imp
	impPlain.RegScaling, impPlain.Holdout = RegNone, 0
	return map[string]Config{"explicit": exp, "explicit-plain": plain, "implicit": imp, "implicit-plain": impPlain}
}

// TestShardCountInvariance: the factors do not depend on the number of
// shards (every row is solved from its own interactions and YᵀY is summed
// in id order), and the metrics only in their last bits.
func TestShardCountInvariance(t *testing.T) {
	tr := spark(t)
	for name, cfg := range testConfigs() {
		var want string
		var wantHist []Iter
		for _, n := range []int{1, 2, 5, 13} {
			u, i := tr.blocks(n)
			m, err := Reference(cfg, u, i)
			if err != nil {
				t.Fatalf("%s, %d shards: %v", name, n, err)
			}
			got := factorsHash(m)
			if want == "" {
				want, wantHist = got, m.History
				continue
			}
			if got != want {
				t.Errorf("%s: factors with %d shards differ from 1 shard", name, n)
			}
			for k, h := range m.History {
				w := wantHist[k]
				for _, p := range [][2]float64{{h.Objective, w.Objective}, {h.HoldoutRMSE, w.HoldoutRMSE}, {h.Precision, w.Precision}, {h.NDCG, w.NDCG}} {
					if math.Abs(p[0]-p[1]) > 1e-12*math.Max(1, math.Abs(p[1])) {
						t.Errorf("%s, %d shards, iteration %d: %v, with 1 shard %v", name, n, k+1, p[0], p[1])
					}
				}
				if h.EvalUsers != w.EvalUsers || h.NHoldout != w.NHoldout {
					t.Errorf("%s, %d shards: counts differ", name, n)
				}
			}
		}
	}
}

// cluster runs a job as the cluster does: each pass's shards go to
// workers in a random order on goroutines, factors travel gob-encoded
// through a shared store, every worker builds its own Tables and Preps
// (some keep them between passes, some do not), the leader's State is
// written to JSON and read back between passes, and a result may arrive
// twice (a retry) with the duplicate dropped.
func cluster(t *testing.T, cfg Config, byUser, byItem []*Block, workers int, seed uint64) *Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	st, err := New(cfg, len(byUser), len(byItem))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	store := map[string][]byte{}
	put := func(name string, f *Factors) FactorRef {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(f); err != nil {
			t.Error(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		mu.Lock()
		store[name] = buf.Bytes()
		mu.Unlock()
		return FactorRef{Object: name, Size: int64(buf.Len()), SHA256: fmt.Sprintf("%x", sum)}
	}
	get := func(ref FactorRef) *Factors {
		mu.Lock()
		b := store[ref.Object]
		mu.Unlock()
		if fmt.Sprintf("%x", sha256.Sum256(b)) != ref.SHA256 {
			t.Errorf("checksum mismatch for %s", ref.Object)
		}
		var f Factors
		if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&f); err != nil {
			t.Error(err)
		}
		return &f
	}
	ws := make([]*testWorker, workers)
	for i := range ws {
		ws[i] = &testWorker{keep: i%2 == 0, tables: map[string]*Table{}, preps: map[string]*Prep{}}
	}
	blocks := map[Side][]*Block{Users: byUser, Items: byItem}
	for {
		// A new leader resumes from the JSON of the last committed state.
		var resumed State
		if err := json.Unmarshal([]byte(mustJSON(t, st)), &resumed); err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, &resumed) != mustJSON(t, st) {
			t.Fatal("state changed through JSON")
		}
		st = &resumed
		task, done := st.Next()
		if done {
			break
		}
		// The task travels as JSON too.
		var tk Task
		if err := json.Unmarshal([]byte(mustJSON(t, task)), &tk); err != nil {
			t.Fatal(err)
		}
		blks := blocks[tk.Side]
		results := make([]*Result, len(blks))
		var wg sync.WaitGroup
		for _, shard := range rng.Perm(len(blks)) {
			w := ws[rng.IntN(workers)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[shard] = w.run(t, &tk, blks[shard], shard, get, put)
			}()
		}
		wg.Wait()
		// A retried shard's duplicate result is dropped by the leader; a
		// result for the wrong shard is rejected.
		bad := slices.Clone(results)
		if len(bad) > 1 {
			bad[0], bad[1] = bad[1], bad[0]
			if err := st.Absorb(bad); !errors.Is(err, ErrBadResult) {
				t.Fatalf("swapped results: %v", err)
			}
		}
		if err := st.Absorb(results); err != nil {
			t.Fatal(err)
		}
	}
	sum := st.Summary()
	users := make([]*Factors, len(sum.Users))
	for i, r := range sum.Users {
		users[i] = get(r)
	}
	items := make([]*Factors, len(sum.Items))
	for i, r := range sum.Items {
		items[i] = get(r)
	}
	m, err := NewModel(sum, users, items)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testWorker is one worker of cluster: it may run several shards at once
// on the same Table, and keeps its Tables and Preps when keep is set.
type testWorker struct {
	keep   bool
	mu     sync.Mutex
	tables map[string]*Table // by side and step
	preps  map[string]*Prep  // by side and shard
}

// run is the worker's handling of one shard of a pass.
func (w *testWorker) run(t *testing.T, tk *Task, blk *Block, shard int,
	get func(FactorRef) *Factors, put func(string, *Factors) FactorRef) *Result {
	var tab *Table
	var err error
	if tk.Other != nil {
		w.mu.Lock()
		key := fmt.Sprint(tk.Side.Other(), tk.Step)
		if tab = w.tables[key]; tab == nil {
			shards := make([]*Factors, len(tk.Other))
			for i, r := range tk.Other {
				shards[i] = get(r)
			}
			var reuse *Table
			if w.keep {
				reuse = w.tables[string(tk.Side.Other())]
			}
			if tab, err = NewTable(reuse, shards); err != nil {
				w.mu.Unlock()
				t.Error(err)
				return nil
			}
			w.tables[key], w.tables[string(tk.Side.Other())] = tab, tab
		}
		w.mu.Unlock()
	}
	var prep *Prep
	if tab != nil && w.keep {
		w.mu.Lock()
		key := fmt.Sprint(tk.Side, shard)
		if prep = w.preps[key]; !prep.Fits(tk, blk, tab) {
			if prep, err = Prepare(tk, blk, tab); err != nil {
				w.mu.Unlock()
				t.Error(err)
				return nil
			}
			w.preps[key] = prep
		}
		w.mu.Unlock()
	}
	var prev *Factors
	if tk.Prev != nil {
		prev = get(tk.Prev[shard])
	}
	res, f, err := RunTask(tk, blk, tab, prep, prev, shard)
	if err != nil {
		t.Error(err)
		return nil
	}
	if f != nil {
		res.Ref = put(fmt.Sprintf("%s-%d-%d", tk.Side, tk.Step, shard), f)
	}
	// The result travels as JSON.
	var back Result
	if err := json.Unmarshal([]byte(mustJSON(t, res)), &back); err != nil {
		t.Error(err)
	}
	return &back
}

// TestClusterMatchesReference: the model is bit-identical to Reference's
// whatever the number of workers, the shard placement, the arrival order,
// the caching of Tables and Preps, the leader changes and the blob round
// trips.
func TestClusterMatchesReference(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(6)
	for name, cfg := range testConfigs() {
		ref, err := Reference(cfg, u, i)
		if err != nil {
			t.Fatal(err)
		}
		want := modelHash(ref)
		for _, workers := range []int{1, 2, 4} {
			if got := modelHash(cluster(t, cfg, u, i, workers, uint64(workers))); got != want {
				t.Errorf("%s with %d workers: model %s, Reference %s", name, workers, got, want)
			}
		}
	}
}

// TestAbsorbRejects: a result that does not answer the current task is
// ErrBadResult and leaves the state as it was.
func TestAbsorbRejects(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(2)
	cfg := testConfigs()["implicit"]
	st, err := New(cfg, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Run the init pass and the first users pass properly.
	run := func() []*Result {
		task, _ := st.Next()
		var tab *Table
		if task.Other != nil {
			var fs []*Factors
			for _, r := range task.Other {
				fs = append(fs, testStore[r.Object])
			}
			if tab, err = NewTable(nil, fs); err != nil {
				t.Fatal(err)
			}
		}
		blks := i
		if task.Side == Users {
			blks = u
		}
		out := make([]*Result, len(blks))
		for s, b := range blks {
			res, f, err := RunTask(task, b, tab, nil, nil, s)
			if err != nil {
				t.Fatal(err)
			}
			if f != nil {
				res.Ref = memRef(task, s, f)
				testStore[res.Ref.Object] = f
			}
			out[s] = res
		}
		return out
	}
	if err := st.Absorb(run()); err != nil {
		t.Fatal(err)
	}
	good := run()
	before := mustJSON(t, st)
	mutate := map[string]func(r []*Result) []*Result{
		"short":   func(r []*Result) []*Result { return r[:1] },
		"nil":     func(r []*Result) []*Result { r[1] = nil; return r },
		"step":    func(r []*Result) []*Result { r[0].Step++; return r },
		"kind":    func(r []*Result) []*Result { r[0].Kind = TaskItems; return r },
		"shard":   func(r []*Result) []*Result { r[0].Shard = 1; return r },
		"rows":    func(r []*Result) []*Result { r[1].Rows = -1; return r },
		"ref":     func(r []*Result) []*Result { r[0].Ref = FactorRef{}; return r },
		"nan":     func(r []*Result) []*Result { r[0].Reg = math.NaN(); return r },
		"counts":  func(r []*Result) []*Result { r[0].Trained = r[0].Rows + 1; return r },
		"popular": func(r []*Result) []*Result { r[0].Popular = make([]Popular, cfg.Popular+1); return r },
	}
	for name, f := range mutate {
		rs := make([]*Result, len(good))
		for k, r := range good {
			c := *r
			rs[k] = &c
		}
		if err := st.Absorb(f(rs)); !errors.Is(err, ErrBadResult) {
			t.Errorf("%s: %v", name, err)
		}
		if mustJSON(t, st) != before {
			t.Fatalf("%s: a failed Absorb changed the state", name)
		}
	}
	if err := st.Absorb(good); err != nil {
		t.Fatal(err)
	}
}

var testStore = map[string]*Factors{}

func TestStateLifecycle(t *testing.T) {
	tr := spark(t)
	u, i := tr.blocks(3)
	cfg := testConfigs()["implicit"]
	cfg.Iterations = 3
	st, err := New(cfg, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for {
		task, done := st.Next()
		if done {
			break
		}
		kinds = append(kinds, fmt.Sprintf("%s%d", task.Kind, task.Iteration))
		if task.Eval != nil && (task.Prev == nil || int64(task.Eval.Iteration) != int64(task.Iteration)-boolInt(task.Kind == TaskUsers)) {
			t.Errorf("%s %d: eval of iteration %d, prev %v", task.Kind, task.Iteration, task.Eval.Iteration, task.Prev != nil)
		}
		var results []*Result
		blks := i
		if task.Side == Users {
			blks = u
		}
		var tab *Table
		if task.Other != nil {
			var fs []*Factors
			for _, r := range task.Other {
				fs = append(fs, testStore[r.Object])
			}
			if tab, err = NewTable(nil, fs); err != nil {
				t.Fatal(err)
			}
		}
		for s, b := range blks {
			var prev *Factors
			if task.Prev != nil {
				prev = testStore[task.Prev[s].Object]
			}
			res, f, err := RunTask(task, b, tab, nil, prev, s)
			if err != nil {
				t.Fatal(err)
			}
			if f != nil {
				res.Ref = memRef(task, s, f)
				testStore[res.Ref.Object] = f
			}
			results = append(results, res)
		}
		if err := st.Absorb(results); err != nil {
			t.Fatal(err)
		}
		if got := st.Iteration(); got != len(st.Metrics()) {
			t.Fatal("Iteration and Metrics disagree")
		}
	}
	want := "[init0 users1 items1 users2 items2 users3 items3 eval3]"
	if fmt.Sprint(kinds) != want {
		t.Errorf("passes %v, want %v", kinds, want)
	}
	if st.Phase() != "done" || st.Summary() == nil || st.Absorb(nil) != ErrDone {
		t.Error("finished state")
	}
	for k, h := range st.Metrics() {
		if h.EvalUsers == 0 || h.K != cfg.EvalK || !(h.Precision > 0) {
			t.Errorf("iteration %d has no ranking metrics: %+v", k+1, h)
		}
	}
	if st.Objective() != st.Metrics()[2].Objective {
		t.Error("Objective is not the last iteration's")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Rank = 0 },
		func(c *Config) { c.Rank = MaxRank + 1 },
		func(c *Config) { c.Lambda = 0 },
		func(c *Config) { c.Lambda = math.Inf(1) },
		func(c *Config) { c.Iterations = 0 },
		func(c *Config) { c.Implicit, c.Alpha = true, 0 },
		func(c *Config) { c.RegScaling = "l1" },
		func(c *Config) { c.Holdout = 1 },
		func(c *Config) { c.Holdout = math.NaN() },
		func(c *Config) { c.EvalK = MaxEvalK + 1 },
		func(c *Config) { c.EvalSample = 1.5 },
		func(c *Config) { c.Popular = -1 },
	}
	for k, f := range bad {
		c := DefaultConfig()
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("case %d: %v", k, err)
		}
		if _, err := New(c, 1, 1); err == nil {
			t.Errorf("case %d: New accepted it", k)
		}
	}
	if _, err := New(DefaultConfig(), 0, 1); !errors.Is(err, ErrConfig) {
		t.Error("New accepted zero shards")
	}
}

// TestNoData: a job whose interactions are all held out fails with
// ErrNoData.
func TestNoData(t *testing.T) {
	var users, items []string
	cfg := DefaultConfig()
	cfg.Holdout, cfg.Seed = 0.5, 1
	for k := 0; len(users) < 5; k++ {
		if u, i := "u"+fmt.Sprint(k), "i"+fmt.Sprint(k); IsHoldout(u, i, cfg.Holdout, cfg.Seed) {
			users, items = append(users, u), append(items, i)
		}
	}
	bu, bi := one(users, items, nil)
	if _, err := Reference(cfg, bu, bi); !errors.Is(err, ErrNoData) {
		t.Errorf("all held out: %v", err)
	}
}
