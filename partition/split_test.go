package partition

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// table is a generated CSV together with the values a reader should see.
type table struct {
	csv     string
	keys    []string    // file order
	lines   []int       // line each row starts on
	columns []string    // numeric columns, header order
	values  [][]float64 // values[j][i], NaN = missing
}

// genTable generates rows rows of id,a,name,b,c: a is a float (sometimes
// blank or space-padded), name a quoted text with commas, b an integer
// (often blank), c spans extreme magnitudes.
func genTable(rows int, seed uint64) table {
	rng := rand.New(rand.NewPCG(seed, 7))
	tb := table{columns: []string{"a", "b", "c"}, values: make([][]float64, 3)}
	var b strings.Builder
	b.WriteString("id,a,name,b,c\n")
	line := 2
	for i, p := range rng.Perm(rows) {
		key := fmt.Sprintf("cust-%05d", p)
		fa, va := numField(rng, rng.NormFloat64()*1000)
		fb, vb := numField(rng, float64(rng.IntN(100)-50))
		fc, vc := numField(rng, math.Ldexp(rng.Float64()-0.5, rng.IntN(2000)-1000))
		name := fmt.Sprintf("\"Name, %d\"", i)
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", key, fa, name, fb, fc)
		tb.keys = append(tb.keys, key)
		tb.lines = append(tb.lines, line)
		line++
		for j, v := range []float64{va, vb, vc} {
			tb.values[j] = append(tb.values[j], v)
		}
	}
	tb.csv = b.String()
	return tb
}

// numField formats x as a CSV field, sometimes blank (NaN) or padded.
func numField(rng *rand.Rand, x float64) (string, float64) {
	switch rng.IntN(10) {
	case 0:
		return "", math.NaN()
	case 1:
		return "  ", math.NaN()
	case 2:
		return " " + strconv.FormatFloat(x, 'g', -1, 64) + " ", x
	case 3:
		return strconv.FormatFloat(x, 'e', 17, 64), x
	}
	return strconv.FormatFloat(x, 'g', -1, 64), x
}

// checkRoundTrip asserts that shards hold every row of tb exactly once, in
// file order within each shard, values bit-equal.
func checkRoundTrip(t *testing.T, tb table, res *Result, shards []*Shard) {
	t.Helper()
	pos := make(map[string]int, len(tb.keys))
	for i, k := range tb.keys {
		pos[k] = i
	}
	seen := make([]bool, len(tb.keys))
	var total int
	for si, s := range shards {
		if res.Shards[si].Rows != int64(s.Rows()) {
			t.Errorf("shard %d: Result says %d rows, file has %d", si, res.Shards[si].Rows, s.Rows())
		}
		if !slices.Equal(s.Columns, tb.columns) || s.Key != "id" {
			t.Fatalf("shard %d: key %q columns %q, want id %q", si, s.Key, s.Columns, tb.columns)
		}
		prev := -1
		for r, k := range s.Keys {
			i, ok := pos[k]
			switch {
			case !ok:
				t.Fatalf("shard %d: unknown key %q", si, k)
			case seen[i]:
				t.Fatalf("key %q read twice", k)
			case i < prev:
				t.Errorf("shard %d: key %q out of file order", si, k)
			case ShardOf(k, len(shards)) != si:
				t.Errorf("key %q in shard %d, ShardOf says %d", k, si, ShardOf(k, len(shards)))
			}
			seen[i], prev = true, i
			for j := range tb.columns {
				if got, want := s.Values[j][r], tb.values[j][i]; !sameFloat(got, want) {
					t.Errorf("key %q column %s: got %v, want %v", k, tb.columns[j], got, want)
				}
			}
		}
		total += s.Rows()
	}
	if total != len(tb.keys) || res.Rows != int64(len(tb.keys)) {
		t.Errorf("read %d rows, Result.Rows %d, want %d", total, res.Rows, len(tb.keys))
	}
}

func TestSplitRoundTrip(t *testing.T) {
	tb := genTable(2000, 1)
	res := mustSplit(t, "gen.csv", tb.csv, Options{Key: "id", Shards: 7, RowGroupRows: 50})
	checkRoundTrip(t, tb, res, readAll(t, res))
	if !slices.Equal(res.Ignored, []string{"name"}) {
		t.Errorf("Ignored = %q, want [name]", res.Ignored)
	}
	// Stats against a two-pass reference; Welford and two-pass agree to
	// rounding, so 1e-9 relative is ample.
	if len(res.Columns) != len(tb.columns) {
		t.Fatalf("got %d column stats, want %d", len(res.Columns), len(tb.columns))
	}
	for j, got := range res.Columns {
		want := refStats(tb.columns[j], tb.values[j])
		if got.Name != want.Name || got.Count != want.Count || got.Missing != want.Missing ||
			got.Min != want.Min || got.Max != want.Max ||
			!approxEqual(got.Mean, want.Mean, 1e-9) || !approxEqual(got.Std, want.Std, 1e-9) {
			t.Errorf("stats:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestSplitShardFiles(t *testing.T) {
	tb := genTable(300, 2)
	dir := t.TempDir()
	res := mustSplit(t, "gen.csv", tb.csv, Options{Key: "id", Shards: 5, TempDir: dir})
	ents, _ := os.ReadDir(dir)
	if len(ents) != 5 || len(res.Shards) != 5 {
		t.Fatalf("%d files, %d ShardFiles, want 5", len(ents), len(res.Shards))
	}
	for i, sf := range res.Shards {
		data, err := os.ReadFile(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if sf.Index != i || filepath.Dir(sf.Path) != dir || sf.Size != int64(len(data)) ||
			sf.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("shard %d: %+v does not describe its %d-byte file", i, sf, len(data))
		}
	}
	// The same input gives byte-identical shards.
	again := mustSplit(t, "gen.csv", tb.csv, Options{Key: "id", Shards: 5})
	for i := range res.Shards {
		if res.Shards[i].SHA256 != again.Shards[i].SHA256 {
			t.Errorf("shard %d: checksum differs between runs", i)
		}
	}
}

func TestSplitEmptyShardsExist(t *testing.T) {
	res := mustSplit(t, "one.csv", "id,x\nonly,1\n", Options{Key: "id", Shards: 16})
	var rows int64
	for _, sf := range res.Shards {
		s := readShardFile(t, sf.Path)
		if s.Rows() != int(sf.Rows) || !slices.Equal(s.Columns, []string{"x"}) {
			t.Errorf("shard %d: %d rows, columns %q", sf.Index, s.Rows(), s.Columns)
		}
		rows += sf.Rows
	}
	if rows != 1 || len(res.Shards) != 16 {
		t.Errorf("%d rows in %d shards, want 1 in 16", rows, len(res.Shards))
	}
}

func TestSplitExplicitColumns(t *testing.T) {
	csv := "x,id,y,z\n1,a,2,3\n4,b,,6\n"
	res := mustSplit(t, "e.csv", csv, Options{Key: "id", Columns: []string{"z", "x"}, Shards: 1})
	s := readAll(t, res)[0]
	if !slices.Equal(s.Columns, []string{"z", "x"}) || !slices.Equal(res.Ignored, []string{"y"}) {
		t.Fatalf("columns %q ignored %q, want [z x] [y]", s.Columns, res.Ignored)
	}
	z, _ := s.Column("z")
	x, _ := s.Column("x")
	if !slices.Equal(z, []float64{3, 6}) || !slices.Equal(x, []float64{1, 4}) {
		t.Errorf("z=%v x=%v", z, x)
	}
	if _, ok := s.Column("y"); ok {
		t.Error("Column(y) found an ignored column")
	}
}

func TestSplitSniff(t *testing.T) {
	csv := "id,plan,spend,notes,visits,flag\n" +
		"a,gold,1.5,,3,\n" +
		"b,silver, 2 ,ok,,\n" +
		"c,gold,,\"x,y\",5,\n"
	res := mustSplit(t, "s.csv", csv, Options{Key: "id", Shards: 2})
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	// flag is blank in every sniffed row, which counts as numeric.
	if !slices.Equal(names, []string{"spend", "visits", "flag"}) {
		t.Errorf("imported %q, want [spend visits flag]", names)
	}
	if !slices.Equal(res.Ignored, []string{"plan", "notes"}) {
		t.Errorf("ignored %q, want [plan notes]", res.Ignored)
	}
	if c := res.Columns[2]; c.Count != 0 || c.Missing != 3 || c.Mean != 0 || c.Std != 0 {
		t.Errorf("all-missing column stats %+v", c)
	}
}

// TestSplitTypoAnywhere checks that a typo in a numeric column stops the
// split with the same error whether it lies among the sniffed rows or far
// after them: it never turns the column into ignored text.
func TestSplitTypoAnywhere(t *testing.T) {
	for _, row := range []int{5, 3000} {
		var b strings.Builder
		b.WriteString("id,charges,plan\n")
		for i := 1; i <= 3000; i++ {
			v := strconv.Itoa(i)
			if i == row {
				v = "12O.5"
			}
			fmt.Fprintf(&b, "c%d,%s,gold\n", i, v)
		}
		_, err := split(t, "typo.csv", b.String(), Options{Key: "id"})
		want := fmt.Sprintf(`typo.csv:%d: column "charges": partition: value is not a number: "12O.5"`, row+1)
		if err == nil || !strings.HasSuffix(err.Error(), want) || !errors.Is(err, ErrNotNumeric) {
			t.Errorf("typo on data row %d: err = %v, want …%s", row, err, want)
		}
	}
	// Numbers within the first SniffRows rows, text after: the same error.
	_, err := split(t, "w.csv", "id,v\na,1\nb,2\nc,three\n", Options{Key: "id", SniffRows: 2})
	if want := `w.csv:4: column "v": partition: value is not a number: "three"`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %v, want …%s", err, want)
	}
}

// TestSplitTextColumns checks the other side of the numeric-looking rule:
// a column whose non-empty values are mostly text is text, ignored (and
// listed), even with a few number-like values; an all-empty one is numeric.
func TestSplitTextColumns(t *testing.T) {
	csv := "id,zip,code,empty,v\n" +
		"a,N1 9GU,12,,1\n" +
		"b,2134,A-7,,2\n" +
		"c,SW1A 1AA,B-9,,3\n" +
		"d,,C-1,,4\n"
	res := mustSplit(t, "t.csv", csv, Options{Key: "id", Shards: 1})
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"empty", "v"}) || !slices.Equal(res.Ignored, []string{"zip", "code"}) {
		t.Errorf("imported %q ignored %q, want [empty v] [zip code]", names, res.Ignored)
	}
	// A tie is text too: one number and one word.
	res = mustSplit(t, "tie.csv", "id,v\na,1\nb,x\n", Options{Key: "id", Shards: 1})
	if len(res.Columns) != 0 || !slices.Equal(res.Ignored, []string{"v"}) {
		t.Errorf("tie: columns %+v ignored %q", res.Columns, res.Ignored)
	}
}

func TestSplitGzip(t *testing.T) {
	tb := genTable(500, 3)
	plain := mustSplit(t, "g.csv", tb.csv, Options{Key: "id", Shards: 3})
	gz := gzipBytes(t, []byte(tb.csv))
	for _, name := range []string{"g.csv.gz", "g.csv"} { // by name, and by magic
		path := writeFile(t, name, gz)
		res, err := Split(context.Background(), path, Options{Key: "id", Shards: 3, TempDir: t.TempDir()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkRoundTrip(t, tb, res, readAll(t, res))
		for i := range res.Shards {
			if res.Shards[i].SHA256 != plain.Shards[i].SHA256 {
				t.Errorf("%s: shard %d differs from the plain CSV's", name, i)
			}
		}
	}
	// A .gz name on bytes that are not gzip is an error.
	if _, err := split(t, "bad.csv.gz", tb.csv, Options{Key: "id"}); err == nil {
		t.Error("plain bytes named .gz: no error")
	}
}

func TestSplitSemicolonQuoted(t *testing.T) {
	csv := "\"id\";\"label\";\"amount\"\n" +
		"\"k;1\";\"a \"\"quoted\"\"; label\";\"12.5\"\n" +
		"k2;plain; -3 \n"
	res := mustSplit(t, "semi.csv", csv, Options{Key: "id", Input: Input{Delimiter: ";"}, Shards: 1})
	s := readAll(t, res)[0]
	amount, _ := s.Column("amount")
	if !slices.Equal(s.Keys, []string{"k;1", "k2"}) || !slices.Equal(amount, []float64{12.5, -3}) {
		t.Errorf("keys %q amount %v", s.Keys, amount)
	}
	if !slices.Equal(res.Ignored, []string{"label"}) {
		t.Errorf("ignored %q, want [label]", res.Ignored)
	}
}

func TestSplitBOM(t *testing.T) {
	res := mustSplit(t, "bom.csv", "\ufeffid,x\na,1\n", Options{Key: "id", Shards: 1})
	if res.Key != "id" || len(res.Columns) != 1 || res.Columns[0].Name != "x" {
		t.Errorf("BOM not stripped: %+v", res)
	}
	gz := gzipBytes(t, []byte("\ufeffid,x\na,1\n"))
	path := writeFile(t, "bom.csv.gz", gz)
	if _, err := Split(context.Background(), path, Options{Key: "id", TempDir: t.TempDir()}); err != nil {
		t.Errorf("gzip with BOM: %v", err)
	}
}

func TestSplitQuotedNewline(t *testing.T) {
	csv := "id,note,v\n" +
		"a,\"two\nlines\",1\n" + // lines 2-3
		"b,\"three\r\nmore\nlines\",2\n" + // lines 4-6
		"c,x,oops\n" // line 7
	_, err := split(t, "nl.csv", csv, Options{Key: "id", Columns: []string{"v"}})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 7 {
		t.Fatalf("err = %v, want an error on line 7", err)
	}
	res := mustSplit(t, "nl.csv", strings.TrimSuffix(csv, "c,x,oops\n"), Options{Key: "id", Shards: 1})
	if res.Rows != 2 || !slices.Equal(res.Ignored, []string{"note"}) {
		t.Errorf("rows %d ignored %q", res.Rows, res.Ignored)
	}
}

func TestSplitStatsExtreme(t *testing.T) {
	csv := "id,v\na,1.7e308\nb,-1.7e308\nc,1e-300\n"
	res := mustSplit(t, "x.csv", csv, Options{Key: "id", Shards: 1})
	c := res.Columns[0]
	for _, x := range []float64{c.Min, c.Max, c.Mean, c.Std} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("non-finite stats %+v", c)
		}
	}
	want := refStats("v", []float64{1.7e308 / 4, -1.7e308 / 4, 1e-300 / 4}) // scaled: no overflow
	if !approxEqual(c.Mean/4, want.Mean, 1e-12) || !approxEqual(c.Std/4, want.Std, 1e-12) {
		t.Errorf("mean %v std %v, want %v %v", c.Mean, c.Std, want.Mean*4, want.Std*4)
	}
}

func TestSplitCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	path := writeFile(t, "c.csv", []byte(genTable(100, 4).csv))
	_, err := Split(ctx, path, Options{Key: "id", TempDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, dir)
}

func TestSplitKeepsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, shardFileName(1, 2))
	if err := os.WriteFile(foreign, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := split(t, "f.csv", "id,x\na,1\n", Options{Key: "id", Shards: 2, TempDir: dir})
	if err == nil {
		t.Fatal("Split over an existing shard file: no error")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != shardFileName(1, 2) {
		t.Errorf("dir holds %v, want only the foreign file", ents)
	}
}

func TestSplitReaderStdin(t *testing.T) {
	gz := gzipBytes(t, []byte("id,x\na,1\nb,2\n"))
	res, err := SplitReader(context.Background(), "-", bytes.NewReader(gz), Options{Key: "id", TempDir: t.TempDir(), Shards: 2})
	if err != nil || res.Rows != 2 {
		t.Fatalf("SplitReader: %v, %+v", err, res)
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{Key: "id", TempDir: "/tmp"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal options: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no key", func(o *Options) { o.Key = "" }, "Key is required"},
		{"no dir", func(o *Options) { o.TempDir = "" }, "TempDir is required"},
		{"shards<0", func(o *Options) { o.Shards = -1 }, "Shards is negative"},
		{"shards high", func(o *Options) { o.Shards = MaxShards + 1 }, "Shards is too high"},
		{"sniff<0", func(o *Options) { o.SniffRows = -1 }, "SniffRows is negative"},
		{"rg<0", func(o *Options) { o.RowGroupRows = -5 }, "RowGroupRows is negative"},
		{"delim quote", func(o *Options) { o.Delimiter = `"` }, "Delimiter"},
		{"delim newline", func(o *Options) { o.Delimiter = "\n" }, "Delimiter"},
		{"key in columns", func(o *Options) { o.Columns = []string{"id"} }, "key column"},
		{"dup columns", func(o *Options) { o.Columns = []string{"a", "a"} }, "twice"},
		{"empty column", func(o *Options) { o.Columns = []string{""} }, "empty name"},
	} {
		o := ok
		tc.edit(&o)
		err := o.Validate()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestTelcoChurn is a smoke test on the real dataset in testdata.
func TestTelcoChurn(t *testing.T) {
	const path = "../testdata/telco/Telco-Customer-Churn.csv"
	res, err := Split(context.Background(), path, Options{Key: "customerID", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	if res.Rows != 7043 || !slices.Equal(names, []string{"SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"}) {
		t.Fatalf("rows %d columns %q", res.Rows, names)
	}
	if tc := res.Columns[3]; tc.Missing != 11 || tc.Count != 7032 {
		t.Errorf("TotalCharges: %+v, want 11 missing of 7043", tc)
	}
	// Expected values from Python 3.12 statistics.fmean and pstdev on the
	// same file; agreement to 1e-12 relative.
	for i, want := range []struct{ min, max, mean, std float64 }{
		{0, 1, 0.1621468124378816, 0.36858543603093713},
		{0, 72, 32.37114865824223, 24.557737422863436},
		{18.25, 118.75, 64.76169246059918, 30.087910854936975},
		{18.8, 8684.8, 2283.3004408418656, 2266.6101807145346},
	} {
		c := res.Columns[i]
		if c.Min != want.min || c.Max != want.max || !approxEqual(c.Mean, want.mean, 1e-12) || !approxEqual(c.Std, want.std, 1e-12) {
			t.Errorf("%s: %+v, want %+v", c.Name, c, want)
		}
	}
	var rows int
	for _, s := range readAll(t, res) {
		rows += s.Rows()
	}
	if rows != 7043 {
		t.Errorf("shards hold %d rows, want 7043", rows)
	}
}

func TestSplitRowGroups(t *testing.T) {
	tb := genTable(100, 8)
	res := mustSplit(t, "rg.csv", tb.csv, Options{Key: "id", Shards: 1, RowGroupRows: 30})
	f, err := os.Open(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, res.Shards[0].Size)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 4 {
		t.Errorf("%d row groups, want 4 of at most 30 rows", n)
	}
	checkRoundTrip(t, tb, res, readAll(t, res))
}

func TestSplitCRLF(t *testing.T) {
	res := mustSplit(t, "crlf.csv", "id,x\r\na,1\r\nb, 2\r\n", Options{Key: "id", Shards: 1})
	x, _ := readAll(t, res)[0].Column("x")
	if !slices.Equal(x, []float64{1, 2}) {
		t.Errorf("x = %v", x)
	}
}

// TestWriteAllFailure checks that a failing shard conversion is reported
// and that Split's cleanup then leaves nothing behind.
func TestWriteAllFailure(t *testing.T) {
	defer func(m int64) { spillMemory = m }(spillMemory)
	spillMemory = 0 // every row in the files
	dir := t.TempDir()
	rr := newRecordReader("w.csv", bufio.NewReader(strings.NewReader("id,x\na,1\nb,2\nc,3\n")), Input{Delimiter: ","})
	sp, err := newSplitter(rr, Options{Key: "id", Shards: 3, TempDir: dir}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	sp.setColumns([]int{1})
	if err := sp.createFiles(); err != nil {
		t.Fatal(err)
	}
	recs, i := [][]string{{"a", "1"}, {"b", "1"}, {"c", "1"}}, 0
	next := func() ([]string, int, error) {
		if i == len(recs) {
			return nil, 0, io.EOF
		}
		i++
		return recs[i-1], i + 1, nil
	}
	if err := sp.readRecords(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	sp.spills[1].f.Close() // the conversion of shard 1 cannot read its rows
	if _, err := sp.finish(context.Background()); err == nil {
		t.Fatal("finish with a broken spill: no error")
	}
	sp.abort()
	assertEmptyDir(t, dir)
}
