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

// onlineRetailSample is the Online Retail sample in the repository.
const onlineRetailSample = "../testdata/online-retail/onlineretail-sample.csv.gz"

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
