package als

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// A factor shard decodes to what was encoded, bit for bit, with or
// without training counts.
func TestFactorsRoundTrip(t *testing.T) {
	for _, f := range []*Factors{
		{IDs: []string{"a", "bb", "ccc"}, Rank: 2, F: []float64{1, -0.5, math.SmallestNonzeroFloat64, math.Copysign(0, -1), 3e300, 7}},
		{IDs: []string{"u1", "u2"}, Rank: 1, F: []float64{0.25, -4}, Count: []int32{0, 12}},
		{IDs: []string{}, Rank: 3, F: []float64{}},
	} {
		got, err := DecodeFactors(EncodeFactors(f))
		if err != nil {
			t.Fatal(err)
		}
		same := got.Rank == f.Rank && slices.Equal(got.IDs, f.IDs) && slices.Equal(got.Count, f.Count) && (got.Count == nil) == (f.Count == nil)
		for i := range f.F {
			same = same && math.Float64bits(got.F[i]) == math.Float64bits(f.F[i])
		}
		if !same {
			t.Fatalf("decoded %+v, encoded %+v", got, f)
		}
	}
}

// A blob cut short, or with bytes to spare, is refused.
func TestFactorsBadBlob(t *testing.T) {
	b := EncodeFactors(&Factors{IDs: []string{"a", "b"}, Rank: 2, F: []float64{1, 2, 3, 4}, Count: []int32{1, 2}})
	for _, bad := range [][]byte{nil, b[:10], b[:len(b)-1], append(slices.Clone(b), 0), []byte("mathcrm.als.factors.v1\n\x00\x00\x00")} {
		if _, err := DecodeFactors(bad); !errors.Is(err, ErrFactorBlob) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzDecodeFactors: never a panic, and what a blob decodes to encodes
// and decodes to itself.
func FuzzDecodeFactors(f *testing.F) {
	f.Add(EncodeFactors(&Factors{IDs: []string{"a", "b"}, Rank: 2, F: []float64{1, 2, 3, 4}, Count: []int32{1, 2}}))
	f.Add(EncodeFactors(&Factors{IDs: []string{"x"}, Rank: 1, F: []float64{0.5}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := DecodeFactors(b)
		if err != nil {
			return
		}
		again, err := DecodeFactors(EncodeFactors(fs))
		if err != nil {
			t.Fatalf("%q decodes to %+v, which does not decode once encoded: %v", b, fs, err)
		}
		if string(EncodeFactors(again)) != string(EncodeFactors(fs)) {
			t.Fatalf("%q decodes to %+v, which decodes to %+v once encoded", b, fs, again)
		}
	})
}
