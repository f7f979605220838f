package scoreset

import (
	"bytes"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func withUnscored(kind string) *Table {
	t := sample(kind)
	t.Unscored = []string{"u1", "u,2"}
	return t
}

func TestUnscoredRowsRoundTrip(t *testing.T) {
	for _, kind := range []string{"segments", "predictions", "probabilities", "recommendations"} {
		want := withUnscored(kind)
		b, _, err := Encode(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b, want.Key, want.Columns)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if !slices.Equal(got.Keys, want.Keys) || !slices.Equal(got.Unscored, want.Unscored) || got.AllRows() != 5 {
			t.Fatalf("%s: keys %q unscored %q, want %q %q", kind, got.Keys, got.Unscored, want.Keys, want.Unscored)
		}
		for i := range want.Keys {
			for j := range want.Columns {
				if got.Cell(i, j) != want.Cell(i, j) {
					t.Fatalf("%s row %d col %d: %q, want %q", kind, i, j, got.Cell(i, j), want.Cell(i, j))
				}
			}
		}
		// The score columns are optional only where a row needs them to be:
		// a shard scored in full keeps its required columns.
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if opt, _ := schema(want.Key, want.Columns, true); !parquet.EqualNodes(f.Schema(), opt) {
			t.Fatalf("%s: schema %v with unscored rows", kind, f.Schema())
		}
		full, _, err := Encode(sample(kind))
		if err != nil {
			t.Fatal(err)
		}
		f, err = parquet.OpenFile(bytes.NewReader(full), int64(len(full)))
		if err != nil {
			t.Fatal(err)
		}
		if req, _ := schema(want.Key, want.Columns, false); !parquet.EqualNodes(f.Schema(), req) {
			t.Fatalf("%s: schema %v without unscored rows", kind, f.Schema())
		}
	}
}

func TestUnscoredRowsExport(t *testing.T) {
	tab := withUnscored("probabilities")
	var buf bytes.Buffer
	e, err := NewScoresExporter("csv", &buf, tab.Key, tab.Columns)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Write(tab); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	want := "customer_id,probability,decile\na,0.1,-3\n\"b,with comma\",5e-324,4\nç,-1e+300,11\nu1,,\n\"u,2\",,\n"
	if buf.String() != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", buf.String(), want)
	}

	// Parquet: shards with and without unscored rows in one stream.
	buf.Reset()
	if e, err = NewScoresExporter("parquet", &buf, tab.Key, tab.Columns); err != nil {
		t.Fatal(err)
	}
	for _, part := range []*Table{tab, sample("probabilities")} {
		if err := e.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(buf.Bytes(), tab.Key, tab.Columns)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := append(slices.Clone(tab.Keys), tab.Keys...)
	if !slices.Equal(back.Keys, wantKeys) || !slices.Equal(back.Unscored, tab.Unscored) {
		t.Fatalf("parquet export: keys %q unscored %q", back.Keys, back.Unscored)
	}

	// A stream of required columns refuses unscored rows.
	w, err := NewWriter(&bytes.Buffer{}, tab.Key, tab.Columns)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(tab); err == nil || err.Error() != "scoreset: a table with 2 unscored rows on a stream of required columns" {
		t.Fatalf("required stream: %v", err)
	}
}
