package basket

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/mathcrm/mathcrm/internal/blob"
)

// A Result goes through the blob codec (as a partial's payload does) in
// its binary form and comes back equal.
func TestResultBinaryRoundTrip(t *testing.T) {
	for _, r := range []*Result{
		{Kind: TaskItems, Step: 0, Shard: 3, Baskets: 10, Items: []string{"a", "bé", ""}, ItemCounts: []int64{1, 10, 4}},
		{Kind: TaskCount, Step: 2, Shard: 63, Baskets: 1 << 40, Counts: []int64{0, 1, 300, 1 << 40}},
		{Kind: TaskCount, Step: 1},
		{Kind: TaskItems, Shard: 1, Baskets: 5, Items: []string{"85123A", "POST"}, ItemCounts: []int64{4, 1},
			Names: []string{"WHITE HANGING HEART T-LIGHT HOLDER", ""}},
	} {
		b, err := blob.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := r.MarshalBinary()
		if !bytes.Contains(b, mb) || len(b) > len(mb)+5 {
			t.Fatalf("the blob codec did not use the binary form: %d bytes, binary %d", len(b), len(mb))
		}
		back := new(Result)
		if err := blob.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%+v came back %+v", r, back)
		}
	}
}

// FuzzResultBinary decodes arbitrary bytes as a Result: an error or a
// Result that encodes back to the same bytes, never a panic or a huge
// allocation.
func FuzzResultBinary(f *testing.F) {
	good, _ := (&Result{Kind: TaskItems, Shard: 1, Baskets: 3, Items: []string{"x"}, ItemCounts: []int64{2}}).MarshalBinary()
	f.Add(good)
	named, _ := (&Result{Kind: TaskItems, Baskets: 3, Items: []string{"x", "y"}, ItemCounts: []int64{2, 1}, Names: []string{"ex", ""}}).MarshalBinary()
	f.Add(named)
	f.Add([]byte{1, 5, 'c', 'o', 'u', 'n', 't', 0, 0, 2, 0, 4, 2, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		if r.UnmarshalBinary(b) != nil {
			return
		}
		again, _ := r.MarshalBinary()
		var back Result
		if err := back.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("%+v does not round-trip: %v", r, err)
		}
	})
}
