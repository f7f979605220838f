package basket

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The invoices of the Online Retail sample as baskets of StockCodes,
// cancellations and lines with a non-positive quantity left out, mined at
// support 1% and 0.5%, confidence 0.3, up to 4 items, against
// testdata/golden_online_retail_*.json.gz, which testdata/make_golden.py
// made by counting in Python. Counts must be equal; the measures within
// 1e-15 relative (the same formulas in another language).
func TestGoldenOnlineRetail(t *testing.T) {
	lists := onlineRetailInvoices(t)
	for _, file := range []string{"golden_online_retail_1pct.json.gz", "golden_online_retail_05pct.json.gz"} {
		t.Run(file, func(t *testing.T) { checkGolden(t, lists, "testdata/"+file) })
	}
}

func onlineRetailInvoices(t *testing.T) [][]string {
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
	byInvoice := map[string][]string{}
	var order []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		inv := rec[col["InvoiceNo"]]
		q, err := strconv.ParseFloat(rec[col["Quantity"]], 64)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(inv, "C") || q <= 0 {
			continue
		}
		if _, ok := byInvoice[inv]; !ok {
			order = append(order, inv)
		}
		byInvoice[inv] = append(byInvoice[inv], rec[col["StockCode"]])
	}
	lists := make([][]string, len(order))
	for i, inv := range order {
		lists[i] = byInvoice[inv]
	}
	return lists
}

func checkGolden(t *testing.T, lists [][]string, path string) {
	var golden struct {
		Baskets       int64
		MinSupport    float64 `json:"min_support"`
		MinConfidence float64 `json:"min_confidence"`
		MaxLen        int     `json:"max_len"`
		MinCount      int64   `json:"min_count"`
		Itemsets      []Itemset
		Rules         []struct {
			Antecedent, Consequent              []string
			Count                               int64
			Support, Confidence, Lift, Leverage float64
			Conviction                          *float64
		}
	}
	gf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer gf.Close()
	gz, err := gzip.NewReader(gf)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(gz).Decode(&golden); err != nil {
		t.Fatal(err)
	}
	cfg := Config{MinSupport: golden.MinSupport, MinConfidence: golden.MinConfidence, MaxLen: golden.MaxLen}
	m, err := Reference(cfg, split(lists, 16)...)
	if err != nil {
		t.Fatal(err)
	}
	if m.Baskets != golden.Baskets || m.MinCount != golden.MinCount || len(m.Itemsets) != len(golden.Itemsets) {
		t.Fatalf("%d baskets, min count %d, %d itemsets; golden %d, %d, %d", m.Baskets, m.MinCount, len(m.Itemsets), golden.Baskets, golden.MinCount, len(golden.Itemsets))
	}
	for i, is := range m.Itemsets {
		g := golden.Itemsets[i]
		if !slices.Equal(is.Items, g.Items) || is.Count != g.Count {
			t.Fatalf("itemset %d: %v %d, golden %v %d", i, is.Items, is.Count, g.Items, g.Count)
		}
	}
	if len(m.Rules) != len(golden.Rules) {
		t.Fatalf("%d rules, golden %d", len(m.Rules), len(golden.Rules))
	}
	rules := slices.Clone(m.Rules)
	slices.SortFunc(rules, func(x, y Rule) int {
		if c := slices.Compare(x.Antecedent, y.Antecedent); c != 0 {
			return c
		}
		return slices.Compare(x.Consequent, y.Consequent)
	})
	close := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-15*math.Abs(b) }
	for i, r := range rules {
		g := golden.Rules[i]
		conv := math.Inf(1)
		if g.Conviction != nil {
			conv = *g.Conviction
		}
		if !slices.Equal(r.Antecedent, g.Antecedent) || !slices.Equal(r.Consequent, g.Consequent) || r.Count != g.Count ||
			!close(r.Support, g.Support) || !close(r.Confidence, g.Confidence) || !close(r.Lift, g.Lift) ||
			!(close(r.Leverage, g.Leverage) || math.Abs(r.Leverage-g.Leverage) < 1e-18) || !close(r.Conviction, conv) {
			t.Fatalf("rule %d: %s\ngolden %+v", i, fmt.Sprintf("%+v", r), g)
		}
	}
}
