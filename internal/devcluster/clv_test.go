package devcluster_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/algo/score"
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

// TestCLVScores scores CDNOW with its model on 2 workers: every customer's
// p_alive, expected purchases, expected spend and CLV have the bits of
// clv.Model.Score on the same summaries; the tiers are TierCuts' over all
// the CLVs, and the tier table adds up.
func TestCLVScores(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, path)
	const shards = 8
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	importTx(t, cl, "cdnow", path, shards)
	p := clv.Params{CalibrationEnd: "1997-09-30", TimeUnit: clv.Week, Model: clv.BGNBD, MaxIter: clv.DefaultMaxIter}
	j := waitJob(t, cl, submit(t, cl, clv.Spec("cdnow", p)))
	v := clvModel(t, cl, j.Model)
	horizon, rate := 39.0, 0.02
	waitJob(t, cl, submit(t, cl, score.Spec("cdnow", proto.ScoreSpec{Model: j.Model, As: "values", Horizon: &horizon, DiscountRate: &rate})))

	m, err := v.Fit()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]clv.Scores{}
	var clvs []float64
	for _, tx := range cdnowShards(t, path, 3) { // any sharding: the summaries are per customer
		s, err := clv.Summarize(tx, m.Config)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := m.Score(nil, s, clv.ScoreConfigOf(clv.Week, horizon, rate))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range s.Keys {
			want[k] = sc[i]
			clvs = append(clvs, sc[i].CLV)
		}
	}
	tiers, err := clv.TierCuts(clvs)
	if err != nil {
		t.Fatal(err)
	}
	idx, rows, unscored := exportScores(t, cl, "values")
	if len(rows) != len(want) || len(unscored) != 0 {
		t.Fatalf("%d rows, %d unscored; want %d customers", len(rows), len(unscored), len(want))
	}
	var total float64
	tierSum := map[string]float64{}
	tierRows := map[string]int64{}
	for _, r := range rows {
		k := r[idx["customer"]]
		w, ok := want[k]
		if !ok {
			t.Fatalf("customer %q scored, not in the reference", k)
		}
		got := []float64{num(t, r[idx["p_alive"]]), num(t, r[idx["expected_purchases"]]), num(t, r[idx["expected_spend"]]), num(t, r[idx["clv"]])}
		testutil.SameBits(t, "customer "+k, got, []float64{w.PAlive, w.ExpectedPurchases, w.ExpectedSpend, w.CLV})
		tier := r[idx["value_tier"]]
		if wt := string(tiers.Tier(w.CLV)); tier != wt {
			t.Fatalf("customer %s (CLV %v) in tier %s, TierCuts says %s", k, w.CLV, tier, wt)
		}
		total += w.CLV
		tierSum[tier] += w.CLV
		tierRows[tier]++
	}
	if tierSum["A"] < 0.8*total || tierSum["A"]+tierSum["B"] < 0.95*total || tierRows["A"] == 0 || tierRows["C"] == 0 {
		t.Fatalf("tiers hold %v of %v", tierSum, total)
	}
	var ss proto.ScoreSet
	if err := cl.Call(context.Background(), proto.APIScoresShow, proto.NamedVersion{Name: "values"}, &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Kind != proto.ScoresValues || len(ss.Summary.Tiers) != 3 || ss.Summary.TopShare == nil {
		t.Fatalf("score set %s summary %+v", ss.Kind, ss.Summary)
	}
	for _, vt := range ss.Summary.Tiers {
		if vt.Rows != tierRows[vt.Tier] || math.Abs(vt.Sum-tierSum[vt.Tier]) > 1e-9*total {
			t.Fatalf("tier %s: %d customers, CLV %v; the rows say %d, %v", vt.Tier, vt.Rows, vt.Sum, tierRows[vt.Tier], tierSum[vt.Tier])
		}
	}
	top := slices.Clone(clvs)
	slices.Sort(top)
	slices.Reverse(top)
	k := (len(top) + 4) / 5
	var topSum float64
	for _, x := range top[:k] {
		topSum += x
	}
	if ts := ss.Summary.TopShare; ts.Rows != int64(k) || math.Abs(ts.Share-topSum/total) > 1e-12 {
		t.Fatalf("top share %+v; want %d customers holding %v", ts, k, topSum/total)
	}
}

// TestCLVBadInput: a dataset that is not transactions, a calibration end
// before the first purchase or on its day, and bad parameters are refused
// at submit with a clear message and no job; a fit that does not converge
// fails its job saying so; customers whose every purchase is after the
// calibration end are counted and have no score row.
func TestCLVBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, path)
	c := startCluster(t, filepath.Join(dir, "cluster"), 1)
	defer c.Close()
	cl := dial(t, c)
	importTx(t, cl, "cdnow", path, 4)
	feat := filepath.Join(dir, "features.csv")
	if err := os.WriteFile(feat, []byte("customer_id,x\na,1\nb,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	importCSV(t, cl, "feat", feat, 2)
	p := clv.Params{CalibrationEnd: "1997-09-30", TimeUnit: clv.Week, Model: clv.BGNBD, MaxIter: clv.DefaultMaxIter}
	refused := func(ds string, p clv.Params, want string) {
		t.Helper()
		var j proto.Job
		err := cl.Call(context.Background(), proto.APIJobSubmit, clv.Spec(ds, p), &j)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s %+v: got %v, want an error containing %q", ds, p, err, want)
		}
	}
	refused("feat", p, "clv needs a transactions dataset; feat is features")
	before := p
	before.CalibrationEnd = "1996-12-31"
	refused("cdnow", before, "the calibration end 1996-12-31 is before the first transaction of cdnow version 1 (1997-01-01)")
	empty := p
	empty.CalibrationEnd = "1997-01-01"
	refused("cdnow", empty, "the calibration period is empty")
	bad := p
	bad.CalibrationEnd = "30/09/1997"
	refused("cdnow", bad, `clv.calibration_end "30/09/1997" is out of range: must be a date YYYY-MM-DD`)
	bad = p
	bad.HoldoutEnd = "1997-09-01"
	refused("cdnow", bad, "clv.holdout_end 1997-09-01 is out of range: must be a date after the calibration end 1997-09-30")
	bad = p
	bad.Model = "bgbb"
	refused("cdnow", bad, `clv.model "bgbb" is out of range`)

	short := p
	short.MaxIter = 2
	id := submit(t, cl, clv.Spec("cdnow", short))
	var j *proto.Job
	testutil.WaitFor(t, 2*time.Minute, 20*time.Millisecond, func() error {
		if j = jobStatus(t, cl, id); !j.Terminal() {
			return fmt.Errorf("job %s is %s", id, j.State)
		}
		return nil
	})
	if j.State != proto.JobFailed || !strings.Contains(j.Reason, "fit did not converge in 2 iterations") || j.Model != "" {
		t.Fatalf("job %s %s: %q, model %q; want failed, not converged", id, j.State, j.Reason, j.Model)
	}

	early := p
	early.CalibrationEnd = "1997-03-15"
	mj := waitJob(t, cl, submit(t, cl, clv.Spec("cdnow", early)))
	v := clvModel(t, cl, mj.Model)
	if v.Counts.OnlyAfter == 0 || v.Counts.Customers+v.Counts.OnlyAfter != 2357 {
		t.Fatalf("counts %+v: want customers with only later purchases counted, 2357 in all", v.Counts)
	}
	waitJob(t, cl, submit(t, cl, score.Spec("cdnow", proto.ScoreSpec{Model: mj.Model, As: "early"})))
	var ss proto.ScoreSet
	if err := cl.Call(context.Background(), proto.APIScoresShow, proto.NamedVersion{Name: "early"}, &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Rows != v.Counts.Customers || ss.Scored != ss.Rows || ss.Unscored != 0 {
		t.Fatalf("score set of %d rows (%d scored, %d unscored); want a row for each of the %d customers of the calibration period",
			ss.Rows, ss.Scored, ss.Unscored, v.Counts.Customers)
	}
}

// TestCLVParetoNBD fits Pareto/NBD on CDNOW with 2 workers: the bits of
// clv.Reference and the published parameters to their digits.
func TestCLVParetoNBD(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, path)
	p := clv.Params{CalibrationEnd: "1997-09-30", TimeUnit: clv.Week, Model: clv.ParetoNBD, MaxIter: clv.DefaultMaxIter}
	want, err := clv.Reference(p.Config(), cdnowShards(t, path, 4)...)
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	importTx(t, cl, "cdnow", path, 4)
	got := clvModel(t, cl, waitJob(t, cl, submit(t, cl, clv.Spec("cdnow", p))).Model)
	sameFit(t, "Pareto/NBD", got.Purchase, want.Purchase)
	sameFit(t, "Gamma-Gamma", got.Spend, want.Spend)
	for i, w := range []float64{0.553, 10.578, 0.606, 11.669} {
		if v := got.Purchase.Params[i].Value; math.Round(v*1000)/1000 != w {
			t.Errorf("%s = %v, published %v", got.Purchase.Params[i].Name, v, w)
		}
	}
	if got.Purchase.Params[2].Name != "s" || got.Purchase.Params[3].Name != "beta" {
		t.Errorf("Pareto/NBD parameters named %+v", got.Purchase.Params)
	}
}
