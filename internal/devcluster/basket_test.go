package devcluster_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// retailInvoices writes the Online Retail sample's lines as an invoice ×
// item interactions CSV (invoice, item, quantity; cancellations and
// returns included, with their negative quantities), and returns the
// invoices as baskets the way algo/basket's golden files count them: the
// distinct StockCodes of each invoice's lines with a positive quantity.
func retailInvoices(t *testing.T, path string) [][]string {
	lists, _, _ := retailData(t, path)
	return lists
}

// retailData is retailInvoices with every invoice id (cancellations
// included) and each invoice's basket.
func retailData(t *testing.T, path string) ([][]string, []string, map[string][]string) {
	t.Helper()
	f, err := os.Open("../../testdata/online-retail/onlineretail-sample.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(zr)
	head, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := csv.NewWriter(out)
	_ = w.Write([]string{"invoice", "item", "quantity"})
	byInvoice := map[string][]string{}
	var order, all []string
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		inv, item, qty := rec[col["InvoiceNo"]], rec[col["StockCode"]], rec[col["Quantity"]]
		_ = w.Write([]string{inv, item, qty})
		if !seen[inv] {
			seen[inv] = true
			all = append(all, inv)
		}
		q, err := strconv.ParseFloat(qty, 64)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(inv, "C") || q <= 0 {
			continue
		}
		if _, ok := byInvoice[inv]; !ok {
			order = append(order, inv)
		}
		byInvoice[inv] = append(byInvoice[inv], item)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	lists := make([][]string, len(order))
	for i, inv := range order {
		lists[i] = byInvoice[inv]
	}
	return lists, all, byInvoice
}

func importInvoices(t *testing.T, cl *client.Client, name, path string, shards int) {
	t.Helper()
	_, err := cl.Import(context.Background(), name, path, client.ImportOptions{Kind: proto.KindInteractions,
		Options:      partition.Options{Shards: shards, TempDir: t.TempDir()},
		Interactions: partition.InteractionOptions{User: "invoice", Item: "item", Value: "quantity"}})
	if err != nil {
		t.Fatal(err)
	}
}

func basketModel(t *testing.T, cl *client.Client, id string) (*proto.ModelDetail, *basket.Mined) {
	t.Helper()
	var d proto.ModelDetail
	if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		t.Fatal(err)
	}
	return &d, testutil.Detail[basket.Mined](t, &d)
}

// checkBasketGolden holds a model against a golden file of
// algo/basket/testdata (made by make_golden.py, counting in Python): the
// same itemsets with the same counts, the same rules with every measure
// within 1e-12 relative.
func checkBasketGolden(t *testing.T, m *basket.Mined, file string) {
	t.Helper()
	f, err := os.Open(filepath.Join("../../algo/basket/testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Baskets  int64
		MinCount int64 `json:"min_count"`
		Itemsets []basket.Itemset
		Rules    []basket.Rule
	}
	if err := json.NewDecoder(zr).Decode(&g); err != nil {
		t.Fatal(err)
	}
	if m.Baskets != g.Baskets || m.MinCount != g.MinCount || len(m.Itemsets) != len(g.Itemsets) || len(m.Rules) != len(g.Rules) {
		t.Fatalf("%s: %d baskets, min count %d, %d itemsets, %d rules; golden %d, %d, %d, %d", file,
			m.Baskets, m.MinCount, len(m.Itemsets), len(m.Rules), g.Baskets, g.MinCount, len(g.Itemsets), len(g.Rules))
	}
	for i, is := range m.Itemsets {
		if gi := g.Itemsets[i]; !slices.Equal(is.Items, gi.Items) || is.Count != gi.Count {
			t.Fatalf("%s: itemset %d is %v×%d, golden %v×%d", file, i, is.Items, is.Count, gi.Items, gi.Count)
		}
	}
	rules := slices.Clone(m.Rules)
	order := func(x, y basket.Rule) int {
		if c := slices.Compare(x.Antecedent, y.Antecedent); c != 0 {
			return c
		}
		return slices.Compare(x.Consequent, y.Consequent)
	}
	slices.SortFunc(rules, order)
	slices.SortFunc(g.Rules, order)
	near := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-12*math.Abs(b) || math.Abs(a-b) < 1e-18 }
	for i, r := range rules {
		gr := g.Rules[i]
		if !slices.Equal(r.Antecedent, gr.Antecedent) || !slices.Equal(r.Consequent, gr.Consequent) || r.Count != gr.Count ||
			!near(r.Support, gr.Support) || !near(r.Confidence, gr.Confidence) || !near(r.Lift, gr.Lift) ||
			!near(r.Leverage, gr.Leverage) || !near(r.Conviction, gr.Conviction) {
			t.Fatalf("%s: rule %d is %+v, golden %+v", file, i, r, gr)
		}
	}
}

// The Online Retail invoices as an interactions dataset, mined on 1, 2 and
// 4 workers at 1% and 0.5% support up to 4 items: every model equals the
// single-process reference bit for bit (so the three runs are identical),
// and the Python golden files in count and, to 1e-12, in every measure.
func TestBasketGoldenAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "invoices.csv")
	lists := retailInvoices(t, path)
	cases := []struct {
		support float64
		golden  string
	}{{0.01, "golden_online_retail_1pct.json.gz"}, {0.005, "golden_online_retail_05pct.json.gz"}}
	want := make([]*basket.Model, len(cases))
	for i, c := range cases {
		m, err := basket.Reference(basket.Config{MinSupport: c.support, MinConfidence: 0.3, MaxLen: 4}, basket.FromLists(lists))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = m
	}
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importInvoices(t, cl, "invoices", path, 16)
		for i, cs := range cases {
			spec := basket.Spec("invoices", basket.Params{MinSupport: cs.support, MinConfidence: 0.3, MaxLen: 4,
				MaxCandidates: basket.DefaultMaxCandidates, ExcludeReturns: true})
			j := waitJob(t, cl, submit(t, cl, spec))
			_, m := basketModel(t, cl, j.Model)
			got := m.Model()
			got.Config = want[i].Config
			if !reflect.DeepEqual(got, want[i]) {
				t.Fatalf("%d workers, support %g: the model differs from the reference", n, cs.support)
			}
			if m.Config.MinSupport != cs.support || m.Source.Basket != basket.BasketUser || !m.Source.ExcludeReturns {
				t.Fatalf("model config %+v, source %+v", m.Config, m.Source)
			}
			checkBasketGolden(t, m, cs.golden)
		}
		c.Close()
	}
}

// Bad requests fail at submit with a message naming what is wrong, and
// no job exists.
func TestBasketBadRequests(t *testing.T) {
	dir := t.TempDir()
	c := startCluster(t, dir, 1)
	defer c.Close()
	cl := dial(t, c)
	path := filepath.Join(dir, "invoices.csv")
	retailInvoices(t, path)
	importInvoices(t, cl, "invoices", path, 4)
	tx := filepath.Join(dir, "tx.csv")
	genTransactions(t, tx, 50, 3)
	if _, err := cl.Import(context.Background(), "tx", tx, client.ImportOptions{Kind: proto.KindTransactions,
		Options: partition.Options{Shards: 4, TempDir: t.TempDir()}, Transactions: txOptions()}); err != nil {
		t.Fatal(err)
	}
	importCSV(t, cl, "features", writeFeatures(t, dir), 4)
	good := basket.Params{MinSupport: 0.01, MinConfidence: 0.3, MaxLen: 3, MaxCandidates: basket.DefaultMaxCandidates}
	for _, bad := range []struct {
		dataset string
		edit    func(*basket.Params)
		want    string
	}{
		{"invoices", func(p *basket.Params) { p.MinSupport = 0 }, "basket.min_support 0 is out of range: must be a share of the baskets in (0, 1]"},
		{"invoices", func(p *basket.Params) { p.MinSupport = 1.5 }, "basket.min_support 1.5 is out of range"},
		{"invoices", func(p *basket.Params) { p.MinConfidence = -0.1 }, "basket.min_confidence -0.1 is out of range: must be a number in [0, 1]"},
		{"invoices", func(p *basket.Params) { p.MinConfidence = 1.01 }, "basket.min_confidence 1.01 is out of range"},
		{"invoices", func(p *basket.Params) { p.MaxLen = 1 }, "basket.max_len 1 is out of range: must be an integer from 2 to 64"},
		{"invoices", func(p *basket.Params) { p.Basket = "invoice" }, "dataset invoices is an interactions dataset: a basket is a user's items (--basket invoice is for transactions)"},
		{"tx", func(*basket.Params) {}, "dataset tx has no items: import it with --item"},
		{"features", func(*basket.Params) {}, "a basket job reads an interactions or a transactions dataset; features version 1 is neither"},
	} {
		p := good
		bad.edit(&p)
		var j proto.Job
		err := cl.Call(context.Background(), proto.APIJobSubmit, basket.Spec(bad.dataset, p), &j)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v on %s: got %v, want %q", p, bad.dataset, err, bad.want)
		}
	}
	// A min support so low that the pairs exceed the candidate limit fails
	// the job with the number it would need.
	p := good
	p.MinSupport, p.MaxCandidates = 0.0001, 1000
	j := submit(t, cl, basket.Spec("invoices", p))
	var st *proto.Job
	testutil.WaitFor(t, time.Minute, 20*time.Millisecond, func() error {
		if st = jobStatus(t, cl, j); !st.Terminal() {
			return fmt.Errorf("job %s is %s", j, st.State)
		}
		return nil
	})
	if st.State != proto.JobFailed || !strings.Contains(st.Reason, "candidate itemsets of 2 items exceed the limit of 1000") {
		t.Fatalf("job %s %s: %s", j, st.State, st.Reason)
	}
	var list []proto.ModelSummary
	if err := cl.Call(context.Background(), proto.APIModelList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("models after only bad requests: %+v", list)
	}
}

func writeFeatures(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "features.csv")
	if err := os.WriteFile(p, []byte("customer_id,x\n1,1\n2,2\n3,3\n4,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A basket model scores the invoices it was mined from: every invoice's
// exported offers (rank, item, confidence, rule) are the reference
// model's offers for its items, invoices no rule fires for are unscored,
// and the CSV and Parquet exports agree.
func TestBasketScores(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "invoices.csv")
	lists, all, byInvoice := retailData(t, path)
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	importInvoices(t, cl, "invoices", path, 8)
	p := basket.Params{MinSupport: 0.01, MinConfidence: 0.3, MaxLen: 3, MaxCandidates: basket.DefaultMaxCandidates, ExcludeReturns: true}
	j := waitJob(t, cl, submit(t, cl, basket.Spec("invoices", p)))
	ref, err := basket.Reference(basket.Config{MinSupport: 0.01, MinConfidence: 0.3, MaxLen: 3}, basket.FromLists(lists))
	if err != nil {
		t.Fatal(err)
	}
	top := 3
	waitJob(t, cl, submit(t, cl, score.Spec("invoices", proto.ScoreSpec{Model: j.Model, As: "offers", Top: &top})))
	var ss proto.ScoreSet
	if err := cl.Call(context.Background(), proto.APIScoresShow, proto.NamedVersion{Name: "offers"}, &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Kind != proto.ScoresRecommendations || strings.Join(ss.Columns, ",") != "rank,item,score,rule" {
		t.Fatalf("score set %s of columns %v", ss.Kind, ss.Columns)
	}
	var csvOut, pq bytes.Buffer
	if _, err := cl.ExportScores(context.Background(), "offers", 0, "csv", &csvOut); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ExportScores(context.Background(), "offers", 0, "parquet", &pq); err != nil {
		t.Fatal(err)
	}
	cols, err := scoreset.SchemaOf(ss.Kind, ss.Columns)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scoreset.Decode(pq.Bytes(), ss.Key, cols)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(recs[0], ","); h != "invoice,rank,item,score,rule" {
		t.Fatalf("header %s", h)
	}
	recs = recs[1:]
	if back.AllRows() != len(recs) {
		t.Fatalf("parquet %d rows, csv %d", back.AllRows(), len(recs))
	}
	got := map[string][]string{}
	unscored := map[string]bool{}
	for _, r := range recs {
		if r[1] == "" {
			unscored[r[0]] = true
			continue
		}
		got[r[0]] = append(got[r[0]], strings.Join(r[1:], "|"))
	}
	o := basket.NewOfferer(ref)
	var scr basket.Scratch
	withOffers := 0
	for _, inv := range all {
		// An invoice's history is its lines with a positive quantity.
		offers := o.Offers(nil, byInvoice[inv], top, &scr)
		var want []string
		for k, off := range offers {
			want = append(want, fmt.Sprintf("%d|%s|%s|%s", k+1, off.Item, strconv.FormatFloat(off.Confidence, 'g', -1, 64), basket.RuleText(ref.Rules[off.Rule])))
		}
		if len(want) == 0 {
			if !unscored[inv] || got[inv] != nil {
				t.Fatalf("invoice %s: no offer, yet rows %v", inv, got[inv])
			}
			continue
		}
		withOffers++
		if !slices.Equal(got[inv], want) {
			t.Fatalf("invoice %s: rows\n%v\nwant\n%v", inv, got[inv], want)
		}
	}
	if withOffers == 0 || int64(withOffers) != ss.Scored || int64(len(unscored)) != ss.Unscored || len(all) != withOffers+len(unscored) {
		t.Fatalf("%d invoices, %d with offers, %d unscored; score set %d scored, %d unscored", len(all), withOffers, len(unscored), ss.Scored, ss.Unscored)
	}
}

// genInvoices writes n random invoices over a skewed catalogue as an
// invoice,item CSV and returns them as baskets.
func genInvoices(t *testing.T, path string, n int, seed uint64) [][]string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	var b strings.Builder
	b.WriteString("invoice,item\n")
	lists := make([][]string, n)
	for i := range lists {
		for range 3 + r.IntN(12) {
			it := fmt.Sprintf("sku%03d", int(400*r.Float64()*r.Float64()*r.Float64()))
			lists[i] = append(lists[i], it)
			fmt.Fprintf(&b, "inv%06d,%s\n", i, it)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return lists
}

// A worker process killed with SIGKILL in the middle of a basket job
// loses nothing: its shards are counted again elsewhere and the model is
// the reference's, bit for bit.
func TestBasketWorkerKilledMidJob(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "invoices.csv")
	lists := genInvoices(t, path, 60000, 4)
	p := basket.Params{MinSupport: 0.002, MinConfidence: 0.2, MaxLen: 6, MaxCandidates: basket.DefaultMaxCandidates}
	want, err := basket.Reference(basket.Config{MinSupport: p.MinSupport, MinConfidence: p.MinConfidence, MaxLen: p.MaxLen}, basket.FromLists(lists))
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, filepath.Join(dir, "cluster"), 0)
	defer c.Close()
	cl := dial(t, c)
	_, err = cl.Import(context.Background(), "invoices", path, client.ImportOptions{Kind: proto.KindInteractions,
		Options:      partition.Options{Shards: 32, TempDir: t.TempDir()},
		Interactions: partition.InteractionOptions{User: "invoice", Item: "item"}})
	if err != nil {
		t.Fatal(err)
	}
	var procs []*exec.Cmd
	for i := range 3 {
		procs = append(procs, startWorkerProcess(t, c.URL, fmt.Sprintf("basket-w%d", i)))
	}
	waitWorkers(t, cl, 3)
	id := submit(t, cl, basket.Spec("invoices", p))
	for {
		j := jobStatus(t, cl, id)
		if j.Terminal() {
			t.Fatalf("job ended (%s) before the worker was killed; make it longer", j.State)
		}
		if j.Pass >= 2 {
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
	_, m := basketModel(t, cl, j.Model)
	got := m.Model()
	got.Config = want.Config
	if len(want.Rules) == 0 || len(want.Itemsets) < 1000 || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the kill: %d itemsets, %d rules; reference %d, %d", len(m.Itemsets), len(m.Rules), len(want.Itemsets), len(want.Rules))
	}
	waitWorkers(t, cl, 2)
}
