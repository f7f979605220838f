package scoreset

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// viaWriter is a score shard written through Writer (parquet-go's value
// API), as Marshal wrote them before.
func viaWriter(t *testing.T, tab *Table) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, tab.Key, tab.Columns, len(tab.Unscored) > 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(tab); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// parquetRows reads every row of a Parquet file with parquet-go's generic
// reader, each value as text with its definition level.
func parquetRows(t *testing.T, b []byte) (*parquet.File, []string) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[any](f, f.Schema())
	defer r.Close()
	var out []string
	rows := make([]parquet.Row, 100)
	for {
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			s := ""
			for _, v := range row {
				s += fmt.Sprintf("%d:%s|", v.DefinitionLevel(), v.String())
			}
			out = append(out, s)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return f, out
}

// randomTable is a table of every column type with n scored rows and u
// unscored ones, keys and strings of varied lengths (some empty).
func randomTable(n, u int, seed uint64) *Table {
	cols := []Column{{"rank", Int}, {"item", String}, {"score", Float}, {"decile", Int}}
	t := NewTable("customer_id", cols, n)
	r := rand.New(rand.NewPCG(seed, 7))
	str := func() string {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	}
	for i := range n {
		t.Keys = append(t.Keys, strconv.Itoa(i)+str())
		t.Ints[0] = append(t.Ints[0], r.Int64()>>r.IntN(64))
		t.Strings[1] = append(t.Strings[1], str())
		t.Floats[2] = append(t.Floats[2], []float64{r.NormFloat64(), math.Inf(1), math.Copysign(0, -1), math.MaxFloat64}[r.IntN(4)])
		t.Ints[3] = append(t.Ints[3], int64(r.IntN(10)+1))
	}
	for i := range u {
		t.Unscored = append(t.Unscored, "u"+strconv.Itoa(i)+str())
	}
	return t
}

// TestDirectMatchesWriter holds the shards MarshalTo writes to those the
// parquet-go writer writes: the same schema elements, row groups of the
// same rows, and every row read back by parquet-go the same, value and
// definition level; Decode gives the table back.
func TestDirectMatchesWriter(t *testing.T) {
	cases := []struct {
		name string
		tab  *Table
	}{
		{"segments", segmentsTable(5000)},
		{"segments across row groups and pages", segmentsTable(rowGroupRows + pageRows + 17)},
		{"every type", randomTable(3000, 0, 1)},
		{"every type with unscored rows", randomTable(3000, 40, 2)},
		{"unscored rows across pages and row groups", randomTable(rowGroupRows-5, pageRows+9, 3)},
		{"only unscored rows", randomTable(0, 70, 4)},
		{"empty", randomTable(0, 0, 5)},
		{"samples", sample("recommendations")},
		{"samples with unscored rows", withUnscored("probabilities")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Marshal(c.tab)
			if err != nil {
				t.Fatal(err)
			}
			want := viaWriter(t, c.tab)
			fg, rg := parquetRows(t, got)
			fw, rw := parquetRows(t, want)
			if !reflect.DeepEqual(fg.Metadata().Schema, fw.Metadata().Schema) {
				t.Fatalf("schema\n%+v\nwant\n%+v", fg.Metadata().Schema, fw.Metadata().Schema)
			}
			if fg.NumRows() != fw.NumRows() || len(rg) != len(rw) || len(fg.RowGroups()) != len(fw.RowGroups()) {
				t.Fatalf("%d rows (%d read), %d row groups; want %d (%d), %d",
					fg.NumRows(), len(rg), len(fg.RowGroups()), fw.NumRows(), len(rw), len(fw.RowGroups()))
			}
			for i := range rw {
				if rg[i] != rw[i] {
					t.Fatalf("row %d: %s, want %s", i, rg[i], rw[i])
				}
			}
			for i, g := range fg.RowGroups() {
				if g.NumRows() != fw.RowGroups()[i].NumRows() {
					t.Fatalf("row group %d: %d rows, want %d", i, g.NumRows(), fw.RowGroups()[i].NumRows())
				}
			}
			back, err := Decode(got, c.tab.Key, c.tab.Columns)
			if err != nil {
				t.Fatal(err)
			}
			sameTable(t, back, c.tab)
			if !reflect.DeepEqual(back.Unscored, c.tab.Unscored) && len(c.tab.Unscored)+len(back.Unscored) > 0 {
				t.Fatalf("unscored %q, want %q", back.Unscored, c.tab.Unscored)
			}
			if cols, err := Infer(got, c.tab.Key); err != nil || !reflect.DeepEqual(cols, c.tab.Columns) {
				t.Fatalf("inferred %v (%v), want %v", cols, err, c.tab.Columns)
			}
		})
	}
}

// TestMarshalRefusesShortColumns: a column without a value for every
// scored row is an error naming it, not a panic or a short file.
func TestMarshalRefusesShortColumns(t *testing.T) {
	tab := segmentsTable(10)
	tab.Floats[1] = tab.Floats[1][:9]
	if _, err := Marshal(tab); err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"distance"`)) {
		t.Fatalf("a short distance column: %v", err)
	}
}

// TestMarshalReusesBuffer: MarshalTo writes into a buffer large enough.
func TestMarshalReusesBuffer(t *testing.T) {
	tab := segmentsTable(20_000)
	buf := make([]byte, 0, encodedSize(tab))
	b, err := MarshalTo(buf, tab)
	if err != nil {
		t.Fatal(err)
	}
	if &b[0] != &buf[:1][0] {
		t.Fatal("MarshalTo allocated although the buffer was large enough")
	}
	if want, _ := Marshal(tab); !bytes.Equal(b, want) {
		t.Fatal("MarshalTo into a buffer differs from Marshal")
	}
}
