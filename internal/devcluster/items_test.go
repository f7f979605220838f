package devcluster_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// txCell is a customer × item cell of a generated purchase history.
type txCell struct{ cust, item string }

// genItemTransactions writes purchase lines with an item and its name
// (customer, time, invoice, item, name, qty, price), some returned in part
// or in full, and returns every cell's netted quantity.
func genItemTransactions(t *testing.T, path string, customers, items int, seed uint64) map[txCell]float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	var b strings.Builder
	b.WriteString("customer,time,invoice,item,name,qty,price\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	net := map[txCell]float64{}
	inv := 1000
	for c := range customers {
		cust := fmt.Sprintf("c%d", c)
		taste := r.IntN(4) // customers of a taste prefer items ≡ taste mod 4
		for range 1 + r.IntN(6) {
			at := start.Add(time.Duration(r.IntN(300*24*3600)) * time.Second)
			inv++
			for range 1 + r.IntN(5) {
				it := r.IntN(items)
				if r.IntN(3) > 0 {
					it = (it/4)*4 + taste
				}
				item := fmt.Sprintf("P%03d", it%items)
				q := 1 + r.IntN(6)
				if r.IntN(12) == 0 {
					q = -q // a return, maybe of more than was bought
				}
				fmt.Fprintf(&b, "c%d,%s,%d,%s,PRODUCT %s,%d,%.2f\n", c, at.Format(time.DateTime), inv, item, item, q, 1+float64(r.IntN(900))/100)
				net[txCell{cust, item}] += float64(q)
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return net
}

// netBlocks are the ALS blocks of the netted cells, placed as an import
// places customers and items: the cells above 0 only.
func netBlocks(net map[txCell]float64, shards int) (byUser, byItem []*als.Block) {
	type entry struct {
		id, other string
		v         float64
	}
	u, it := make([][]entry, shards), make([][]entry, shards)
	for c, v := range net {
		if v > 0 {
			u[partition.ShardOf(c.cust, shards)] = append(u[partition.ShardOf(c.cust, shards)], entry{c.cust, c.item, v})
			it[partition.ShardOf(c.item, shards)] = append(it[partition.ShardOf(c.item, shards)], entry{c.item, c.cust, v})
		}
	}
	blocks := func(side [][]entry) []*als.Block {
		out := make([]*als.Block, shards)
		for i, es := range side {
			slices.SortFunc(es, func(a, b entry) int {
				if c := strings.Compare(a.id, b.id); c != 0 {
					return c
				}
				return strings.Compare(a.other, b.other)
			})
			b := &als.Block{Ptr: []int32{0}}
			for k, e := range es {
				if k > 0 && e.id != es[k-1].id {
					b.Ptr = append(b.Ptr, int32(k))
				}
				if k == 0 || e.id != es[k-1].id {
					b.IDs = append(b.IDs, e.id)
				}
				b.Other, b.Value = append(b.Other, e.other), append(b.Value, e.v)
			}
			if len(es) > 0 {
				b.Ptr = append(b.Ptr, int32(len(es)))
			}
			out[i] = b
		}
		return out
	}
	return blocks(u), blocks(it)
}

func importItemTransactions(t *testing.T, cl *client.Client, name, path string, shards int) {
	t.Helper()
	_, err := cl.Import(context.Background(), name, path, client.ImportOptions{Kind: proto.KindTransactions,
		Options: partition.Options{Shards: shards, TempDir: t.TempDir()},
		Transactions: partition.TransactionOptions{Key: "customer", Time: "time", Invoice: "invoice", Quantity: "qty", Price: "price",
			Item: "item", ItemName: "name"}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestALSOnTransactions trains implicit ALS on a transactions dataset with
// --value quantity, with 1 and 2 workers: every factor equals the
// single-process reference on the netted customer × item quantities (a
// cell returned in full left out) bit for bit, and the model names its
// items.
func TestALSOnTransactions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tx.csv")
	net := genItemTransactions(t, path, 400, 60, 3)
	const shards = 5
	spec := alsSpec("retail", 4, alsjob.Params{Rank: 5, Lambda: 0.5, Iterations: 4, Implicit: true, Alpha: 5, Holdout: 0.1, Value: alsjob.ValueQuantity})
	u, it := netBlocks(net, shards)
	ref, err := als.Reference(alsConfig(t, spec), u, it)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, v := range net {
		if v <= 0 {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("no cell was returned in full: the test does not test netting")
	}
	for _, n := range []int{1, 2} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importItemTransactions(t, cl, "retail", path, shards)
		j := waitJob(t, cl, submit(t, cl, spec))
		m, got := alsFactors(t, cl, j.Model)
		testutil.SameBits(t, fmt.Sprintf("factors, %d workers", n), referenceFactors(ref), got)
		if m.Source != proto.KindTransactions || m.Value != alsjob.ValueQuantity || m.User != "customer" || m.Item != "item" {
			t.Fatalf("model source %q value %q user %q item %q", m.Source, m.Value, m.User, m.Item)
		}
		if len(m.ItemNames) != 60 || m.ItemNames["P007"] != "PRODUCT P007" {
			t.Fatalf("model names %d items, P007 %q", len(m.ItemNames), m.ItemNames["P007"])
		}
		if n == 2 {
			checkNamedRecommendations(t, cl, j.Model, net)
		}
		c.Close()
	}
}

// checkNamedRecommendations scores the customers of the "retail"
// transactions with an ALS model trained on them: the recommendations
// score set has a name column, and its CSV export and a customer's lookup
// carry each recommended item's imported name beside the item, for every
// customer with a netted purchase.
func checkNamedRecommendations(t *testing.T, cl *client.Client, model string, net map[txCell]float64) {
	t.Helper()
	top := 3
	waitJob(t, cl, submit(t, cl, score.Spec("retail", proto.ScoreSpec{Model: model, As: "next", Top: &top})))
	var ss proto.ScoreSet
	if err := cl.Call(context.Background(), proto.APIScoresShow, proto.NamedVersion{Name: "next"}, &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Kind != proto.ScoresRecommendations || strings.Join(ss.Columns, ",") != "rank,item,score,name" {
		t.Fatalf("score set %s of columns %v", ss.Kind, ss.Columns)
	}
	var out bytes.Buffer
	if _, err := cl.ExportScores(context.Background(), "next", 0, "csv", &out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(recs[0], ","); h != "customer,rank,item,score,name" {
		t.Fatalf("header %s", h)
	}
	customers := map[string]bool{}
	for c, v := range net {
		if v > 0 {
			customers[c.cust] = true
		}
	}
	rows := map[string]int{}
	for _, r := range recs[1:] {
		if r[2] == "" || r[4] != "PRODUCT "+r[2] {
			t.Fatalf("row %v: item %q named %q", r, r[2], r[4])
		}
		rows[r[0]]++
	}
	for cust := range customers {
		if rows[cust] != top {
			t.Fatalf("customer %s: %d recommendations, want %d", cust, rows[cust], top)
		}
	}
	var cs proto.CustomerScores
	if err := cl.Call(context.Background(), proto.APICustomerShow, proto.CustomerShow{Key: "c7"}, &cs); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs.Sets, func(s proto.CustomerSet) bool { return s.Name == "next" })
	if i < 0 {
		t.Fatalf("customer c7 is in no score set next: %+v", cs)
	}
	set := cs.Sets[i]
	if strings.Join(set.Columns, ",") != "rank,item,score,name" || len(set.Rows) != top {
		t.Fatalf("customer c7: columns %v, %d rows", set.Columns, len(set.Rows))
	}
	for _, r := range set.Rows {
		if item, _ := r[1].(string); item == "" || r[3] != "PRODUCT "+item {
			t.Fatalf("customer c7 row %v: item %v named %v", r, r[1], r[3])
		}
	}
}

// TestALSOnTransactionsWorkerKilledMidJob kills one of three worker
// processes with SIGKILL in the middle of an ALS job on a transactions
// dataset: its shards' purchase lines are netted again elsewhere and the
// job ends with the reference's factors, bit for bit, and every item's
// name.
func TestALSOnTransactionsWorkerKilledMidJob(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tx.csv")
	net := genItemTransactions(t, path, 400, 60, 5)
	const shards = 16
	spec := alsSpec("retail", 9, alsjob.Params{Rank: 6, Lambda: 0.5, Iterations: 12, Implicit: true, Alpha: 5, Holdout: 0.1, Value: alsjob.ValueQuantity})
	u, it := netBlocks(net, shards)
	ref, err := als.Reference(alsConfig(t, spec), u, it)
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, filepath.Join(dir, "cluster"), 0)
	defer c.Close()
	cl := dial(t, c)
	importItemTransactions(t, cl, "retail", path, shards)
	var procs []*exec.Cmd
	for i := range 3 {
		procs = append(procs, startWorkerProcess(t, c.URL, fmt.Sprintf("txals-w%d", i)))
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
	t.Logf("%d passes, %d retries", j.Pass, retries(j))
	m, got := alsFactors(t, cl, j.Model)
	testutil.SameBits(t, "factors after a worker was killed", referenceFactors(ref), got)
	if len(m.ItemNames) != 60 || m.ItemNames["P042"] != "PRODUCT P042" {
		t.Fatalf("model names %d items, P042 %q", len(m.ItemNames), m.ItemNames["P042"])
	}
}
