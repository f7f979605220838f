package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// cdnowCSV writes algo/clv's CDNOW sample as a transactions CSV.
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
		fmt.Fprintf(&b, "%s,%s-%s-%s,%s\n", fs[0], fs[2][:4], fs[2][4:6], fs[2][6:], fs[4])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCLIRefusesBadCLVParameters(t *testing.T) {
	const nowhere = "nats://127.0.0.1:1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "clv", "--dataset", "tx", "--calibration-end", "30/09/1997"}, `--calibration-end "30/09/1997" is out of range: must be a date YYYY-MM-DD`},
		{[]string{"train", "clv", "--dataset", "tx", "--calibration-end", "1997-09-30", "--holdout-end", "1997-01-01"},
			"--holdout-end 1997-01-01 is out of range: must be a date after the calibration end 1997-09-30"},
		{[]string{"train", "clv", "--dataset", "tx", "--calibration-end", "1997-09-30", "--time-unit", "year"}, `--time-unit "year" is out of range: must be "day", "week" or "month"`},
		{[]string{"train", "clv", "--dataset", "tx", "--calibration-end", "1997-09-30", "--penalty", "-1"}, "--penalty -1 is out of range: must be a finite number of at least 0"},
		{[]string{"score", "--model", "m", "--dataset", "d", "--horizon", "0"}, "--horizon 0 is out of range: must be a number above 0, at most 100000"},
		{[]string{"score", "--model", "m", "--dataset", "d", "--discount-rate", "-0.5"}, "--discount-rate -0.5 is out of range: must be a number from 0 to 10"},
		{[]string{"segments", "migrate", "--from", "a b", "--to", "c"}, `--from "a b" is not a valid name: letters, digits, _ . - (at most 128, starting with a letter or digit)`},
	} {
		_, errs, code := run(t, nowhere, c.args...)
		if code != 1 || errs != "error: "+c.want+"\n" {
			t.Errorf("mathcrm %s: exit %d, stderr %q\nwant exit 1, %q", strings.Join(c.args, " "), code, errs, "error: "+c.want)
		}
	}
}

// TestCLICustomerValue trains, shows, exports and scores a customer-value
// model on CDNOW and counts segment migrations, through the CLI.
func TestCLICustomerValue(t *testing.T) {
	dir := t.TempDir()
	d := startDev(t, filepath.Join(dir, "dev"))
	tx := filepath.Join(dir, "cdnow.csv")
	cdnowCSV(t, tx)
	if _, errs, code := run(t, d.url, "dataset", "import", "cdnow", tx, "--kind", "transactions", "--key", "customer",
		"--time", "date", "--amount", "amount", "--shards", "4"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	var job struct{ Model, State string }
	runJSON(t, d.url, &job, "train", "clv", "--dataset", "cdnow", "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--wait")
	if job.State != "succeeded" {
		t.Fatalf("train clv: %+v", job)
	}
	out, errs, code := run(t, d.url, "model", "show", job.Model)
	for _, want := range []string{"customer value, BG/NBD + Gamma-Gamma", "BG/NBD       alpha      4.4136", "7+ ", "holdout relative error"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("model show: exit %d, no %q in\n%s%s", code, want, out, errs)
		}
	}
	var exp struct {
		Kind     string
		Purchase struct{ Params map[string]float64 }
	}
	runJSON(t, d.url, &exp, "model", "export", job.Model, "--format", "json")
	if exp.Kind != "clv" || fmt.Sprintf("%.3f", exp.Purchase.Params["r"]) != "0.243" {
		t.Fatalf("export: %+v", exp)
	}
	var sj struct{ Output, State string }
	runJSON(t, d.url, &sj, "score", "--model", job.Model, "--dataset", "cdnow", "--as", "values", "--horizon", "39", "--wait")
	if sj.State != "succeeded" {
		t.Fatalf("score: %+v", sj)
	}
	out, errs, code = run(t, d.url, "scores", "show", "values")
	for _, want := range []string{"TIER  CUSTOMERS", "\nA ", "\nB ", "\nC ", "the top 20% of customers (472) hold"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("scores show: exit %d, no %q in\n%s%s", code, want, out, errs)
		}
	}
	out, errs, code = run(t, d.url, "scores", "export", "values", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "customer,p_alive,expected_purchases,expected_spend,clv,value_tier\n") || strings.Count(out, "\n") != 2358 {
		t.Fatalf("scores export: exit %d, %d lines: %.200s%s", code, strings.Count(out, "\n"), out, errs)
	}
	checkAtRisk(t, d.url, out)
	if _, errs, code := run(t, d.url, "train", "clv", "--dataset", "cdnow", "--calibration-end", "1996-12-01"); code != 1 ||
		!strings.Contains(errs, "the calibration end 1996-12-01 is before the first transaction of cdnow version 1 (1997-01-01)") {
		t.Fatalf("calibration end before the first purchase: exit %d, %s", code, errs)
	}

	for _, s := range []struct{ name, csv string }{
		{"q3", "id,segment\na,Loyal\nb,Loyal\nc,Lost\nd,Champions\n"},
		{"q4", "id,segment\na,Champions\nb,Loyal\nc,Lost\ne,Lost\n"},
	} {
		p := filepath.Join(dir, s.name+".csv")
		if err := os.WriteFile(p, []byte(s.csv), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errs, code := run(t, d.url, "dataset", "import", s.name, p, "--key", "id", "--categorical", "segment", "--shards", "4"); code != 0 {
			t.Fatalf("import %s: %s", s.name, errs)
		}
	}
	out, errs, code = run(t, d.url, "segments", "migrate", "--from", "q3", "--to", "q4")
	for _, want := range []string{"stayed:     2", "from \\ to  Loyal  Lost  Champions  (gone)  total", "Loyal      1      0     1          0       2", "(new)      0      1     0          0       1"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("segments migrate: exit %d, no %q in\n%s%s", code, want, out, errs)
		}
	}
	var m struct {
		Kind   string
		Counts [][]int64
	}
	runJSON(t, d.url, &m, "segments", "migrate", "--from", "q3", "--to", "q4")
	if m.Kind != "migration" || fmt.Sprint(m.Counts) != "[[1 0 1 0] [0 1 0 0] [0 0 0 1] [0 1 0 0]]" {
		t.Fatalf("segments migrate --output json: %+v", m)
	}
}

// checkAtRisk holds scores show --at-risk 5 to the export: the tier A
// customers of lowest p_alive (to 0.001), the highest CLV first among
// equals.
func checkAtRisk(t *testing.T, url, export string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(export)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		key         string
		pAlive, clv float64
	}
	var a []row
	for _, r := range recs[1:] {
		if r[5] == "A" {
			p, _ := strconv.ParseFloat(r[1], 64)
			v, _ := strconv.ParseFloat(r[4], 64)
			a = append(a, row{r[0], p, v})
		}
	}
	sort.Slice(a, func(i, j int) bool {
		if pi, pj := math.Round(a[i].pAlive*1000), math.Round(a[j].pAlive*1000); pi != pj {
			return pi < pj
		}
		if a[i].clv != a[j].clv {
			return a[i].clv > a[j].clv
		}
		return a[i].key < a[j].key
	})
	var got []map[string]any
	runJSON(t, url, &got, "scores", "show", "values", "--at-risk", "5")
	if len(got) != 5 || len(a) < 5 {
		t.Fatalf("--at-risk 5: %d rows, tier A holds %d", len(got), len(a))
	}
	for i, g := range got {
		if g["customer"] != a[i].key || g["p_alive"] != a[i].pAlive || g["clv"] != a[i].clv {
			t.Fatalf("--at-risk row %d: %v, want %+v", i, g, a[i])
		}
	}
	out, errs, code := run(t, url, "scores", "show", "values", "--at-risk", "5")
	if code != 0 || !strings.Contains(out, "5 at-risk high-value customers of values version 1") ||
		!strings.Contains(out, "CUSTOMER  P(ALIVE)  CLV") || !strings.Contains(out, "\n"+a[0].key+" ") {
		t.Fatalf("scores show --at-risk: exit %d\n%s%s", code, out, errs)
	}
	if _, errs, code := run(t, url, "scores", "show", "values", "--at-risk", "0"); code != 1 || errs != "error: --at-risk 0: want 1 to 10000 customers\n" {
		t.Fatalf("--at-risk 0: exit %d, %q", code, errs)
	}
}
