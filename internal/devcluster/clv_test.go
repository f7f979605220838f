package devcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// cdnowCSV writes algo/clv's CDNOW sample as a transactions CSV:
// customer, date, amount.
func cdnowCSV(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open("../../algo/clv/testdata/cdnow/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	b.WriteString("customer,date,amount\n")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("bad CDNOW line %q", sc.Text())
		}
		d := fs[2]
		fmt.Fprintf(&b, "%s,%s-%s-%s,%s\n", fs[0], d[:4], d[4:6], d[6:], fs[4])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func cdnowOptions() partition.TransactionOptions {
	return partition.TransactionOptions{Key: "customer", Time: "date", Amount: "amount"}
}

// cdnowShards splits the CSV as an import does and reads the shards back.
func cdnowShards(t *testing.T, path string, shards int) []*clv.Tx {
	t.Helper()
	o := cdnowOptions()
	o.Shards, o.TempDir = shards, t.TempDir()
	res, err := partition.SplitTransactions(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	var txs []*clv.Tx
	for _, sf := range res.Shards {
		f, err := os.Open(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := partition.ReadTransactions(f, sf.Size)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, &clv.Tx{Keys: sh.Keys, Ptr: sh.Ptr, Time: sh.Time, Amount: sh.Amount, Invoice: sh.Invoice, Return: sh.Return})
	}
	return txs
}

func importTx(t *testing.T, cl *client.Client, name, path string, shards int) {
	t.Helper()
	_, err := cl.Import(context.Background(), name, path, client.ImportOptions{Kind: proto.KindTransactions,
		Options: partition.Options{Shards: shards, TempDir: t.TempDir()}, Transactions: cdnowOptions()})
	if err != nil {
		t.Fatal(err)
	}
}

func clvModel(t *testing.T, cl *client.Client, id string) *clv.Value {
	t.Helper()
	var d proto.ModelDetail
	if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		t.Fatal(err)
	}
	return testutil.Detail[clv.Value](t, &d)
}

// sameFit fails unless the cluster's fit has the reference's bits.
func sameFit(t *testing.T, what string, got clv.Fitted, want clv.FittedParams) {
	t.Helper()
	var vals, ses []float64
	for _, p := range got.Params {
		vals = append(vals, p.Value)
	}
	for _, p := range got.StdErrors {
		ses = append(ses, p.Value)
	}
	testutil.SameBits(t, what+" parameters", vals, want.Values)
	testutil.SameBits(t, what+" standard errors", ses, want.StdErrors)
	testutil.SameBits(t, what+" log-likelihood", []float64{got.LogLik}, []float64{want.LogLik})
	if got.Iterations != want.Iterations || got.Customers != want.Customers {
		t.Fatalf("%s: %d iterations on %d customers, reference %d on %d", what, got.Iterations, got.Customers, want.Iterations, want.Customers)
	}
}

// TestCLVCDNOWAcrossWorkerCounts fits BG/NBD and Gamma-Gamma on CDNOW in
// a dev cluster of 1, 2 and 4 workers: every fit has the bits of
// clv.Reference and the published parameters (SOURCE.md) to the published
// digits.
func TestCLVCDNOWAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, path)
	const shards = 8
	p := clv.Params{CalibrationEnd: "1997-09-30", HoldoutEnd: "1998-06-30", TimeUnit: clv.Week, Model: clv.BGNBD, MaxIter: clv.DefaultMaxIter}
	want, err := clv.Reference(p.Config(), cdnowShards(t, path, shards)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importTx(t, cl, "cdnow", path, shards)
		j := waitJob(t, cl, submit(t, cl, clv.Spec("cdnow", p)))
		got := clvModel(t, cl, j.Model)
		c.Close()
		sameFit(t, fmt.Sprintf("%d workers BG/NBD", n), got.Purchase, want.Purchase)
		sameFit(t, fmt.Sprintf("%d workers Gamma-Gamma", n), got.Spend, want.Spend)
		if got.Counts != want.Counts || got.Holdout == nil || *got.Holdout != *want.Holdout {
			t.Fatalf("%d workers: counts %+v holdout %+v; reference %+v %+v", n, got.Counts, got.Holdout, want.Counts, want.Holdout)
		}
		for i, w := range []float64{0.243, 4.414, 0.793, 2.426} {
			if v := got.Purchase.Params[i].Value; math.Round(v*1000)/1000 != w {
				t.Errorf("%s = %v, published %v", got.Purchase.Params[i].Name, v, w)
			}
		}
		for i, w := range []float64{6.25, 3.74, 15.44} {
			if v := got.Spend.Params[i].Value; math.Round(v*100)/100 != w {
				t.Errorf("%s = %v, published %v", got.Spend.Params[i].Name, v, w)
			}
		}
		if ll := math.Round(got.Purchase.LogLik*10) / 10; ll != -9582.4 {
			t.Errorf("log-likelihood %v, published -9582.4", got.Purchase.LogLik)
		}
	}
}
