package scoreset

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

func sample(kind string) *Table {
	cols, _ := Schema(kind)
	t := NewTable("customer_id", cols, 3)
	for i, k := range []string{"a", "b,with comma", "ç"} {
		t.Keys = append(t.Keys, k)
		for j, c := range cols {
			switch c.Type {
			case Float:
				t.Floats[j] = append(t.Floats[j], []float64{0.1, math.SmallestNonzeroFloat64, -1e300}[i])
			case Int:
				t.Ints[j] = append(t.Ints[j], int64(i*7-3))
			case String:
				t.Strings[j] = append(t.Strings[j], []string{"x", "", "item \"3\""}[i])
			}
		}
	}
	return t
}

func TestRoundTrip(t *testing.T) {
	for _, kind := range []string{"segments", "predictions", "probabilities", "recommendations"} {
		want := sample(kind)
		b, sum, err := Encode(want)
		if err != nil {
			t.Fatal(err)
		}
		if len(sum) != 64 {
			t.Fatalf("checksum %q", sum)
		}
		got, err := Decode(b, want.Key, want.Columns)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		for i := range want.Keys {
			for j := range want.Columns {
				if got.Keys[i] != want.Keys[i] || got.Cell(i, j) != want.Cell(i, j) {
					t.Fatalf("%s row %d col %d: %q %q, want %q %q", kind, i, j, got.Keys[i], got.Cell(i, j), want.Keys[i], want.Cell(i, j))
				}
			}
		}
		// Another schema is refused.
		other, _ := Schema("predictions")
		if kind != "predictions" {
			if _, err := Decode(b, want.Key, other); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s read as predictions: %v", kind, err)
			}
		}
	}
}

func TestDecodeCorrupt(t *testing.T) {
	want := sample("recommendations")
	b, _, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, []byte("PAR1"), b[:len(b)/2], append(bytes.Clone(b[:len(b)-9]), []byte("garbage!!")...)} {
		if _, err := Decode(bad, want.Key, want.Columns); err == nil {
			t.Fatalf("decoded %d corrupt bytes", len(bad))
		}
	}
}

func TestKeyNamedLikeAScoreColumn(t *testing.T) {
	cols, _ := Schema("predictions")
	if _, err := NewWriter(&bytes.Buffer{}, "prediction", cols); err == nil {
		t.Fatal("a key column named prediction was accepted")
	}
}

func TestCSVExport(t *testing.T) {
	tab := sample("recommendations")
	var buf bytes.Buffer
	e, err := NewExporter("csv", &buf, tab.Key, tab.Columns)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(tab); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	want := "customer_id,rank,item,score\na,-3,x,0.1\n\"b,with comma\",4,,5e-324\nç,11,\"item \"\"3\"\"\",-1e+300\n"
	if buf.String() != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", buf.String(), want)
	}
	if _, err := NewExporter("xlsx", &buf, "k", nil); err == nil || !strings.Contains(err.Error(), "xlsx") {
		t.Fatalf("xlsx: %v", err)
	}
}

// TestLargeRoundTrip writes tables across batch and row group boundaries,
// one shard and an export of several, and reads them back value for value;
// the file carries the writer's encodings and compression per column and
// the plain logical schema every reader sees.
func TestLargeRoundTrip(t *testing.T) {
	one := segmentsTable(rowGroupRows + batchRows + 3)
	b, sum, err := Encode(one)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := Marshal(one); err != nil || !bytes.Equal(m, b) {
		t.Fatalf("Marshal differs from Encode (%v)", err)
	}
	if len(sum) != 64 {
		t.Fatalf("checksum %q", sum)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.RowGroups()); n != 2 {
		t.Fatalf("%d row groups, want 2", n)
	}
	want := map[string][2]format.Encoding{"customer_id": {format.DeltaLengthByteArray, 0}, "segment": {format.DeltaBinaryPacked, 0},
		"distance": {format.Plain, 0}}
	for _, cc := range f.Metadata().RowGroups[0].Columns {
		md := cc.MetaData
		w := want[md.PathInSchema[0]]
		if !slices.Contains(md.Encoding, w[0]) || md.Codec != format.Uncompressed {
			t.Fatalf("column %s: encodings %v codec %v, want %v uncompressed", md.PathInSchema[0], md.Encoding, md.Codec, w[0])
		}
	}
	got, err := Decode(b, one.Key, one.Columns)
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, got, one)

	// An export of several shards crosses row groups mid-table.
	var buf bytes.Buffer
	e, err := NewExporter("parquet", &buf, one.Key, one.Columns)
	if err != nil {
		t.Fatal(err)
	}
	all := NewTable(one.Key, one.Columns, 0)
	for _, n := range []int{100_000, 150_000, 60_000} {
		part := segmentsTable(n)
		if err := e.Write(part); err != nil {
			t.Fatal(err)
		}
		all.Keys = append(all.Keys, part.Keys...)
		all.Ints[0] = append(all.Ints[0], part.Ints[0]...)
		all.Floats[1] = append(all.Floats[1], part.Floats[1]...)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = Decode(buf.Bytes(), one.Key, one.Columns)
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, got, all)
}

func sameTable(t *testing.T, got, want *Table) {
	t.Helper()
	if got.Rows() != want.Rows() {
		t.Fatalf("%d rows, want %d", got.Rows(), want.Rows())
	}
	for i := range want.Keys {
		for j := range want.Columns {
			if got.Keys[i] != want.Keys[i] || got.Cell(i, j) != want.Cell(i, j) {
				t.Fatalf("row %d col %d: %q %q, want %q %q", i, j, got.Keys[i], got.Cell(i, j), want.Keys[i], want.Cell(i, j))
			}
		}
	}
}
