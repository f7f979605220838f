package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var bin string

func TestMain(m *testing.M) { testutil.RunWithBinary(m, ".", &bin) }

type devProc struct {
	cmd *exec.Cmd
	url string
	log *syncBuffer
}

// syncBuffer is a buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startDev(t *testing.T, dir string, extra ...string) *devProc {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "nats.url"))
	log := &syncBuffer{}
	cmd := exec.Command(bin, append([]string{"dev", "--data-dir", dir, "--workers", "3", "--nats-listen", "127.0.0.1:0"}, extra...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, "nats.url")); err == nil && len(b) > 0 {
			return &devProc{cmd: cmd, url: strings.TrimSpace(string(b)), log: log}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("mathcrm dev did not start: %s", log.String())
	return nil
}

func (d *devProc) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("mathcrm dev exited with %v: %s", err, d.log.String())
	}
}

// run runs the CLI and returns stdout, stderr and the exit code.
func run(t *testing.T, url string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+url)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func runJSON(t *testing.T, url string, v any, args ...string) {
	t.Helper()
	out, errs, code := run(t, url, append(args, "--output", "json")...)
	if code != 0 {
		t.Fatalf("mathcrm %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("mathcrm %s --output json printed no JSON document: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"

	var imp struct {
		Name    string `json:"name"`
		Version int    `json:"version"`
		Rows    int64  `json:"rows"`
		Shards  int    `json:"shards"`
	}
	runJSON(t, url, &imp, "dataset", "import", "telco", telco, "--kind", "features", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "8")
	if imp.Rows != 7043 || imp.Shards != 8 || imp.Version != 1 {
		t.Fatalf("import: %+v", imp)
	}
	var show struct {
		Columns []struct {
			Name    string  `json:"name"`
			Missing int64   `json:"missing"`
			Max     float64 `json:"max"`
		} `json:"columns"`
	}
	runJSON(t, url, &show, "dataset", "show", "telco")
	if len(show.Columns) != 3 || show.Columns[2].Name != "TotalCharges" || show.Columns[2].Missing != 11 || show.Columns[0].Max != 72 {
		t.Fatalf("dataset show: %+v", show)
	}

	// Bad input: a clear error naming file, line and column, exit non-zero, nothing visible.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("customerID,tenure\nA,1\nB,ten\n"), 0o644)
	_, errs, code := run(t, url, "dataset", "import", "broken", bad, "--key", "customerID", "--columns", "tenure")
	if code == 0 || !strings.Contains(errs, "bad.csv:3") || !strings.Contains(errs, `"tenure"`) {
		t.Fatalf("bad import: exit %d, %q", code, errs)
	}
	var list []map[string]any
	runJSON(t, url, &list, "dataset", "list")
	if len(list) != 1 {
		t.Fatalf("a failed import is visible: %v", list)
	}

	var res struct {
		Job        string  `json:"job"`
		Model      string  `json:"model"`
		State      string  `json:"state"`
		Iterations int     `json:"iterations"`
		Objective  float64 `json:"objective"`
	}
	runJSON(t, url, &res, "train", "kmeans", "--dataset", "telco", "--k", "4", "--standardize", "--seed", "42", "--wait")
	if res.State != "succeeded" || res.Model == "" || res.Iterations < 1 || res.Objective <= 0 {
		t.Fatalf("train --wait: %+v", res)
	}
	var exp struct {
		Kind       string      `json:"kind"`
		Columns    []string    `json:"columns"`
		Centroids  [][]float64 `json:"centroids"`
		Sizes      []int64     `json:"sizes"`
		Inertia    float64     `json:"inertia"`
		Iterations int         `json:"iterations"`
		Spec       struct {
			Seed uint64 `json:"seed"`
		} `json:"spec"`
	}
	runJSON(t, url, &exp, "model", "export", res.Model, "--format", "json")
	var total int64
	for _, s := range exp.Sizes {
		total += s
	}
	if exp.Kind != "kmeans" || len(exp.Centroids) != 4 || len(exp.Columns) != 3 || total != 7032 || exp.Spec.Seed != 42 {
		t.Fatalf("export: %+v", exp)
	}
	// Centroids are in original units: tenure means lie within 0..72 months.
	for _, c := range exp.Centroids {
		if c[0] < 0 || c[0] > 72 {
			t.Fatalf("centroid tenure %v is not in original units", c[0])
		}
	}
	out, _, code := run(t, url, "model", "show", res.Model)
	if code != 0 || !strings.Contains(out, "share") || !strings.Contains(out, "MonthlyCharges") {
		t.Fatalf("model show: %s", out)
	}

	// Given starting centroids from a CSV file, in original units.
	starts := filepath.Join(dir, "starts.csv")
	os.WriteFile(starts, []byte("tenure,MonthlyCharges\n5,30\n60,100\n"), 0o644)
	runJSON(t, url, &res, "train", "kmeans", "--dataset", "telco", "--init", starts, "--max-iter", "5", "--wait")
	if res.State != "succeeded" {
		t.Fatalf("given init: %+v", res)
	}
	var st struct {
		Spec struct {
			KMeans struct {
				Init    string   `json:"init"`
				K       int      `json:"k"`
				Columns []string `json:"columns"`
			} `json:"kmeans"`
		} `json:"spec"`
		History []map[string]any `json:"history"`
	}
	runJSON(t, url, &st, "job", "status", res.Job)
	if st.Spec.KMeans.Init != "given" || st.Spec.KMeans.K != 2 || len(st.History) == 0 {
		t.Fatalf("job status: %+v", st)
	}

	// A job on a missing column is refused before it runs.
	_, errs, code = run(t, url, "train", "kmeans", "--dataset", "telco", "--k", "2", "--columns", "nope")
	if code == 0 || !strings.Contains(errs, `"nope"`) {
		t.Fatalf("missing column: exit %d %q", code, errs)
	}

	// Restart the dev process on the same directory: everything is still there.
	dev.stop(t)
	dev = startDev(t, filepath.Join(dir, "cluster"))
	var jobs []struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Model string `json:"model"`
	}
	runJSON(t, dev.url, &jobs, "job", "list")
	if len(jobs) != 2 || jobs[0].State != "succeeded" || jobs[0].Model == "" {
		t.Fatalf("jobs after restart: %+v", jobs)
	}
	var again struct {
		Centroids [][]float64 `json:"centroids"`
	}
	runJSON(t, dev.url, &again, "model", "export", jobs[0].Model)
	if len(again.Centroids) != 4 || again.Centroids[0][0] != exp.Centroids[0][0] {
		t.Fatalf("model after restart: %+v", again)
	}
	dev.stop(t)
}

func TestCLICategorical(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges", "--categorical", "Contract,Churn", "--shards", "8")
	var show struct {
		Columns []struct {
			Name        string   `json:"name"`
			Levels      []string `json:"levels"`
			LevelCounts []int64  `json:"level_counts"`
		} `json:"columns"`
	}
	runJSON(t, url, &show, "dataset", "show", "telco")
	churned := int64(0)
	for _, c := range show.Columns {
		if c.Name == "Churn" {
			for i, v := range c.Levels {
				if v == "Yes" {
					churned = c.LevelCounts[i]
				}
			}
		}
	}
	if churned != 1869 {
		t.Fatalf("Churn=Yes count %d, want 1869 (%+v)", churned, show.Columns)
	}
	// Contract (categorical) is used one-hot in training.
	var res struct {
		Model string `json:"model"`
		State string `json:"state"`
	}
	runJSON(t, url, &res, "train", "kmeans", "--dataset", "telco", "--k", "3", "--columns", "tenure,MonthlyCharges,Contract",
		"--standardize", "--wait")
	var m struct {
		KMeans struct {
			Columns []string `json:"columns"`
			Sizes   []int64  `json:"sizes"`
			Profile struct {
				Columns []string    `json:"columns"`
				Means   [][]float64 `json:"means"`
			} `json:"profile"`
		} `json:"kmeans"`
	}
	runJSON(t, url, &m, "model", "show", res.Model)
	if strings.Join(m.KMeans.Columns, ",") != "tenure,MonthlyCharges,Contract=Month-to-month,Contract=One year,Contract=Two year" {
		t.Fatalf("training columns: %v", m.KMeans.Columns)
	}
	// Segment shares of Churn=Yes, weighted by segment size, give back the count.
	col := -1
	for j, c := range m.KMeans.Profile.Columns {
		if c == "Churn=Yes" {
			col = j
		}
	}
	if col < 0 {
		t.Fatalf("no Churn=Yes in the profile: %v", m.KMeans.Profile.Columns)
	}
	var sum float64
	for c, size := range m.KMeans.Sizes {
		sum += m.KMeans.Profile.Means[c][col] * float64(size)
	}
	if d := sum - 1869; d > 1e-6 || d < -1e-6 {
		t.Fatalf("segments hold %.6f churners, want 1869", sum)
	}
	_, errs, code := run(t, url, "train", "kmeans", "--dataset", "telco", "--k", "2", "--columns", "Contract=Monthly")
	if code == 0 || !strings.Contains(errs, `no value "Monthly"`) {
		t.Fatalf("unknown category value: exit %d %q", code, errs)
	}
	dev.stop(t)
}

func TestCLIDatasetExport(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "telco", telco, "--key", "customerID", "--columns", "tenure,TotalCharges",
		"--categorical", "Contract", "--shards", "8")
	out := filepath.Join(dir, "telco-export.csv")
	var res struct {
		Rows int64 `json:"rows"`
	}
	runJSON(t, url, &res, "dataset", "export", "telco", "--format", "csv", "--out", out)
	if res.Rows != 7043 {
		t.Fatalf("exported %d rows", res.Rows)
	}
	// The export imports again to the same statistics.
	runJSON(t, url, &imp, "dataset", "import", "again", out, "--key", "customerID", "--categorical", "Contract", "--shards", "3")
	var a, b struct {
		Columns []map[string]any `json:"columns"`
	}
	runJSON(t, url, &a, "dataset", "show", "telco")
	runJSON(t, url, &b, "dataset", "show", "again")
	for i := range a.Columns {
		if a.Columns[i]["name"] != b.Columns[i]["name"] || a.Columns[i]["missing"] != b.Columns[i]["missing"] ||
			a.Columns[i]["max"] != b.Columns[i]["max"] || a.Columns[i]["min"] != b.Columns[i]["min"] {
			t.Fatalf("column %d differs after export and import: %v vs %v", i, a.Columns[i], b.Columns[i])
		}
	}
	pq := filepath.Join(dir, "telco.parquet")
	runJSON(t, url, &res, "dataset", "export", "telco", "--format", "parquet", "--out", pq)
	if fi, err := os.Stat(pq); err != nil || fi.Size() == 0 || res.Rows != 7043 {
		t.Fatalf("parquet export: %v %+v", err, res)
	}
	dev.stop(t)
}

func TestDevHTTP(t *testing.T) {
	dev := startDev(t, t.TempDir(), "--http-listen", "127.0.0.1:0")
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if i := strings.Index(dev.log.String(), "HTTP http://"); i >= 0 {
			addr = strings.Fields(dev.log.String()[i+len("HTTP "):])[0]
		}
	}
	if addr == "" {
		t.Fatalf("no HTTP address printed: %s", dev.log.String())
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/v1/status": `"leader":true`, "/": "<h1>Cluster</h1>"} {
		resp, err := http.Get(addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	dev.stop(t)
}

// TestCLIDatasetExportOtherKinds: interactions and transactions datasets
// stream out as CSV and Parquet, and the CSV imports again as the same
// dataset.
func TestCLIDatasetExportOtherKinds(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	type version struct {
		Rows         int64 `json:"rows"`
		Interactions *struct {
			Users int64 `json:"users"`
			Items int64 `json:"items"`
		} `json:"interactions"`
		Transactions *struct {
			Customers int64     `json:"customers"`
			Returns   int64     `json:"returns"`
			First     time.Time `json:"first"`
			Last      time.Time `json:"last"`
		} `json:"transactions"`
	}
	show := func(name string) version {
		var v version // the latest version
		runJSON(t, url, &v, "dataset", "show", name)
		return v
	}
	var imp map[string]any
	var res struct {
		Rows int64 `json:"rows"`
	}
	check := func(name, again string) {
		t.Helper()
		a, b := show(name), show(again)
		if fmt.Sprint(a.Rows, a.Interactions, a.Transactions) != fmt.Sprint(b.Rows, b.Interactions, b.Transactions) {
			t.Fatalf("%s differs after export and import: %+v vs %+v", name, a, b)
		}
		pq := filepath.Join(dir, name+".parquet")
		runJSON(t, url, &res, "dataset", "export", name, "--format", "parquet", "--out", pq)
		if fi, err := os.Stat(pq); err != nil || fi.Size() == 0 || res.Rows != a.Rows {
			t.Fatalf("%s parquet export: %v %+v", name, err, res)
		}
	}

	runJSON(t, url, &imp, "dataset", "import", "ratings", "../../testdata/ratings/spark_sample_movielens.csv",
		"--kind", "interactions", "--user", "user", "--item", "item", "--value", "rating", "--shards", "4")
	out := filepath.Join(dir, "ratings.csv")
	runJSON(t, url, &res, "dataset", "export", "ratings", "--format", "csv", "--out", out)
	if res.Rows != 1501 {
		t.Fatalf("exported %d ratings, want 1501", res.Rows)
	}
	runJSON(t, url, &imp, "dataset", "import", "ratings2", out, "--kind", "interactions", "--user", "user", "--item", "item",
		"--value", "rating", "--shards", "3")
	check("ratings", "ratings2")

	runJSON(t, url, &imp, "dataset", "import", "retail", "../../testdata/online-retail/onlineretail-sample.csv.gz",
		"--kind", "transactions", "--key", "CustomerID", "--time", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
		"--invoice", "InvoiceNo", "--skip-missing-key", "--shards", "4")
	out = filepath.Join(dir, "retail.csv")
	runJSON(t, url, &res, "dataset", "export", "retail", "--format", "csv", "--out", out)
	if res.Rows != show("retail").Rows || res.Rows == 0 {
		t.Fatalf("exported %d transactions of %d", res.Rows, show("retail").Rows)
	}
	runJSON(t, url, &imp, "dataset", "import", "retail2", out, "--kind", "transactions", "--key", "CustomerID",
		"--time", "time", "--amount", "amount", "--invoice", "InvoiceNo", "--shards", "3")
	check("retail", "retail2")
	dev.stop(t)
}
