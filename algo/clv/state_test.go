package clv

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestShardingBitIdentical fits CDNOW (both purchase models, with the
// holdout table) over 1, 2, 4 and 7 shards (the Pareto/NBD over 1 and 7
// under the race detector): the models are identical to the bit, as their
// JSON is.
func TestShardingBitIdentical(t *testing.T) {
	for _, model := range []string{BGNBD, ParetoNBD} {
		var first []byte
		for _, n := range []int{1, 2, 4, 7} {
			if raceEnabled && model == ParetoNBD && (n == 2 || n == 4) {
				continue
			}
			m := cdnowFit(t, model, 0, n)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b
				continue
			}
			if string(b) != string(first) {
				t.Errorf("%s: %d shards give\n%s\n1 shard\n%s", model, n, b, first)
			}
		}
	}
}

// TestStateResume saves the state after every pass, loads it into a fresh
// State (as a new leader would) and goes on: the model is the one of an
// uninterrupted run. Results cross a JSON round trip too, as on the wire.
func TestStateResume(t *testing.T) {
	shards := shardRows(loadCDNOW(t), 7)
	cfg := Config{CalibrationEnd: cdnowCalEnd, HoldoutEnd: cdnowHoldoutEnd, Model: BGNBD}
	want := cdnowFit(t, BGNBD, 0, 7)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	passes := 0
	for {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s = new(State)
		if err := json.Unmarshal(b, s); err != nil {
			t.Fatal(err)
		}
		task, done := s.Next()
		if done {
			break
		}
		tb, _ := json.Marshal(task)
		var wireTask Task
		if err := json.Unmarshal(tb, &wireTask); err != nil {
			t.Fatal(err)
		}
		results := make([]*Result, len(shards))
		for i, sh := range shards {
			r, err := RunTask(nil, &wireTask, sh, i)
			if err != nil {
				t.Fatal(err)
			}
			rb, _ := json.Marshal(r)
			results[i] = new(Result)
			if err := json.Unmarshal(rb, results[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Absorb(results); err != nil {
			t.Fatal(err)
		}
		passes++
		if s.Pass() != int64(passes) {
			t.Fatalf("Pass() = %d after %d passes", s.Pass(), passes)
		}
	}
	if !reflect.DeepEqual(s.Model(), want) {
		t.Errorf("resumed model\n%+v\nuninterrupted\n%+v", s.Model(), want)
	}
	if err := s.Absorb(nil); !errors.Is(err, ErrDone) {
		t.Errorf("Absorb after done: %v", err)
	}
	if s.Phase() != StageDone || s.LogLik() != want.Purchase.LogLik {
		t.Errorf("phase %q, log-likelihood %v", s.Phase(), s.LogLik())
	}
}

// TestHoldoutTable checks the calibration-vs-holdout table of CDNOW
// (holdout to 1998-06-30, 39 weeks) against counts made here from the raw
// rows and predictions made customer by customer.
func TestHoldoutTable(t *testing.T) {
	rows := loadCDNOW(t)
	cfg := Config{CalibrationEnd: cdnowCalEnd, HoldoutEnd: cdnowHoldoutEnd}
	m := cdnowFit(t, BGNBD, 0, 2)
	h := m.Holdout
	if h == nil || h.Horizon != 39 {
		t.Fatalf("holdout table %+v", h)
	}
	// Independent count: distinct calibration days and holdout days.
	type days struct{ cal, ho map[int64]bool }
	per := map[string]*days{}
	for _, r := range rows {
		d := per[r.key]
		if d == nil {
			d = &days{map[int64]bool{}, map[int64]bool{}}
			per[r.key] = d
		}
		switch day := r.time / SecondsPerDay; {
		case r.time <= cdnowCalEnd:
			d.cal[day] = true
		case r.time <= cdnowHoldoutEnd:
			d.ho[day] = true
		}
	}
	var actual [HoldoutGroups]int64
	var custs [HoldoutGroups]int64
	for _, d := range per {
		g := min(len(d.cal)-1, HoldoutGroups-1)
		custs[g]++
		actual[g] += int64(len(d.ho))
	}
	pm := m.PurchaseModel()
	s, err := Summarize(shardRows(rows, 1)[0], cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pred [HoldoutGroups]float64
	for c := range s.X {
		e, err := pm.ExpectedPurchases(39, s.X[c], s.Tx[c], s.T[c])
		if err != nil {
			t.Fatal(err)
		}
		pred[min(int(s.X[c]), 7)] += e
	}
	tot := 0.0
	for g, row := range h.Rows {
		if row.Repeat != g || row.Customers != custs[g] || row.Actual != float64(actual[g]) || !relClose(row.Predicted, pred[g], 1e-12) {
			t.Errorf("row %d = %+v, want %d customers, %d actual, %v predicted", g, row, custs[g], actual[g], pred[g])
		}
		tot += float64(actual[g])
	}
	if h.Actual != tot || !relClose(h.RelError, (h.Predicted-h.Actual)/h.Actual, 0) {
		t.Errorf("totals %v, %v, rel. error %v", h.Actual, h.Predicted, h.RelError)
	}
	t.Logf("holdout: actual %v, predicted %.1f, rel. error %.3f", h.Actual, h.Predicted, h.RelError)
}

// TestAbsorbRejects checks that a misplaced, stale or short Result leaves
// the state unchanged.
func TestAbsorbRejects(t *testing.T) {
	shards := shardRows(loadCDNOW(t), 2)
	s, err := New(Config{CalibrationEnd: cdnowCalEnd})
	if err != nil {
		t.Fatal(err)
	}
	task, _ := s.Next()
	r0, _ := RunTask(nil, task, shards[0], 0)
	r1, _ := RunTask(nil, task, shards[1], 1)
	before, _ := json.Marshal(s)
	for _, c := range []struct {
		results []*Result
		msg     string
	}{
		{nil, "clv: no results"},
		{[]*Result{r1, r0}, "clv: shard 0: result of shard 1"},
		{[]*Result{r0, nil}, "clv: shard 1: missing result"},
		{[]*Result{r0, {Step: 3, Shard: 1}}, "clv: shard 1: result of step 3, want 0"},
		{[]*Result{r0, {Shard: 1}}, "clv: shard 1: 0 evaluations, want 2"},
	} {
		err := s.Absorb(c.results)
		if !errors.Is(err, ErrBadResult) || err.Error() != c.msg {
			t.Errorf("Absorb: %v, want %q", err, c.msg)
		}
	}
	after, _ := json.Marshal(s)
	if string(after) != string(before) {
		t.Error("a rejected Absorb changed the state")
	}
	if err := s.Absorb([]*Result{r0, r1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Absorb([]*Result{r0}); err == nil || err.Error() != "clv: 1 results for 2 shards" {
		t.Errorf("Absorb of one result: %v", err)
	}
}

// TestStateDecodeRejects checks that a damaged saved state is refused.
func TestStateDecodeRejects(t *testing.T) {
	s, err := New(Config{CalibrationEnd: cdnowCalEnd})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(s)
	var back State
	if err := json.Unmarshal(good, &back); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, msg string }{
		{`"stage":"fit"`, `"stage":"fitting"`, `clv: unknown stage "fitting"`},
		{`"time_unit":"week"`, `"time_unit":"year"`, `clv: config: TimeUnit "year" is not day, week or month`},
		{`"model":"gammagamma"`, `"model":"bgnbd"`, `clv: fits of "bgnbd" and "bgnbd" for model "bgnbd"`},
		{`"point":[0,0,0]`, `"point":[0,0]`, "clv: Gamma-Gamma fit: 2 parameters, want 3"},
	} {
		bad := strings.Replace(string(good), c.from, c.to, 1)
		if bad == string(good) {
			t.Fatalf("%s not in %s", c.from, good)
		}
		var st State
		err := json.Unmarshal([]byte(bad), &st)
		if !errors.Is(err, ErrBadState) || err.Error() != c.msg {
			t.Errorf("%s: %v, want %q", c.to, err, c.msg)
		}
	}
}
