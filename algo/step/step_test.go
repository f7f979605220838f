package step

import (
	"errors"
	"fmt"
	"testing"
)

// sum is a two-pass machine: pass 0 sums the shards' values, pass 1 counts
// the shards whose value is above the mean.
type sum struct {
	pass   int
	total  int
	above  int
	shards []int
	seen   [][]int // results absorbed, per pass
}

func (s *sum) Next() (int, bool) { return s.pass, s.pass == 2 }

func (s *sum) Absorb(rs []int) error {
	s.seen = append(s.seen, append([]int(nil), rs...))
	if s.pass == 0 {
		for _, r := range rs {
			s.total += r
		}
	} else {
		for _, r := range rs {
			s.above += r
		}
	}
	s.pass++
	return nil
}

func TestRunGivesEveryShardsResultInShardOrder(t *testing.T) {
	m := &sum{shards: []int{5, 1, 9, 3}}
	var prevs []int
	err := Run[int, int](m, len(m.shards), func(prev, pass, shard int) (int, error) {
		prevs = append(prevs, prev)
		if pass == 0 {
			return m.shards[shard], nil
		}
		if m.shards[shard]*len(m.shards) > m.total {
			return 1, nil
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.total != 18 || m.above != 2 {
		t.Fatalf("total %d, above %d; want 18, 2", m.total, m.above)
	}
	if fmt.Sprint(m.seen) != "[[5 1 9 3] [1 0 1 0]]" || fmt.Sprint(prevs) != "[0 0 0 0 5 1 9 3]" {
		t.Fatalf("absorbed %v, previous results %v", m.seen, prevs)
	}
}

func TestRunStopsAtTheFirstError(t *testing.T) {
	errBad := errors.New("x: bad")
	calls := 0
	err := Run[int, int](&sum{shards: []int{1, 2, 3}}, 3, func(_, _, shard int) (int, error) {
		calls++
		if shard == 1 {
			return 0, Errorf("x", errBad, "shard %d: broken", shard)
		}
		return 1, nil
	})
	var e *Error
	if !errors.Is(err, errBad) || !errors.As(err, &e) || err.Error() != "x: shard 1: broken" || calls != 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
}
