package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCLISchedule(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	var imp struct {
		Rows int64 `json:"rows"`
	}
	runJSON(t, url, &imp, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--kind", "features",
		"--key", "customerID", "--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "4")
	var trained struct {
		Model string `json:"model"`
	}
	runJSON(t, url, &trained, "train", "kmeans", "--dataset", "telco", "--k", "3", "--standardize", "--max-iter", "5", "--wait")

	// A bad expression is refused with the parser's message.
	_, errs, code := run(t, url, "schedule", "create", "bad", "--cron", "0 25 * * *", "--model", trained.Model, "--dataset", "telco")
	if code == 0 || !strings.Contains(errs, `hour field: "25"`) {
		t.Fatalf("bad cron: exit %d, %q", code, errs)
	}
	// Twelve hours away, so that no window comes during the test.
	hour := (time.Now().UTC().Hour() + 12) % 24
	var created struct {
		Name    string    `json:"name"`
		Cron    string    `json:"cron"`
		CatchUp string    `json:"catch_up"`
		Retries int       `json:"retries"`
		Next    time.Time `json:"next"`
	}
	runJSON(t, url, &created, "schedule", "create", "nightly", "--cron", fmt.Sprintf("0  %d * * *", hour), "--model", trained.Model, "--dataset", "telco")
	if created.Cron != fmt.Sprintf("0 %d * * *", hour) || created.CatchUp != "run-once" || created.Retries != 3 ||
		created.Next.Hour() != hour || created.Next.Minute() != 0 || time.Until(created.Next) > 24*time.Hour {
		t.Fatalf("created: %+v", created)
	}

	var manual map[string]any
	runJSON(t, url, &manual, "schedule", "run-now", "nightly", "--wait")
	if manual["state"] != "succeeded" || manual["model"] != trained.Model || manual["trigger"] != "manual" || manual["rows"].(float64) < 7000 {
		t.Fatalf("run-now --wait: %v", manual)
	}
	var runs []map[string]any
	runJSON(t, url, &runs, "schedule", "runs", "nightly")
	if len(runs) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	for _, key := range []string{"scheduled_for", "started", "finished"} {
		s, _ := runs[0][key].(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Fatalf("runs: %s = %v: %v", key, runs[0][key], err)
		}
	}
	if runs[0]["state"] != "succeeded" || runs[0]["dataset_version"] != 1.0 || runs[0]["model"] != trained.Model || runs[0]["rows"] != manual["rows"] {
		t.Fatalf("runs: %v", runs[0])
	}
	out, _, code := run(t, url, "schedule", "runs", "nightly")
	if code != 0 || !strings.Contains(out, "manual") || !strings.Contains(out, "succeeded") || !strings.Contains(out, "nightly:1") {
		t.Fatalf("runs table: %s", out)
	}

	var paused map[string]any
	runJSON(t, url, &paused, "schedule", "pause", "nightly")
	if paused["paused"] != true {
		t.Fatalf("pause: %v", paused)
	}
	var list []map[string]any
	runJSON(t, url, &list, "schedule", "list")
	if len(list) != 1 || list[0]["paused"] != true {
		t.Fatalf("list after pause: %v", list)
	}
	if out, _, code := run(t, url, "schedule", "resume", "nightly"); code != 0 || !strings.Contains(out, "active, next window") {
		t.Fatalf("resume: %d %s", code, out)
	}
	if _, _, code := run(t, url, "schedule", "delete", "nightly"); code != 0 {
		t.Fatalf("delete: exit %d", code)
	}
	if _, errs, code := run(t, url, "schedule", "runs", "nightly"); code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("runs of a deleted schedule: exit %d, %q", code, errs)
	}
}
