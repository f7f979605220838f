package scoreset

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
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
