package blob

import (
	"errors"
	"math"
	"testing"
)

type sample struct {
	K    int
	Sums []float64
	Name string
}

func TestRoundTrip(t *testing.T) {
	in := sample{K: 3, Sums: []float64{1, math.SmallestNonzeroFloat64, -0.1, math.MaxFloat64}, Name: "x"}
	b, err := Encode("kmeans/lloyd", in)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := Kind(b); err != nil || k != "kmeans/lloyd" {
		t.Fatalf("Kind = %q, %v", k, err)
	}
	var out sample
	if err := Decode(b, "kmeans/lloyd", &out); err != nil {
		t.Fatal(err)
	}
	for i := range in.Sums {
		if math.Float64bits(in.Sums[i]) != math.Float64bits(out.Sums[i]) {
			t.Fatalf("sum %d: %v != %v", i, out.Sums[i], in.Sums[i])
		}
	}
}

func TestDetectsCorruption(t *testing.T) {
	b, err := Encode("k", sample{K: 1, Sums: make([]float64, 100)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		var out sample
		if err := Decode(c, "k", &out); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	var out sample
	if err := Decode(b, "other", &out); !errors.Is(err, ErrKind) {
		t.Fatalf("wrong kind: %v", err)
	}
	if err := Decode(b[:len(b)-1], "k", &out); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode("k", sample{K: 2, Sums: []float64{1, 2}})
	f.Add(good)
	f.Add([]byte("MCRB"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var out sample
		_ = Decode(b, "k", &out)
		_, _ = Kind(b)
	})
}
