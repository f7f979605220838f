package partition

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestKeyIndex checks the index against a map: every key fresh the first
// time, a duplicate with its first line after, whether it grew or was
// sized up front.
func TestKeyIndex(t *testing.T) {
	used := newKeyIndexSize(100)
	used.insert("x", 1)
	for _, size := range []int{0, 5000, -1} {
		idx := newKeyIndexSize(size)
		if size < 0 { // a used index, reset
			idx = used
			idx.reset(10)
		}
		want := map[string]int64{}
		rng := rand.New(rand.NewPCG(3, uint64(size)))
		for line := int64(0); line < 20000; line++ {
			key := strconv.Itoa(rng.IntN(8000))
			if line%1000 == 0 {
				key = "" // an empty key is a key too
			}
			first, fresh := idx.insert(key, line)
			if w, seen := want[key]; seen {
				if fresh || first != w {
					t.Fatalf("size %d: key %q again on line %d: got (%d, %v), want (%d, false)", size, key, line, first, fresh, w)
				}
				continue
			}
			if !fresh || first != line {
				t.Fatalf("size %d: new key %q on line %d: got (%d, %v)", size, key, line, first, fresh)
			}
			want[key] = line
		}
		if idx.n != len(want) {
			t.Errorf("size %d: %d keys held, want %d", size, idx.n, len(want))
		}
	}
}
