package logistic

import (
	"encoding/json"
	"testing"
)

// FuzzAbsorb feeds decoded partials, as a leader receives them from the
// network, to Absorb after 0, 1 or 2 real passes: it must reject or absorb
// them, never panic, and never leave a non-finite value in the State.
func FuzzAbsorb(f *testing.F) {
	x, y := binary(1, 3, 3, 1)
	state := func(passes int) *State {
		s, _ := New(Config{}, 1)
		for range passes {
			task, done := s.Next()
			if done {
				break
			}
			r, err := RunTask(nil, task, x, len(y), 1, y, nil, nil, 0)
			if err != nil {
				f.Fatal(err)
			}
			if err := s.Absorb([]*Result{r}); err != nil {
				f.Fatal(err)
			}
		}
		return s
	}
	for passes := range 3 {
		s := state(passes)
		task, _ := s.Next()
		r, _ := RunTask(nil, task, x, len(y), 1, y, nil, nil, 0)
		b, _ := json.Marshal([]*Result{r})
		f.Add(b, uint8(passes))
	}
	f.Add([]byte(`[{"kind":"count","n":2,"counts":[1,1,0,0],"weights":[1e308,1e308,0,0]}]`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, passes uint8) {
		var rs []*Result
		if json.Unmarshal(data, &rs) != nil {
			return
		}
		s := state(int(passes % 4))
		if s.Absorb(rs) == nil {
			if _, err := json.Marshal(s); err != nil {
				t.Fatalf("absorbed state does not encode: %v", err)
			}
		}
	})
}
