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
		best, bestScore := "", math.Inf(-1)
		for _, m := range members {
			if v := score(m.ID, s, m.Capacity); v > bestScore || (v == bestScore && m.ID < best) {
				best, bestScore = m.ID, v
			}
		}
		out[s] = best
	}
	return out
}
