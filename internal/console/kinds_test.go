package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/algo/histogram"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// kindPage is a trained model whose page the browser loads, and the marks
// its charts must have, by the start of the chart's title: bars, and the
// points of each line.
type kindPage struct {
	name, id string
	want     map[string]chartMarks
}

type chartMarks struct {
	Title string `json:"title"`
	Bars  int    `json:"bars"`
	Lines []int  `json:"lines"`
	Marks int    `json:"marks"`
}

// testKindPages trains a logistic and a linear regression on the Telco
// customers, a customer-value model on the CDNOW sample, market baskets on
// generated invoices and a histogram of the fixture's customers, and loads
// each model's page in Chromium: no console error or failed request, every
// chart of the page's description drawn with one mark per bar and point,
// and the marks each kind promises (the ROC's 101 points, a lift bar per
// decile, a bar per histogram or residual bin, …). The logistic model's
// report is loaded from a file the same way. Screenshots of every page go
// to $MATHCRM_SCREENSHOTS, by default a folder in the system's temporary
// directory, which the test names.
func testKindPages(t *testing.T, f *fixture) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium); .ci/run installs it")
	}
	shots := os.Getenv("MATHCRM_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "mathcrm-console-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := trainKinds(t, f)
	b := startCDP(t, bin)
	b.call(t, b.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	for _, p := range pages {
		var mp console.ModelPage
		getJSON(t, f.srv.URL+"/models/"+p.id, &mp)
		b.reset()
		b.navigate(t, f.srv.URL+"/models/"+p.id)
		if errs := b.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s page: %q", p.name, errs)
		}
		checkMarks(t, p, mp.Description, domMarks(t, b))
		b.screenshot(t, filepath.Join(shots, "model-"+p.name+".png"))
	}

	// The report of the logistic model, from a file with no server behind
	// it: the same charts, and nothing fetched.
	d := &proto.ModelDetail{}
	if err := f.cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: pages[0].id}, d); err != nil {
		t.Fatal(err)
	}
	rep, err := console.Report(d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// It holds the model's numbers: the held-out AUC and each decile's
	// gains and lift.
	g := testutil.Detail[supervised.Model](t, d).Logistic
	want := []string{fmt.Sprintf("<dd>%.4f</dd>", g.Holdout.AUC), fmt.Sprintf("area %.4f", g.Holdout.CurveAUC)}
	for _, dc := range g.Holdout.Deciles {
		want = append(want, fmt.Sprintf("<td>%.1f%%</td><td>%.3f</td>", 100*dc.Gains, dc.Lift))
	}
	for _, w := range want {
		if !bytes.Contains(rep, []byte(w)) {
			t.Errorf("logistic report: no %q", w)
		}
	}
	file := filepath.Join(shots, "report-logistic.html")
	if err := os.WriteFile(file, rep, 0o644); err != nil {
		t.Fatal(err)
	}
	var mp console.ModelPage
	getJSON(t, f.srv.URL+"/models/"+pages[0].id, &mp)
	b.reset()
	b.navigate(t, "file://"+file)
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("logistic report: %q", errs)
	}
	checkMarks(t, pages[0], mp.Description, domMarks(t, b))
	b.screenshot(t, filepath.Join(shots, "report-logistic.png"))
	t.Logf("screenshots in %s", shots)
}

// domMarks counts the marks of every chart on the page.
func domMarks(t *testing.T, b *cdp) []chartMarks {
	t.Helper()
	js := `JSON.stringify([...document.querySelectorAll("figure.chart")].map(f => ({
		title: f.querySelector("figcaption").textContent,
		bars: f.querySelectorAll("svg rect.bar").length,
		lines: [...f.querySelectorAll("svg polyline")].map(p => p.getAttribute("points").trim().split(/\s+/).filter(Boolean).length),
		marks: f.querySelectorAll("svg circle").length})))`
	var out []chartMarks
	if err := json.Unmarshal([]byte(b.eval(t, js)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkMarks holds the drawn charts to the description, one bar per bar
// and one point (and one circle) per finite point of each series, and to
// the marks the kind promises.
func checkMarks(t *testing.T, p kindPage, desc *describe.Description, got []chartMarks) {
	t.Helper()
	if len(got) != len(desc.Charts) {
		t.Fatalf("%s: %d charts drawn, the description has %d", p.name, len(got), len(desc.Charts))
	}
	seen := map[string]bool{}
	for i, ch := range desc.Charts {
		want := chartMarks{Title: ch.Title, Bars: len(ch.Bars)}
		for _, s := range ch.Series {
			n := 0
			for _, pt := range s.Points {
				if !math.IsNaN(pt.X+pt.Y) && !math.IsInf(pt.X+pt.Y, 0) {
					n++
				}
			}
			want.Lines = append(want.Lines, n)
			want.Marks += n
		}
		if fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("%s: chart %d drawn %+v, described %+v", p.name, i, got[i], want)
		}
		for prefix, w := range p.want {
			if strings.HasPrefix(ch.Title, prefix) {
				seen[prefix] = true
				if got[i].Bars != w.Bars || fmt.Sprint(got[i].Lines) != fmt.Sprint(w.Lines) {
					t.Errorf("%s: chart %q has %d bars and lines of %v points, want %d and %v", p.name, ch.Title, got[i].Bars, got[i].Lines, w.Bars, w.Lines)
				}
			}
		}
	}
	for prefix := range p.want {
		if !seen[prefix] {
			t.Errorf("%s: no chart %q", p.name, prefix)
		}
	}
}

// trainKinds trains the models and says what their charts must hold; the
// logistic model comes first.
func trainKinds(t *testing.T, f *fixture) []kindPage {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cl := f.cl
	if _, err := cl.Import(ctx, "telco", "../../testdata/telco/Telco-Customer-Churn.csv", client.ImportOptions{Kind: proto.KindFeatures,
		Options: partition.Options{Key: "customerID", Columns: []string{"tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen"},
			Categorical: []string{"Contract", "Churn"}, Shards: 4, TempDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	cdnow := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, cdnow)
	if _, err := cl.Import(ctx, "cdnow", cdnow, client.ImportOptions{Kind: proto.KindTransactions,
		Options: partition.Options{Shards: 3, TempDir: t.TempDir()}, Transactions: partition.TransactionOptions{Key: "customer", Time: "date", Amount: "amount"}}); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "invoices.csv")
	genInvoices(t, inv)
	if _, err := cl.Import(ctx, "invoices", inv, client.ImportOptions{Kind: proto.KindInteractions,
		Options: partition.Options{Shards: 3, TempDir: t.TempDir()}, Interactions: partition.InteractionOptions{User: "invoice", Item: "item", Value: "quantity"}}); err != nil {
		t.Fatal(err)
	}
	specs := []proto.JobSpec{
		supervised.Spec(supervised.LogisticName, "telco", supervised.Params{Target: "Churn=Yes",
			Features: []string{"tenure", "MonthlyCharges", "SeniorCitizen", "Contract"}, Holdout: 0.25}),
		supervised.Spec(supervised.LinearName, "telco", supervised.Params{Target: "TotalCharges",
			Features: []string{"tenure", "MonthlyCharges"}, Holdout: 0.2}),
		clv.Spec("cdnow", clv.Params{CalibrationEnd: "1997-09-30", HoldoutEnd: "1998-06-30", TimeUnit: clv.Week, Model: clv.BGNBD, MaxIter: clv.DefaultMaxIter}),
		basket.Spec("invoices", basket.Params{MinSupport: 0.05, MinConfidence: 0.3, MaxLen: 4, MaxCandidates: basket.DefaultMaxCandidates}),
		histogram.Spec("customers", histogram.Params{Column: "tenure", Bins: 12}),
	}
	ids := make([]string, len(specs))
	for i, s := range specs {
		s.Seed = 3
		ids[i] = submit(t, cl, s)
	}
	models := make([]*proto.ModelDetail, len(ids))
	for i, id := range ids {
		j := wait(t, cl, id)
		models[i] = &proto.ModelDetail{}
		if err := cl.Call(ctx, proto.APIModelShow, proto.Named{Name: j.Model}, models[i]); err != nil {
			t.Fatal(err)
		}
	}
	mined := testutil.Detail[basket.Mined](t, models[3])
	longest := 0
	for _, is := range mined.Itemsets {
		longest = max(longest, len(is.Items))
	}
	if longest < 2 {
		t.Fatalf("basket model: no itemset of two items among %d", len(mined.Itemsets))
	}
	value := testutil.Detail[clv.Value](t, models[2])
	if value.Holdout == nil {
		t.Fatal("clv model without its holdout table")
	}
	groups := len(value.Holdout.Rows)
	return []kindPage{
		{"logistic", models[0].Model.ID, map[string]chartMarks{
			"ROC (held-out rows":               {Lines: []int{logistic.CurveBins + 1, 2}},
			"Cumulative gains (held-out rows)": {Lines: []int{11, 2}},
			"Lift by decile (held-out rows)":   {Bars: 10},
			"Calibration (held-out rows)":      {Lines: []int{calibrated(t, models[0]), 2}},
		}},
		{"linear", models[1].Model.ID, map[string]chartMarks{
			"Coefficients":              {Bars: 2},
			"Residuals (training rows)": {Bars: linear.ResidualBins},
			"Residuals (held-out rows)": {Bars: linear.ResidualBins},
		}},
		{"clv", models[2].Model.ID, map[string]chartMarks{"Holdout purchases per customer": {Lines: []int{groups, groups}}}},
		{"basket", models[3].Model.ID, map[string]chartMarks{"Frequent itemsets by length": {Bars: longest}}},
		{"histogram", models[4].Model.ID, map[string]chartMarks{"tenure": {Bars: 12}}},
	}
}

// calibrated counts the held-out calibration bins that hold rows.
func calibrated(t *testing.T, d *proto.ModelDetail) int {
	m := testutil.Detail[supervised.Model](t, d)
	if m.Logistic == nil {
		t.Fatalf("model %s is no logistic regression", d.Model.ID)
	}
	n := 0
	for _, b := range m.Logistic.Holdout.Calibration {
		if b.Count > 0 {
			n++
		}
	}
	return n
}

// cdnowCSV writes algo/clv's CDNOW sample as a transactions CSV: customer,
// date, amount.
func cdnowCSV(t *testing.T, path string) {
	t.Helper()
	in, err := os.Open("../../algo/clv/testdata/cdnow/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var b bytes.Buffer
	b.WriteString("customer,date,amount\n")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 || len(fs[2]) != 8 {
			t.Fatalf("bad CDNOW line %q", sc.Text())
		}
		d := fs[2]
		fmt.Fprintf(&b, "%s,%s-%s-%s,%s\n", fs[0], d[:4], d[4:6], d[6:], fs[4])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// genInvoices writes 400 invoices of 1 to 4 items out of 8, with bread
// and butter, and tea and milk, often bought together.
func genInvoices(t *testing.T, path string) {
	t.Helper()
	r := rand.New(rand.NewPCG(11, 12))
	items := []string{"bread", "butter", "tea", "milk", "jam", "eggs", "rice", "soap"}
	var b bytes.Buffer
	b.WriteString("invoice,item,quantity\n")
	for i := range 400 {
		in := map[string]bool{}
		for range 1 + r.IntN(4) {
			in[items[r.IntN(len(items))]] = true
		}
		if in["bread"] && r.IntN(3) > 0 {
			in["butter"] = true
		}
		if in["tea"] && r.IntN(3) > 0 {
			in["milk"] = true
		}
		for _, it := range items {
			if in[it] {
				fmt.Fprintf(&b, "inv%04d,%s,%d\n", i, it, 1+r.IntN(3))
			}
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
