package quantile

import (
	"bytes"
	"encoding/gob"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The cuts equal the sort-based oracle's and Reference's bit for bit, and
// every value's bucket follows the closed form, for every distribution,
// sizes from 0 up, Q = 2, 4, 5, 10, 100 and both directions, over a random
// number of shards.
func TestExactAgainstOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 99, 100, 101, 1000, 4321}
	if testing.Short() {
		sizes = sizes[:12]
	}
	maxPasses := 0
	for _, name := range slices.Sorted(maps.Keys(dists)) {
		for _, n := range sizes {
			for _, q := range []int{2, 4, 5, 10, 100} {
				for _, desc := range []bool{false, true} {
					vals := draw(r, name, n)
					cfg := Config{Q: q, Descending: desc}
					shards := split(r, vals, 1+r.IntN(9))
					cols := make([][][]float64, len(shards))
					for i, sh := range shards {
						cols[i] = [][]float64{sh}
					}
					s, _ := job(t, cfg, cols)
					maxPasses = max(maxPasses, int(s.Step))
					cuts := s.Cuts()
					want := oracle(vals, q, desc)
					if !sameBits(cuts[0], want) {
						t.Fatalf("%s n=%d Q=%d descending=%v: cuts %v, oracle %v", name, n, q, desc, cuts[0], want)
					}
					ref, err := Reference(cfg, vals)
					if err != nil {
						t.Fatal(err)
					}
					if !sameBits(ref[0], want) {
						t.Fatalf("%s n=%d Q=%d descending=%v: Reference %v, oracle %v", name, n, q, desc, ref[0], want)
					}
					nn, missing := s.Count(0)
					if nn+missing != int64(n) || want != nil && int(nn) != len(vals)-countNaN(vals) {
						t.Fatalf("%s n=%d: counted %d values and %d missing", name, n, nn, missing)
					}
					if want != nil {
						checkBuckets(t, vals, cuts[0], q, desc)
					}
				}
			}
		}
	}
	t.Logf("at most %d passes", maxPasses)
}

// 100,000 values in one job, continuous and tied, deciles and
// percentiles.
func TestExactLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"probability", "mixed", "few"} {
		vals := draw(r, name, 100_000)
		for _, cfg := range []Config{{Q: 10, Descending: true}, {Q: 100}} {
			shards := split(r, vals, 13)
			cols := make([][][]float64, len(shards))
			for i, sh := range shards {
				cols[i] = [][]float64{sh}
			}
			s, _ := job(t, cfg, cols)
			if want := oracle(vals, cfg.Q, cfg.Descending); !sameBits(s.Cuts()[0], want) {
				t.Fatalf("%s %+v: cuts %v, oracle %v", name, cfg, s.Cuts()[0], want)
			}
			checkBuckets(t, vals, s.Cuts()[0], cfg.Q, cfg.Descending)
			t.Logf("%s %+v: %d passes", name, cfg, s.Step)
		}
	}
}

// Columns are independent: several at once, one of them all NaN and one
// empty, give each column's own cuts.
func TestColumns(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	all := [][]float64{draw(r, "probability", 3000), draw(r, "few", 500), {math.NaN(), math.NaN()}, nil, draw(r, "wide", 1)}
	shards := make([][][]float64, 4)
	for _, col := range all {
		parts := split(r, col, len(shards))
		for i := range shards {
			shards[i] = append(shards[i], parts[i])
		}
	}
	cfg := Config{Q: 5}
	s, _ := job(t, cfg, shards)
	cuts := s.Cuts()
	ref, _ := Reference(cfg, all...)
	for c, col := range all {
		want := oracle(col, cfg.Q, false)
		if !sameBits(cuts[c], want) || !sameBits(ref[c], want) {
			t.Errorf("column %d: cuts %v, Reference %v, oracle %v", c, cuts[c], ref[c], want)
		}
		if n, missing := s.Count(c); n != int64(len(col)-countNaN(col)) || missing != int64(countNaN(col)) {
			t.Errorf("column %d: counted %d and %d missing", c, n, missing)
		}
	}
	if cuts[2] != nil || cuts[3] != nil || Bucket(cuts[3], 5, false) != 1 {
		t.Errorf("columns without values have cuts %v, %v", cuts[2], cuts[3])
	}
}

// The same values on 1 shard, 7 shards and 7 shards in reverse order send
// the same Tasks and end in the same cuts and State, bit for bit (but for
// the per-shard counts).
func TestShardInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := [][]float64{draw(r, "mixed", 20_000), draw(r, "probability", 20_000)}
	vals[0] = slices.DeleteFunc(vals[0], func(x float64) bool { return math.IsInf(x, 0) }) // so that the cuts encode as JSON
	cfg := Config{Q: 10, Descending: true}
	shard := func(n int) [][][]float64 {
		out := make([][][]float64, n)
		for i := range out {
			out[i] = make([][]float64, len(vals))
		}
		for c, col := range vals {
			for k, x := range col {
				i := (k * 7919) % n
				out[i][c] = append(out[i][c], x)
			}
		}
		return out
	}
	summary := func(s *State, tasks []*Task) string {
		s = s.Clone()
		s.ShardN, s.ShardMissing = nil, nil
		return mustJSON(t, s.Cuts()) + mustJSON(t, s) + mustJSON(t, tasks)
	}
	want := summary(job(t, cfg, shard(1)))
	seven := shard(7)
	slices.Reverse(seven)
	for name, shards := range map[string][][][]float64{"7 shards": shard(7), "7 shards, reversed": seven, "64 shards": shard(64)} {
		if got := summary(job(t, cfg, shards)); got != want {
			t.Errorf("%s: differs from 1 shard:\n%s\n%s", name, got, want)
		}
	}
	ref, _ := Reference(cfg, vals...)
	s, _ := job(t, cfg, shard(3))
	if mustJSON(t, ref) != mustJSON(t, s.Cuts()) {
		t.Errorf("Reference %v, job %v", ref, s.Cuts())
	}
}

func TestKeyOrder(t *testing.T) {
	vals := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, math.Nextafter(1, 2), math.MaxFloat64, math.Inf(1)}
	for i, v := range vals {
		if FromKey(Key(v)) != v || math.Signbit(FromKey(Key(v))) != math.Signbit(v) {
			t.Errorf("FromKey(Key(%v)) = %v", v, FromKey(Key(v)))
		}
		if i > 0 && Key(vals[i-1]) >= Key(v) {
			t.Errorf("Key(%v) ≥ Key(%v)", vals[i-1], v)
		}
	}
	negZero := math.Copysign(0, -1)
	if Key(negZero) != Key(0) || math.Signbit(FromKey(Key(negZero))) {
		t.Errorf("−0 keys to %#x, +0 to %#x", Key(negZero), Key(0))
	}
	for _, nan := range []float64{math.NaN(), -math.NaN(), math.Float64frombits(0x7ff0000000000001), math.Float64frombits(0xfff0000000000001)} {
		if k := Key(nan); k >= Key(math.Inf(-1)) && k <= Key(math.Inf(1)) {
			t.Errorf("NaN %#x keys to %#x, inside the values' range", math.Float64bits(nan), k)
		}
	}
	for _, c := range []struct {
		lo, hi uint64
		shift  uint
	}{{0, 0, 0}, {0, 255, 0}, {0, 256, 1}, {10, 10 + 511, 1}, {10, 10 + 512, 2}, {0, math.MaxUint64, 56}} {
		if s := binShift(c.lo, c.hi); s != c.shift || (c.hi-c.lo)>>s >= NumBins {
			t.Errorf("binShift(%d, %d) = %d, want %d", c.lo, c.hi, s, c.shift)
		}
	}
	if first, last := binRange(math.MaxUint64-300, math.MaxUint64, 1, 150); first != math.MaxUint64 || last != math.MaxUint64 {
		t.Errorf("last bin at the top of the key range: %d..%d", first, last)
	}
}

// Hand-computed buckets: ties at a cut share the earlier bucket.
func TestHandBuckets(t *testing.T) {
	vals := []float64{1, 1, 1, 2, 2, 2, 3, 5, 5, 8}
	// N = 10, Q = 5: ranks 2, 4, 6, 8 of 1 1 1 2 2 2 3 5 5 8 …
	cuts, _ := Reference(Config{Q: 5}, vals)
	if !slices.Equal(cuts[0], []float64{1, 2, 2, 5}) {
		t.Fatalf("ascending cuts %v", cuts[0])
	}
	// … so 3 is past cuts 1, 2, 3 and the 5s are past only three.
	var got []int
	for _, x := range vals {
		got = append(got, Bucket(cuts[0], x, false))
	}
	if want := []int{1, 1, 1, 2, 2, 2, 4, 4, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("ascending buckets %v, want %v", got, want)
	}
	// Descending: 8 5 5 3 2 2 2 1 1 1, ranks 2, 4, 6, 8.
	cuts, _ = Reference(Config{Q: 5, Descending: true}, vals)
	if !slices.Equal(cuts[0], []float64{5, 3, 2, 1}) {
		t.Fatalf("descending cuts %v", cuts[0])
	}
	got = got[:0]
	for _, x := range vals {
		got = append(got, Bucket(cuts[0], x, true))
	}
	if want := []int{4, 4, 4, 3, 3, 3, 2, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("descending buckets %v, want %v", got, want)
	}
	if b := Bucket(cuts[0], math.NaN(), true); b != 0 {
		t.Errorf("NaN in bucket %d", b)
	}
	if b := Bucket(cuts[0], math.Inf(1), true); b != 1 {
		t.Errorf("+Inf in bucket %d", b)
	}
	if b := Bucket(cuts[0], math.Inf(-1), true); b != 5 {
		t.Errorf("−Inf in bucket %d", b)
	}
	// One value: every cut is it, and it is in bucket 1 either way.
	for _, desc := range []bool{false, true} {
		cuts, _ := Reference(Config{Q: 10, Descending: desc}, []float64{0.5})
		if len(cuts[0]) != 9 || cuts[0][8] != 0.5 || Bucket(cuts[0], 0.5, desc) != 1 {
			t.Errorf("one value, descending %v: cuts %v", desc, cuts[0])
		}
	}
}

func TestConfig(t *testing.T) {
	for _, q := range []int{-1, 0, 1, MaxQ + 1} {
		if _, err := New(Config{Q: q}, 1); !errors.Is(err, ErrConfig) {
			t.Errorf("Q %d: %v", q, err)
		}
		if _, err := Reference(Config{Q: q}, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("Reference, Q %d: %v", q, err)
		}
	}
	if _, err := New(Config{Q: 2}, 0); !errors.Is(err, ErrConfig) {
		t.Errorf("0 columns: %v", err)
	}
	if _, err := Reference(Config{Q: 2}); !errors.Is(err, ErrConfig) {
		t.Errorf("Reference of no columns: %v", err)
	}
	if err := DefaultConfig().Validate(); err != nil || DefaultConfig().Q != 10 || !DefaultConfig().Descending {
		t.Errorf("DefaultConfig %+v: %v", DefaultConfig(), err)
	}
	if _, err := New(Config{Q: MaxQ}, 3); err != nil {
		t.Errorf("Q = MaxQ: %v", err)
	}
}

// validResults returns one pass's Results for shards.
func validResults(t *testing.T, s *State, shards [][]float64) []*Result {
	t.Helper()
	task, done := s.Next()
	if done {
		t.Fatal("done")
	}
	rs := make([]*Result, len(shards))
	for i, v := range shards {
		var err error
		if rs[i], err = RunTask(task, v); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

func TestAbsorbRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	vals := draw(r, "lognormal", 600)
	vals[3], vals[400] = math.NaN(), math.NaN()
	shards := split(r, vals, 3)
	cfg := Config{Q: 4}
	corruptions := map[string]func(rs []*Result){
		"nil":        func(rs []*Result) { rs[1] = nil },
		"stale step": func(rs []*Result) { rs[0].Step-- },
		"negative N": func(rs []*Result) { rs[2].N[0] = -1 },
		"N changed":  func(rs []*Result) { rs[0].N[0]++ },
		"missing":    func(rs []*Result) { rs[0].Missing[0]++ },
		"negative missing": func(rs []*Result) {
			rs[0].Missing[0] = -1
		},
		"columns":    func(rs []*Result) { rs[1].N = append(rs[1].N, 0) },
		"histograms": func(rs []*Result) { rs[1].Hist = rs[1].Hist[1:] },
		"bin count":  func(rs []*Result) { rs[1].Hist[0].Count[0]++ },
		"bin zero":   func(rs []*Result) { rs[1].Hist[0].Count[0] = 0 },
		"bin order": func(rs []*Result) {
			h := &rs[0].Hist[0]
			h.Bin, h.Count, h.Min, h.Max = append(h.Bin, h.Bin[0]), append(h.Count, 1), append(h.Min, h.Min[0]), append(h.Max, h.Min[0])
		},
		"bin range":     func(rs []*Result) { rs[0].Hist[0].Bin[0] = NumBins + 5 },
		"min above bin": func(rs []*Result) { h := &rs[2].Hist[0]; h.Min[0] = h.Max[0] + 1 },
		"max below min": func(rs []*Result) { h := &rs[2].Hist[0]; h.Max[0] = h.Min[0] - 1 },
		"lengths":       func(rs []*Result) { rs[2].Hist[0].Min = nil },
		"moved value":   func(rs []*Result) { rs[0].Hist[0] = rs[1].Hist[0] },
		"overflow":      func(rs []*Result) { rs[0].N[0], rs[1].N[0] = math.MaxInt64, math.MaxInt64 },
		"missing overflow": func(rs []*Result) {
			rs[0].Missing[0], rs[1].Missing[0] = math.MaxInt64, math.MaxInt64
		},
	}
	for pass := range 2 {
		s, _ := New(cfg, 1)
		for range pass {
			if err := s.Absorb(validResults(t, s, shards)); err != nil {
				t.Fatal(err)
			}
		}
		before := mustJSON(t, s)
		for _, name := range slices.Sorted(maps.Keys(corruptions)) {
			if name == "missing" && pass == 0 {
				continue // a NaN count has nothing to be checked against until the first pass fixes it
			}
			rs := validResults(t, s, shards)
			for i := range rs {
				if len(rs[i].Hist[0].Bin) == 0 {
					t.Fatalf("pass %d: shard %d has an empty first histogram; pick another seed", pass, i)
				}
			}
			corruptions[name](rs)
			if err := s.Absorb(rs); !errors.Is(err, ErrBadResult) {
				t.Errorf("pass %d, %s: %v", pass, name, err)
			}
			if mustJSON(t, s) != before {
				t.Fatalf("pass %d, %s: a failed Absorb changed the state", pass, name)
			}
		}
		if err := s.Absorb(validResults(t, s, shards)[:2]); !errors.Is(err, ErrBadResult) && pass > 0 {
			t.Errorf("pass %d: 2 results for 3 shards: %v", pass, err)
		}
		if err := s.Absorb(nil); !errors.Is(err, ErrBadResult) {
			t.Errorf("pass %d: no results: %v", pass, err)
		}
	}
	s, _ := New(cfg, 1)
	for !s.Done() {
		if err := s.Absorb(validResults(t, s, shards)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Absorb(nil); !errors.Is(err, ErrDone) {
		t.Errorf("Absorb after done: %v", err)
	}
}

// A State damaged in storage is ErrBadState, not a panic.
func TestBadState(t *testing.T) {
	vals := []float64{3, 1, 2, 9, 4, 4, 7}
	s, _ := New(Config{Q: 4}, 1)
	if err := s.Absorb(validResults(t, s, [][]float64{vals})); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*State){
		"Q":            func(s *State) { s.Config.Q = 0 },
		"columns":      func(s *State) { s.Columns = 2 },
		"counts":       func(s *State) { s.N = nil },
		"shard counts": func(s *State) { s.ShardN[0] = nil },
		"search":       func(s *State) { s.Searches[0].Column = 5 },
		"bracket":      func(s *State) { s.Searches[0].Lo = s.Searches[0].Hi + 1 },
		"lost bracket": func(s *State) { s.Searches[0].Done, s.Searches[1].Lo = false, s.Searches[1].Lo+1 },
	} {
		d := s.Clone()
		edit(d)
		task := &Task{Step: d.Step, Columns: 1, Brackets: []Bracket{}}
		if next, done := d.Next(); !done && next.Columns == 1 {
			task = next
		}
		res, _ := RunTask(task, vals)
		if res == nil {
			res = &Result{Step: d.Step, N: []int64{7}, Missing: []int64{0}}
		}
		if err := d.Absorb([]*Result{res}); !errors.Is(err, ErrBadState) && !errors.Is(err, ErrBadResult) && !errors.Is(err, ErrDone) {
			t.Errorf("%s: %v", name, err)
		}
		_ = d.Cuts()
	}
}

func TestBadTask(t *testing.T) {
	vals := []float64{1}
	full := Bracket{0, 0, math.MaxUint64}
	for name, c := range map[string]struct {
		task *Task
		cols int
	}{
		"nil":        {nil, 1},
		"no columns": {&Task{}, 0},
		"columns":    {&Task{Columns: 2}, 1},
		"column":     {&Task{Columns: 1, Brackets: []Bracket{{Column: 1}}}, 1},
		"negative":   {&Task{Columns: 1, Brackets: []Bracket{{Column: -1}}}, 1},
		"lo above":   {&Task{Columns: 1, Brackets: []Bracket{{0, 5, 4}}}, 1},
		"order":      {&Task{Columns: 2, Brackets: []Bracket{{1, 0, 1}, full}}, 2},
		"overlap":    {&Task{Columns: 1, Brackets: []Bracket{{0, 0, 10}, {0, 10, 20}}}, 1},
		"too many":   {&Task{Columns: 1, Brackets: make([]Bracket, MaxQ)}, 1},
	} {
		if _, err := RunTask(c.task, slices.Repeat([][]float64{vals}, c.cols)...); !errors.Is(err, ErrBadTask) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Disjoint brackets of one column are found by binary search; a value
	// between or beyond them is only counted.
	task := &Task{Columns: 1, Brackets: []Bracket{{0, 0, Key(0.5)}, {0, Key(1), Key(1)}, {0, Key(2), Key(3)}}}
	res, err := RunTask(task, []float64{1, 0.7, 2.5, 9, math.NaN(), 1, -4})
	if err != nil {
		t.Fatal(err)
	}
	counts := []int64{}
	for _, h := range res.Hist {
		var n int64
		for _, c := range h.Count {
			n += c
		}
		counts = append(counts, n)
	}
	if !slices.Equal(counts, []int64{1, 2, 1}) || res.Hist[1].Min[0] != Key(1) || res.N[0] != 6 || res.Missing[0] != 1 {
		t.Errorf("histograms %+v", res)
	}
}

// The branch-free bracket search agrees with a linear scan.
func TestBracketSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 300 {
		nb := 2 + r.IntN(20)
		keys := make([]uint64, 2*nb)
		for i := range keys {
			keys[i] = Key(float64(r.IntN(100)))
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		var bs []Bracket
		for i := 0; i+1 < len(keys); i += 2 {
			bs = append(bs, Bracket{0, keys[i], keys[i+1]})
		}
		if len(bs) < 2 {
			continue
		}
		vals := make([]float64, 500)
		for i := range vals {
			vals[i] = float64(r.IntN(110)) - 5
		}
		res, err := RunTask(&Task{Columns: 1, Brackets: bs}, vals)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range bs {
			var want, got int64
			for _, x := range vals {
				if k := Key(x); b.Lo <= k && k <= b.Hi {
					want++
				}
			}
			for _, c := range res.Hist[i].Count {
				got += c
			}
			if got != want {
				t.Fatalf("bracket %d of %d: %d values, want %d", i, len(bs), got, want)
			}
		}
	}
}

// Results cross the network by gob as well as JSON; Clone is deep.
func TestGobAndClone(t *testing.T) {
	vals := draw(rand.New(rand.NewPCG(13, 14)), "mixed", 2000)
	s, _ := New(Config{Q: 10, Descending: true}, 1)
	for !s.Done() {
		task, _ := s.Next()
		res, err := RunTask(task, vals)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(res); err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := gob.NewDecoder(&buf).Decode(&back); err != nil {
			t.Fatal(err)
		}
		c := s.Clone()
		before := mustJSON(t, s)
		if err := c.Absorb([]*Result{&back}); err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, s) != before {
			t.Fatal("absorbing into a clone changed the original")
		}
		s = c
	}
	if want := oracle(vals, 10, true); !sameBits(s.Cuts()[0], want) {
		t.Errorf("cuts %v, oracle %v", s.Cuts()[0], want)
	}
	if fresh, _ := New(Config{Q: 3}, 2); fresh.Cuts() != nil || fresh.Done() {
		t.Error("a new State has cuts")
	}
}

// Keys spaced so that every pass can strip only eight bits off the
// bracket of the smallest value (ascending cut 1, descending cut 9 of
// nine values): the search takes the full eight passes and is still exact.
func TestWorstCasePasses(t *testing.T) {
	base := Key(1)
	vals := []float64{FromKey(base)}
	for m := range 8 {
		vals = append(vals, FromKey(base+1<<(8*m)))
	}
	for _, desc := range []bool{false, true} {
		cfg := Config{Q: 10, Descending: desc}
		s, _ := job(t, cfg, [][][]float64{{vals[:4]}, {vals[4:]}})
		if s.Step != 8 {
			t.Errorf("descending %v: %d passes, want 8", desc, s.Step)
		}
		if want := oracle(vals, cfg.Q, desc); !sameBits(s.Cuts()[0], want) {
			t.Errorf("descending %v: cuts %v, oracle %v", desc, s.Cuts()[0], want)
		}
	}
}
