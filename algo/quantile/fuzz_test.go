package quantile

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// valuesFromBytes reads values from fuzz bytes: a tag byte picks a
// special value, a small integer (for ties), or the next eight bytes' bits.
func valuesFromBytes(data []byte) []float64 {
	special := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1, math.Nextafter(1, 2), 0.5}
	var out []float64
	for len(data) > 0 {
		tag := data[0]
		data = data[1:]
		switch {
		case tag < 64:
			out = append(out, special[int(tag)%len(special)])
		case tag < 192:
			out = append(out, float64(int(tag)-128))
		case len(data) >= 8:
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
	}
	return out
}

// FuzzJob runs a whole job on values read from bytes, dealt over a few
// shards, and holds it to the oracle, Reference and the bucket formula.
func FuzzJob(f *testing.F) {
	f.Add([]byte{1, 2, 3, 130, 131, 131, 0, 1, 2, 200, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(10), true, uint8(3))
	f.Add([]byte{}, uint8(2), false, uint8(1))
	f.Add([]byte{2, 2, 2}, uint8(100), true, uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, q uint8, desc bool, nshards uint8) {
		vals := valuesFromBytes(data)
		cfg := Config{Q: 2 + int(q)%99, Descending: desc}
		n := 1 + int(nshards)%8
		shards := make([][][]float64, n)
		for i := range shards {
			shards[i] = [][]float64{nil}
		}
		for k, x := range vals {
			shards[k*31%n][0] = append(shards[k*31%n][0], x)
		}
		s, _ := job(t, cfg, shards)
		want := oracle(vals, cfg.Q, desc)
		ref, err := Reference(cfg, vals)
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(s.Cuts()[0], want) || !sameBits(ref[0], want) {
			t.Fatalf("cuts %v, Reference %v, oracle %v", s.Cuts()[0], ref[0], want)
		}
		if want != nil {
			checkBuckets(t, vals, want, cfg.Q, desc)
		}
	})
}

// FuzzAbsorb feeds decoded partials, as a leader receives them from the
// network, to Absorb at the first and second pass: it must reject or
// absorb them, never panic, and an absorbed state must still encode and
// produce a next task that shards accept, or final cuts in order.
func FuzzAbsorb(f *testing.F) {
	shards := [][]float64{{3, 1, math.NaN(), 4}, {1, 5, 9, 2, 6}}
	cfg := Config{Q: 4, Descending: true}
	state := func(passes int) *State {
		s, _ := New(cfg, 1)
		for range passes {
			task, _ := s.Next()
			var rs []*Result
			for _, v := range shards {
				r, _ := RunTask(task, v)
				rs = append(rs, r)
			}
			if err := s.Absorb(rs); err != nil {
				f.Fatal(err)
			}
		}
		return s
	}
	for passes := range 2 {
		task, _ := state(passes).Next()
		var rs []*Result
		for _, v := range shards {
			r, _ := RunTask(task, v)
			rs = append(rs, r)
		}
		b, _ := json.Marshal(rs)
		f.Add(b, passes == 1)
	}
	f.Add([]byte(`[{"step":0,"n":[1],"missing":[0],"hist":[{"bin":[255],"count":[1],"min":[18446744073709551615],"max":[18446744073709551615]}]}]`), false)
	f.Fuzz(func(t *testing.T, data []byte, second bool) {
		var rs []*Result
		if json.Unmarshal(data, &rs) != nil {
			return
		}
		passes := 0
		if second {
			passes = 1
		}
		s := state(passes)
		if s.Absorb(rs) != nil {
			return
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("absorbed state does not encode: %v", err)
		}
		if task, done := s.Next(); !done {
			if _, err := RunTask(task, shards[0]); err != nil {
				t.Fatalf("next task after absorbing %s: %v", data, err)
			}
			return
		}
		for _, cuts := range s.Cuts() {
			for j := 1; j < len(cuts); j++ {
				if cuts[j] > cuts[j-1] {
					t.Fatalf("descending cuts out of order: %v", cuts)
				}
			}
		}
	})
}

// FuzzRunTask runs any decodable task on values from bytes: RunTask must
// return an error or a Result with one histogram per bracket that counts
// every value in the brackets once.
func FuzzRunTask(f *testing.F) {
	f.Add([]byte(`{"columns":1,"brackets":[{"column":0,"lo":0,"hi":18446744073709551615}]}`), []byte{1, 2, 3, 130})
	f.Add([]byte(`{"columns":1,"brackets":[{"column":0,"lo":9223372036854775808,"hi":13830554455654793216},{"column":0,"lo":13830554455654793217,"hi":18446744073709551615}]}`), []byte{0, 1, 140, 150, 3})
	f.Fuzz(func(t *testing.T, taskJSON, data []byte) {
		var task Task
		if json.Unmarshal(taskJSON, &task) != nil {
			return
		}
		vals := valuesFromBytes(data)
		res, err := RunTask(&task, vals)
		if err != nil {
			return
		}
		if len(res.Hist) != len(task.Brackets) {
			t.Fatalf("%d histograms for %d brackets", len(res.Hist), len(task.Brackets))
		}
		for i, b := range task.Brackets {
			var want, got int64
			for _, x := range vals {
				if k := Key(x); x == x && b.Lo <= k && k <= b.Hi {
					want++
				}
			}
			if _, err := checkHist(&res.Hist[i], b, res.N[0]); err != nil {
				t.Fatal(err)
			}
			for _, c := range res.Hist[i].Count {
				got += c
			}
			if got != want {
				t.Fatalf("bracket %d: %d values, want %d", i, got, want)
			}
		}
	})
}
