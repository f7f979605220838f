package scoreset

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// segmentsTable is a k-means score shard like one of 64 shards of a
// 10-million-row dataset: decimal customer ids in hash order, 16 segments,
// distances of a few units.
func segmentsTable(n int) *Table {
	cols, _ := Schema("segments")
	t := NewTable("customer_id", cols, n)
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		t.Keys = append(t.Keys, strconv.Itoa(r.IntN(10_000_000)))
		t.Ints[0] = append(t.Ints[0], int64(r.IntN(16)))
		t.Floats[1] = append(t.Floats[1], 2+r.NormFloat64())
	}
	return t
}

var sinkBytes []byte

func BenchmarkEncode(b *testing.B) {
	t := segmentsTable(156_250)
	b.SetBytes(int64(t.Rows()))
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Encode(t)
		if err != nil {
			b.Fatal(err)
		}
		sinkBytes = out
	}
	b.ReportMetric(float64(len(sinkBytes))/float64(t.Rows()), "bytes/row")
}

var sinkTable *Table

func BenchmarkDecode(b *testing.B) {
	t := segmentsTable(156_250)
	enc, _, err := Encode(t)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(t.Rows()))
	b.ReportAllocs()
	for b.Loop() {
		if sinkTable, err = Decode(enc, t.Key, t.Columns); err != nil {
			b.Fatal(err)
		}
	}
}
