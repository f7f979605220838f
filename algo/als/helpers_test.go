package als

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// triples are interactions read from a CSV file of user,item,value.
type triples struct {
	users, items []string
	values       []float64
}

func readTriples(t testing.TB, path string) triples {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tr triples
	for i, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, i+2, err)
		}
		tr.users = append(tr.users, r[0])
		tr.items = append(tr.items, r[1])
		tr.values = append(tr.values, v)
	}
	return tr
}

// shardOf spreads ids over n shards by KeyHash, as the cluster does by its
// own hash.
func shardOf(n int) func(string) int {
	return func(id string) int { return int(KeyHash(id, 0) % uint64(n)) }
}

func (tr triples) blocks(n int) (byUser, byItem []*Block) {
	return BuildBlocks(n, shardOf(n), tr.users, tr.items, tr.values)
}

// normish returns a roughly standard normal value (mean 0, variance 1) as a
// scaled sum of four uniforms, with the same bits on every build (see
// algo/kmeans).
func normish(r *rand.Rand) float64 {
	return float64((r.Float64() + r.Float64() + r.Float64() + r.Float64() - 2) * math.Sqrt(3))
}
