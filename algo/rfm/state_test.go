package rfm

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/mathcrm/mathcrm/algo/quantile"
)

// Amount distributions, from continuous to heavily tied.
var amountDists = map[string]func(r *rand.Rand) float64{
	"lognormal": func(r *rand.Rand) float64 { return math.Round(math.Exp(r.NormFloat64()*1.5+3)*100) / 100 },
	"few":       func(r *rand.Rand) float64 { return []float64{1, 2, 5}[r.IntN(3)] },
	"constant":  func(r *rand.Rand) float64 { return 10 },
	"wide":      func(r *rand.Rand) float64 { return math.Ldexp(r.Float64(), r.IntN(1200)-600) },
	"cents":     func(r *rand.Rand) float64 { return float64(r.IntN(100)) / 100 },
}

// oracleCuts sorts every customer's value from worst to best, in the
// test's own terms, and takes the nearest rank ⌈j·N/5⌉.
func oracleCuts(tb *Table) (cuts [NumFeatures][4]float64) {
	n := len(tb.Keys)
	for f, col := range []int{ColRecency, ColFrequency, ColMonetarySum} {
		v := slices.Clone(tb.Values[col])
		if f == int(Recency) {
			sort.Sort(sort.Reverse(sort.Float64Slice(v))) // worst (largest) first
		} else {
			sort.Float64s(v)
		}
		for j := 1; j <= 4; j++ {
			cuts[f][j-1] = v[int(math.Ceil(float64(j*n)/5))-1]
		}
	}
	return cuts
}

// checkScores holds every score to 1 + ⌊5·W/N⌋, W the number of customers
// strictly worse.
func checkScores(t *testing.T, tb *Table) {
	t.Helper()
	n := len(tb.Keys)
	for f, col := range []int{ColRecency, ColFrequency, ColMonetarySum} {
		v := slices.Clone(tb.Values[col])
		slices.Sort(v)
		for i, x := range tb.Values[col] {
			var worse int
			if f == int(Recency) { // larger is worse
				worse = n - sort.Search(n, func(k int) bool { return v[k] > x })
			} else {
				worse = sort.SearchFloat64s(v, x)
			}
			want := 1 + 5*worse/n
			if got := tb.Values[ColRScore+f][i]; got != float64(want) {
				t.Fatalf("%s of %s (value %v, %d of %d worse) = %v, want %d", tb.Columns[ColRScore+f], tb.Keys[i], x, worse, n, got, want)
			}
		}
	}
}

// The cuts are the exact nearest-rank quantiles and the scores follow the
// closed form, for sizes from 1 up and distributions with heavy ties.
func TestQuantilesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range slices.Sorted(maps.Keys(amountDists)) {
		dist := amountDists[name]
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 11, 23, 100, 3000} {
			for _, invoices := range []bool{false, true} {
				rows := gen(r, genSpec{customers: n, maxRows: 6, days: 1 + r.IntN(400), amounts: dist, returns: 0.15})
				cfg := Config{AsOf: DefaultAsOf(maxTime(rows))}
				shards := reshard(rows, 1+r.IntN(9), invoices, true)
				ref, refCuts, err := Reference(cfg, shards...)
				if errors.Is(err, ErrNoCustomers) { // only returns
					if n > 3 {
						t.Fatalf("%s n=%d: %v", name, n, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				cuts, passes, got := run(t, cfg, shards)
				if cuts != refCuts || mustJSON(t, got) != mustJSON(t, ref) {
					t.Fatalf("%s n=%d: distributed %+v, reference %+v", name, n, cuts, refCuts)
				}
				oc := oracleCuts(ref)
				if cuts.Recency != oc[Recency] || cuts.Frequency != oc[Frequency] || cuts.Monetary != oc[Monetary] {
					t.Fatalf("%s n=%d: cuts %+v, oracle %v", name, n, cuts, oc)
				}
				checkScores(t, ref)
				if n == 3000 {
					t.Logf("%s, %d customers (%d scored), invoices %v: %d passes", name, n, cuts.N, invoices, passes)
				}
			}
		}
	}
}

func maxTime(rows []row) int64 {
	m := int64(math.MinInt64)
	for _, r := range rows {
		m = max(m, r.t)
	}
	return m
}

// The same data on 1, 3 and 7 shards, and on 7 shards in reverse order,
// give bit-identical cuts and rows.
func TestShardCountInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rows := gen(r, genSpec{customers: 5000, maxRows: 8, days: 700, amounts: amountDists["lognormal"], invoices: true, returns: 0.1})
	cfg := Config{AsOf: DefaultAsOf(maxTime(rows))}
	cuts1, _, tb1 := run(t, cfg, reshard(rows, 1, true, true))
	want := mustJSON(t, cuts1) + mustJSON(t, tb1)
	seven := reshard(rows, 7, true, true)
	for name, shards := range map[string][]*Tx{
		"3 shards":            reshard(rows, 3, true, true),
		"7 shards":            seven,
		"7 shards, backwards": {seven[6], seven[5], seven[4], seven[3], seven[2], seven[1], seven[0]},
	} {
		cuts, _, tb := run(t, cfg, shards)
		if got := mustJSON(t, cuts) + mustJSON(t, tb); got != want {
			t.Errorf("%s: differs from 1 shard", name)
		}
	}
	ref, refCuts, err := Reference(cfg, seven...)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, refCuts)+mustJSON(t, ref) != want {
		t.Error("Reference over 7 shards differs from the job over 1")
	}
}

// Keys that are hard for the refinement: adjacent floats, both ends of the
// float range, subnormals, and signed zeros. run fails past 8 passes.
func TestAdversarialValues(t *testing.T) {
	one := 1.0
	vals := []float64{one, math.Nextafter(one, 2), math.Nextafter(one, 0), -math.MaxFloat64 / 4, math.MaxFloat64 / 4,
		math.SmallestNonzeroFloat64, 2 * math.SmallestNonzeroFloat64, 0, math.Copysign(0, -1), -one, -math.Nextafter(one, 2)}
	var rows []row
	for i := range 200 {
		v := vals[i%len(vals)]
		if i%3 == 0 {
			v = math.Nextafter(v, math.Inf(1))
		}
		rows = append(rows, row{key: string(rune(0x4e00 + i)), t: at(i%17, 0), amount: math.Abs(v), ret: v < 0 || math.Signbit(v)})
	}
	cfg := Config{AsOf: at(30, 0)}
	ref, refCuts, err := Reference(cfg, build(rows, false, true))
	if err != nil {
		t.Fatal(err)
	}
	cuts, passes, got := run(t, cfg, reshard(rows, 5, false, true))
	if cuts != refCuts || mustJSON(t, got) != mustJSON(t, ref) {
		t.Fatalf("distributed %+v, reference %+v", cuts, refCuts)
	}
	checkScores(t, ref)
	t.Logf("%d passes", passes)
}

// goodness orders every feature from worst to best, recency reversed,
// and fromGoodness inverts it, zero always being +0 (the key order itself
// is quantile's, tested there).
func TestGoodness(t *testing.T) {
	vals := []float64{0, 1, 2, 365, 1e6, math.MaxFloat64}
	for f := range Feature(NumFeatures) {
		for i, v := range vals {
			g := goodness(f, v)
			if back := fromGoodness(f, g); back != v || math.Signbit(back) {
				t.Errorf("%v: fromGoodness(goodness(%v)) = %v", f, v, back)
			}
			if g == 0 && math.Signbit(g) {
				t.Errorf("%v: goodness(%v) is −0", f, v)
			}
			if i == 0 {
				continue
			}
			worse, better := quantile.Key(goodness(f, vals[i-1])), quantile.Key(g)
			if f == Recency {
				worse, better = better, worse
			}
			if worse >= better {
				t.Errorf("%v: %v and %v out of order", f, vals[i-1], v)
			}
		}
	}
}

// validResults returns one pass's Results for shards.
func validResults(t *testing.T, s *State, shards []*Tx) []*Result {
	t.Helper()
	task, done := s.Next()
	if done {
		t.Fatal("done")
	}
	rs := make([]*Result, len(shards))
	for i, tx := range shards {
		var err error
		if rs[i], err = RunTask(task, tx); err != nil {
			t.Fatal(err)
		}
	}
	return rs
}

func TestAbsorbRejects(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rows := gen(r, genSpec{customers: 400, maxRows: 5, days: 300, amounts: amountDists["lognormal"], returns: 0.1})
	cfg := Config{AsOf: DefaultAsOf(maxTime(rows))}
	shards := reshard(rows, 3, false, true)
	corruptions := map[string]func(rs []*Result){
		"nil":        func(rs []*Result) { rs[1] = nil },
		"stale step": func(rs []*Result) { rs[0].Step-- },
		"negative N": func(rs []*Result) { rs[2].N = -1 },
		"N changed":  func(rs []*Result) { rs[0].N++ },
		"dropped":    func(rs []*Result) { rs[0].Dropped.AfterAsOf-- },
		"histograms": func(rs []*Result) { rs[1].Hist = rs[1].Hist[1:] },
		"bin count":  func(rs []*Result) { rs[1].Hist[0].Count[0]++ },
		"bin zero":   func(rs []*Result) { rs[1].Hist[0].Count[0] = 0 },
		"bin order": func(rs []*Result) {
			h := &rs[0].Hist[0]
			h.Bin, h.Count, h.Min, h.Max = append(h.Bin, h.Bin[0]), append(h.Count, 1), append(h.Min, h.Min[0]), append(h.Max, h.Min[0])
		},
		"bin range":      func(rs []*Result) { rs[0].Hist[0].Bin[0] = NumBins + 5 },
		"min above bin":  func(rs []*Result) { h := &rs[2].Hist[0]; h.Min[0] = h.Max[0] + 1 },
		"max below min":  func(rs []*Result) { h := &rs[2].Hist[0]; h.Max[0] = h.Min[0] - 1 },
		"lengths":        func(rs []*Result) { rs[2].Hist[0].Min = nil },
		"moved customer": func(rs []*Result) { rs[0].Hist[0] = rs[1].Hist[0] },
		"overflow":       func(rs []*Result) { rs[0].N, rs[1].N = math.MaxInt64, math.MaxInt64 },
		"dropped overflow": func(rs []*Result) {
			rs[0].Dropped.AfterAsOf, rs[1].Dropped.AfterAsOf = math.MaxInt64, math.MaxInt64
		},
	}
	for pass := range 2 {
		s, _ := New(cfg)
		for range pass {
			if err := s.Absorb(validResults(t, s, shards)); err != nil {
				t.Fatal(err)
			}
		}
		before := mustJSON(t, s)
		for name, corrupt := range corruptions {
			rs := validResults(t, s, shards)
			if len(rs[0].Hist[0].Bin) == 0 || len(rs[1].Hist[0].Bin) == 0 || len(rs[2].Hist[0].Bin) == 0 {
				t.Fatalf("pass %d: a shard has an empty first histogram; pick another seed", pass)
			}
			corrupt(rs)
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
	s, _ := New(cfg)
	for {
		if _, done := s.Next(); done {
			break
		}
		if err := s.Absorb(validResults(t, s, shards)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Phase() != "done" {
		t.Errorf("phase %q", s.Phase())
	}
	if err := s.Absorb(nil); !errors.Is(err, ErrDone) {
		t.Errorf("Absorb after done: %v", err)
	}
}

func TestPhases(t *testing.T) {
	rows := gen(rand.New(rand.NewPCG(7, 8)), genSpec{customers: 300, maxRows: 4, days: 90, amounts: amountDists["lognormal"]})
	cfg := Config{AsOf: DefaultAsOf(maxTime(rows))}
	s, _ := New(cfg)
	if s.Phase() != "count" || s.Iteration() != 0 || s.Customers() != 0 {
		t.Fatalf("new state: %s %d %d", s.Phase(), s.Iteration(), s.Customers())
	}
	if c := s.Cuts(); c.Validate() == nil {
		t.Error("cuts of a new state validate")
	}
	shards := reshard(rows, 2, false, false)
	var phases []string
	for {
		task, done := s.Next()
		if done {
			break
		}
		if len(task.Brackets) > 12 {
			t.Errorf("%d brackets", len(task.Brackets))
		}
		if err := s.Absorb(validResults(t, s, shards)); err != nil {
			t.Fatal(err)
		}
		phases = append(phases, s.Phase())
	}
	if s.Customers() != 300 || s.DroppedTotals() != (Dropped{}) {
		t.Errorf("%d customers, dropped %+v", s.Customers(), s.DroppedTotals())
	}
	if phases[len(phases)-1] != "done" || len(phases) < 2 || phases[0] != "refine" {
		t.Errorf("phases %v", phases)
	}
	if c := s.Cuts(); c.Validate() != nil || c.N != 300 {
		t.Errorf("final cuts %+v", c)
	}
}

// A Result's size is bounded whatever the number of customers.
func TestResultSize(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rows := gen(r, genSpec{customers: 50000, maxRows: 3, days: 1000, amounts: amountDists["wide"]})
	cfg := Config{AsOf: DefaultAsOf(maxTime(rows))}
	tx := build(rows, false, false)
	s, _ := New(cfg)
	for {
		task, done := s.Next()
		if done {
			break
		}
		res, err := RunTask(task, tx)
		if err != nil {
			t.Fatal(err)
		}
		bins := 0
		for _, h := range res.Hist {
			if len(h.Bin) > NumBins {
				t.Fatalf("%d bins", len(h.Bin))
			}
			bins += len(h.Bin)
		}
		t.Logf("pass %d: %d brackets, %d bins, %d bytes of JSON", s.Iteration(), len(res.Hist), bins, len(mustJSON(t, res)))
		if err := s.Absorb([]*Result{res}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBadTask(t *testing.T) {
	tx := build([]row{{key: "a", t: 1, amount: 1}}, false, false)
	full := Bracket{Frequency, 0, math.MaxUint64}
	for name, task := range map[string]*Task{
		"nil":      nil,
		"no as-of": {},
		"feature":  {AsOf: 5, Brackets: []Bracket{{Feature: 3}}},
		"negative": {AsOf: 5, Brackets: []Bracket{{Feature: -1}}},
		"lo above": {AsOf: 5, Brackets: []Bracket{{Recency, 5, 4}}},
		"order":    {AsOf: 5, Brackets: []Bracket{full, {Recency, 0, 1}}},
		"overlap":  {AsOf: 5, Brackets: []Bracket{{Recency, 0, 10}, {Recency, 10, 20}}},
		"too many": {AsOf: 5, Brackets: slices.Repeat([]Bracket{{Monetary, 1, 1}}, 13)},
	} {
		if _, err := RunTask(task, tx); !errors.Is(err, ErrBadTask) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Disjoint brackets of one feature are found by binary search.
	task := &Task{AsOf: 5, Brackets: []Bracket{{Monetary, 0, quantile.Key(0.5)}, {Monetary, quantile.Key(1), quantile.Key(1)}, {Monetary, quantile.Key(2), math.MaxUint64}}}
	res, err := RunTask(task, tx)
	if err != nil {
		t.Fatal(err)
	}
	counts := []int{len(res.Hist[0].Bin), len(res.Hist[1].Bin), len(res.Hist[2].Bin)}
	if !slices.Equal(counts, []int{0, 1, 0}) || res.Hist[1].Min[0] != quantile.Key(1) {
		t.Errorf("histograms %+v", res.Hist)
	}
}

// Results and tasks cross the network by gob as well as JSON.
func TestGobRoundTrip(t *testing.T) {
	rows := gen(rand.New(rand.NewPCG(13, 14)), genSpec{customers: 200, maxRows: 4, days: 60, amounts: amountDists["cents"], returns: 0.2})
	tx := build(rows, true, true)
	s, _ := New(Config{AsOf: DefaultAsOf(maxTime(rows))})
	for {
		task, done := s.Next()
		if done {
			break
		}
		res, err := RunTask(task, tx)
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
		if err := s.Absorb([]*Result{&back}); err != nil {
			t.Fatal(err)
		}
	}
	if c := s.Cuts(); c.Validate() != nil {
		t.Fatal(c.Validate())
	}
}

// Tasks and Results keep the wire form they had before the search moved to
// package quantile, so that workers and a leader of either version agree;
// a State saved then decodes only if it is final.
func TestWireForm(t *testing.T) {
	tx := build([]row{{key: "a", t: at(1, 0), amount: 2}, {key: "b", t: at(2, 0), amount: -1}}, false, false)
	s, _ := New(Config{AsOf: at(3, 0)})
	task, _ := s.Next()
	const wantTask = `{"step":0,"as_of":1641859200,"brackets":[{"feature":0,"lo":0,"hi":18446744073709551615},{"feature":1,"lo":0,"hi":18446744073709551615},{"feature":2,"lo":0,"hi":18446744073709551615}]}`
	if got := mustJSON(t, task); got != wantTask {
		t.Errorf("task %s\nwant %s", got, wantTask)
	}
	res, err := RunTask(task, tx)
	if err != nil {
		t.Fatal(err)
	}
	// Recency 2 days is goodness −2, key ^bits(−2); frequency 1 and sum 2
	// have keys bits | 1<<63; each is in the bin of its key's top byte.
	const wantResult = `{"step":0,"n":1,"dropped":{"no_purchase":1,"after_as_of":0},"hist":[` +
		`{"bin":[63],"count":[1],"min":[4611686018427387903],"max":[4611686018427387903]},` +
		`{"bin":[191],"count":[1],"min":[13830554455654793216],"max":[13830554455654793216]},` +
		`{"bin":[192],"count":[1],"min":[13835058055282163712],"max":[13835058055282163712]}]}`
	if got := mustJSON(t, res); got != wantResult {
		t.Errorf("result %s\nwant %s", got, wantResult)
	}
	old := `{"config":{"as_of":1641859200},"step":1,"shard_n":[1],"n":1,"dropped":{"no_purchase":1,"after_as_of":0},` +
		`"searches":[{"feature":0,"rank":1,"lo":4611686018427387903,"hi":4611686018427387903,"below":0,"in":1,"done":true}]}`
	var st State
	if err := json.Unmarshal([]byte(old), &st); !errors.Is(err, ErrBadState) {
		t.Errorf("decoding a state in the old form: %v", err)
	}
	final := `{"config":{"as_of":1641859200},"step":1,"final":{"as_of":1641859200,"n":1,"recency":[2,2,2,2],"frequency":[1,1,1,1],"monetary":[2,2,2,2]}}`
	if err := json.Unmarshal([]byte(final), &st); err != nil {
		t.Fatalf("decoding a final state in the old form: %v", err)
	}
	if _, done := st.Next(); !done || st.Phase() != "done" || st.Customers() != 1 || st.Cuts().Monetary[0] != 2 {
		t.Errorf("old final state: phase %s, %d customers, cuts %+v", st.Phase(), st.Customers(), st.Cuts())
	}
}
