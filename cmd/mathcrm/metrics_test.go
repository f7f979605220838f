package main

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mathcrm/mathcrm/internal/proto"
)

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse as the Prometheus text format: %v", err)
	}
	return fams
}

// value sums a family's samples whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	var sum float64
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// /metrics parses as the Prometheus text format, and its counters move
// when a job runs and a customer is looked up.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"), "--http-listen", "127.0.0.1:0")
	addr := httpAddr(t, dev)
	before := scrape(t, addr)
	for _, name := range []string{"go_goroutines", "mathcrm_raft_state", "mathcrm_raft_commit_index", "mathcrm_jobs", "mathcrm_workers_live"} {
		if before[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if v := value(before, "mathcrm_raft_state", map[string]string{"state": "Leader"}); v != 1 {
		t.Errorf("raft state leader = %v", v)
	}
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	if out, errs, code := run(t, dev.url, "dataset", "import", "telco", telco, "--kind", "features", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "4"); code != 0 {
		t.Fatalf("import: %s%s", out, errs)
	}
	var job struct {
		Model string
		ID    string `json:"job"`
	}
	runJSON(t, dev.url, &job, "train", "kmeans", "--dataset", "telco", "--k", "3", "--wait")
	// Every pass says where its time went.
	var status proto.Job
	runJSON(t, dev.url, &status, "job", "status", job.ID)
	for _, p := range status.History {
		tr := p.Trace
		if tr == nil || tr.Steps != 4 || tr.Compute <= 0 || tr.Total < tr.SlowestCompute || tr.PartialBytes <= 0 ||
			tr.Overhead < 0 || tr.Overhead > tr.Total {
			t.Fatalf("pass %d trace %+v", p.Pass, tr)
		}
		// The overhead's parts: every one measured, and together the
		// pass less its slowest compute (the overhead, before its clamp
		// at zero).
		parts := tr.Dispatch + tr.Transit + tr.WorkerWait + tr.Tail
		if tr.Transit <= 0 || tr.Tail <= 0 || tr.Transit > tr.Total || tr.Tail > tr.Total ||
			math.Abs(parts-(tr.Total-tr.SlowestCompute)) > 1e-6 {
			t.Fatalf("pass %d: overhead %.6f s, dispatch %.6f + transit %.6f + worker wait %.6f + tail %.6f = %.6f",
				p.Pass, tr.Overhead, tr.Dispatch, tr.Transit, tr.WorkerWait, tr.Tail, parts)
		}
	}
	out, _, _ := run(t, dev.url, "job", "status", job.ID, "--trace")
	if !strings.Contains(out, "OVERHEAD") || !strings.Contains(out, "WORKER-WAIT") || strings.Count(out, "\n  ") < len(status.History) {
		t.Fatalf("job status --trace:\n%s", out)
	}
	if _, errs, code := run(t, dev.url, "score", "--model", job.Model, "--dataset", "telco", "--as", "segs", "--wait"); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := run(t, dev.url, "customer", "show", "7590-VHVEG"); code != 0 {
		t.Fatal(errs)
	}
	after := scrape(t, addr)
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"mathcrm_steps_total", map[string]string{"outcome": "sent"}},
		{"mathcrm_pass_seconds", map[string]string{"algo": "kmeans"}},
		{"mathcrm_pass_seconds", map[string]string{"algo": "score"}},
		{"mathcrm_partial_bytes_total", nil},
		{"mathcrm_raft_apply_seconds", nil},
		{"mathcrm_jobs", map[string]string{"state": "succeeded"}},
		{"mathcrm_worker_steps_total", map[string]string{"outcome": "ok"}},
		{"mathcrm_worker_cache_total", map[string]string{"event": "hit"}},
		{"mathcrm_lookup_seconds", nil},
		{"mathcrm_worker_lookup_seconds", nil},
	} {
		b, a := value(before, c.name, c.labels), value(after, c.name, c.labels)
		if a <= max(b, 0) {
			t.Errorf("%s%v did not move: %v then %v", c.name, c.labels, b, a)
		}
	}
	if v := value(after, "mathcrm_jobs", map[string]string{"state": "succeeded"}); v != 2 {
		t.Errorf("succeeded jobs %v, want 2", v)
	}

	// The model's report: one file, nothing fetched from anywhere, the
	// numbers of model show.
	report := filepath.Join(dir, "segments.html")
	if _, errs, code := run(t, dev.url, "report", "--model", job.Model, "--out", report); code != 0 {
		t.Fatal(errs)
	}
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	// The SVG namespace is a name, not a request.
	page := strings.ReplaceAll(string(html), `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"http://", "https://", "src=", "href=", "<script", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("the report holds %q: it would need the network or the cluster", bad)
		}
	}
	var seg struct {
		Sizes   []int64 `json:"sizes"`
		Inertia float64 `json:"inertia"`
	}
	runJSON(t, dev.url, &seg, "model", "export", job.Model)
	show, _, _ := run(t, dev.url, "model", "show", job.Model)
	if !strings.Contains(page, "<svg") || len(seg.Sizes) != 3 {
		t.Fatalf("report without a chart, or sizes %v", seg.Sizes)
	}
	for _, n := range seg.Sizes {
		want := fmt.Sprintf("<td>%d</td>", n)
		if !strings.Contains(page, want) || !strings.Contains(show, fmt.Sprint(n)) {
			t.Errorf("segment size %d: in model show %v, in the report %v", n, strings.Contains(show, fmt.Sprint(n)), strings.Contains(page, want))
		}
	}
	dev.stop(t)
}
