package clv

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

// day returns unix seconds of hour h on the given date.
func at(date string, h int64) int64 { return mustDate(date) + h*3600 }

// TestSummarize checks the summaries of a hand-made shard in days and
// weeks: one day's purchases are one purchase, returns are left out,
// customers buying only after the calibration end get no row.
func TestSummarize(t *testing.T) {
	tx := &Tx{
		Keys: []string{"a", "b", "c", "d"},
		Ptr:  []int32{0, 5, 7, 8, 10},
		Time: []int64{
			// a: first purchase 2024-01-01 (two lines), a return, repeat
			// purchases on 01-08 and 01-15 (two lines), a holdout
			// purchase on 02-01 (two lines) and one after the holdout.
			at("2024-01-01", 9), at("2024-01-01", 17), at("2024-01-08", 10), at("2024-01-15", 10), at("2024-01-15", 23),
			// b: one purchase on the calibration end's day, one after.
			at("2024-01-31", 23), at("2024-02-02", 1),
			// c: only after the calibration end.
			at("2024-02-10", 0),
			// d: only returns.
			at("2024-01-03", 0), at("2024-01-04", 0),
		},
		Amount: []float64{10, 5, 20, 30, 12, 7, 8, 9, -3, 4},
		Return: []bool{false, false, false, false, false, false, false, false, false, true},
	}
	cfg := Config{CalibrationEnd: mustDate("2024-01-31"), HoldoutEnd: mustDate("2024-02-29"), TimeUnit: Day}
	s, err := Summarize(tx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := &Summaries{
		Keys:    []string{"a", "b"},
		X:       []float64{2, 0},
		Tx:      []float64{14, 0},
		T:       []float64{30, 0},
		Spend:   []float64{(20 + 30 + 12) / 2.0, 0},
		Holdout: []int64{0, 1},
		Counts:  Counts{Customers: 2, Repeat: 1, Spend: 1, PositiveT: 1, OnlyAfter: 1, NoPurchase: 1, Returns: 2, FirstDay: mustDate("2024-01-01") / SecondsPerDay, HasPurchase: true},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("summaries\n%+v\nwant\n%+v", s, want)
	}
	cfg.TimeUnit, cfg.HoldoutEnd = Week, 0
	s, err = Summarize(tx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Tx[0] != 2 || s.T[0] != 30.0/7 || s.Holdout != nil {
		t.Errorf("in weeks: tx %v, T %v, holdout %v", s.Tx[0], s.T[0], s.Holdout)
	}
	cfg.TimeUnit = Month
	s, _ = Summarize(tx, cfg)
	if s.T[0] != 30/30.4375 {
		t.Errorf("in months: T %v", s.T[0])
	}
}

// TestBadInput checks the exact messages of bad configurations, shards
// and datasets.
func TestBadInput(t *testing.T) {
	cal := mustDate("2024-01-31")
	for _, c := range []struct {
		cfg Config
		msg string
	}{
		{Config{}, "clv: CalibrationEnd is not set"},
		{Config{CalibrationEnd: cal + 5}, "clv: CalibrationEnd 1706659205 is not midnight UTC (a multiple of 86400)"},
		{Config{CalibrationEnd: cal, HoldoutEnd: cal}, "clv: HoldoutEnd 2024-01-31 is not after CalibrationEnd 2024-01-31"},
		{Config{CalibrationEnd: cal, HoldoutEnd: cal + 1}, "clv: HoldoutEnd 1706659201 is not midnight UTC (a multiple of 86400)"},
		{Config{CalibrationEnd: cal, TimeUnit: "year"}, `clv: TimeUnit "year" is not day, week or month`},
		{Config{CalibrationEnd: cal, Model: "bg"}, `clv: Model "bg" is not bgnbd or paretonbd`},
		{Config{CalibrationEnd: cal, Penalty: -1}, "clv: Penalty -1 is not a finite number ≥ 0"},
		{Config{CalibrationEnd: cal, Penalty: math.NaN()}, "clv: Penalty NaN is not a finite number ≥ 0"},
		{Config{CalibrationEnd: cal, MaxIter: -1}, "clv: MaxIter -1 is outside [0, 1000000]"},
		{Config{CalibrationEnd: cal, Tol: 0.1}, "clv: Tol 0.1 is outside [0, 0.001]"},
		{Config{CalibrationEnd: cal, Memory: 101}, "clv: Memory 101 is outside [0, 100]"},
	} {
		_, err := New(c.cfg)
		if !errors.Is(err, ErrConfig) || err.Error() != c.msg {
			t.Errorf("New(%+v): %v, want %q", c.cfg, err, c.msg)
		}
	}

	one := func(times []int64, amounts []float64) *Tx {
		return &Tx{Keys: []string{"k"}, Ptr: []int32{0, int32(len(times))}, Time: times, Amount: amounts}
	}
	d1, d2 := at("2024-01-02", 0), at("2024-01-20", 0)
	for _, c := range []struct {
		name     string
		cfg      Config
		tx       *Tx
		sentinel error
		msg      string
	}{
		{"before first purchase", Config{CalibrationEnd: mustDate("2023-12-31")}, one([]int64{d1, d2}, []float64{1, 2}),
			ErrNoCustomers, "clv: the calibration end 2023-12-31 is before the first purchase (2024-01-02): no customer has a purchase on or before it"},
		{"empty period", Config{CalibrationEnd: mustDate("2024-01-02")}, one([]int64{d1, d2}, []float64{1, 2}),
			ErrNoCustomers, "clv: the calibration period is empty: all 1 customers made their first purchase on the calibration end 2024-01-02"},
		{"no repeat spend", Config{CalibrationEnd: cal}, one([]int64{d1, d2}, []float64{1, 0}),
			ErrNoCustomers, "clv: no repeat customer with a positive mean spend (1 repeat customers of 1): the spend model cannot be fitted"},
		{"only returns", Config{CalibrationEnd: cal}, one([]int64{d1}, []float64{-1}),
			ErrNoCustomers, "clv: the dataset holds no purchase (1 customers with only returns)"},
		{"NaN amount", Config{CalibrationEnd: cal}, one([]int64{d1, d2}, []float64{1, math.NaN()}),
			ErrNonFinite, `clv: customer "k" row 1: amount NaN`},
		{"time order", Config{CalibrationEnd: cal}, one([]int64{d2, d1}, []float64{1, 2}),
			ErrBadTx, `clv: customer "k" row 1: time 1704153600 before the previous row's 1705708800`},
		{"key order", Config{CalibrationEnd: cal}, &Tx{Keys: []string{"b", "a"}, Ptr: []int32{0, 1, 2}, Time: []int64{d1, d2}, Amount: []float64{1, 2}},
			ErrBadTx, `clv: keys not strictly ascending: "a" after "b"`},
		{"lengths", Config{CalibrationEnd: cal}, &Tx{Keys: []string{"a"}, Ptr: []int32{0, 2}, Time: []int64{d1, d2}, Amount: []float64{1}},
			ErrBadTx, "clv: 1 amounts for 2 rows"},
		{"pointers", Config{CalibrationEnd: cal}, &Tx{Keys: []string{"a"}, Ptr: []int32{0}},
			ErrBadTx, "clv: 1 pointers for 1 customers, want 2"},
		{"no convergence", Config{CalibrationEnd: cal, MaxIter: 1}, one([]int64{d1, d2}, []float64{1, 2}),
			ErrNoConvergence, "clv: the BG/NBD fit did not converge in 1 iterations (largest gradient 0.3, tolerance 1e-10); a larger --max-iter or a small --penalty may help"},
	} {
		_, err := Reference(c.cfg, c.tx)
		if !errors.Is(err, c.sentinel) || err.Error() != c.msg {
			t.Errorf("%s: %v, want %q", c.name, err, c.msg)
		}
	}
	if _, err := Reference(Config{CalibrationEnd: cal}); err == nil || err.Error() != "clv: no shards" {
		t.Errorf("no shards: %v", err)
	}
	if _, err := RunTask(nil, &Task{CalibrationEnd: cal, Evals: []Eval{{Model: "x"}}}, one(nil, nil), 0); err == nil ||
		err.Error() != `clv: eval 0: unknown model "x"` {
		t.Errorf("bad task: %v", err)
	}
}
