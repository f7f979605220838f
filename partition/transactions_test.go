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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// txnRow is one transaction as a reader should see it.
type txnRow struct {
	key     string
	time    int64
	amount  float64
	invoice string
	ret     bool
}

type txnTable struct {
	csv     string
	rows    []txnRow // rows with a customer id, file order
	skipped int64    // rows without one
}

// genTransactions generates n rows of
// invoice,customer,when,qty,price,amount,country with times formatted by
// layout (TimeFormatUnix for seconds). Customers repeat, several rows share
// a time (so the invoice decides their order, and then file order), some
// invoices are empty, some quantities negative, and about one row in
// fifteen has no customer id.
func genTransactions(n int, seed uint64, layout string) txnTable {
	rng := rand.New(rand.NewPCG(seed, 5))
	var tb txnTable
	var b strings.Builder
	b.WriteString("invoice,customer,when,qty,price,amount,country\n")
	base := time.Date(2010, 12, 1, 8, 0, 0, 0, time.UTC).Unix()
	for range n {
		key := strconv.Itoa(12000 + rng.IntN(80))
		if rng.IntN(15) == 0 {
			key = ""
		}
		sec := base + int64(rng.IntN(50))*86400 + int64(rng.IntN(3))*3600
		when := strconv.FormatInt(sec, 10)
		if layout != TimeFormatUnix {
			when = time.Unix(sec, 0).UTC().Format(layout)
			// A layout without seconds cannot carry them.
			t, _ := time.Parse(layout, when)
			sec = t.Unix()
		}
		invoice := strconv.Itoa(536000 + rng.IntN(40))
		if rng.IntN(10) == 0 {
			invoice = ""
		}
		qty := rng.IntN(24) + 1
		if rng.IntN(8) == 0 {
			qty = -qty
			invoice = "C" + invoice
		}
		price := float64(rng.IntN(1000)) / 100
		amount := float64(qty) * price
		fmt.Fprintf(&b, "%s,%s,%s,%d,%s,%s,\"United Kingdom, UK\"\n", invoice, key, when, qty,
			strconv.FormatFloat(price, 'g', -1, 64), strconv.FormatFloat(amount, 'g', -1, 64))
		if key == "" {
			tb.skipped++
			continue
		}
		tb.rows = append(tb.rows, txnRow{key: key, time: sec, amount: amount, invoice: invoice, ret: qty < 0})
	}
	tb.csv = b.String()
	return tb
}

// expectedTxnShards places rows by ShardOf(key, n) and sorts each shard by
// (key, time, invoice), file order among equals.
func expectedTxnShards(rows []txnRow, n int) [][]txnRow {
	out := make([][]txnRow, n)
	for _, r := range rows {
		i := ShardOf(r.key, n)
		out[i] = append(out[i], r)
	}
	for _, s := range out {
		slices.SortStableFunc(s, func(a, b txnRow) int {
			return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.time, b.time), strings.Compare(a.invoice, b.invoice))
		})
	}
	return out
}

func readTransactionsFile(t testing.TB, sf ShardFile) *Transactions {
	t.Helper()
	data, err := os.ReadFile(sf.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != sf.Size || sha256Hex(data) != sf.SHA256 {
		t.Fatalf("%s: size or checksum differs from the ShardFile", sf.Path)
	}
	s, err := ReadTransactions(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadTransactions(%s): %v", sf.Path, err)
	}
	return s
}

// checkTransactionsShape checks the invariants every Transactions holds.
func checkTransactionsShape(t testing.TB, s *Transactions) {
	t.Helper()
	n := len(s.Time)
	if len(s.Ptr) != len(s.Keys)+1 || s.Ptr[0] != 0 || int(s.Ptr[len(s.Keys)]) != n ||
		len(s.Amount) != n || len(s.Return) != n || (s.Invoice != nil && len(s.Invoice) != n) {
		t.Fatalf("shape: %d keys, %d ptr, %d times, %d amounts, %d returns, %d invoices",
			len(s.Keys), len(s.Ptr), n, len(s.Amount), len(s.Return), len(s.Invoice))
	}
	for k := range s.Keys {
		if k > 0 && s.Keys[k] <= s.Keys[k-1] {
			t.Fatalf("keys not strictly ascending at %d", k)
		}
		if s.Ptr[k+1] <= s.Ptr[k] {
			t.Fatalf("key %q has no rows", s.Keys[k])
		}
		for r := s.Ptr[k] + 1; r < s.Ptr[k+1]; r++ {
			if s.Time[r] < s.Time[r-1] || s.Time[r] == s.Time[r-1] && s.Invoice != nil && s.Invoice[r] < s.Invoice[r-1] {
				t.Fatalf("key %q: rows not ascending by (time, invoice)", s.Keys[k])
			}
		}
	}
	for _, v := range s.Amount {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("amount %v", v)
		}
	}
}

func flattenTxn(s *Transactions) []txnRow {
	var out []txnRow
	for k, key := range s.Keys {
		for r := s.Ptr[k]; r < s.Ptr[k+1]; r++ {
			row := txnRow{key: key, time: s.Time[r], amount: s.Amount[r], ret: s.Return[r]}
			if s.Invoice != nil {
				row.invoice = s.Invoice[r]
			}
			out = append(out, row)
		}
	}
	return out
}

// checkTxnShards checks that res's files hold exactly the rows of tb.
func checkTxnShards(t *testing.T, res *TransactionResult, want []txnRow, n int, keyCol string) {
	t.Helper()
	exp := expectedTxnShards(want, n)
	if len(res.Shards) != n {
		t.Fatalf("%d shard files, want %d", len(res.Shards), n)
	}
	var customers int64
	for i, sf := range res.Shards {
		s := readTransactionsFile(t, sf)
		checkTransactionsShape(t, s)
		if s.KeyColumn != keyCol {
			t.Fatalf("shard %d: KeyColumn %q, want %q", i, s.KeyColumn, keyCol)
		}
		if sf.Index != i || sf.Rows != int64(len(exp[i])) {
			t.Fatalf("shard %d: ShardFile %+v, want %d rows", i, sf, len(exp[i]))
		}
		if got := flattenTxn(s); !slices.Equal(got, exp[i]) {
			t.Fatalf("shard %d:\n got %v\nwant %v", i, got, exp[i])
		}
		customers += int64(len(s.Keys))
	}
	keys := map[string]bool{}
	var returns int64
	first, last := want[0].time, want[0].time
	amounts := make([]float64, len(want))
	for i, r := range want {
		keys[r.key] = true
		if r.ret {
			returns++
		}
		first, last = min(first, r.time), max(last, r.time)
		amounts[i] = r.amount
	}
	if res.Rows != int64(len(want)) || res.Customers != int64(len(keys)) || customers != res.Customers || res.Returns != returns {
		t.Errorf("Rows, Customers, Returns = %d, %d, %d (shards hold %d customers), want %d, %d, %d",
			res.Rows, res.Customers, res.Returns, customers, len(want), len(keys), returns)
	}
	if !res.FirstTime.Equal(time.Unix(first, 0)) || !res.LastTime.Equal(time.Unix(last, 0)) || res.FirstTime.Location() != time.UTC {
		t.Errorf("FirstTime, LastTime = %v, %v, want %v, %v UTC", res.FirstTime, res.LastTime, time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC())
	}
	ws := refStats(res.Amount.Name, amounts)
	if got := res.Amount; got.Count != ws.Count || got.Min != ws.Min || got.Max != ws.Max ||
		!approxEqual(got.Mean, ws.Mean, 1e-9) || !approxEqual(got.Std, ws.Std, 1e-9) {
		t.Errorf("Amount stats:\n got %+v\nwant %+v", got, ws)
	}
}

func splitTransactions(t testing.TB, name, csv string, opts TransactionOptions) (*TransactionResult, error) {
	t.Helper()
	path := writeFile(t, name, []byte(csv))
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	return SplitTransactions(context.Background(), path, opts)
}

func TestSplitTransactionsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		layout         string
		shards, group  int
		quantity, skip bool
	}{
		{"2006-01-02 15:04:05", 5, 30, true, true},
		{time.RFC3339, 1, 0, false, true},
		{"2006-01-02T15:04:05", 9, 7, true, true},
		{"2006-01-02 15:04", 3, 0, false, true},
		{"2006-01-02", 16, 0, true, true},
		{TimeFormatUnix, 4, 0, true, true},
	} {
		t.Run(fmt.Sprintf("%s/shards=%d/quantity=%v", tc.layout, tc.shards, tc.quantity), func(t *testing.T) {
			tb := genTransactions(1200, uint64(tc.shards), tc.layout)
			opts := TransactionOptions{Key: "customer", Time: "when", Invoice: "invoice", SkipMissingKey: tc.skip,
				Shards: tc.shards, RowGroupRows: tc.group}
			if tc.quantity {
				opts.Quantity, opts.Price = "qty", "price"
			} else {
				opts.Amount = "amount"
			}
			dir := t.TempDir()
			opts.TempDir = dir
			res, err := splitTransactions(t, "tx.csv", tb.csv, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.SkippedMissingKey != tb.skipped {
				t.Errorf("SkippedMissingKey = %d, want %d", res.SkippedMissingKey, tb.skipped)
			}
			checkTxnShards(t, res, tb.rows, tc.shards, "customer")
			if ents, _ := os.ReadDir(dir); len(ents) != tc.shards {
				t.Errorf("TempDir holds %d entries, want %d shard files", len(ents), tc.shards)
			}
		})
	}
}

func TestSplitTransactionsNoInvoice(t *testing.T) {
	tb := genTransactions(400, 2, "2006-01-02 15:04:05")
	res, err := splitTransactions(t, "tx.csv", tb.csv, TransactionOptions{Key: "customer", Time: "when", Amount: "amount", SkipMissingKey: true, Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]txnRow, len(tb.rows))
	for i, r := range tb.rows {
		r.invoice = "" // order among equal times is file order
		want[i] = r
	}
	checkTxnShards(t, res, want, 3, "customer")
	if s := readTransactionsFile(t, res.Shards[0]); s.Invoice != nil {
		t.Errorf("Invoice = %q, want nil without an invoice column", s.Invoice)
	}
}

func TestSplitTransactionsGzip(t *testing.T) {
	tb := genTransactions(300, 6, "2006-01-02 15:04:05")
	path := writeFile(t, "tx.csv.gz", gzipBytes(t, []byte(tb.csv)))
	res, err := SplitTransactions(context.Background(), path, TransactionOptions{
		Key: "customer", Time: "when", Quantity: "qty", Price: "price", Invoice: "invoice", SkipMissingKey: true, Shards: 4, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	checkTxnShards(t, res, tb.rows, 4, "customer")
}

// TestSplitTransactionsReturns checks that every kind of return is kept
// and flagged: a negative quantity (even at price 0), a negative price, a
// negative amount.
func TestSplitTransactionsReturns(t *testing.T) {
	csv := "c,t,q,p\n" +
		"a,2011-01-01,2,1.5\n" +
		"a,2011-01-02,-2,1.5\n" +
		"b,2011-01-01,-1,0\n" +
		"b,2011-01-02,1,-11062.06\n" +
		"b,2011-01-03,0,4\n"
	res, err := splitTransactions(t, "r.csv", csv, TransactionOptions{Key: "c", Time: "t", Quantity: "q", Price: "p", Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) int64 { return time.Date(2011, 1, d, 0, 0, 0, 0, time.UTC).Unix() }
	want := []txnRow{
		{"a", day(1), 3, "", false}, {"a", day(2), -3, "", true},
		{"b", day(1), math.Copysign(0, -1), "", true}, {"b", day(2), -11062.06, "", true}, {"b", day(3), 0, "", false},
	}
	checkTxnShards(t, res, want, 1, "c")
	if res.Returns != 3 || res.Amount.Name != "amount" {
		t.Errorf("Returns = %d, amount column %q", res.Returns, res.Amount.Name)
	}
	res, err = splitTransactions(t, "r.csv", "c,t,amount\na,2011-01-01,-5\na,2011-01-02,5\n", TransactionOptions{Key: "c", Time: "t", Amount: "amount", Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Returns != 1 || res.Rows != 2 {
		t.Errorf("Returns, Rows = %d, %d, want 1, 2", res.Returns, res.Rows)
	}
}

func TestSplitTransactionsTimes(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	want := time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC)
	for _, tc := range []struct {
		field, format string
		loc           *time.Location
		want          time.Time
	}{
		{"2010-12-01 08:26:00", "", nil, want},
		{"2010-12-01T08:26:00Z", "", nil, want},
		{"2010-12-01T09:26:00+01:00", "", nil, want},
		{"2010-12-01T08:26:00.75Z", "", nil, want}, // rounded down to seconds
		{"2010-12-01T08:26:00", "", nil, want},
		{"2010-12-01 08:26", "", nil, want},
		{"2010-12-01", "", nil, want.Truncate(24 * time.Hour)},
		{strconv.FormatInt(want.Unix(), 10), "", nil, want},
		{"2010-12-01 09:26:00", "", paris, want},
		{"2010-12-01T08:26:00Z", "", paris, want}, // a zone in the value wins
		{"01/12/2010 08:26", "02/01/2006 15:04", nil, want},
		{"20101201", "20060102", nil, want.Truncate(24 * time.Hour)},
		{"20101201", TimeFormatUnix, nil, time.Unix(20101201, 0)},
	} {
		csv := "c,t,a\nx," + tc.field + ",1\n"
		res, err := splitTransactions(t, "t.csv", csv, TransactionOptions{Key: "c", Time: "t", Amount: "a", TimeFormat: tc.format, Location: tc.loc, Shards: 1})
		if err != nil {
			t.Errorf("%q (format %q): %v", tc.field, tc.format, err)
			continue
		}
		if !res.FirstTime.Equal(tc.want) || !res.LastTime.Equal(tc.want) {
			t.Errorf("%q (format %q, %v): time %v, want %v", tc.field, tc.format, tc.loc, res.FirstTime, tc.want)
		}
		if s := readTransactionsFile(t, res.Shards[0]); s.Time[0] != tc.want.Unix() {
			t.Errorf("%q: stored %d, want %d", tc.field, s.Time[0], tc.want.Unix())
		}
	}
}

var transactionErrorCases = []struct {
	name   string
	csv    string
	opts   TransactionOptions
	want   error
	line   int
	column string
	msg    string
}{
	{"missing key", "c,t,a\nx,2011-01-01,1\n,2011-01-02,2\n", TransactionOptions{}, ErrMissingKey, 3, "c", `:3: column "c": partition: key is empty`},
	{"missing time", "c,t,a\nx,2011-01-01,1\ny,,2\n", TransactionOptions{}, ErrMissingValue, 3, "t", "value is missing"},
	{"unparseable time", "c,t,a\nx,1 Dec 2010,1\n", TransactionOptions{}, ErrBadTime, 2, "t", `"1 Dec 2010" matches none of the layouts`},
	{"ambiguous time", "c,t,a\nx,20101201,1\n", TransactionOptions{}, ErrBadTime, 2, "t", "ambiguous"},
	{"layout changes", "c,t,a\nx,2011-01-01 10:00:00,1\ny,2011-01-01,2\n", TransactionOptions{}, ErrBadTime, 3, "t",
		`"2011-01-01" does not match layout "2006-01-02 15:04:05" (detected on line 2)`},
	{"bad explicit layout", "c,t,a\nx,2011-01-01,1\n", TransactionOptions{TimeFormat: "02/01/2006"}, ErrBadTime, 2, "t", `layout "02/01/2006"`},
	{"unix out of range", "c,t,a\nx,99999999999999,1\n", TransactionOptions{TimeFormat: TimeFormatUnix}, ErrBadTime, 2, "t", ""},
	{"missing amount", "c,t,a\nx,2011-01-01,\n", TransactionOptions{}, ErrMissingValue, 2, "a", ""},
	{"text amount", "c,t,a\nx,2011-01-01,1\n\"y\nz\",2011-01-01,abc\n", TransactionOptions{}, ErrNotNumeric, 3, "a", `"abc"`},
	{"bad quantity", "c,t,q,p\nx,2011-01-01,two,1\n", TransactionOptions{Amount: "-", Quantity: "q", Price: "p"}, ErrNotNumeric, 2, "q", ""},
	{"missing price", "c,t,q,p\nx,2011-01-01,2,\n", TransactionOptions{Amount: "-", Quantity: "q", Price: "p"}, ErrMissingValue, 2, "p", ""},
	{"product overflows", "c,t,q,p\nx,2011-01-01,1e200,1e200\n", TransactionOptions{Amount: "-", Quantity: "q", Price: "p"}, ErrNotNumeric, 2, "p", "overflows"},
	{"no time column", "c,when,a\nx,2011-01-01,1\n", TransactionOptions{}, ErrNoColumn, 1, "t", ""},
	{"no invoice column", "c,t,a\nx,2011-01-01,1\n", TransactionOptions{Invoice: "inv"}, ErrNoColumn, 1, "inv", ""},
	{"invoice not utf8", "c,t,a,inv\nx,2011-01-01,1,\xff\n", TransactionOptions{Invoice: "inv"}, ErrMalformed, 2, "inv", "UTF-8"},
	{"field count", "c,t,a\nx,2011-01-01,1\ny,2011-01-01\n", TransactionOptions{}, ErrMalformed, 3, "", "record has 2 fields"},
	{"empty", "", TransactionOptions{}, ErrEmpty, 1, "", "no header row"},
	{"header only", "c,t,a\n", TransactionOptions{}, ErrEmpty, 1, "", "no data rows"},
	{"every key missing", "c,t,a\n,2011-01-01,1\n", TransactionOptions{SkipMissingKey: true}, ErrEmpty, 1, "", "no data rows"},
	// Skipped rows are not parsed further, and do not pick the layout.
	{"skip then bad time", "c,t,a\n,junk,x\nx,2011-01-01,1\ny,2011-01-02 10:00,1\n", TransactionOptions{SkipMissingKey: true}, ErrBadTime, 4, "t", "detected on line 3"},
}

func TestSplitTransactionsErrors(t *testing.T) {
	for _, tc := range transactionErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := tc.opts
			opts.Key, opts.Time, opts.Shards, opts.TempDir = "c", "t", 3, dir
			switch opts.Amount {
			case "":
				opts.Amount = "a"
			case "-":
				opts.Amount = ""
			}
			res, err := splitTransactions(t, "tx.csv", tc.csv, opts)
			checkInputError(t, res, err, "tx.csv", tc.want, tc.line, tc.column, tc.msg)
			assertEmptyDir(t, dir)
		})
	}
}

func TestTransactionOptionsValidate(t *testing.T) {
	base := TransactionOptions{Key: "c", Time: "t", Amount: "a", TempDir: "/tmp"}
	if err := base.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	qp := base
	qp.Amount, qp.Quantity, qp.Price = "", "q", "p"
	if err := qp.Validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for name, change := range map[string]func(*TransactionOptions){
		"no key":          func(o *TransactionOptions) { o.Key = "" },
		"no time":         func(o *TransactionOptions) { o.Time = "" },
		"no amount":       func(o *TransactionOptions) { o.Amount = "" },
		"amount and qty":  func(o *TransactionOptions) { o.Quantity, o.Price = "q", "p" },
		"quantity alone":  func(o *TransactionOptions) { o.Amount, o.Quantity = "", "q" },
		"price alone":     func(o *TransactionOptions) { o.Amount, o.Price = "", "p" },
		"key is time":     func(o *TransactionOptions) { o.Time = "c" },
		"invoice is key":  func(o *TransactionOptions) { o.Invoice = "c" },
		"no temp dir":     func(o *TransactionOptions) { o.TempDir = "" },
		"negative shards": func(o *TransactionOptions) { o.Shards = -1 },
		"delimiter":       func(o *TransactionOptions) { o.Delimiter = "\n" },
	} {
		o := base
		change(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: Validate = %v, want ErrInvalidOptions", name, err)
		}
		if _, err := SplitTransactionsReader(context.Background(), "x.csv", strings.NewReader("c,t,a\nx,2011-01-01,1\n"), o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: SplitTransactionsReader = %v, want ErrInvalidOptions", name, err)
		}
	}
}

func TestSplitTransactionsCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tb := genTransactions(5000, 1, "2006-01-02")
	_, err := SplitTransactionsReader(ctx, "tx.csv", strings.NewReader(tb.csv), TransactionOptions{
		Key: "customer", Time: "when", Amount: "amount", SkipMissingKey: true, Shards: 4, TempDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, dir)
}

// TestSplitTransactionsColumnNames checks the stored column names when the
// input's names clash with the generated ones.
func TestSplitTransactionsColumnNames(t *testing.T) {
	res, err := splitTransactions(t, "n.csv", "amount,is_return,q,p\nx,2011-01-01,1,2\n", TransactionOptions{
		Key: "amount", Time: "is_return", Quantity: "q", Price: "p", Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Amount.Name != "amount_1" {
		t.Errorf("amount column %q, want amount_1", res.Amount.Name)
	}
	s := readTransactionsFile(t, res.Shards[0])
	if s.KeyColumn != "amount" || s.Amount[0] != 2 || s.Return[0] {
		t.Errorf("read back %+v", s)
	}
}

// transactionShardBytes is one transactions shard file with several row
// groups.
func transactionShardBytes(t testing.TB) []byte {
	t.Helper()
	res, err := splitTransactions(t, "tx.csv", genTransactions(300, 9, "2006-01-02 15:04").csv, TransactionOptions{
		Key: "customer", Time: "when", Quantity: "qty", Price: "price", Invoice: "invoice", SkipMissingKey: true, Shards: 1, RowGroupRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Shards[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadTransactionsCorrupt(t *testing.T) {
	data := transactionShardBytes(t)
	for n := 0; n < len(data); n += 7 {
		if _, err := ReadTransactions(bytes.NewReader(data[:n]), int64(n)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt", n, len(data), err)
		}
	}
	for name, other := range map[string][]byte{"features": shardBytes(t), "interactions": interactionShardBytes(t)} {
		if _, err := ReadTransactions(bytes.NewReader(other), int64(len(other))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s shard: err = %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := ReadShard(bytes.NewReader(data), int64(len(data))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadShard of a transactions shard: err = %v, want ErrCorrupt", err)
	}
}

func TestTransactionsSizeBytes(t *testing.T) {
	data := transactionShardBytes(t)
	s, err := ReadTransactions(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	n := int64(s.Rows())
	lower := n*(8+8+1+16) + int64(len(s.Keys))*(16+4)
	if got := s.SizeBytes(); got < lower || got > 2*lower {
		t.Errorf("SizeBytes = %d, want between %d and %d", got, lower, 2*lower)
	}
}
