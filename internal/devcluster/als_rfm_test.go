package devcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/algo/rfm/rfmjob"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// genRatings writes a planted rank-3 ratings file: users × items with a
// density, ratings 1..5 (explicit) or counts 1..9 (implicit).
func genRatings(t *testing.T, path string, users, items int, density float64, implicit bool, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	const rank = 3
	u := make([][rank]float64, users)
	v := make([][rank]float64, items)
	for i := range u {
		for k := range rank {
			u[i][k] = r.NormFloat64()
		}
	}
	for i := range v {
		for k := range rank {
			v[i][k] = r.NormFloat64()
		}
	}
	var b strings.Builder
	b.WriteString("user,item,value\n")
	for i := range users {
		for j := range items {
			if r.Float64() >= density {
				continue
			}
			s := 0.0
			for k := range rank {
				s += u[i][k] * v[j][k]
			}
			var x float64
			if implicit {
				x = math.Max(1, math.Min(9, math.Round(2+s)))
			} else {
				x = math.Max(1, math.Min(5, math.Round(3+s+0.3*r.NormFloat64())))
			}
			fmt.Fprintf(&b, "u%d,i%d,%g\n", i, j, x)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// alsBlocks splits an interactions file as an import does and reads both
// layouts back as ALS blocks.
func alsBlocks(t *testing.T, path string, shards int) (byUser, byItem []*als.Block) {
	t.Helper()
	res, err := partition.SplitInteractions(context.Background(), path, partition.InteractionOptions{
		User: "user", Item: "item", Value: "value", Shards: shards, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	read := func(files []partition.ShardFile) []*als.Block {
		out := make([]*als.Block, len(files))
		for i, sf := range files {
			f, err := os.Open(sf.Path)
			if err != nil {
				t.Fatal(err)
			}
			sh, err := partition.ReadInteractions(f, sf.Size)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[i] = &als.Block{IDs: sh.Keys, Ptr: sh.Ptr, Other: sh.Other, Value: sh.Value}
		}
		return out
	}
	return read(res.ByUser), read(res.ByItem)
}

func importInteractions(t *testing.T, cl *client.Client, name, path string, shards int) {
	t.Helper()
	_, err := cl.Import(context.Background(), name, path, client.ImportOptions{Kind: proto.KindInteractions,
		Options:      partition.Options{Shards: shards, TempDir: t.TempDir()},
		Interactions: partition.InteractionOptions{User: "user", Item: "item", Value: "value"}})
	if err != nil {
		t.Fatal(err)
	}
}

// alsFactors reads every factor of a trained model from the store, users
// then items, shard after shard.
func alsFactors(t *testing.T, cl *client.Client, id string) (*alsjob.Factorization, []float64) {
	t.Helper()
	var d proto.ModelDetail
	if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		t.Fatal(err)
	}
	m := testutil.Detail[alsjob.Factorization](t, &d)
	var all []float64
	for _, refs := range [][]als.FactorRef{m.Summary.Users, m.Summary.Items} {
		for _, ref := range refs {
			all = append(all, readFactors(t, cl, ref).F...)
		}
	}
	return m, all
}

// readFactors reads one factor shard from the store, verified.
func readFactors(t *testing.T, cl *client.Client, ref als.FactorRef) *als.Factors {
	t.Helper()
	b, err := cl.Blob(context.Background(), alsjob.BlobRef(ref))
	if err != nil {
		t.Fatal(err)
	}
	f, err := als.DecodeFactors(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func referenceFactors(m *als.Model) []float64 {
	return append(append([]float64(nil), m.Users.F...), m.Items.F...)
}

func alsSpec(dataset string, seed uint64, p alsjob.Params) proto.JobSpec {
	s := alsjob.Spec(dataset, p)
	s.Seed = seed
	return s
}

func alsSpecs() []proto.JobSpec {
	return []proto.JobSpec{
		alsSpec("ratings", 5, alsjob.Params{Rank: 4, Lambda: 0.1, Iterations: 6, Holdout: 0.2}),
		alsSpec("counts", 5, alsjob.Params{Rank: 4, Lambda: 0.5, Iterations: 5, Implicit: true, Alpha: 10, Holdout: 0.2}),
	}
}

func alsConfig(t *testing.T, s proto.JobSpec) als.Config {
	t.Helper()
	p, err := alsjob.ParamsOf(&s)
	if err != nil {
		t.Fatal(err)
	}
	cfg := als.DefaultConfig()
	cfg.Rank, cfg.Lambda, cfg.Iterations, cfg.Implicit, cfg.Holdout, cfg.Seed = p.Rank, p.Lambda, p.Iterations, p.Implicit, p.Holdout, s.Seed
	if p.Alpha > 0 {
		cfg.Alpha = p.Alpha
	}
	return cfg
}

// TestALSMatchesReferenceAcrossWorkerCounts trains explicit and implicit ALS
// with 1, 2 and 4 workers: every factor equals algo's single-process
// reference on the same shards bit for bit, and so do the metrics.
func TestALSMatchesReferenceAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	ratings, counts := filepath.Join(dir, "ratings.csv"), filepath.Join(dir, "counts.csv")
	genRatings(t, ratings, 200, 80, 0.15, false, 1)
	genRatings(t, counts, 200, 80, 0.1, true, 2)
	const shards = 6
	var refs []*als.Model
	for i, path := range []string{ratings, counts} {
		u, it := alsBlocks(t, path, shards)
		m, err := als.Reference(alsConfig(t, alsSpecs()[i]), u, it)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, m)
	}
	last := refs[0].History[len(refs[0].History)-1]
	t.Logf("explicit reference: train RMSE %.4f, held-out RMSE %.4f", last.TrainRMSE, last.HoldoutRMSE)
	if last.NHoldout == 0 || !(last.HoldoutRMSE > 0) {
		t.Fatalf("held-out RMSE %.4f over %d ratings: nothing was held out", last.HoldoutRMSE, last.NHoldout)
	}
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importInteractions(t, cl, "ratings", ratings, shards)
		importInteractions(t, cl, "counts", counts, shards)
		for i, spec := range alsSpecs() {
			j := waitJob(t, cl, submit(t, cl, spec))
			m, got := alsFactors(t, cl, j.Model)
			testutil.SameBits(t, fmt.Sprintf("%s factors, %d workers", spec.Dataset, n), referenceFactors(refs[i]), got)
			if len(m.Summary.History) != len(refs[i].History) {
				t.Fatalf("%d iterations of history, reference has %d", len(m.Summary.History), len(refs[i].History))
			}
			for k, h := range m.Summary.History {
				r := refs[i].History[k]
				testutil.SameBits(t, fmt.Sprintf("%s metrics of iteration %d", spec.Dataset, k+1),
					[]float64{r.Objective, r.HoldoutRMSE, r.Precision, r.Recall, r.NDCG},
					[]float64{h.Objective, h.HoldoutRMSE, h.Precision, h.Recall, h.NDCG})
			}
		}
		c.Close()
	}
}

// TestALSWorkerKilledMidJob kills one of three worker processes with SIGKILL
// in the middle of an ALS job: the job ends with the reference's factors.
func TestALSWorkerKilledMidJob(t *testing.T) {
	dir := t.TempDir()
	ratings := filepath.Join(dir, "ratings.csv")
	genRatings(t, ratings, 300, 100, 0.15, false, 3)
	spec := alsSpec("ratings", 9, alsjob.Params{Rank: 6, Lambda: 0.1, Iterations: 12, Holdout: 0.1})
	u, it := alsBlocks(t, ratings, 16)
	ref, err := als.Reference(alsConfig(t, spec), u, it)
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, filepath.Join(dir, "cluster"), 0)
	defer c.Close()
	cl := dial(t, c)
	importInteractions(t, cl, "ratings", ratings, 16)
	var procs []*exec.Cmd
	for i := range 3 {
		procs = append(procs, startWorkerProcess(t, c.URL, fmt.Sprintf("als-w%d", i)))
	}
	waitWorkers(t, cl, 3)
	id := submit(t, cl, spec)
	for {
		j := jobStatus(t, cl, id)
		if j.Terminal() {
			t.Fatalf("job ended (%s) before the worker was killed; make it longer", j.State)
		}
		if j.Pass >= 6 {
			t.Logf("killing worker process %d at pass %d", procs[1].Process.Pid, j.Pass)
			if err := procs[1].Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	j := waitJob(t, cl, id)
	_, got := alsFactors(t, cl, j.Model)
	testutil.SameBits(t, "factors after a worker was killed", referenceFactors(ref), got)
}

// genTransactions writes purchases and returns of customers over a year.
func genTransactions(t *testing.T, path string, customers int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("customer,time,invoice,qty,price\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	inv := 1000
	for c := range customers {
		orders := 1 + r.IntN(8)
		for range orders {
			at := start.Add(time.Duration(r.IntN(365*24*3600)) * time.Second)
			inv++
			for range 1 + r.IntN(4) {
				q := 1 + r.IntN(12)
				if r.IntN(20) == 0 {
					q = -q
				}
				fmt.Fprintf(&b, "c%d,%s,%d,%d,%.2f\n", c, at.Format(time.DateTime), inv, q, 0.5+float64(r.IntN(2000))/100)
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func txOptions() partition.TransactionOptions {
	return partition.TransactionOptions{Key: "customer", Time: "time", Quantity: "qty", Price: "price", Invoice: "invoice"}
}

// TestRFMMatchesReferenceAcrossWorkerCounts computes RFM features with 1, 2
// and 4 workers: the new dataset equals algo's reference row for row and bit
// for bit, and is visible only once the job has succeeded.
func TestRFMMatchesReferenceAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tx.csv")
	genTransactions(t, path, 3000, 1)
	const shards = 8
	o := txOptions()
	o.Shards, o.TempDir = shards, t.TempDir()
	res, err := partition.SplitTransactions(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	var txs []*rfm.Tx
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
		txs = append(txs, &rfm.Tx{Keys: sh.Keys, Ptr: sh.Ptr, Time: sh.Time, Amount: sh.Amount, Invoice: sh.Invoice, Return: sh.Return})
	}
	want, _, err := rfm.Reference(rfm.Config{AsOf: rfm.DefaultAsOf(res.LastTime.Unix())}, txs...)
	if err != nil {
		t.Fatal(err)
	}
	wantRow := map[string][]float64{}
	for i, k := range want.Keys {
		row := make([]float64, len(want.Columns))
		for j := range want.Columns {
			row[j] = want.Values[j][i]
		}
		wantRow[k] = row
	}
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		_, err := cl.Import(context.Background(), "tx", path, client.ImportOptions{Kind: proto.KindTransactions,
			Options: partition.Options{Shards: shards, TempDir: t.TempDir()}, Transactions: txOptions()})
		if err != nil {
			t.Fatal(err)
		}
		j := waitJob(t, cl, submit(t, cl, rfmjob.Spec("tx", rfmjob.Params{As: "rfm"})))
		if j.Output != "rfm:1" {
			t.Fatalf("job output %q, want rfm:1", j.Output)
		}
		var ds proto.Dataset
		if err := cl.Call(context.Background(), proto.APIDatasetShow, proto.Named{Name: "rfm"}, &ds); err != nil {
			t.Fatal(err)
		}
		v := ds.Latest()
		if ds.Kind != proto.KindFeatures || v.Rows != int64(len(want.Keys)) || len(v.Shards) != shards {
			t.Fatalf("rfm dataset: kind %s, %d rows in %d shards; want %d rows in %d", ds.Kind, v.Rows, len(v.Shards), len(want.Keys), shards)
		}
		if seg := v.Columns[rfm.ColSegment]; !slices.Equal(seg.Levels, want.Segments) || !slices.Equal(seg.LevelCounts, want.SegmentCounts()) {
			t.Fatalf("segment column %q %v, want %q %v", seg.Levels, seg.LevelCounts, want.Segments, want.SegmentCounts())
		}
		st, err := store.Open(context.Background(), cl.Conn(), 1)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, ref := range v.Shards {
			b, err := st.Get(context.Background(), proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			sh, err := partition.ReadShard(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			for i, key := range sh.Keys {
				if partition.ShardOf(key, shards) != ref.Index {
					t.Fatalf("customer %s in shard %d, hashes to %d", key, ref.Index, partition.ShardOf(key, shards))
				}
				got := make([]float64, len(want.Columns))
				for j, name := range want.Columns {
					col, ok := sh.Column(name)
					if !ok {
						t.Fatalf("shard %d has no column %s", ref.Index, name)
					}
					got[j] = col[i]
				}
				testutil.SameBits(t, "customer "+key+" with "+strconv.Itoa(n)+" workers", wantRow[key], got)
				seen++
			}
		}
		if seen != len(want.Keys) {
			t.Fatalf("%d customers, want %d", seen, len(want.Keys))
		}
		c.Close()
	}
}
