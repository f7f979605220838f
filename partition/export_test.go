package partition

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func TestExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := "id,plan,spend\n" + "a,gold,1.5\n" + "b,,0.1\n" + "c,basic,\n" + "d,gold,-3e-300\n"
	res, err := SplitReader(context.Background(), "in.csv", strings.NewReader(in),
		Options{Key: "id", Columns: []string{"spend"}, Categorical: []string{"plan"}, Shards: 1, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ReadShard(f, res.Shards[0].Size)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cols := []ExportColumn{{Name: "spend"}, {Name: "plan", Levels: res.Columns[1].Levels}}
	for _, format := range []string{"csv", "parquet"} {
		var buf bytes.Buffer
		e, err := NewExporter(format, &buf, sh.Key, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range sh.Keys {
			if err := e.Write(k, []float64{sh.Values[0][i], sh.Values[1][i]}); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if format == "csv" {
			// Re-importing the export gives the same values, bit for bit.
			again, err := SplitReader(context.Background(), "out.csv", bytes.NewReader(buf.Bytes()),
				Options{Key: "id", Columns: []string{"spend"}, Categorical: []string{"plan"}, Shards: 1, TempDir: t.TempDir()})
			if err != nil {
				t.Fatalf("re-import: %v\n%s", err, buf.String())
			}
			if again.Columns[0].Mean != res.Columns[0].Mean || strings.Join(again.Columns[1].Levels, ",") != "gold,basic" {
				t.Fatalf("re-imported stats differ: %+v vs %+v", again.Columns, res.Columns)
			}
			if !strings.Contains(buf.String(), "d,-3e-300,gold") || !strings.Contains(buf.String(), "c,,basic") {
				t.Fatalf("csv export:\n%s", buf.String())
			}
			continue
		}
		pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if pf.NumRows() != 4 {
			t.Fatalf("parquet export has %d rows", pf.NumRows())
		}
		rows := make([]parquet.Row, 4)
		n, _ := pf.RowGroups()[0].Rows().ReadRows(rows)
		got := map[string]string{}
		for _, r := range rows[:n] {
			got[r[0].String()] = r[1].String() + "|" + r[2].String()
		}
		if got["a"] != "1.5|gold" || got["d"] != "-3e-300|gold" || !strings.HasSuffix(got["c"], "|basic") {
			t.Fatalf("parquet rows: %v", got)
		}
	}
}
