package partition

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// The Online Retail sample in the repository, and the full file where the
// shared datasets are.
const (
	onlineRetailSample = "../testdata/online-retail/onlineretail-sample.csv.gz"
	onlineRetailFull   = "/work/shared/datasets/online-retail/onlineretail.csv.gz"
)

// onlineRetailOptions are the import options the demo and the docs use.
func onlineRetailOptions(dir string) TransactionOptions {
	return TransactionOptions{
		Key: "CustomerID", Time: "InvoiceDate", Quantity: "Quantity", Price: "UnitPrice", Invoice: "InvoiceNo",
		SkipMissingKey: true, TempDir: dir,
	}
}

// onlineRetailRows reads an Online Retail file with encoding/csv and
// time.Parse, independently of Split: the rows with a customer id, the
// number without, and the line of the first without.
func onlineRetailRows(t testing.TB, path string) (rows []txnRow, missing int64, firstMissing int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec[col["CustomerID"]] == "" {
			if missing++; firstMissing == 0 {
				firstMissing, _ = cr.FieldPos(0)
			}
			continue
		}
		when, err1 := time.Parse("2006-01-02 15:04:05", rec[col["InvoiceDate"]])
		q, err2 := strconv.ParseFloat(rec[col["Quantity"]], 64)
		p, err3 := strconv.ParseFloat(rec[col["UnitPrice"]], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, txnRow{
			key: rec[col["CustomerID"]], time: when.Unix(), amount: q * p,
			invoice: rec[col["InvoiceNo"]], ret: q < 0 || q*p < 0,
		})
	}
	return rows, missing, firstMissing
}

// checkOnlineRetail imports path, compares every shard with the
// independent reading, and checks that without SkipMissingKey the import
// fails at the first row without a customer id.
func checkOnlineRetail(t *testing.T, path string) *TransactionResult {
	want, missing, firstMissing := onlineRetailRows(t, path)
	start := time.Now()
	res, err := SplitTransactions(context.Background(), path, onlineRetailOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d rows in %v", path, res.Rows+res.SkippedMissingKey, time.Since(start))
	if res.SkippedMissingKey != missing {
		t.Errorf("SkippedMissingKey = %d, want %d", res.SkippedMissingKey, missing)
	}
	checkTxnShards(t, res, want, DefaultShards, "CustomerID")

	dir := t.TempDir()
	opts := onlineRetailOptions(dir)
	opts.SkipMissingKey = false
	_, err = SplitTransactions(context.Background(), path, opts)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrMissingKey) || ie.Line != firstMissing || ie.Column != "CustomerID" || ie.File != path {
		t.Errorf("without SkipMissingKey: err = %v, want %s:%d column CustomerID: key is empty", err, path, firstMissing)
	}
	assertEmptyDir(t, dir)
	return res
}

func TestOnlineRetailSample(t *testing.T) {
	res := checkOnlineRetail(t, onlineRetailSample)
	// Counts from the sample's README.
	if res.Rows != 38296-1112 || res.Customers != 404 || res.SkippedMissingKey != 1112 {
		t.Errorf("Rows, Customers, SkippedMissingKey = %d, %d, %d, want 37184, 404, 1112", res.Rows, res.Customers, res.SkippedMissingKey)
	}
}

// TestOnlineRetail imports the full file and reads it back independently
// (about ten seconds).
func TestOnlineRetail(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("the full Online Retail file takes seconds, a minute with the race detector; the sample covers the same code")
	}
	if _, err := os.Stat(onlineRetailFull); err != nil {
		t.Skipf("dataset not present: %v", err)
	}
	res := checkOnlineRetail(t, onlineRetailFull)
	// The well-known figures of the UCI data set: 541,909 rows, 135,080
	// without a customer id, 4,372 customers, 8,905 cancellations among
	// the rest, the first invoice at 2010-12-01 08:26 and the last at
	// 2011-12-09 12:50.
	first := time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC)
	last := time.Date(2011, 12, 9, 12, 50, 0, 0, time.UTC)
	if res.Rows != 406829 || res.SkippedMissingKey != 135080 || res.Customers != 4372 || res.Returns != 8905 ||
		!res.FirstTime.Equal(first) || !res.LastTime.Equal(last) {
		t.Errorf("got %d rows, %d skipped, %d customers, %d returns, %v to %v", res.Rows, res.SkippedMissingKey, res.Customers, res.Returns, res.FirstTime, res.LastTime)
	}
}
