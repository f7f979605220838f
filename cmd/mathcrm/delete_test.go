package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIDelete deletes a dataset version, a score set version, a model and
// a job through the real binary against mathcrm dev, and checks that they
// are gone from list, show and export, that a delete a schedule stands in
// the way of is refused with who uses it, and that retention drops old
// versions.
func TestCLIDelete(t *testing.T) {
	dir := t.TempDir()
	url := startDev(t, filepath.Join(dir, "cluster")).url
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	importTelco := func(extra ...string) {
		t.Helper()
		var imp map[string]any
		runJSON(t, url, &imp, append([]string{"dataset", "import", "telco", telco, "--kind", "features", "--key", "customerID",
			"--columns", "tenure,MonthlyCharges", "--shards", "4"}, extra...)...)
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, errs, code := run(t, url, args...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Fatalf("mathcrm %s: exit %d, %q; want exit 1 and %q", strings.Join(args, " "), code, errs, want)
		}
	}
	importTelco()
	importTelco()
	var trained struct{ Job, Model string }
	runJSON(t, url, &trained, "train", "kmeans", "--dataset", "telco", "--k", "3", "--max-iter", "3", "--wait")
	var scored struct{ Job, Output string }
	for _, want := range []string{"seg:1", "seg:2"} {
		runJSON(t, url, &scored, "score", "--model", trained.Model, "--dataset", "telco", "--as", "seg", "--keep", "5", "--wait")
		if scored.Output != want {
			t.Fatalf("scored into %s, want %s", scored.Output, want)
		}
	}

	// Storage use is shown for versions, models and score sets.
	var show struct {
		Version      int   `json:"version"`
		Bytes        int64 `json:"bytes"`
		DatasetBytes int64 `json:"dataset_bytes"`
		Storage      []struct {
			Version int   `json:"version"`
			Bytes   int64 `json:"bytes"`
		} `json:"storage"`
	}
	runJSON(t, url, &show, "dataset", "show", "telco")
	if show.Version != 2 || show.Bytes <= 0 || len(show.Storage) != 2 || show.DatasetBytes != show.Storage[0].Bytes+show.Storage[1].Bytes {
		t.Fatalf("dataset show: %+v", show)
	}
	var models []struct {
		ID, Job, Algo, Dataset string
		DatasetVersion         int   `json:"dataset_version"`
		Bytes                  int64 `json:"bytes"`
	}
	runJSON(t, url, &models, "model", "list")
	if len(models) != 1 || models[0].ID != trained.Model || models[0].Job != trained.Job || models[0].Algo != "kmeans" ||
		models[0].Dataset != "telco" || models[0].DatasetVersion != 2 || models[0].Bytes <= 0 {
		t.Fatalf("model list: %+v", models)
	}
	var scores struct {
		Version int   `json:"version"`
		Bytes   int64 `json:"bytes"`
		Keep    int   `json:"keep"`
	}
	runJSON(t, url, &scores, "scores", "show", "seg")
	if scores.Version != 2 || scores.Bytes <= 0 || scores.Keep != 5 {
		t.Fatalf("scores show: %+v", scores)
	}

	// A schedule on telco with the model stands in the way.
	hour := (time.Now().UTC().Hour() + 12) % 24
	if _, errs, code := run(t, url, "schedule", "create", "nightly", "--cron", fmt.Sprintf("0 %d * * *", hour),
		"--model", trained.Model, "--dataset", "telco"); code != 0 {
		t.Fatalf("schedule create: %s", errs)
	}
	fails("dataset telco is used by schedule nightly; use --force", "dataset", "delete", "telco")
	fails("dataset telco version 2 is used by schedule nightly; use --force", "dataset", "delete", "telco", "--version", "2")
	fails("model "+trained.Model+" is used by schedule nightly; use --force", "model", "delete", trained.Model)

	// A dataset version.
	out, errs, code := run(t, url, "dataset", "delete", "telco", "--version", "1")
	if code != 0 || !strings.HasPrefix(out, "deleted dataset telco version 1, ") {
		t.Fatalf("dataset delete --version 1: exit %d, %q %q", code, out, errs)
	}
	fails("dataset telco has no version 1 (it has 2)", "dataset", "show", "telco", "--version", "1")
	fails("dataset telco has no version 1 (it has 2)", "dataset", "export", "telco", "--version", "1", "--out", filepath.Join(dir, "v1.csv"))
	var list []struct {
		Name     string `json:"name"`
		Versions int    `json:"versions"`
		Latest   int    `json:"latest"`
		Bytes    int64  `json:"bytes"`
	}
	runJSON(t, url, &list, "dataset", "list")
	if len(list) != 1 || list[0].Versions != 1 || list[0].Latest != 2 || list[0].Bytes != show.Storage[1].Bytes {
		t.Fatalf("dataset list after the delete: %+v (version 2 holds %d bytes)", list, show.Storage[1].Bytes)
	}

	// A score set version.
	if out, _, code := run(t, url, "scores", "delete", "seg", "--version", "1"); code != 0 || !strings.HasPrefix(out, "deleted score set seg version 1, ") {
		t.Fatalf("scores delete: exit %d, %q", code, out)
	}
	fails("score set seg has no version 1 (it has 2)", "scores", "show", "seg", "--version", "1")
	fails("score set seg has no version 1 (it has 2)", "scores", "export", "seg", "--version", "1", "--out", filepath.Join(dir, "s1.csv"))

	// The model, forced: the schedule is paused, and says so.
	out, _, code = run(t, url, "model", "delete", trained.Model, "--force")
	if code != 0 || !strings.Contains(out, "deleted model "+trained.Model) || !strings.Contains(out, "; paused schedule nightly") {
		t.Fatalf("model delete --force: exit %d, %q", code, out)
	}
	runJSON(t, url, &models, "model", "list")
	if len(models) != 0 {
		t.Fatalf("model list after the delete: %+v", models)
	}
	fails("not found: model "+trained.Model, "model", "show", trained.Model)
	var sched struct {
		Paused bool `json:"paused"`
	}
	runJSON(t, url, &sched, "schedule", "show", "nightly")
	if !sched.Paused {
		t.Fatal("nightly is not paused after its model was deleted with --force")
	}

	// A job.
	if out, _, code := run(t, url, "job", "delete", trained.Job); code != 0 || !strings.HasPrefix(out, "deleted job "+trained.Job) {
		t.Fatalf("job delete: exit %d, %q", code, out)
	}
	fails("not found: job "+trained.Job, "job", "status", trained.Job)
	var jobs []struct{ ID string }
	runJSON(t, url, &jobs, "job", "list")
	for _, j := range jobs {
		if j.ID == trained.Job {
			t.Fatalf("job list still has %s", trained.Job)
		}
	}

	// Retention: keeping one version drops version 2 at once.
	importTelco("--keep", "1")
	runJSON(t, url, &list, "dataset", "list")
	if len(list) != 1 || list[0].Versions != 1 || list[0].Latest != 3 {
		t.Fatalf("dataset list after import --keep 1: %+v", list)
	}
	// A new version: the leader drops version 3 within its next look.
	importTelco()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		runJSON(t, url, &list, "dataset", "list")
		if len(list) == 1 && list[0].Versions == 1 && list[0].Latest == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not drop version 3: %+v", list)
		}
	}
	fails("--keep must be 1 to 100000, or 0 to keep every version, not -2", "scores", "retain", "seg", "--keep", "-2")
}
