package partition

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// interaction rows as a reader should see them, in file order.
type ixTable struct {
	csv  string
	rows []interaction // key = user, other = item
}

// genInteractions generates n rows of user,when,item[,rating] from small id
// pools, so that users and items repeat and some (user, item) pairs occur
// more than once. Some ids need quoting, some are not ASCII.
func genInteractions(n int, seed uint64, withValue bool) ixTable {
	rng := rand.New(rand.NewPCG(seed, 11))
	var tb ixTable
	var b strings.Builder
	b.WriteString("user,when,item")
	if withValue {
		b.WriteString(",rating")
	}
	b.WriteString("\n")
	for i := range n {
		user := fmt.Sprintf("u%03d", rng.IntN(60))
		if rng.IntN(20) == 0 {
			user = fmt.Sprintf("u, %d", rng.IntN(5))
		}
		item := fmt.Sprintf("item-%d", rng.IntN(45))
		if rng.IntN(25) == 0 {
			item = fmt.Sprintf("café %d", rng.IntN(3))
		}
		fmt.Fprintf(&b, "%s,2024-01-%02d,%s", csvQuote(user), 1+i%28, csvQuote(item))
		v := 1.0
		if withValue {
			v = float64(rng.IntN(9)+1) / 2
			field := strconv.FormatFloat(v, 'g', -1, 64)
			if rng.IntN(5) == 0 {
				field = " " + field + " "
			}
			b.WriteString("," + field)
		}
		b.WriteString("\n")
		tb.rows = append(tb.rows, interaction{key: user, other: item, value: v})
	}
	tb.csv = b.String()
	return tb
}

// csvQuote quotes s when it holds a comma.
func csvQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// flip swaps the sides of every row.
func flip(rows []interaction) []interaction {
	out := make([]interaction, len(rows))
	for i, r := range rows {
		out[i] = interaction{key: r.other, other: r.key, value: r.value}
	}
	return out
}

// expectedShards places rows by ShardOf(key, n) and sorts each shard by
// (key, other), file order among equals: what a layout must hold.
func expectedShards(rows []interaction, n int) [][]interaction {
	out := make([][]interaction, n)
	for _, r := range rows {
		i := ShardOf(r.key, n)
		out[i] = append(out[i], r)
	}
	for _, s := range out {
		slices.SortStableFunc(s, func(a, b interaction) int {
			return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.other, b.other))
		})
	}
	return out
}

// readInteractionsFile decodes an interactions shard file from disk.
func readInteractionsFile(t testing.TB, sf ShardFile) *Interactions {
	t.Helper()
	data, err := os.ReadFile(sf.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != sf.Size || sha256Hex(data) != sf.SHA256 {
		t.Fatalf("%s: size or checksum differs from the ShardFile", sf.Path)
	}
	s, err := ReadInteractions(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadInteractions(%s): %v", sf.Path, err)
	}
	return s
}

// checkInteractionsShape checks the invariants every Interactions holds.
func checkInteractionsShape(t testing.TB, s *Interactions) {
	t.Helper()
	if len(s.Ptr) != len(s.Keys)+1 || s.Ptr[0] != 0 || int(s.Ptr[len(s.Keys)]) != len(s.Other) || len(s.Value) != len(s.Other) {
		t.Fatalf("shape: %d keys, %d ptr, %d other, %d values", len(s.Keys), len(s.Ptr), len(s.Other), len(s.Value))
	}
	for k := range s.Keys {
		if k > 0 && s.Keys[k] <= s.Keys[k-1] {
			t.Fatalf("keys not strictly ascending at %d", k)
		}
		if s.Ptr[k+1] <= s.Ptr[k] {
			t.Fatalf("key %q has no rows", s.Keys[k])
		}
		for r := s.Ptr[k] + 1; r < s.Ptr[k+1]; r++ {
			if s.Other[r] < s.Other[r-1] {
				t.Fatalf("key %q: other ids not ascending", s.Keys[k])
			}
		}
	}
	for _, v := range s.Value {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("value %v", v)
		}
	}
}

// flatten lists a shard's rows.
func flatten(s *Interactions) []interaction {
	var out []interaction
	for k, key := range s.Keys {
		for r := s.Ptr[k]; r < s.Ptr[k+1]; r++ {
			out = append(out, interaction{key: key, other: s.Other[r], value: s.Value[r]})
		}
	}
	return out
}

// checkLayout checks that files hold exactly want, shard by shard.
func checkLayout(t *testing.T, name string, files []ShardFile, want [][]interaction, keyCol, otherCol, valueCol string) (distinct int64) {
	t.Helper()
	if len(files) != len(want) {
		t.Fatalf("%s: %d shard files, want %d", name, len(files), len(want))
	}
	for i, sf := range files {
		s := readInteractionsFile(t, sf)
		checkInteractionsShape(t, s)
		if s.KeyColumn != keyCol || s.OtherColumn != otherCol || s.ValueColumn != valueCol {
			t.Fatalf("%s shard %d: columns %q %q %q, want %q %q %q", name, i, s.KeyColumn, s.OtherColumn, s.ValueColumn, keyCol, otherCol, valueCol)
		}
		if sf.Index != i || sf.Rows != int64(len(want[i])) {
			t.Fatalf("%s shard %d: ShardFile %+v, want %d rows", name, i, sf, len(want[i]))
		}
		if got := flatten(s); !slices.Equal(got, want[i]) {
			t.Fatalf("%s shard %d:\n got %v\nwant %v", name, i, got, want[i])
		}
		distinct += int64(len(s.Keys))
	}
	return distinct
}

func distinctCount(rows []interaction, side func(interaction) string) int64 {
	seen := map[string]bool{}
	for _, r := range rows {
		seen[side(r)] = true
	}
	return int64(len(seen))
}

func splitInteractions(t testing.TB, name, csv string, opts InteractionOptions) (*InteractionResult, error) {
	t.Helper()
	path := writeFile(t, name, []byte(csv))
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	return SplitInteractions(context.Background(), path, opts)
}

func TestSplitInteractionsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		rows, shards, rowGroup int
		value                  bool
	}{
		{1500, 7, 40, true},
		{1500, 1, 0, true},
		{800, 16, 5, false},
		{3, 64, 0, true},
	} {
		t.Run(fmt.Sprintf("rows=%d/shards=%d/value=%v", tc.rows, tc.shards, tc.value), func(t *testing.T) {
			tb := genInteractions(tc.rows, uint64(tc.rows+tc.shards), tc.value)
			opts := InteractionOptions{User: "user", Item: "item", Shards: tc.shards, RowGroupRows: tc.rowGroup}
			valueCol := "value"
			if tc.value {
				opts.Value, valueCol = "rating", "rating"
			}
			dir := t.TempDir()
			opts.TempDir = dir
			res, err := splitInteractions(t, "ix.csv", tb.csv, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != int64(tc.rows) {
				t.Errorf("Rows = %d, want %d", res.Rows, tc.rows)
			}
			users := checkLayout(t, "by-user", res.ByUser, expectedShards(tb.rows, tc.shards), "user", "item", valueCol)
			items := checkLayout(t, "by-item", res.ByItem, expectedShards(flip(tb.rows), tc.shards), "item", "user", valueCol)
			wantUsers := distinctCount(tb.rows, func(r interaction) string { return r.key })
			wantItems := distinctCount(tb.rows, func(r interaction) string { return r.other })
			if res.Users != wantUsers || res.Items != wantItems || users != wantUsers || items != wantItems {
				t.Errorf("Users, Items = %d, %d (shards hold %d, %d), want %d, %d", res.Users, res.Items, users, items, wantUsers, wantItems)
			}
			values := make([]float64, len(tb.rows))
			for i, r := range tb.rows {
				values[i] = r.value
			}
			want := refStats(valueCol, values)
			got := res.Value
			if got.Name != want.Name || got.Count != want.Count || got.Missing != 0 || got.Min != want.Min || got.Max != want.Max ||
				!approxEqual(got.Mean, want.Mean, 1e-12) || !approxEqual(got.Std, want.Std, 1e-9) {
				t.Errorf("Value stats:\n got %+v\nwant %+v", got, want)
			}
			// Shard files and nothing else are left in TempDir.
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 2*tc.shards {
				t.Errorf("TempDir holds %d entries, want %d shard files", len(ents), 2*tc.shards)
			}
		})
	}
}

func TestSplitInteractionsDeterministic(t *testing.T) {
	tb := genInteractions(500, 3, true)
	opts := InteractionOptions{User: "user", Item: "item", Value: "rating", Shards: 5}
	a, err := splitInteractions(t, "a.csv", tb.csv, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := splitInteractions(t, "b.csv", tb.csv, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.ByUser {
		if a.ByUser[i].SHA256 != b.ByUser[i].SHA256 || a.ByItem[i].SHA256 != b.ByItem[i].SHA256 {
			t.Fatalf("shard %d differs between two splits of the same input", i)
		}
	}
	if filepath.Base(a.ByUser[2].Path) != "byuser-shard-00002-of-00005.parquet" ||
		filepath.Base(a.ByItem[4].Path) != "byitem-shard-00004-of-00005.parquet" {
		t.Errorf("file names %s, %s", a.ByUser[2].Path, a.ByItem[4].Path)
	}
}

func TestSplitInteractionsGzip(t *testing.T) {
	tb := genInteractions(300, 4, true)
	for _, name := range []string{"ix.csv.gz", "ix.csv"} { // by name and by magic
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, name, gzipBytes(t, []byte(tb.csv)))
			res, err := SplitInteractions(context.Background(), path, InteractionOptions{User: "user", Item: "item", Value: "rating", Shards: 3, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			checkLayout(t, "by-user", res.ByUser, expectedShards(tb.rows, 3), "user", "item", "rating")
			checkLayout(t, "by-item", res.ByItem, expectedShards(flip(tb.rows), 3), "item", "user", "rating")
		})
	}
}

func TestSplitInteractionsValueName(t *testing.T) {
	// Without a value column the values column is called "value", unless an
	// id column already is.
	res, err := splitInteractions(t, "v.csv", "value,item\na,x\na,x\nb,y\n", InteractionOptions{User: "value", Item: "item", Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, sf := range append(res.ByUser, res.ByItem...) {
		if s := readInteractionsFile(t, sf); s.ValueColumn != "value_1" {
			t.Fatalf("value column %q, want value_1", s.ValueColumn)
		}
	}
	if res.Value.Name != "value_1" || res.Value.Count != 3 || res.Value.Min != 1 || res.Value.Max != 1 || res.Value.Std != 0 {
		t.Errorf("Value stats %+v", res.Value)
	}
	if res.Users != 2 || res.Items != 2 {
		t.Errorf("Users, Items = %d, %d, want 2, 2", res.Users, res.Items)
	}
}

var interactionErrorCases = []struct {
	name   string
	csv    string
	want   error
	line   int
	column string
	msg    string
}{
	{"missing user", "user,item,r\na,x,1\n,y,2\n", ErrMissingKey, 3, "user", `:3: column "user": partition: key is empty`},
	{"blank item", "user,item,r\na,x,1\nb, ,2\n", ErrMissingKey, 3, "item", "key is empty"},
	{"missing value", "user,item,r\na,x,1\nb,y,\n", ErrMissingValue, 3, "r", "value is missing"},
	{"text value", "user,item,r\na,x,1\nb,y,good\n", ErrNotNumeric, 3, "r", `"good"`},
	{"inf value", "user,item,r\na,x,Inf\n", ErrNotNumeric, 2, "r", `"Inf"`},
	{"nan value", "user,item,r\n\"a\nb\",x,1\nc,y,nan\n", ErrNotNumeric, 4, "r", `"nan"`},
	{"no user column", "customer,item,r\na,x,1\n", ErrNoColumn, 1, "user", "column not in header"},
	{"no value column", "user,item,rating\na,x,1\n", ErrNoColumn, 1, "r", ""},
	{"field count", "user,item,r\na,x,1\nb,y\n", ErrMalformed, 3, "", "record has 2 fields"},
	{"bad quote", "user,item,r\na,x\"y,1\n", ErrMalformed, 2, "", `bare "`},
	{"id not utf8", "user,item,r\na,\xfe,1\n", ErrMalformed, 2, "item", "UTF-8"},
	{"empty", "", ErrEmpty, 1, "", "no header row"},
	{"header only", "user,item,r\n", ErrEmpty, 1, "", "no data rows"},
	{"duplicate column", "user,item,r,item\na,x,1,y\n", ErrDuplicateColumn, 1, "item", ""},
}

func TestSplitInteractionsErrors(t *testing.T) {
	for _, tc := range interactionErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := splitInteractions(t, "ix.csv", tc.csv, InteractionOptions{User: "user", Item: "item", Value: "r", Shards: 3, TempDir: dir})
			checkInputError(t, res, err, "ix.csv", tc.want, tc.line, tc.column, tc.msg)
			assertEmptyDir(t, dir)
		})
	}
}

// checkInputError checks that err is an *InputError wrapping want at
// file:line, column, its message containing msg.
func checkInputError(t *testing.T, res any, err error, file string, want error, line int, column, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; result %+v", res)
	}
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, want) {
		t.Fatalf("err = %v (%T), want an *InputError wrapping %v", err, err, want)
	}
	if filepath.Base(ie.File) != file || ie.Line != line || ie.Column != column {
		t.Errorf("at %s:%d column %q, want %s:%d column %q", ie.File, ie.Line, ie.Column, file, line, column)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
}

func TestInteractionOptionsValidate(t *testing.T) {
	ok := InteractionOptions{User: "u", Item: "i", TempDir: "/tmp"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for name, o := range map[string]InteractionOptions{
		"no user":        {Item: "i", TempDir: "/tmp"},
		"no item":        {User: "u", TempDir: "/tmp"},
		"same columns":   {User: "u", Item: "u", TempDir: "/tmp"},
		"value is id":    {User: "u", Item: "i", Value: "i", TempDir: "/tmp"},
		"no temp dir":    {User: "u", Item: "i"},
		"shards":         {User: "u", Item: "i", TempDir: "/tmp", Shards: MaxShards + 1},
		"negative group": {User: "u", Item: "i", TempDir: "/tmp", RowGroupRows: -1},
		"delimiter":      {User: "u", Item: "i", TempDir: "/tmp", Input: Input{Delimiter: `"`}},
	} {
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: Validate = %v, want ErrInvalidOptions", name, err)
		}
		if _, err := SplitInteractionsReader(context.Background(), "x.csv", strings.NewReader("u,i\na,b\n"), o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: SplitInteractionsReader = %v, want ErrInvalidOptions", name, err)
		}
	}
}

func TestSplitInteractionsCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := SplitInteractionsReader(ctx, "ix.csv", strings.NewReader(genInteractions(100, 1, false).csv), InteractionOptions{User: "user", Item: "item", Shards: 4, TempDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, dir)
}

func TestSplitInteractionsKeepsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "byitem-shard-00001-of-00002.parquet")
	if err := os.WriteFile(foreign, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := SplitInteractionsReader(context.Background(), "ix.csv", strings.NewReader("user,item\na,b\n"), InteractionOptions{User: "user", Item: "item", Shards: 2, TempDir: dir})
	if err == nil {
		t.Fatal("split over an existing shard file: no error")
	}
	ents, _ := os.ReadDir(dir)
	if data, _ := os.ReadFile(foreign); len(ents) != 1 || string(data) != "mine" {
		t.Fatalf("TempDir holds %d entries, foreign file %q", len(ents), data)
	}
}

// interactionShardBytes is one by-user shard file with several row groups.
func interactionShardBytes(t testing.TB) []byte {
	t.Helper()
	res, err := splitInteractions(t, "ix.csv", genInteractions(200, 8, true).csv, InteractionOptions{User: "user", Item: "item", Value: "rating", Shards: 1, RowGroupRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.ByUser[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadInteractionsCorrupt(t *testing.T) {
	data := interactionShardBytes(t)
	for n := 0; n < len(data); n += 7 {
		if _, err := ReadInteractions(bytes.NewReader(data[:n]), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt", n, len(data), err)
		}
	}
	// A features shard and a transactions shard are not interactions, and
	// an interactions shard is not a features shard.
	if _, err := ReadInteractions(bytes.NewReader(shardBytes(t)), int64(len(shardBytes(t)))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("features shard: err = %v, want ErrCorrupt", err)
	}
	txn := transactionShardBytes(t)
	if _, err := ReadInteractions(bytes.NewReader(txn), int64(len(txn))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("transactions shard: err = %v, want ErrCorrupt", err)
	}
	if _, err := ReadShard(bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadShard of an interactions shard: err = %v, want ErrCorrupt", err)
	}
}

func TestInteractionsSizeBytes(t *testing.T) {
	data := interactionShardBytes(t)
	s, err := ReadInteractions(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var strBytes int64
	for _, x := range append(append([]string{}, s.Keys...), s.Other...) {
		strBytes += int64(len(x))
	}
	lower := strBytes + int64(len(s.Other))*(16+8) + int64(len(s.Keys))*(16+4)
	if got := s.SizeBytes(); got < lower || got > 2*lower {
		t.Errorf("SizeBytes = %d, want between %d and %d", got, lower, 2*lower)
	}
}
