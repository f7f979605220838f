package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// train basket, model show and export, recommend --items, similar and
// score on the Online Retail invoices, imported as invoice × item
// interactions straight from the sample; and every bad input a clear
// error naming the flag or the item, with a non-zero exit.
func TestCLIBasket(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, dir)
	url := dev.url
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "invoices", "../../testdata/online-retail/onlineretail-sample.csv.gz",
		"--kind", "interactions", "--user", "InvoiceNo", "--item", "StockCode", "--value", "Quantity", "--shards", "4")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-support", "0", "--min-confidence", "0.3"}, "--min-support 0 is out of range: must be a share of the baskets in (0, 1]"},
		{[]string{"--min-support", "1.2", "--min-confidence", "0.3"}, "--min-support 1.2 is out of range"},
		{[]string{"--min-support", "0.01", "--min-confidence", "-1"}, "--min-confidence -1 is out of range: must be a number in [0, 1]"},
		{[]string{"--min-support", "0.01", "--min-confidence", "2"}, "--min-confidence 2 is out of range"},
		{[]string{"--min-support", "0.01", "--min-confidence", "0.3", "--max-len", "1"}, "--max-len 1 is out of range: must be an integer from 2 to 64"},
		{[]string{"--min-support", "0.01", "--min-confidence", "0.3", "--basket", "week"}, `--basket "week" is out of range`},
		{[]string{"--min-confidence", "0.3"}, `required flag(s) "min-support" not set`},
	} {
		_, errs, code := run(t, url, append([]string{"train", "basket", "--dataset", "invoices"}, bad.args...)...)
		if code == 0 || !strings.Contains(errs, bad.want) {
			t.Errorf("train basket %v: exit %d, %q; want %q", bad.args, code, errs, bad.want)
		}
	}

	var job struct{ Model string }
	runJSON(t, url, &job, "train", "basket", "--dataset", "invoices", "--min-support", "0.01", "--min-confidence", "0.3",
		"--max-len", "4", "--exclude-returns", "--wait")
	if job.Model == "" {
		t.Fatal("train basket --wait named no model")
	}

	out, errs, code := run(t, url, "model", "show", job.Model)
	if code != 0 || !strings.Contains(out, "market baskets, min support 0.01, min confidence 0.3, up to 4 items") ||
		!strings.Contains(out, "Frequent itemsets by length:") || !strings.Contains(out, "Top rules by lift") || !strings.Contains(out, " → ") {
		t.Fatalf("model show: exit %d\n%s%s", code, out, errs)
	}

	out, errs, code = run(t, url, "model", "export", job.Model, "--format", "json")
	if code != 0 {
		t.Fatalf("model export: %s", errs)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc) != 4 || string(doc["kind"]) != `"basket"` || doc["baskets"] == nil || doc["itemsets"] == nil || doc["rules"] == nil {
		t.Fatalf("export keys: %s", out[:min(len(out), 300)])
	}
	var exp struct {
		Baskets  int64
		Itemsets []map[string]json.RawMessage
		Rules    []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &exp); err != nil {
		t.Fatal(err)
	}
	// algo/basket/testdata/golden_online_retail_1pct.json.gz's figures.
	if exp.Baskets != 2292 || len(exp.Itemsets) != 704 || len(exp.Rules) != 460 {
		t.Fatalf("export: %d baskets, %d itemsets, %d rules", exp.Baskets, len(exp.Itemsets), len(exp.Rules))
	}
	if k := keys(exp.Itemsets[0]); k != "count,items,support" {
		t.Fatalf("itemset keys %s", k)
	}
	if k := keys(exp.Rules[0]); k != "antecedent,confidence,consequent,conviction,leverage,lift,support" {
		t.Fatalf("rule keys %s", k)
	}

	// The best rule's antecedent, recommended: its consequent is offered.
	var first struct{ Antecedent, Consequent []string }
	if err := json.Unmarshal(mustJSON(t, exp.Rules[0]), &first); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Offers []struct {
			Item       string
			Confidence float64
		}
	}
	runJSON(t, url, &rec, "recommend", "--model", job.Model, "--items", strings.Join(first.Antecedent, ","), "--n", "5")
	if len(rec.Offers) == 0 || len(rec.Offers) > 5 {
		t.Fatalf("recommend %v: %+v", first.Antecedent, rec)
	}
	out, errs, code = run(t, url, "recommend", "--model", job.Model, "--items", first.Antecedent[0]+",NOSUCHITEM")
	if code == 0 || !strings.Contains(errs, `item "NOSUCHITEM" is not a frequent item of this model`) {
		t.Fatalf("recommend with an unknown item: exit %d, %q %q", code, out, errs)
	}
	if _, errs, code = run(t, url, "recommend", "--model", job.Model); code == 0 || !strings.Contains(errs, "--items is required") {
		t.Fatalf("recommend without --items: exit %d, %q", code, errs)
	}

	out, errs, code = run(t, url, "similar", "--model", job.Model, "--item", first.Antecedent[0], "--n", "3")
	if code != 0 || !strings.Contains(out, "items bought with "+first.Antecedent[0]) || strings.Contains(out, "NaN") {
		t.Fatalf("similar: exit %d\n%s%s", code, out, errs)
	}
	if _, errs, code = run(t, url, "similar", "--model", job.Model, "--item", "NOSUCHITEM"); code == 0 ||
		!strings.Contains(errs, `item "NOSUCHITEM" is not a frequent item`) {
		t.Fatalf("similar with an unknown item: exit %d, %q", code, errs)
	}

	var sj struct{ State string }
	runJSON(t, url, &sj, "score", "--model", job.Model, "--dataset", "invoices", "--as", "offers", "--top", "3", "--wait")
	out, errs, code = run(t, url, "scores", "export", "offers", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "InvoiceNo,rank,item,score,rule\n") || !strings.Contains(out, " → ") {
		t.Fatalf("scores export: exit %d\n%.300s%s", code, out, errs)
	}
	dev.stop(t)
}

func keys(m map[string]json.RawMessage) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
