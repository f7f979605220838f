package rfm

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// at returns the unix time of hour h of day d of a fixed week.
func at(d, h int) int64 { return int64(19000+d)*SecondsPerDay + int64(h)*3600 }

// features runs the distributed job over one shard and checks that it
// agrees with Reference bit for bit before returning the table.
func features(t *testing.T, cfg Config, tx *Tx) (*Table, Cuts) {
	t.Helper()
	cuts, _, got := run(t, cfg, []*Tx{tx})
	ref, refCuts, err := Reference(cfg, tx)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, got) != mustJSON(t, ref) || cuts != refCuts {
		t.Fatalf("distributed and reference differ:\n%s %+v\n%s %+v", mustJSON(t, got), cuts, mustJSON(t, ref), refCuts)
	}
	return got, cuts
}

func checkColumn(t *testing.T, tb *Table, col int, want []float64) {
	t.Helper()
	if got := tb.Values[col]; !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", tb.Columns[col], got, want)
	}
}

// Hand-computed: returns, same-time rows, a flagged return with a positive
// amount, a zero-amount purchase, a customer with only returns and a row
// after as-of.
func TestHandReturns(t *testing.T) {
	rows := []row{
		{key: "alice", t: at(1, 9), amount: 100},
		{key: "alice", t: at(1, 9), amount: 50}, // same time: the same purchase
		{key: "alice", t: at(4, 12), amount: -30},
		{key: "alice", t: at(7, 18), amount: 20},
		{key: "alice", t: at(9, 10), amount: -20}, // a return after the last purchase
		{key: "bob", t: at(2, 0), amount: -10},    // only a return: dropped
		{key: "carol", t: at(10, 15), amount: 0},  // a free item is a purchase
		{key: "carol", t: at(11, 0), amount: 7},   // at as-of: ignored
		{key: "dave", t: at(3, 0), amount: 40, ret: true},
		{key: "dave", t: at(5, 0), amount: 10},
		{key: "erin", t: at(8, 0), amount: 5},
		{key: "erin", t: at(12, 0), amount: 1000}, // after as-of: ignored
	}
	cfg := Config{AsOf: at(11, 0)}
	tb, cuts := features(t, cfg, build(rows, false, true))
	if !slices.Equal(tb.Keys, []string{"alice", "carol", "dave", "erin"}) || tb.Rows() != 4 {
		t.Fatalf("keys %v", tb.Keys)
	}
	if !slices.Equal(tb.Columns, []string{"recency_days", "frequency", "monetary_sum", "monetary_mean", "tenure_days", "r_score", "f_score", "m_score", "segment"}) {
		t.Fatalf("columns %v", tb.Columns)
	}
	// alice: last purchase day 7 18:00, 3 days 6 hours before as-of; first
	// day 1 09:00, 9 days 15 hours; two purchase times; 100+50−30+20−20.
	checkColumn(t, tb, ColRecency, []float64{3, 0, 6, 3})
	checkColumn(t, tb, ColFrequency, []float64{2, 1, 1, 1})
	checkColumn(t, tb, ColMonetarySum, []float64{120, 0, -30, 5})
	checkColumn(t, tb, ColMonetaryMean, []float64{60, 0, -30, 5})
	checkColumn(t, tb, ColTenure, []float64{9, 0, 6, 3})
	// N = 4, ranks ⌈4j/5⌉ = 1, 2, 3, 4.
	want := Cuts{AsOf: cfg.AsOf, N: 4,
		Recency:   [4]float64{6, 3, 3, 0},
		Frequency: [4]float64{1, 1, 1, 2},
		Monetary:  [4]float64{-30, 0, 5, 120},
	}
	if cuts != want {
		t.Errorf("cuts %+v, want %+v", cuts, want)
	}
	checkColumn(t, tb, ColRScore, []float64{2, 4, 1, 2})
	checkColumn(t, tb, ColFScore, []float64{4, 1, 1, 1})
	checkColumn(t, tb, ColMScore, []float64{4, 2, 1, 3})
	// The standard map on (r, f): At risk, Promising, Lost, Hibernating.
	checkColumn(t, tb, ColSegment, []float64{7, 4, 10, 9})
	if !slices.Equal(tb.Segments, StandardSegments().Names()) || tb.Segments[7] != "At risk" {
		t.Errorf("segments %q", tb.Segments)
	}
	if got := tb.SegmentCounts(); !slices.Equal(got, []int64{0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1}) {
		t.Errorf("segment counts %v", got)
	}
	if tb.Dropped != (Dropped{NoPurchase: 1, AfterAsOf: 2}) {
		t.Errorf("dropped %+v", tb.Dropped)
	}
	// Without the Return column, dave's flagged row is a purchase.
	tb, _ = features(t, cfg, build(rows, false, false))
	if got := tb.Values[ColMonetarySum][2]; got != 50 {
		t.Errorf("dave without return flags: monetary %v, want 50", got)
	}
}

// Hand-computed: frequency counts invoices when there is an invoice column
// (missing ids once per time), otherwise purchase times.
func TestHandInvoices(t *testing.T) {
	rows := []row{
		{key: "w", t: at(1, 10), amount: 1, invoice: "Q"},
		{key: "w", t: at(3, 10), amount: 1, invoice: "Q"}, // one invoice at two times
		{key: "x", t: at(1, 10), amount: 10, invoice: "A"},
		{key: "x", t: at(1, 10), amount: 20, invoice: "B"}, // two invoices at one time
		{key: "x", t: at(2, 10), amount: 5, invoice: "A"},
		{key: "x", t: at(2, 10), amount: 2, invoice: "E"},
		{key: "x", t: at(3, 10), amount: 7},
		{key: "x", t: at(3, 10), amount: 8}, // missing ids at one time: one purchase
		{key: "x", t: at(4, 10), amount: 1},
		{key: "x", t: at(5, 10), amount: -5, invoice: "C"},
		{key: "x", t: at(5, 12), amount: 3, invoice: "D", ret: true},
		{key: "y", t: at(2, 8), amount: 1, invoice: "Z"},
		{key: "y", t: at(2, 8), amount: 2, invoice: "Z"},
	}
	cfg := Config{AsOf: at(6, 0)}
	tb, _ := features(t, cfg, build(rows, true, true))
	// x: invoices A, B, E, plus times day 3 and day 4 of the rows without.
	checkColumn(t, tb, ColFrequency, []float64{1, 5, 1})
	checkColumn(t, tb, ColMonetarySum, []float64{2, 45, 3})
	checkColumn(t, tb, ColMonetaryMean, []float64{2, 9, 3})
	checkColumn(t, tb, ColRecency, []float64{2, 1, 3})
	checkColumn(t, tb, ColTenure, []float64{4, 4, 3})
	tb, _ = features(t, cfg, build(rows, false, true))
	// x: purchase times days 1, 2, 3, 4.
	checkColumn(t, tb, ColFrequency, []float64{2, 4, 1})
}

// freqRows gives customer i freq[i] purchases at distinct times.
func freqRows(freq []int) []row {
	var rows []row
	for i, f := range freq {
		for k := range f {
			rows = append(rows, row{key: string(rune('a' + i)), t: at(k, 1+i), amount: 1})
		}
	}
	return rows
}

// Ties at a cut share the lower score, leaving score 3 empty.
func TestHandTiesAtCut(t *testing.T) {
	freq := []int{1, 1, 1, 2, 2, 2, 3, 5, 5, 8}
	tb, cuts := features(t, Config{AsOf: at(20, 0)}, build(freqRows(freq), false, false))
	// N = 10, ranks 2, 4, 6, 8 of 1 1 1 2 2 2 3 5 5 8.
	if cuts.Frequency != [4]float64{1, 2, 2, 5} {
		t.Errorf("frequency cuts %v", cuts.Frequency)
	}
	checkColumn(t, tb, ColFScore, []float64{1, 1, 1, 2, 2, 2, 4, 4, 4, 5})
	// monetary_sum equals frequency here, and scores the same.
	checkColumn(t, tb, ColMScore, tb.Values[ColFScore])
}

func TestHandAllEqual(t *testing.T) {
	var rows []row
	for i := range 7 {
		rows = append(rows, row{key: string(rune('a' + i)), t: at(3, 12), amount: 10})
	}
	tb, cuts := features(t, Config{AsOf: at(5, 0)}, build(rows, false, false))
	want := Cuts{AsOf: at(5, 0), N: 7, Recency: [4]float64{1, 1, 1, 1}, Frequency: [4]float64{1, 1, 1, 1}, Monetary: [4]float64{10, 10, 10, 10}}
	if cuts != want {
		t.Errorf("cuts %+v, want %+v", cuts, want)
	}
	ones := []float64{1, 1, 1, 1, 1, 1, 1}
	for _, c := range []int{ColRScore, ColFScore, ColMScore} {
		checkColumn(t, tb, c, ones)
	}
}

func TestHandOneCustomer(t *testing.T) {
	rows := []row{{key: "solo", t: at(0, 0), amount: 12.5}, {key: "solo", t: at(2, 6), amount: 7.5}}
	tb, cuts := features(t, Config{AsOf: at(4, 0)}, build(rows, false, false))
	want := Cuts{AsOf: at(4, 0), N: 1, Recency: [4]float64{1, 1, 1, 1}, Frequency: [4]float64{2, 2, 2, 2}, Monetary: [4]float64{20, 20, 20, 20}}
	if cuts != want {
		t.Errorf("cuts %+v, want %+v", cuts, want)
	}
	for c, v := range []float64{1, 2, 20, 10, 4, 1, 1, 1} {
		checkColumn(t, tb, c, []float64{v})
	}
}

// Five customers with distinct values use every score once.
func TestHandFive(t *testing.T) {
	tb, _ := features(t, Config{AsOf: at(20, 0)}, build(freqRows([]int{4, 1, 5, 2, 3}), false, false))
	checkColumn(t, tb, ColFScore, []float64{4, 1, 5, 2, 3})
	// Customer i's last purchase is at hour 1+i of day f−1: recency 20−f.
	checkColumn(t, tb, ColRScore, []float64{4, 1, 5, 2, 3})
}

func TestDays(t *testing.T) {
	asOf := at(10, 0)
	for _, c := range []struct {
		t    int64
		want float64
	}{
		{asOf - 1, 0}, {asOf - SecondsPerDay + 1, 0}, {asOf - SecondsPerDay, 1}, {asOf - SecondsPerDay - 1, 1},
		{asOf - 365*SecondsPerDay, 365},
	} {
		if got := days(asOf, c.t); got != c.want {
			t.Errorf("days(as-of, as-of−%d s) = %v, want %v", asOf-c.t, got, c.want)
		}
	}
	if got, want := days(math.MaxInt64, math.MinInt64), float64(math.MaxUint64/SecondsPerDay); got != want {
		t.Errorf("days over the whole int64 range = %v, want %v", got, want)
	}
}

func TestDefaultAsOf(t *testing.T) {
	for _, c := range []struct{ last, want int64 }{
		{0, SecondsPerDay},
		{1, SecondsPerDay},
		{SecondsPerDay - 1, SecondsPerDay},
		{SecondsPerDay, 2 * SecondsPerDay},
		{at(3, 23) + 3599, at(4, 0)},
		{-1, 0},
		{-SecondsPerDay - 1, -SecondsPerDay},
		{math.MaxInt64, math.MaxInt64 / SecondsPerDay * SecondsPerDay},
	} {
		if got := DefaultAsOf(c.last); got != c.want {
			t.Errorf("DefaultAsOf(%d) = %d, want %d", c.last, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("zero AsOf: %v", err)
	}
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with zero AsOf: %v", err)
	}
	if err := (Config{AsOf: -5}).Validate(); err != nil {
		t.Errorf("AsOf before 1970: %v", err)
	}
}

func TestBadTx(t *testing.T) {
	good := func() *Tx {
		return &Tx{Keys: []string{"a", "b"}, Ptr: []int32{0, 2, 3}, Time: []int64{1, 2, 3}, Amount: []float64{1, 2, 3}}
	}
	for name, c := range map[string]struct {
		edit func(*Tx)
		want error
	}{
		"nil":           {nil, ErrBadTx},
		"short ptr":     {func(tx *Tx) { tx.Ptr = tx.Ptr[:2] }, ErrBadTx},
		"empty ptr":     {func(tx *Tx) { tx.Keys, tx.Ptr = nil, nil }, ErrBadTx},
		"ptr start":     {func(tx *Tx) { tx.Ptr[0] = 1 }, ErrBadTx},
		"ptr end":       {func(tx *Tx) { tx.Ptr[2] = 2 }, ErrBadTx},
		"ptr decreases": {func(tx *Tx) { tx.Ptr[1] = 4 }, ErrBadTx},
		"amounts":       {func(tx *Tx) { tx.Amount = tx.Amount[:2] }, ErrBadTx},
		"invoices":      {func(tx *Tx) { tx.Invoice = []string{"x"} }, ErrBadTx},
		"returns":       {func(tx *Tx) { tx.Return = []bool{true} }, ErrBadTx},
		"key order":     {func(tx *Tx) { tx.Keys[0] = "c" }, ErrBadTx},
		"duplicate key": {func(tx *Tx) { tx.Keys[1] = "a" }, ErrBadTx},
		"time order":    {func(tx *Tx) { tx.Time[0] = 5 }, ErrBadTx},
		"NaN":           {func(tx *Tx) { tx.Amount[2] = math.NaN() }, ErrNonFinite},
		"Inf":           {func(tx *Tx) { tx.Amount[0] = math.Inf(-1) }, ErrNonFinite},
		"overflow":      {func(tx *Tx) { tx.Amount[0], tx.Amount[1] = math.MaxFloat64, math.MaxFloat64 }, ErrNonFinite},
	} {
		var tx *Tx
		if c.edit != nil {
			tx = good()
			c.edit(tx)
		}
		task := &Task{AsOf: 100, Brackets: []Bracket{{Recency, 0, math.MaxUint64}}}
		if _, err := RunTask(task, tx); !errors.Is(err, c.want) {
			t.Errorf("%s: RunTask: %v, want %v", name, err, c.want)
		}
		cuts := Cuts{AsOf: 100, N: 1, Frequency: [4]float64{1, 1, 1, 1}}
		if _, err := Features(Config{AsOf: 100}, cuts, tx); !errors.Is(err, c.want) {
			t.Errorf("%s: Features: %v, want %v", name, err, c.want)
		}
		if _, _, err := Reference(Config{AsOf: 100}, tx); !errors.Is(err, c.want) {
			t.Errorf("%s: Reference: %v, want %v", name, err, c.want)
		}
	}
	if _, err := RunTask(&Task{AsOf: 100}, good()); err != nil {
		t.Errorf("good shard: %v", err)
	}
}

func TestReferenceSplitCustomer(t *testing.T) {
	a := build([]row{{key: "a", t: 1, amount: 1}}, false, false)
	if _, _, err := Reference(Config{AsOf: 10}, a, a); !errors.Is(err, ErrBadTx) {
		t.Errorf("a customer in two shards: %v", err)
	}
	ret := build([]row{{key: "a", t: 1, amount: -1}}, false, false)
	if _, _, err := Reference(Config{AsOf: 10}, a, ret); !errors.Is(err, ErrBadTx) {
		t.Errorf("a customer in two shards, one holding only a return: %v", err)
	}
	bad := build([]row{{key: "b", t: 1, amount: math.NaN()}}, false, false)
	if _, _, err := Reference(Config{AsOf: 10}, a, bad); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "rfm: shard 1: customer \"b\"") {
		t.Errorf("a NaN in shard 1: %v", err)
	}
}

func TestNoCustomers(t *testing.T) {
	tx := build([]row{{key: "a", t: at(1, 0), amount: -3}, {key: "b", t: at(9, 0), amount: 3}}, false, false)
	cfg := Config{AsOf: at(5, 0)}
	s, _ := New(cfg)
	task, _ := s.Next()
	r, err := RunTask(task, tx)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 0 || r.Dropped != (Dropped{NoPurchase: 2, AfterAsOf: 1}) {
		t.Errorf("result %+v", r)
	}
	if err := s.Absorb([]*Result{r, r}); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("Absorb: %v", err)
	}
	if _, _, err := Reference(cfg, tx); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("Reference: %v", err)
	}
	empty := build(nil, false, false)
	if _, _, err := Reference(cfg, empty); !errors.Is(err, ErrNoCustomers) {
		t.Errorf("Reference of an empty shard: %v", err)
	}
}

func TestCutsValidate(t *testing.T) {
	good := Cuts{AsOf: 1, N: 3, Recency: [4]float64{9, 4, 4, 0}, Frequency: [4]float64{1, 1, 2, 7}, Monetary: [4]float64{-5, 0, 0.5, 1e9}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Cuts){
		"no customers":      func(c *Cuts) { c.N = 0 },
		"recency ascending": func(c *Cuts) { c.Recency[3] = 5 },
		"fractional days":   func(c *Cuts) { c.Recency[0] = 9.5 },
		"negative days":     func(c *Cuts) { c.Recency[3] = -1 },
		"frequency 0":       func(c *Cuts) { c.Frequency[0] = 0 },
		"frequency order":   func(c *Cuts) { c.Frequency[3] = 1 },
		"monetary NaN":      func(c *Cuts) { c.Monetary[1] = math.NaN() },
		"monetary Inf":      func(c *Cuts) { c.Monetary[3] = math.Inf(1) },
		"monetary order":    func(c *Cuts) { c.Monetary[0] = 1 },
	} {
		c := good
		edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrBadCuts) {
			t.Errorf("%s: %v", name, err)
		}
		tx := build([]row{{key: "a", t: 0, amount: 1}}, false, false)
		if _, err := Features(Config{AsOf: 1}, c, tx); !errors.Is(err, ErrBadCuts) {
			t.Errorf("%s: Features: %v", name, err)
		}
	}
	tx := build([]row{{key: "a", t: 0, amount: 1}}, false, false)
	if _, err := Features(Config{AsOf: 2}, good, tx); !errors.Is(err, ErrBadCuts) {
		t.Errorf("cuts for another as-of: %v", err)
	}
	if _, err := Features(Config{AsOf: 1}, Cuts{}, tx); !errors.Is(err, ErrBadCuts) {
		t.Errorf("zero cuts: %v", err)
	}
}
