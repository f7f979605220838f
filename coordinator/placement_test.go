package coordinator

import (
	"fmt"
	"math"
	"testing"
)

func testMembers(n int) []Member {
	out := make([]Member, n)
	for i := range out {
		out[i] = Member{ID: fmt.Sprintf("w%d", i), Capacity: 1}
	}
	return out
}

func TestAssignMovesOnlyWhatMust(t *testing.T) {
	const shards = 4096
	for _, n := range []int{1, 2, 4, 8} {
		before := Assign(shards, testMembers(n))
		after := Assign(shards, testMembers(n+1))
		moved := 0
		for s := 0; s < shards; s++ {
			if before[s] != after[s] {
				moved++
				if after[s] != fmt.Sprintf("w%d", n) {
					t.Fatalf("n=%d: shard %d moved between old workers %s -> %s", n, s, before[s], after[s])
				}
			}
		}
		frac, want := float64(moved)/shards, 1/float64(n+1)
		if math.Abs(frac-want) > 0.25*want {
			t.Errorf("adding worker %d moved %.3f of shards, want about %.3f", n+1, frac, want)
		}
		t.Logf("%d -> %d workers: moved %.3f of shards (ideal %.3f)", n, n+1, frac, want)
	}
}

func TestAssignLosingWorker(t *testing.T) {
	all := Assign(256, testMembers(4))
	less := Assign(256, testMembers(4)[:3])
	for s, w := range all {
		if w != "w3" && less[s] != w {
			t.Fatalf("shard %d moved from %s though its owner is alive", s, w)
		}
	}
}

func TestAssignWeighted(t *testing.T) {
	ms := []Member{{ID: "small", Capacity: 1}, {ID: "big", Capacity: 3}}
	count := map[string]int{}
	for _, w := range Assign(8000, ms) {
		count[w]++
	}
	frac := float64(count["big"]) / 8000
	if math.Abs(frac-0.75) > 0.03 {
		t.Fatalf("capacity 3 of 4 got %.3f of shards, want 0.75", frac)
	}
}

func TestRankFirstIsOwner(t *testing.T) {
	ms := testMembers(5)
	owners := Assign(64, ms)
	for s := 0; s < 64; s++ {
		if r := Rank(s, ms); r[0].ID != owners[s] {
			t.Fatalf("shard %d: Rank first %s, Assign %s", s, r[0].ID, owners[s])
		}
	}
}
