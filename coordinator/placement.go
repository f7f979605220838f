package coordinator

import (
	"math"
	"sort"

	"github.com/mathcrm/mathcrm/internal/keyhash"
)

// Member is a worker as placement sees it.
type Member struct {
	ID       string
	Capacity int
}

// score is the weighted rendezvous (highest random weight) score of a worker
// for a shard: -w / ln(u), u uniform in (0,1) from a hash of both. Adding a
// worker moves only the shards it now wins; losing one moves only its own.
func score(worker string, shard int, weight int) float64 {
	x := keyhash.Rendezvous(worker, shard)
	u := (float64(x>>11) + 0.5) / (1 << 53) // in (0,1)
	if weight < 1 {
		weight = 1
	}
	return -float64(weight) / math.Log(u)
}

// Rank orders members by preference for a shard: the first is its owner, the
// rest are where it goes if the owner fails.
func Rank(shard int, members []Member) []Member {
	out := append([]Member(nil), members...)
	sc := make(map[string]float64, len(out))
	for _, m := range out {
		sc[m.ID] = score(m.ID, shard, m.Capacity)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if sc[out[i].ID] != sc[out[j].ID] {
			return sc[out[i].ID] > sc[out[j].ID]
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Assign maps every shard to its owner among members.
func Assign(shards int, members []Member) map[int]string {
	out := make(map[int]string, shards)
	if len(members) == 0 {
		return out
	}
	for s := 0; s < shards; s++ {
		out[s] = first(s, members, nil)
	}
	return out
}

// first returns the first member of Rank(shard, members) that ok accepts
// (any, when ok is nil), without sorting; "" when none does.
func first(shard int, members []Member, ok func(id string) bool) string {
	best, bestScore := "", math.Inf(-1)
	for _, m := range members {
		if ok != nil && !ok(m.ID) {
			continue
		}
		if v := score(m.ID, shard, m.Capacity); best == "" || v > bestScore || (v == bestScore && m.ID < best) {
			best, bestScore = m.ID, v
		}
	}
	return best
}

// Balanced maps every shard to an owner as Assign does, except that no
// member owns more than its share of the shards, ⌈shards·c/C⌉ for capacity
// c of total C: the shards are taken in order and each goes to the first
// member of its Rank that still has room. A pass lasts as long as its
// busiest worker, and rendezvous owners alone are uneven (64 shards on two
// workers split 40/24 as often as not); with the bound the split is 32/32.
// The owners are a pure function of the shard count and the members, so
// every leader places alike; a member joining or leaving moves its own
// shards and, through the bound, a few more.
func Balanced(shards int, members []Member) []string {
	out := make([]string, shards)
	if len(members) == 0 {
		return out
	}
	total := 0
	for _, m := range members {
		total += max(m.Capacity, 1)
	}
	room := make(map[string]int, len(members))
	for _, m := range members {
		room[m.ID] = (shards*max(m.Capacity, 1) + total - 1) / total
	}
	hasRoom := func(id string) bool { return room[id] > 0 }
	for s := range out {
		out[s] = first(s, members, hasRoom)
		room[out[s]]--
	}
	return out
}
