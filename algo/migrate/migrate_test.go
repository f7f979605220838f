package migrate

import (
	"fmt"
	"math"
	"testing"

	"github.com/mathcrm/mathcrm/internal/keyhash"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// keysOf returns n keys that hash to shard i of shards.
func keysOf(i, shards, n int) []string {
	var out []string
	for c := 0; len(out) < n; c++ {
		if k := fmt.Sprintf("k%d", c); keyhash.Shard(k, shards) == i {
			out = append(out, k)
		}
	}
	return out
}

// A numeric column: values ascending, a missing value last, new and gone
// customers in the extra row and column, and the row percentages.
func TestJoinNumericWithMissing(t *testing.T) {
	k := keysOf(1, 4, 5)
	nan := math.NaN()
	from := &partition.Shard{Key: "id", Keys: k[:4], Columns: []string{"seg"}, Values: [][]float64{{2, 1, nan, 2}}}
	to := &partition.Shard{Key: "id", Keys: []string{k[1], k[0], k[2], k[4]}, Columns: []string{"seg"}, Values: [][]float64{{1, 1, 2, 3}}}
	cells, err := join(from, to, "seg", 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	ver := &proto.DatasetVersion{Version: 1, Columns: []proto.ColumnStats{{Name: "seg"}}}
	m, err := table(proto.JobSpec{Dataset: "b"}, &Params{From: "a", Column: "seg"}, ver, ver, cells)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m.Labels) != "[1 2 3 (missing)]" {
		t.Fatalf("labels %q", m.Labels)
	}
	// k0: 2→1, k1: 1→1, k2: missing→2, k3: 2→gone, k4: new→3.
	want := "[[1 0 0 0 0] [1 0 0 0 1] [0 0 0 0 0] [0 1 0 0 0] [0 0 1 0 0]]"
	if fmt.Sprint(m.Counts) != want || m.Stayed != 1 || m.Moved != 2 || m.New != 1 || m.Gone != 1 || m.Customers != 5 {
		t.Fatalf("counts %v (stayed %d moved %d new %d gone %d), want %s", m.Counts, m.Stayed, m.Moved, m.New, m.Gone, want)
	}
	if m.RowPercent[1][0] != 50 || m.RowPercent[1][4] != 50 {
		t.Fatalf("row 2: %v", m.RowPercent[1])
	}
}

// A key in the wrong shard, or twice, is an error naming it.
func TestJoinRefusesMisplacedKeys(t *testing.T) {
	k := keysOf(0, 4, 1)
	other := keysOf(2, 4, 1)
	sh := func(keys ...string) *partition.Shard {
		return &partition.Shard{Keys: keys, Columns: []string{"seg"}, Values: [][]float64{make([]float64, len(keys))}}
	}
	if _, err := join(sh(k[0], other[0]), sh(k[0]), "seg", 0, 4); err == nil {
		t.Fatal("a key of shard 2 in shard 0 accepted")
	}
	if _, err := join(sh(k[0]), sh(k[0], k[0]), "seg", 0, 4); err == nil {
		t.Fatal("a key twice accepted")
	}
	if _, err := join(sh(k[0]), sh(k[0]), "tier", 0, 4); err == nil {
		t.Fatal("a missing column accepted")
	}
}
