package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

func httpAddr(t *testing.T, dev *devProc) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if i := strings.Index(dev.log.String(), "HTTP http://"); i >= 0 {
			return strings.Fields(dev.log.String()[i+len("HTTP "):])[0]
		}
	}
	t.Fatalf("no HTTP address printed: %s", dev.log.String())
	return ""
}

func lookup(t *testing.T, addr, key string) (int, *proto.CustomerScores, string) {
	t.Helper()
	resp, err := http.Get(addr + "/v1/customers/" + url.PathEscape(key))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%q: content type %q", key, ct)
	}
	var cs proto.CustomerScores
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%q: %v: %s", key, err, b)
		}
	}
	return resp.StatusCode, &cs, string(b)
}

// Customer lookup: for 1,000 random customers the API's row equals the
// score set's export; keys with /, %, unicode or 1,000 characters work; an
// unknown key is a 404 with a body naming it; an over-long key a 400.
func TestCustomerLookup(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"), "--http-listen", "127.0.0.1:0")
	addr := httpAddr(t, dev)
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	mustRun := func(args ...string) string {
		t.Helper()
		out, errs, code := run(t, dev.url, args...)
		if code != 0 {
			t.Fatalf("mathcrm %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	mustRun("dataset", "import", "telco", telco, "--kind", "features", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "8")
	var job struct{ Model string }
	runJSON(t, dev.url, &job, "train", "kmeans", "--dataset", "telco", "--k", "4", "--standardize", "--wait")
	mustRun("score", "--model", job.Model, "--dataset", "telco", "--as", "segs", "--wait")
	exported := filepath.Join(dir, "segs.csv")
	mustRun("scores", "export", "segs", "--format", "csv", "--out", exported)
	f, err := os.Open(exported)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "customerID,segment,distance" {
		t.Fatalf("export header %s", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		rec := recs[1+r.IntN(len(recs)-1)]
		code, cs, body := lookup(t, addr, rec[0])
		if code != 200 || len(cs.Sets) != 1 || cs.Sets[0].Name != "segs" || len(cs.Sets[0].Rows) != 1 {
			t.Fatalf("%s: %d %s", rec[0], code, body)
		}
		row := cs.Sets[0].Rows[0]
		if rec[1] == "" { // unscored: a row of nulls
			if row[0] != nil || row[1] != nil {
				t.Fatalf("%s unscored, looked up %v", rec[0], row)
			}
			continue
		}
		seg, _ := strconv.ParseFloat(rec[1], 64)
		dist, _ := strconv.ParseFloat(rec[2], 64)
		if row[0] != seg || row[1] != dist {
			t.Fatalf("%s: looked up %v, exported %v", rec[0], row, rec[1:])
		}
	}

	// Keys of every shape.
	long := strings.Repeat("k", 1000)
	weird := filepath.Join(dir, "weird.csv")
	keys := []string{"a/b", "100%", "ключ-ü", long, "sp ace", "q?x=1#f"}
	var b strings.Builder
	b.WriteString("id,x\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "\"%s\",%d\n", k, i)
	}
	if err := os.WriteFile(weird, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun("dataset", "import", "weird", weird, "--kind", "features", "--key", "id", "--shards", "3")
	runJSON(t, dev.url, &job, "train", "kmeans", "--dataset", "weird", "--k", "2", "--wait")
	mustRun("score", "--model", job.Model, "--dataset", "weird", "--as", "weird-segs", "--wait")
	for _, k := range keys {
		code, cs, body := lookup(t, addr, k)
		if code != 200 || len(cs.Sets) != 1 || cs.Sets[0].Name != "weird-segs" || cs.Key != k {
			t.Fatalf("%q: %d %s", k, code, body)
		}
	}
	out := mustRun("customer", "show", "a/b")
	if !strings.Contains(out, "customer a/b: in 1 of 2 score sets") || !strings.Contains(out, "weird-segs version 1") {
		t.Fatalf("customer show: %s", out)
	}
	code, _, body := lookup(t, addr, "no-such-customer")
	if code != 404 || !strings.Contains(body, `customer \"no-such-customer\": no score set has a row for it (2 score sets searched)`) {
		t.Fatalf("unknown key: %d %s", code, body)
	}
	_, errs, exit := run(t, dev.url, "customer", "show", "no-such-customer")
	if exit == 0 || !strings.Contains(errs, "no score set has a row for it") {
		t.Fatalf("customer show of an unknown key: exit %d %s", exit, errs)
	}
	if code, _, body := lookup(t, addr, strings.Repeat("x", proto.MaxKeyBytes+1)); code != 400 {
		t.Fatalf("over-long key: %d %s", code, body)
	}
	// The page of a customer, and the search form's redirect.
	resp, err := http.Get(addr + "/customers?key=" + url.QueryEscape("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<h1>Customer a/b</h1>") {
		t.Fatalf("customer page: %d %s", resp.StatusCode, page)
	}
	dev.stop(t)
}
