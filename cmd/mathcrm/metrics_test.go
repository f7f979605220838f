package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	var job struct{ Model string }
	runJSON(t, dev.url, &job, "train", "kmeans", "--dataset", "telco", "--k", "3", "--wait")
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
	if !strings.Contains(dev.log.String(), "HTTP") {
		t.Fatal("no HTTP line")
	}
	dev.stop(t)
}
