package linear

import (
	"encoding/json"
	"testing"
)

// FuzzAbsorb feeds decoded partials, as a leader receives them from the
// network, to Absorb at each stage: it must reject or absorb them, never
// panic, and never leave a non-finite value in the State.
func FuzzAbsorb(f *testing.F) {
	x := []float64{0, 1, 1, 0, 2, 2, 3, 1, 5, 0}
	y := []float64{3, 2, 7, 6, 6} // x₀ + 2x₁ + 1 exactly, so the eval pass runs
	seed := func(stage int) []byte {
		s, _ := New(Config{}, 2)
		var rs []*Result
		for range stage + 1 {
			task, _ := s.Next()
			rs = nil
			for i := range 2 {
				r, err := RunTask(nil, task, x[i*4:], 2+i, 2, y[i*2:], nil, nil, i)
				if err != nil {
					f.Fatal(err)
				}
				rs = append(rs, r)
			}
			if stage > 0 {
				_ = s.Absorb(rs)
				stage--
			}
		}
		b, _ := json.Marshal(rs)
		return b
	}
	f.Add(seed(0), false)
	f.Add(seed(1), true)
	f.Add([]byte(`[{"kind":"gram","n":1,"ntrain":1,"w":1e308,"mean":[1,2,3],"m2":[1,2,3,4,5,6]}]`), false)
	f.Fuzz(func(t *testing.T, data []byte, second bool) {
		var rs []*Result
		if json.Unmarshal(data, &rs) != nil {
			return
		}
		s, _ := New(Config{}, 2)
		if second {
			task, _ := s.Next()
			var first []*Result
			for i := range 2 {
				r, _ := RunTask(nil, task, x[i*4:], 2+i, 2, y[i*2:], nil, nil, i)
				first = append(first, r)
			}
			if err := s.Absorb(first); err != nil {
				t.Fatal(err)
			}
		}
		if s.Absorb(rs) == nil {
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("absorbed state does not encode: %v", err)
			}
		}
	})
}
