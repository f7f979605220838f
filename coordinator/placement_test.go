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

func TestBalancedLoads(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8} {
		for _, shards := range []int{1, 7, 64, 1000} {
			ms := testMembers(n)
			load := map[string]int{}
			for _, w := range Balanced(shards, ms) {
				load[w]++
			}
			share := (shards + n - 1) / n
			total := 0
			for _, m := range ms {
				if load[m.ID] > share {
					t.Fatalf("%d workers, %d shards: %s owns %d, more than its share %d", n, shards, m.ID, load[m.ID], share)
				}
				total += load[m.ID]
			}
			if total != shards {
				t.Fatalf("%d workers, %d shards: %d placed", n, shards, total)
			}
		}
	}
	// Rendezvous alone splits 64 shards 40/24 on these two ids.
	ms := []Member{{ID: "bench-w0", Capacity: 2}, {ID: "bench-w1", Capacity: 2}}
	plain := map[string]int{}
	for _, w := range Assign(64, ms) {
		plain[w]++
	}
	balanced := map[string]int{}
	for _, w := range Balanced(64, ms) {
		balanced[w]++
	}
	if balanced["bench-w0"] != 32 || balanced["bench-w1"] != 32 {
		t.Fatalf("balanced split %v, want 32/32 (rendezvous alone: %v)", balanced, plain)
	}
	t.Logf("64 shards on two workers: rendezvous %v, balanced %v", plain, balanced)
}

func TestBalancedWeighted(t *testing.T) {
	ms := []Member{{ID: "small", Capacity: 1}, {ID: "big", Capacity: 3}}
	load := map[string]int{}
	for _, w := range Balanced(64, ms) {
		load[w]++
	}
	if load["big"] != 48 || load["small"] != 16 {
		t.Fatalf("capacities 1 and 3: %v, want 16/48", load)
	}
}

// TestBalancedFollowsRank: a shard goes to the first worker of its Rank
// that has room, so with room for everyone every shard goes to its
// rendezvous owner, and the bound only ever moves a shard down its Rank.
func TestBalancedFollowsRank(t *testing.T) {
	ms := testMembers(5)
	owners := Balanced(4096, ms)
	plain := Assign(4096, ms)
	load := map[string]int{}
	moved := 0
	for s, w := range owners {
		if w != plain[s] {
			moved++
			// Every worker ahead of w in the shard's Rank is full by now.
			for _, m := range Rank(s, ms) {
				if m.ID == w {
					break
				}
				if load[m.ID] < (4096+4)/5 {
					t.Fatalf("shard %d went to %s though %s, ahead in its Rank, had room", s, w, m.ID)
				}
			}
		}
		load[w]++
	}
	t.Logf("5 workers, 4096 shards: %d of them placed below their rendezvous owner", moved)
}

func TestBalancedMovesLittle(t *testing.T) {
	const shards = 1024
	for _, n := range []int{2, 4, 8} {
		before := Balanced(shards, testMembers(n))
		after := Balanced(shards, testMembers(n+1))
		moved := 0
		for s := range before {
			if before[s] != after[s] {
				moved++
			}
		}
		frac, ideal := float64(moved)/shards, 1/float64(n+1)
		if frac > 2.5*ideal {
			t.Errorf("adding worker %d moved %.3f of shards, ideal %.3f", n+1, frac, ideal)
		}
		t.Logf("%d -> %d workers: moved %.3f of shards (ideal %.3f)", n, n+1, frac, ideal)
	}
}
