package clv

import (
	"math"
	"testing"
)

// FuzzSummarize builds a shard from arbitrary bytes (each 4-byte group a
// row: customer, day, amount, flags; customers may come out of order and
// times may decrease) and checks that Summarize returns an error or
// summaries that keep their invariants: 0 ≤ tₓ ≤ T, whole x ≥ 0, the mean
// spend 0 exactly when x is 0 or positive-spend counted, and counts that
// add up to the customers.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte{0, 1, 10, 0, 0, 3, 20, 0, 1, 40, 5, 0, 2, 2, 200, 1})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx := &Tx{Ptr: []int32{0}}
		for i := 0; i+4 <= len(b) && i < 4*200; i += 4 {
			key := string(rune('a' + b[i]%8))
			if n := len(tx.Keys); n == 0 || tx.Keys[n-1] != key {
				tx.Keys = append(tx.Keys, key)
				tx.Ptr = append(tx.Ptr, tx.Ptr[n])
			}
			tx.Time = append(tx.Time, mustDate("2024-01-01")+int64(b[i+1])*SecondsPerDay/2)
			a := float64(int8(b[i+2]))
			if b[i+3]&4 != 0 {
				a = math.NaN()
			}
			tx.Amount = append(tx.Amount, a)
			tx.Ptr[len(tx.Ptr)-1]++
		}
		cfg := Config{CalibrationEnd: mustDate("2024-02-15"), HoldoutEnd: mustDate("2024-03-15"), TimeUnit: Day}
		s, err := Summarize(tx, cfg)
		if err != nil {
			return
		}
		c := s.Counts
		if int(c.Customers) != len(s.Keys) || c.Customers+c.OnlyAfter+c.NoPurchase != int64(len(tx.Keys)) {
			t.Fatalf("counts %+v for %d keys, %d rows", c, len(tx.Keys), len(s.Keys))
		}
		var repeat, spend int64
		for i := range s.Keys {
			x, tx, T, m := s.X[i], s.Tx[i], s.T[i], s.Spend[i]
			if x < 0 || x != math.Floor(x) || tx < 0 || tx > T || (x == 0 && (tx != 0 || m != 0)) || s.Holdout[i] < 0 {
				t.Fatalf("customer %q: x %v tx %v T %v m %v holdout %d", s.Keys[i], x, tx, T, m, s.Holdout[i])
			}
			if x > 0 {
				repeat++
				if m > 0 {
					spend++
				}
			}
		}
		if repeat != c.Repeat || spend != c.Spend {
			t.Fatalf("counts %+v, %d repeat, %d with spend", c, repeat, spend)
		}
	})
}
