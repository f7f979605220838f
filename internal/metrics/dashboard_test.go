package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The Grafana dashboard in deploy/ is valid JSON and queries only metrics
// this build exports.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/mathcrm.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	// Every family the registry can export, histograms with their series.
	known := map[string]bool{}
	fams, err := Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		known[f.GetName()] = true
	}
	for _, h := range []prometheus.Collector{RaftApply, PassSeconds, LookupSeconds, WorkerStepSeconds, WorkerLookupSeconds} {
		ch := make(chan *prometheus.Desc, 4)
		h.Describe(ch)
		close(ch)
		for d := range ch {
			name := regexp.MustCompile(`fqName: "([^"]+)"`).FindStringSubmatch(d.String())[1]
			for _, s := range []string{"", "_bucket", "_sum", "_count"} {
				known[name+s] = true
			}
		}
	}
	for _, name := range []string{"mathcrm_raft_state", "mathcrm_raft_commit_index", "mathcrm_raft_applied_index", "mathcrm_jobs",
		"mathcrm_workers_live", "mathcrm_steps_total", "mathcrm_partial_bytes_total", "mathcrm_schedule_runs_total",
		"mathcrm_worker_cache_total", "mathcrm_worker_cache_bytes", "mathcrm_worker_steps_total"} {
		known[name] = true // collected per coordinator or labelled: absent until one runs
	}
	word := regexp.MustCompile(`\b(mathcrm_[a-z_]+|go_[a-z_]+)\b`)
	if len(d.Panels) < 10 {
		t.Fatalf("%d panels", len(d.Panels))
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, m := range word.FindAllString(tg.Expr, -1) {
				if !known[m] {
					t.Errorf("panel %q queries %s, which mathcrm does not export", p.Title, m)
				}
			}
		}
	}
}
