package partition

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// plainCSV has a missing value in each numeric column and a header order
// that is not alphabetical, to check the files keep it.
const plainCSV = "id,zeta,alpha,label\n" +
	"k1,1.5,10,x\n" +
	"k2,,20,y\n" +
	"k3,-2.25,,z\n"

// TestShardIsPlainParquet reads a shard with parquet-go's generic, reflection
// based reader, the way a data team's tool would, not with ReadShard.
func TestShardIsPlainParquet(t *testing.T) {
	res := mustSplit(t, "p.csv", plainCSV, Options{Key: "id", Shards: 1})
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range f.Schema().Fields() {
		names = append(names, c.Name())
	}
	if !slices.Equal(names, []string{"id", "zeta", "alpha"}) {
		t.Errorf("schema columns %q, want [id zeta alpha]", names)
	}
	if key, _ := f.Lookup("mathcrm.key"); key != "id" {
		t.Errorf("mathcrm.key = %q", key)
	}
	for _, rg := range f.RowGroups() {
		for _, cc := range rg.ColumnChunks() {
			if codec := f.Metadata().RowGroups[0].Columns[cc.Column()].MetaData.Codec; codec.String() != "ZSTD" {
				t.Errorf("column %d codec %v, want ZSTD", cc.Column(), codec)
			}
		}
	}

	type row struct {
		ID    string   `parquet:"id"`
		Zeta  *float64 `parquet:"zeta,optional"`
		Alpha *float64 `parquet:"alpha,optional"`
	}
	rows, err := parquet.Read[row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ptr := func(x float64) *float64 { return &x }
	want := []row{{"k1", ptr(1.5), ptr(10)}, {"k2", nil, ptr(20)}, {"k3", ptr(-2.25), nil}}
	if len(rows) != len(want) {
		t.Fatalf("read %d rows, want %d", len(rows), len(want))
	}
	eq := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for i := range want {
		if rows[i].ID != want[i].ID || !eq(rows[i].Zeta, want[i].Zeta) || !eq(rows[i].Alpha, want[i].Alpha) {
			t.Errorf("row %d = %+v", i, rows[i])
		}
	}
}

func TestReadShardAccessors(t *testing.T) {
	res := mustSplit(t, "p.csv", plainCSV, Options{Key: "id", Shards: 1})
	s := readAll(t, res)[0]
	if s.Rows() != 3 || s.Key != "id" || !slices.Equal(s.Keys, []string{"k1", "k2", "k3"}) {
		t.Fatalf("shard %+v", s)
	}
	zeta, ok := s.Column("zeta")
	if !ok || zeta[0] != 1.5 || !math.IsNaN(zeta[1]) || zeta[2] != -2.25 {
		t.Errorf("zeta = %v", zeta)
	}
	if _, ok := s.Column("label"); ok {
		t.Error("Column(label) found an ignored column")
	}
	// 3 keys of 2 bytes + 2 columns of 3 float64s is a floor for the size.
	if n := s.SizeBytes(); n < 3*2+2*3*8 || n > 4096 {
		t.Errorf("SizeBytes = %d", n)
	}
	big := readAll(t, mustSplit(t, "g.csv", genTable(1000, 5).csv, Options{Key: "id", Shards: 1}))[0]
	if big.SizeBytes() < 1000*(10+16+3*8) {
		t.Errorf("SizeBytes = %d for 1000 rows", big.SizeBytes())
	}
}

// shardBytes is a small shard file with three row groups.
func shardBytes(t testing.TB) []byte {
	t.Helper()
	res := mustSplit(t, "g.csv", genTable(60, 6).csv, Options{Key: "id", Shards: 1, RowGroupRows: 25})
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadShardTruncated(t *testing.T) {
	data := shardBytes(t)
	for n := 0; n < len(data); n++ {
		if _, err := ReadShard(bytes.NewReader(data[:n]), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt", n, len(data), err)
		}
	}
	// A size larger than the data is a short read, not a panic.
	if _, err := ReadShard(bytes.NewReader(data), int64(len(data)+10)); err == nil {
		t.Error("size beyond the data: no error")
	}
}

// TestReadShardCorrupted flips bytes everywhere. A flip inside a value may
// still decode (Parquet has no mandatory checksum), but ReadShard must
// either fail with ErrCorrupt or return a well-formed shard.
func TestReadShardCorrupted(t *testing.T) {
	data := shardBytes(t)
	var failed int
	masks := []byte{0x01, 0x80, 0xff}
	for i := range data {
		mask := masks[i%len(masks)]
		bad := bytes.Clone(data)
		bad[i] ^= mask
		s, err := ReadShard(bytes.NewReader(bad), int64(len(bad)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip %#x at %d: err %v does not wrap ErrCorrupt", mask, i, err)
			}
			failed++
			continue
		}
		checkWellFormed(t, s)
	}
	if failed == 0 {
		t.Error("no corruption was detected at all")
	}
	t.Logf("%d of %d corruptions detected", failed, len(data))
}

// checkWellFormed asserts the invariants every decoded shard must hold.
func checkWellFormed(t testing.TB, s *Shard) {
	t.Helper()
	if len(s.Values) != len(s.Columns) {
		t.Fatalf("%d value columns for %d names", len(s.Values), len(s.Columns))
	}
	for j, col := range s.Values {
		if len(col) != len(s.Keys) {
			t.Fatalf("column %d has %d values for %d keys", j, len(col), len(s.Keys))
		}
		for _, x := range col {
			if math.IsInf(x, 0) {
				t.Fatalf("column %d holds %v", j, x)
			}
		}
	}
}

func TestReadShardForeignParquet(t *testing.T) {
	type other struct {
		ID string  `parquet:"id"`
		X  float64 `parquet:"x"`
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, []other{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadShard(bytes.NewReader(buf.Bytes()), int64(buf.Len())); !errors.Is(err, ErrCorrupt) {
		t.Errorf("parquet without shard metadata: err = %v, want ErrCorrupt", err)
	}
	for _, in := range [][]byte{nil, []byte("PAR1"), []byte("PAR1PAR1"), []byte("id,x\na,1\n")} {
		if _, err := ReadShard(bytes.NewReader(in), int64(len(in))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ReadShard(%q): err = %v, want ErrCorrupt", in, err)
		}
	}
	if _, err := ReadShard(nil, 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadShard(nil): err = %v", err)
	}
}

// TestReadShardOfPreviousWriter reads a shard file the previous writer
// (parquet-go's, keys DELTA_LENGTH_BYTE_ARRAY, zstd at its default level,
// statistics and page index) wrote, and finds what a shard of today's
// writer of the same rows holds: old shards stay readable.
func TestReadShardOfPreviousWriter(t *testing.T) {
	old, err := os.ReadFile("testdata/shard-parquet-go-v0.32.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(old, []byte("mathcrm version 1(build )")) {
		t.Fatal("the fixture is not from the previous writer")
	}
	res, err := Split(context.Background(), "../testdata/telco/Telco-Customer-Churn.csv", Options{Key: "customerID", Shards: 16,
		RowGroupRows: 200, TempDir: t.TempDir(), Categorical: []string{"Contract"}, Columns: []string{"tenure", "TotalCharges"},
		Input: Input{OnBadValue: BadValueMissing}})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(res.Shards[3].Path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(cur, old) {
		t.Fatal("today's writer wrote the previous writer's bytes")
	}
	want, err := ReadShard(bytes.NewReader(cur), int64(len(cur)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadShard(bytes.NewReader(old), int64(len(old)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != want.Key || !slices.Equal(got.Columns, want.Columns) || !slices.Equal(got.Keys, want.Keys) || got.Rows() != 441 {
		t.Fatalf("previous shard: key %q, columns %q, %d rows; today's: %q, %q, %d rows", got.Key, got.Columns, got.Rows(), want.Key, want.Columns, want.Rows())
	}
	for j := range want.Values {
		for i, w := range want.Values[j] {
			if g := got.Values[j][i]; math.Float64bits(g) != math.Float64bits(w) {
				t.Fatalf("column %s, row %d: previous shard %v, today's %v", want.Columns[j], i, g, w)
			}
		}
	}
}
