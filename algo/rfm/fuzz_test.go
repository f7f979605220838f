package rfm

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
)

// FuzzAbsorb feeds decoded partials, as a leader receives them from the
// network, to Absorb at the first and second pass: it must reject or
// absorb them, never panic, and an absorbed state must still encode and
// produce a next task that shards accept.
func FuzzAbsorb(f *testing.F) {
	shards := []*Tx{
		build([]row{{key: "a", t: at(1, 0), amount: 3}, {key: "c", t: at(2, 0), amount: 5}, {key: "c", t: at(4, 0), amount: 1}}, false, false),
		build([]row{{key: "b", t: at(3, 0), amount: 7}, {key: "d", t: at(1, 0), amount: -2}, {key: "e", t: at(0, 5), amount: 2.5}}, false, false),
	}
	cfg := Config{AsOf: at(5, 0)}
	state := func(passes int) *State {
		s, _ := New(cfg)
		for range passes {
			task, _ := s.Next()
			var rs []*Result
			for _, tx := range shards {
				r, _ := RunTask(task, tx)
				rs = append(rs, r)
			}
			if err := s.Absorb(rs); err != nil {
				f.Fatal(err)
			}
		}
		return s
	}
	for passes := range 2 {
		s := state(passes)
		task, _ := s.Next()
		var rs []*Result
		for _, tx := range shards {
			r, _ := RunTask(task, tx)
			rs = append(rs, r)
		}
		b, _ := json.Marshal(rs)
		f.Add(b, passes == 1)
	}
	f.Add([]byte(`[{"step":0,"n":1,"hist":[{"bin":[255],"count":[1],"min":[18446744073709551615],"max":[18446744073709551615]},{},{}]}]`), false)
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
		} else if c := s.Cuts(); c.Validate() != nil {
			t.Fatalf("final cuts do not validate: %v", c.Validate())
		}
	})
}

// FuzzRunTask builds a shard from bytes, valid or not, and a task from
// JSON. RunTask, Features and Reference must never panic; when the shard
// is valid the whole job over it, split in two, must equal Reference.
func FuzzRunTask(f *testing.F) {
	f.Add([]byte{3, 0, 1, 2, 10, 20, 30, 1, 5, 250, 4, 4, 4}, int64(200), []byte(`{"as_of":200,"brackets":[{"feature":2,"lo":0,"hi":18446744073709551615}]}`), false)
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1}, int64(-7), []byte(`{}`), true)
	f.Fuzz(func(t *testing.T, data []byte, asOf int64, taskJSON []byte, invoices bool) {
		tx := txFromBytes(data, invoices)
		var task Task
		if json.Unmarshal(taskJSON, &task) == nil {
			_, _ = RunTask(&task, tx)
		}
		cfg := Config{AsOf: asOf}
		if cfg.Validate() != nil {
			return
		}
		_, _ = Features(cfg, Cuts{AsOf: asOf, N: 1, Frequency: [4]float64{1, 1, 1, 1}}, tx)
		ref, refCuts, err := Reference(cfg, tx)
		if err != nil {
			return
		}
		halves := splitTx(tx)
		cuts, _, got := run(t, cfg, halves)
		if cuts != refCuts || mustJSON(t, got) != mustJSON(t, ref) {
			t.Fatalf("job %+v %s, reference %+v %s", cuts, mustJSON(t, got), refCuts, mustJSON(t, ref))
		}
	})
}

// txFromBytes reads a shard: a customer count, then per customer a row
// count, then per row a time step, an amount byte and an invoice byte.
// Pointers are taken as read, so they may be inconsistent.
func txFromBytes(data []byte, invoices bool) *Tx {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	tx := &Tx{Ptr: []int32{0}}
	nc := int(next() % 8)
	var t int64
	for c := range nc {
		tx.Keys = append(tx.Keys, string(rune('a'+c)))
		nr := int(next() % 6)
		for range nr {
			step := next()
			if step == 255 && len(data) >= 8 { // a wild time
				t = int64(binary.LittleEndian.Uint64(data))
				data = data[8:]
			} else {
				t += int64(step) * 3600
			}
			a := float64(int8(next()))
			switch a {
			case 127:
				a = math.MaxFloat64
			case -128:
				a = math.NaN()
			}
			tx.Time = append(tx.Time, t)
			tx.Amount = append(tx.Amount, a/4)
			inv := next()
			tx.Return = append(tx.Return, inv&0x80 != 0)
			if invoices {
				tx.Invoice = append(tx.Invoice, string(rune('A'+inv%4)))
			}
		}
		tx.Ptr = append(tx.Ptr, int32(len(tx.Time))+int32(next()%2)-int32(next()%2))
	}
	return tx
}

// splitTx puts a valid shard's customers alternately into two shards.
func splitTx(tx *Tx) []*Tx {
	out := []*Tx{{Ptr: []int32{0}}, {Ptr: []int32{0}}}
	if tx.Invoice != nil {
		out[0].Invoice, out[1].Invoice = []string{}, []string{}
	}
	for c, k := range tx.Keys {
		o := out[c%2]
		lo, hi := tx.Ptr[c], tx.Ptr[c+1]
		o.Keys = append(o.Keys, k)
		o.Time = append(o.Time, tx.Time[lo:hi]...)
		o.Amount = append(o.Amount, tx.Amount[lo:hi]...)
		o.Return = append(o.Return, tx.Return[lo:hi]...)
		if tx.Invoice != nil {
			o.Invoice = append(o.Invoice, tx.Invoice[lo:hi]...)
		}
		o.Ptr = append(o.Ptr, int32(len(o.Time)))
	}
	return out
}
