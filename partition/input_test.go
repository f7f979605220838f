package partition

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// wantErr fails unless err's message is exactly want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant   %s", err, want)
	}
}

// splitMsg is split with an *InputError's File cut to name, so that tests
// can compare whole messages.
func splitMsg(t *testing.T, name, csv string, opts Options) (*Result, error) {
	t.Helper()
	res, err := split(t, name, csv, opts)
	var ie *InputError
	if errors.As(err, &ie) {
		ie.File = name
	}
	return res, err
}

func TestOnBadValueFeatures(t *testing.T) {
	csv := "id,plan,v,w\n" +
		"a,gold,1,2\n" +
		"b,silver,x,3\n" +
		"c,bronze,4,y\n" +
		"b,gold,5,\n" +
		"d,tin,z,6\n" +
		"e,gold,7,8\n"
	opts := Options{Key: "id", Categorical: []string{"plan"}, Shards: 2}
	_, err := splitMsg(t, "bad.csv", csv, opts)
	wantErr(t, err, `bad.csv:3: column "v": partition: value is not a number: "x"`)

	// skip: lines 3, 4 and 6 go, and with them their keys and categories.
	opts.OnBadValue = BadValueSkip
	res, err := splitMsg(t, "bad.csv", csv, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.SkippedRows != 3 || !maps.Equal(res.BadValues, map[string]int64{"v": 2, "w": 1}) {
		t.Errorf("skip: rows %d, findings %+v", res.Rows, res.Findings)
	}
	// Columns: v, w (sniffed), then plan.
	v, w, plan := res.Columns[0], res.Columns[1], res.Columns[2]
	if v.Invalid != 2 || v.Count != 3 || v.Missing != 0 || v.Mean != 13.0/3 || w.Invalid != 1 || w.Count != 2 || w.Missing != 1 {
		t.Errorf("skip: stats v %+v w %+v", v, w)
	}
	if !slices.Equal(plan.Levels, []string{"gold"}) || !slices.Equal(plan.LevelCounts, []int64{3}) {
		t.Errorf("skip: plan levels %q counts %v", plan.Levels, plan.LevelCounts)
	}

	// missing: every row stays, so the second "b" is a duplicate.
	opts.OnBadValue = BadValueMissing
	_, err = splitMsg(t, "bad.csv", csv, opts)
	wantErr(t, err, `bad.csv:5: column "id": partition: duplicate key "b" also on line 3`)
	res, err = splitMsg(t, "bad.csv", strings.Replace(csv, "b,gold,5", "f,gold,5", 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 6 || res.SkippedRows != 0 || !maps.Equal(res.BadValues, map[string]int64{"v": 2, "w": 1}) {
		t.Errorf("missing: rows %d, findings %+v", res.Rows, res.Findings)
	}
	if v, w := res.Columns[0], res.Columns[1]; v.Invalid != 2 || v.Missing != 2 || v.Count != 4 || w.Invalid != 1 || w.Missing != 2 || w.Count != 4 {
		t.Errorf("missing: stats v %+v w %+v", v, w)
	}

	// Every row skipped: empty, and the message says why.
	_, err = splitMsg(t, "e.csv", "id,v\na,x\nb,1\n", Options{Key: "id", Columns: []string{"v"}, Input: Input{OnBadValue: BadValueSkip}})
	if err != nil {
		t.Errorf("one good row: %v", err)
	}
	_, err = splitMsg(t, "e.csv", "id,v\na,x\n", Options{Key: "id", Columns: []string{"v"}, Input: Input{OnBadValue: BadValueSkip}})
	wantErr(t, err, `e.csv:1: partition: empty input: no data rows (1 skipped for a value that is not a number)`)

	_, err = split(t, "x.csv", csv, Options{Key: "id", Input: Input{OnBadValue: "drop"}})
	wantErr(t, err, `partition: invalid options: OnBadValue "drop" is not "stop", "skip" or "missing"`)
}

func TestOnBadValueInteractionsTransactions(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, "r.csv", []byte("u,i,r\n1,10,5\n2,10,bad\n3,11,4\n"))
	opts := InteractionOptions{User: "u", Item: "i", Value: "r", Shards: 2, TempDir: dir}
	_, err := SplitInteractions(context.Background(), path, opts)
	if err == nil || !strings.HasSuffix(err.Error(), `r.csv:3: column "r": partition: value is not a number: "bad"`) {
		t.Errorf("stop: %v", err)
	}
	opts.OnBadValue = BadValueSkip
	ir, err := SplitInteractions(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ir.Rows != 2 || ir.Users != 2 || ir.SkippedRows != 1 || ir.BadValues["r"] != 1 || ir.Value.Invalid != 1 || ir.Value.Count != 2 {
		t.Errorf("interactions skip: %+v", ir)
	}
	opts.OnBadValue = BadValueMissing
	_, err = SplitInteractions(context.Background(), path, opts)
	wantErr(t, err, `partition: invalid options: OnBadValue "missing": this kind of dataset has no missing values; use "skip"`)

	path = writeFile(t, "t.csv", []byte("c,t,q,p\nx,2011-01-01,2,1.5\ny,2011-01-02,two,1\nz,2011-01-03,1,?\n,2011-01-04,1,1\n"))
	to := TransactionOptions{Key: "c", Time: "t", Quantity: "q", Price: "p", SkipMissingKey: true, Shards: 2, TempDir: t.TempDir()}
	to.OnBadValue = BadValueSkip
	tr, err := SplitTransactions(context.Background(), path, to)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Rows != 1 || tr.SkippedRows != 2 || tr.SkippedMissingKey != 1 ||
		!maps.Equal(tr.BadValues, map[string]int64{"q": 1, "p": 1}) || tr.Amount.Invalid != 2 || tr.Amount.Mean != 3 {
		t.Errorf("transactions skip: %+v", tr)
	}
	to.OnBadValue = BadValueMissing
	_, err = SplitTransactions(context.Background(), path, to)
	wantErr(t, err, `partition: invalid options: OnBadValue "missing": this kind of dataset has no missing values; use "skip"`)
}

func TestRowKey(t *testing.T) {
	// The file has a text column called "row", so the key is "row_1".
	csv := "v,row\n1,a\n2,b\nx,c\n4,d\n"
	opts := Options{Key: RowKey, Columns: []string{"v"}, Shards: 3, Input: Input{OnBadValue: BadValueSkip}}
	res := mustSplit(t, "n.csv", csv, opts)
	if res.Key != "row_1" || res.Rows != 3 || !slices.Equal(res.Ignored, []string{"row"}) {
		t.Fatalf("key %q rows %d ignored %q", res.Key, res.Rows, res.Ignored)
	}
	got := map[string]float64{}
	for _, s := range readAll(t, res) {
		if s.Key != "row_1" {
			t.Errorf("shard key column %q", s.Key)
		}
		for r, k := range s.Keys {
			got[k] = s.Values[0][r]
		}
	}
	// Row 3 was skipped and keeps its number: the rows after it do not move.
	if !maps.Equal(got, map[string]float64{"1": 1, "2": 2, "4": 4}) {
		t.Errorf("rows by key %v", got)
	}
	again := mustSplit(t, "n.csv", csv, opts)
	for i := range res.Shards {
		if res.Shards[i].SHA256 != again.Shards[i].SHA256 {
			t.Errorf("shard %d differs on re-import", i)
		}
	}
	// Without a clash the key column is "row"; with Names there is no header.
	res = mustSplit(t, "h.csv", "5,6\n7,8\n", Options{Key: RowKey, Shards: 1, Input: Input{Names: []string{"a", "b"}}})
	if s := readAll(t, res)[0]; res.Key != "row" || !slices.Equal(s.Keys, []string{"1", "2"}) || !slices.Equal(s.Columns, []string{"a", "b"}) {
		t.Errorf("key %q keys %q columns %q", res.Key, s.Keys, s.Columns)
	}
}

func TestNames(t *testing.T) {
	opts := Options{Key: "id", Shards: 1, Input: Input{Names: []string{"id", "v"}}}
	res := mustSplit(t, "n.csv", "a,1\nb,2\n", opts)
	if v, _ := readAll(t, res)[0].Column("v"); res.Rows != 2 || !slices.Equal(v, []float64{1, 2}) {
		t.Errorf("rows %d v %v", res.Rows, v)
	}
	// Lines count from the first data line.
	_, err := splitMsg(t, "n.csv", "a,1\nb,x\nc,3\n", opts)
	wantErr(t, err, `n.csv:2: column "v": partition: value is not a number: "x"`)
	_, err = splitMsg(t, "n.csv", "a,1,2\nb,2,3\n", opts)
	wantErr(t, err, `n.csv:1: partition: malformed CSV: record has 3 fields, 2 names given`)
	_, err = splitMsg(t, "n.csv", "a,1\nb,2,3\n", opts)
	wantErr(t, err, `n.csv:2: partition: malformed CSV: record has 3 fields, 2 names given`)
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"id", "v", "v"}, `partition: invalid options: Names: "v" is given twice (names 2 and 3)`},
		{[]string{"id", ""}, `partition: invalid options: Names: name 2 is empty`},
		{[]string{"\xff", "id"}, `partition: invalid options: Names: name 1, "\xff", is not valid UTF-8`},
		{[]string{}, `partition: invalid options: Names: no names`},
	} {
		_, err := split(t, "n.csv", "a,1\n", Options{Key: "id", Input: Input{Names: tc.names}})
		wantErr(t, err, tc.want)
	}
	_, err = splitMsg(t, "n.csv", "a,1\n", Options{Key: "cust", Input: Input{Names: []string{"id", "v"}}})
	wantErr(t, err, `n.csv: column "cust": partition: key column not in header`)
}

func TestMultiCharDelimiter(t *testing.T) {
	// MovieLens ratings.dat: no header, "::" between fields.
	dat := "1::1193::5::978300760\r\n1::661::3::978302109\n\n2::1193::4::978298413"
	path := writeFile(t, "ratings.dat", []byte(dat))
	in := Input{Delimiter: "::", Names: []string{"user", "item", "rating", "ts"}}
	opts := InteractionOptions{User: "user", Item: "item", Value: "rating", Shards: 2, TempDir: t.TempDir(), Input: in}
	ir, err := SplitInteractions(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ir.Rows != 3 || ir.Users != 2 || ir.Items != 2 || ir.Value.Mean != 4 {
		t.Errorf("ratings: %+v", ir)
	}
	path = writeFile(t, "ratings.dat", []byte("1::1193::5::978300760\n\n1::661::3\n"))
	opts.TempDir = t.TempDir()
	_, err = SplitInteractions(context.Background(), path, opts)
	if err == nil || !strings.HasSuffix(err.Error(), `ratings.dat:3: partition: malformed CSV: record has 3 fields, 4 names given`) {
		t.Errorf("short line: %v", err)
	}
	assertEmptyDir(t, opts.TempDir)

	// Quotes are ordinary characters; the header row counts as usual.
	res := mustSplit(t, "q.txt", "id||v||note\n\"a\"||1||x, \"y\"\nb||2||\n", Options{Key: "id", Shards: 1, Input: Input{Delimiter: "||"}})
	s := readAll(t, res)[0]
	if !slices.Equal(s.Keys, []string{`"a"`, "b"}) || !slices.Equal(res.Ignored, []string{"note"}) {
		t.Errorf("keys %q ignored %q", s.Keys, res.Ignored)
	}
	_, err = splitMsg(t, "q.txt", "id||v\na||1\nb||2||3\n", Options{Key: "id", Input: Input{Delimiter: "||"}})
	wantErr(t, err, `q.txt:3: partition: malformed CSV: record has 3 fields, header has 2`)

	tpath := writeFile(t, "t.txt", []byte("c;;t;;a\nx;;2011-01-01;;2\ny;;2011-01-02;;3\n"))
	tr, err := SplitTransactions(context.Background(), tpath, TransactionOptions{Key: "c", Time: "t", Amount: "a", Shards: 2, TempDir: t.TempDir(), Input: Input{Delimiter: ";;"}})
	if err != nil || tr.Rows != 2 || tr.Customers != 2 {
		t.Errorf("transactions: %+v, %v", tr, err)
	}
	// A line longer than the read buffer, and its field cut in the error.
	long := strings.Repeat("7x", 200_000)
	_, err = splitMsg(t, "q.txt", "id||v\na||1\nb||"+long+"\n", Options{Key: "id", Columns: []string{"v"}, Input: Input{Delimiter: "||"}})
	wantErr(t, err, `q.txt:3: column "v": partition: value is not a number: "`+long[:200]+`"… (400000 bytes)`)
	_, err = split(t, "x.csv", "id\n", Options{Key: "id", Input: Input{Delimiter: "a\nb"}})
	wantErr(t, err, `partition: invalid options: Delimiter "a\nb" cannot separate fields`)
}

func TestErrorsQuoteAtMost200Bytes(t *testing.T) {
	long := strings.Repeat("x", 5000)
	_, err := splitMsg(t, "l.csv", "id,v\na,1\nb,"+long+"\n", Options{Key: "id", Columns: []string{"v"}})
	wantErr(t, err, `l.csv:3: column "v": partition: value is not a number: "`+long[:200]+`"… (5000 bytes)`)
	// Cut at a character boundary: 66 three-byte euros fit in 200 bytes.
	euros := strings.Repeat("€", 100)
	_, err = splitMsg(t, "l.csv", "id,v\n"+euros+",1\n"+euros+",2\n", Options{Key: "id"})
	wantErr(t, err, `l.csv:3: column "id": partition: duplicate key "`+strings.Repeat("€", 66)+`"… (300 bytes) also on line 2`)
	// A runaway column name in a header error.
	_, err = splitMsg(t, "l.csv", "id,"+long+","+long+"\na,1,2\n", Options{Key: "id"})
	wantErr(t, err, `l.csv:1: column "`+long[:200]+`"… (5000 bytes): partition: duplicate column in header`)
	if got := quoteField("short"); got != `"short"` {
		t.Errorf("quoteField(short) = %s", got)
	}
}
