package kmeans

import (
	"encoding/json"
	"testing"
)

// Tasks and Results arrive over the network as bytes. Whatever they decode
// to, RunTask and Absorb must return an error or a value, never panic.

func FuzzRunTask(f *testing.F) {
	shards, profs, d, p := detData()
	s, err := New(Config{K: 3, NProfile: p}, d)
	if err != nil {
		f.Fatal(err)
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		b, _ := json.Marshal(task)
		f.Add(b)
		results := make([]*Result, len(shards))
		for i, x := range shards {
			if results[i], err = RunTask(nil, task, x, len(x)/d, d, profs[i], p, i); err != nil {
				f.Fatal(err)
			}
		}
		if err := s.Absorb(results); err != nil {
			f.Fatal(err)
		}
	}
	x := shards[0][:40*d]
	prof := profs[0][:40*p]
	f.Fuzz(func(t *testing.T, b []byte) {
		var task Task
		if json.Unmarshal(b, &task) != nil || task.M > 1<<16 || task.Far > 1<<16 {
			return
		}
		_, _ = RunTask(nil, &task, x, 40, d, prof, p, 1)
	})
}

func FuzzAbsorb(f *testing.F) {
	shards, _, d, _ := detData()
	x := shards[0][:60*d]
	// One state per stage, each over a single shard.
	var states []string
	s, err := New(Config{K: 3, Seed: 2}, d)
	if err != nil {
		f.Fatal(err)
	}
	for {
		task, done := s.Next()
		if done {
			break
		}
		states = append(states, mustJSON(f, s))
		r, err := RunTask(nil, task, x, 60, d, nil, 0, 0)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(r)
		f.Add(len(states)-1, b)
		if err := s.Absorb([]*Result{r}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, stage int, b []byte) {
		if stage < 0 || stage >= len(states) {
			return
		}
		var st State
		if err := json.Unmarshal([]byte(states[stage]), &st); err != nil {
			t.Fatal(err)
		}
		var r Result
		if json.Unmarshal(b, &r) != nil {
			return
		}
		_ = st.Absorb([]*Result{&r})
	})
}
