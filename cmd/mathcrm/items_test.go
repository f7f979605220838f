package main

import (
	"context"
	"encoding/csv"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// neighbourRows reads an item neighbours score set's CSV export: for each
// item, its neighbours in rank order with their scores.
func neighbourRows(t *testing.T, url, set string) (map[string][]als.Scored, []string) {
	t.Helper()
	out, errs, code := run(t, url, "scores", "export", set, "--format", "csv")
	if code != 0 {
		t.Fatalf("scores export %s: %s", set, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	got := map[string][]als.Scored{}
	for _, r := range recs[1:] {
		if r[col["rank"]] == "" {
			got[r[col["item"]]] = nil // unscored
			continue
		}
		if rank, _ := strconv.Atoi(r[col["rank"]]); rank != len(got[r[col["item"]]])+1 {
			t.Fatalf("%s: item %s: rank %d after %d neighbours", set, r[col["item"]], rank, len(got[r[col["item"]]]))
		}
		s, err := strconv.ParseFloat(r[col["score"]], 64)
		if err != nil || math.IsNaN(s) {
			t.Fatalf("%s: score %q", set, r[col["score"]])
		}
		got[r[col["item"]]] = append(got[r[col["item"]]], als.Scored{ID: r[col["neighbour"]], Score: s})
	}
	return got, recs[0]
}

func sameScored(t *testing.T, what string, got, want []als.Scored) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || math.Float64bits(got[i].Score) != math.Float64bits(want[i].Score) {
			t.Fatalf("%s: neighbour %d %v, want %v", what, i+1, got[i], want[i])
		}
	}
}

// The Online Retail sample imported as transactions with its items and
// their descriptions: basket rules and ALS straight from it, item names in
// model show, recommend and similar, and `score --items` equal to
// `similar` for every item of both models; bad input a clear error.
func TestCLIItemsFromTransactions(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, dir)
	url := dev.url
	const sample = "../../testdata/online-retail/onlineretail-sample.csv.gz"
	imp := func(name string, extra ...string) {
		var res map[string]any
		runJSON(t, url, &res, append([]string{"dataset", "import", name, sample, "--kind", "transactions", "--key", "CustomerID",
			"--time", "InvoiceDate", "--invoice", "InvoiceNo", "--skip-missing-key", "--shards", "4"}, extra...)...)
	}
	imp("retail", "--quantity", "Quantity", "--price", "UnitPrice", "--item", "StockCode", "--item-name", "Description")
	imp("retail-amounts", "--quantity", "Quantity", "--price", "UnitPrice")
	out, errs, code := run(t, url, "dataset", "show", "retail")
	if code != 0 || !strings.Contains(out, "items: StockCode (") || !strings.Contains(out, "names Description (") {
		t.Fatalf("dataset show: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = run(t, url, "dataset", "export", "retail", "--format", "csv")
	if head, _, _ := strings.Cut(out, "\n"); code != 0 || head != "CustomerID,time,amount,InvoiceNo,StockCode,Description,return" ||
		!strings.Contains(out, ",85123A,WHITE HANGING HEART T-LIGHT HOLDER,") {
		t.Fatalf("dataset export: exit %d, header %q, %s", code, head, errs)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"dataset", "import", "x", sample, "--kind", "transactions", "--key", "CustomerID", "--time", "InvoiceDate",
			"--amount", "UnitPrice", "--item-name", "Description"}, "--item-name needs --item"},
		{[]string{"train", "basket", "--dataset", "retail-amounts", "--min-support", "0.01", "--min-confidence", "0.3"},
			"dataset retail-amounts has no items: import it with --item"},
		{[]string{"train", "als", "--dataset", "retail-amounts", "--implicit"}, "dataset retail-amounts has no items"},
		{[]string{"train", "als", "--dataset", "retail", "--value", "pieces"}, `--value "pieces" is out of range`},
		{[]string{"score", "--model", "model-1"}, "--dataset is required (or --items"},
	} {
		if _, errs, code := run(t, url, bad.args...); code == 0 || !strings.Contains(errs, bad.want) {
			t.Errorf("%v: exit %d, %q; want %q", bad.args, code, errs, bad.want)
		}
	}

	// RFM reads the same shards and ignores the items.
	var fj struct{ State string }
	runJSON(t, url, &fj, "features", "rfm", "--dataset", "retail", "--as", "retail_rfm", "--as-of", "2011-12-01", "--wait")
	if fj.State != "succeeded" {
		t.Fatalf("rfm %s on transactions with items", fj.State)
	}

	ctx := context.Background()
	c, err := client.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Basket rules of the invoices, with names.
	var bj struct{ Model string }
	runJSON(t, url, &bj, "train", "basket", "--dataset", "retail", "--min-support", "0.01", "--min-confidence", "0.3",
		"--exclude-returns", "--wait")
	d, err := getModel(ctx, c, bj.Model)
	if err != nil {
		t.Fatal(err)
	}
	bm := detailOf[basket.Mined](d)
	if bm == nil || bm.Source.Basket != basket.BasketInvoice || len(bm.Names) == 0 || len(bm.Rules) == 0 {
		t.Fatalf("basket model: %+v", bm)
	}
	best := bm.ByLift()[0]
	out, errs, code = run(t, url, "model", "show", bj.Model)
	if code != 0 || !strings.Contains(out, bm.Model().RuleLabel(best)) || !strings.Contains(out, "one per invoice") {
		t.Fatalf("model show lacks %q: exit %d\n%s%s", bm.Model().RuleLabel(best), code, out, errs)
	}
	var rec struct{ Offers []struct{ Item, Name string } }
	runJSON(t, url, &rec, "recommend", "--model", bj.Model, "--items", strings.Join(best.Antecedent, ","))
	if len(rec.Offers) == 0 || rec.Offers[0].Name == "" || rec.Offers[0].Name != bm.Names[rec.Offers[0].Item] {
		t.Fatalf("recommend: %+v", rec)
	}
	out, _, _ = run(t, url, "similar", "--model", bj.Model, "--item", best.Antecedent[0])
	if !strings.Contains(out, bm.Names[best.Consequent[0]]) {
		t.Fatalf("similar lacks the name of %s:\n%s", best.Consequent[0], out)
	}
	var sj struct{ State string }
	runJSON(t, url, &sj, "score", "--model", bj.Model, "--items", "--top", "5", "--as", "bought-with", "--wait")
	got, head := neighbourRows(t, url, "bought-with")
	if strings.Join(head, ",") != "item,rank,neighbour,score,baskets,by,name" {
		t.Fatalf("basket neighbours columns %v", head)
	}
	scored := 0
	for _, is := range bm.Itemsets {
		if len(is.Items) != 1 {
			continue
		}
		ns, _, err := bm.Model().Neighbours(is.Items[0], 5)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]als.Scored, len(ns))
		for i, n := range ns {
			want[i] = als.Scored{ID: n.Item, Score: n.Lift}
		}
		g, ok := got[is.Items[0]]
		if !ok {
			t.Fatalf("item %s is not in the score set", is.Items[0])
		}
		sameScored(t, "basket item "+is.Items[0], g, want)
		scored++
	}
	if scored != len(got) {
		t.Fatalf("score set has %d items, the model %d", len(got), scored)
	}

	// ALS on the customers' netted quantities, with names.
	var aj struct{ Model string }
	runJSON(t, url, &aj, "train", "als", "--dataset", "retail", "--value", "quantity", "--implicit", "--alpha", "2",
		"--rank", "6", "--lambda", "1", "--iterations", "4", "--wait")
	if d, err = getModel(ctx, c, aj.Model); err != nil {
		t.Fatal(err)
	}
	am := detailOf[alsjob.Factorization](d)
	if am == nil || am.Value != "quantity" || am.User != "CustomerID" || am.Item != "StockCode" || len(am.ItemNames) == 0 {
		t.Fatalf("ALS model: %+v", am)
	}
	out, errs, code = run(t, url, "model", "show", aj.Model)
	if code != 0 || !strings.Contains(out, "from transactions: customers (CustomerID) × items (StockCode), each cell the quantity") {
		t.Fatalf("model show: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = run(t, url, "model", "export", aj.Model, "--format", "json")
	if code != 0 || !strings.Contains(out, `"item_names":{`) || !strings.Contains(out, `"85123A":"WHITE HANGING HEART T-LIGHT HOLDER"`) {
		t.Fatalf("model export: exit %d, %.300s %s", code, out, errs)
	}
	var top struct {
		Items []struct{ ID, Name string }
	}
	runJSON(t, url, &top, "recommend", "--model", aj.Model, "--user", "17850", "--n", "3")
	if len(top.Items) != 3 || top.Items[0].Name == "" {
		t.Fatalf("recommend --user: %+v", top)
	}
	runJSON(t, url, &sj, "score", "--model", aj.Model, "--items", "--top", "4", "--as", "alike", "--wait")
	got, head = neighbourRows(t, url, "alike")
	if strings.Join(head, ",") != "item,rank,neighbour,score,name" {
		t.Fatalf("ALS neighbours columns %v", head)
	}
	fetch := func(ctx context.Context, ref als.FactorRef) (*als.Factors, error) { return readFactors(ctx, c, ref) }
	n := 0
	for item, g := range got {
		want, err := similarALS(ctx, fetch, am.Summary.Items, item, 4)
		if g == nil {
			if err == nil {
				t.Fatalf("item %s unscored, but similar has %v", item, want)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sameScored(t, "ALS item "+item, g, want)
		if n++; n > 400 {
			break // enough: each similar reads every factor shard
		}
	}
	if n < 100 {
		t.Fatalf("only %d ALS items compared", n)
	}
	if _, errs, code := run(t, url, "similar", "--model", aj.Model, "--item", "NOSUCHITEM"); code == 0 ||
		!strings.Contains(errs, `item "NOSUCHITEM" is not in the model`) || strings.Contains(errs, "NaN") {
		t.Fatalf("similar with an unknown item: exit %d, %q", code, errs)
	}
	// Customers' top items from their purchase history.
	runJSON(t, url, &sj, "score", "--model", aj.Model, "--dataset", "retail", "--top", "3", "--as", "next", "--wait")
	out, errs, code = run(t, url, "scores", "export", "next", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "CustomerID,rank,item,score,name\n") {
		t.Fatalf("customer scores: exit %d\n%.200s%s", code, out, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, r := range recs[1:] {
		if r[2] != "" && r[4] != am.ItemNames[r[2]] {
			t.Fatalf("customer scores row %v: item %s is named %q", r, r[2], am.ItemNames[r[2]])
		}
		if r[4] != "" {
			named++
		}
	}
	if named == 0 {
		t.Fatal("no recommended item has a name")
	}
	var cs proto.CustomerScores
	cust := recs[1][0]
	runJSON(t, url, &cs, "customer", "show", cust)
	i := slices.IndexFunc(cs.Sets, func(s proto.CustomerSet) bool { return s.Name == "next" })
	if i < 0 || strings.Join(cs.Sets[i].Columns, ",") != "rank,item,score,name" || len(cs.Sets[i].Rows) == 0 {
		t.Fatalf("customer show %s: %+v", cust, cs)
	}
	for _, r := range cs.Sets[i].Rows {
		if item, _ := r[1].(string); r[3] != am.ItemNames[item] {
			t.Fatalf("customer show %s row %v: item %v is named %q", cust, r, r[1], am.ItemNames[item])
		}
	}
	dev.stop(t)
}
