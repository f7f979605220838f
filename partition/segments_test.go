package partition

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestWriteBlocksAnySplit writes the same rows from blocks cut anywhere and
// checks the file is byte for byte the one written from a single block, and
// holds the rows: pages (of keys and of each column) and row groups cut
// across blocks, missing values in some pages, none in others, all in one.
func TestWriteBlocksAnySplit(t *testing.T) {
	const rows = 3*valuesPerPage + 123
	rng := rand.New(rand.NewPCG(5, 6))
	cols := []string{"dense", "sparse", "holes"}
	whole := &group{values: make([][]float64, len(cols))}
	for i := range rows {
		key := strconv.Itoa(i) + strings.Repeat("k", rng.IntN(30))
		whole.arena = append(whole.arena, key...)
		whole.ends = append(whole.ends, len(whole.arena))
		whole.lines = append(whole.lines, i+2)
		sparse := rng.NormFloat64()
		if rng.IntN(10) == 0 {
			sparse = math.NaN()
		}
		holes := float64(rng.IntN(1000)) // compresses
		if i >= valuesPerPage && i < 2*valuesPerPage {
			holes = math.NaN() // a page of nothing
		}
		whole.values[0] = append(whole.values[0], rng.NormFloat64())
		whole.values[1] = append(whole.values[1], sparse)
		whole.values[2] = append(whole.values[2], holes)
	}
	write := func(blocks []*group, rowGroupRows int) []byte {
		set := newShardSet("", 1, "id", cols, rowGroupRows)
		fw := newFeatureWriter(nil, nil, nil, "id", cols, metaKey, set.meta[metaKey], metaColumns, set.meta[metaColumns], metaShard, "0/1")
		defer fw.release()
		n, dup, err := copyBlocks(context.Background(), fw, blocks, rowGroupRows, newKeyIndex())
		if err != nil || dup != nil || n != rows {
			t.Fatalf("copyBlocks: %d rows, %v, %v", n, dup, err)
		}
		if err := fw.close(); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(fw.out)
	}
	for _, rowGroupRows := range []int{DefaultRowGroupRows, 5000, 1} {
		if rowGroupRows == 1 {
			rowGroupRows = valuesPerPage + 1 // a page and one row
		}
		want := write([]*group{whole}, rowGroupRows)
		sh, err := ReadShard(bytes.NewReader(want), int64(len(want)))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range sh.Keys {
			if k != string(whole.key(i)) {
				t.Fatalf("row %d: key %q, want %q", i, k, whole.key(i))
			}
		}
		for j, name := range cols {
			got, _ := sh.Column(name)
			for i, v := range got {
				if w := whole.values[j][i]; math.Float64bits(v) != math.Float64bits(w) && !(v != v && w != w) {
					t.Fatalf("%s row %d: %v, want %v", name, i, v, w)
				}
			}
		}
		for trial := range 6 {
			var blocks []*group
			for lo := 0; lo < rows; {
				hi := min(rows, lo+1+rng.IntN([]int{3, 300, 9000}[trial%3]))
				b := &group{values: make([][]float64, len(cols))}
				for i := lo; i < hi; i++ {
					b.arena = append(b.arena, whole.key(i)...)
					b.ends = append(b.ends, len(b.arena))
					b.lines = append(b.lines, whole.lines[i])
				}
				for j := range cols {
					b.values[j] = whole.values[j][lo:hi]
				}
				blocks = append(blocks, b)
				lo = hi
			}
			if got := write(blocks, rowGroupRows); !bytes.Equal(got, want) {
				t.Errorf("%d-row groups, %d blocks: the file differs from the one written from one block", rowGroupRows, len(blocks))
			}
		}
	}
}
