package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackupRestore backs up a cluster with datasets, models, a score set
// and a schedule, and restores it into a new cluster of another size: every
// listing and export equals the original byte for byte. A damaged archive
// is refused before anything is written.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "a"))
	url := dev.url
	var v map[string]any
	runJSON(t, url, &v, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,TotalCharges", "--categorical", "Contract", "--shards", "8")
	runJSON(t, url, &v, "dataset", "import", "ratings", "../../testdata/ratings/spark_sample_movielens.csv",
		"--kind", "interactions", "--user", "user", "--item", "item", "--value", "rating", "--shards", "4")
	var km, als struct {
		Model string `json:"model"`
		State string `json:"state"`
	}
	runJSON(t, url, &km, "train", "kmeans", "--dataset", "telco", "--k", "3", "--standardize", "--seed", "7", "--wait")
	runJSON(t, url, &als, "train", "als", "--dataset", "ratings", "--rank", "4", "--iterations", "3", "--wait")
	if km.State != "succeeded" || als.State != "succeeded" {
		t.Fatalf("training: %+v %+v", km, als)
	}
	runJSON(t, url, &v, "score", "--model", km.Model, "--dataset", "telco", "--as", "seg", "--wait")
	runJSON(t, url, &v, "score", "--model", als.Model, "--dataset", "ratings", "--as", "top", "--top", "3", "--wait")
	if _, errs, code := run(t, url, "schedule", "create", "nightly", "--cron", "0 2 * * *", "--model", km.Model, "--dataset", "telco"); code != 0 {
		t.Fatalf("schedule create: %s", errs)
	}

	// What a restore must give back, byte for byte.
	views := func(url, tag string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, args := range [][]string{
			{"dataset", "list", "--output", "json"},
			{"dataset", "show", "telco", "--output", "json"},
			{"job", "list", "--output", "json"},
			{"model", "list", "--output", "json"},
			{"scores", "list", "--output", "json"},
			{"schedule", "list", "--output", "json"},
			{"model", "export", km.Model, "--format", "json"},
			{"model", "export", als.Model, "--format", "json"},
		} {
			stdout, errs, code := run(t, url, args...)
			if code != 0 {
				t.Fatalf("%s: mathcrm %s: %s", tag, strings.Join(args, " "), errs)
			}
			out[strings.Join(args, " ")] = stdout
		}
		for _, set := range []string{"seg", "top"} {
			f := filepath.Join(dir, tag+"-"+set+".csv")
			if _, errs, code := run(t, url, "scores", "export", set, "--format", "csv", "--out", f); code != 0 {
				t.Fatalf("%s: scores export %s: %s", tag, set, errs)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out["scores export "+set] = string(b)
		}
		return out
	}
	want := views(url, "before")
	for k, w := range want {
		if len(w) < 20 {
			t.Fatalf("mathcrm %s printed almost nothing: %q", k, w)
		}
	}

	archive := filepath.Join(dir, "backup.tar")
	var rep struct {
		File   string `json:"file"`
		Bytes  int64  `json:"bytes"`
		Counts struct {
			Datasets, Models, Jobs, Schedules, Blobs int
			ScoreSets                                int `json:"score_sets"`
		} `json:"counts"`
	}
	start := time.Now()
	runJSON(t, url, &rep, "backup", "--out", archive)
	t.Logf("backup: %d blobs, %d bytes in %v", rep.Counts.Blobs, rep.Bytes, time.Since(start).Round(time.Millisecond))
	if rep.Counts.Datasets != 2 || rep.Counts.Models != 2 || rep.Counts.ScoreSets != 2 || rep.Counts.Jobs != 4 || rep.Counts.Schedules != 1 {
		t.Fatalf("backup counts: %+v", rep.Counts)
	}
	st, err := os.Stat(archive)
	if err != nil || st.Size() != rep.Bytes {
		t.Fatalf("archive: %v, %d bytes, report says %d", err, st.Size(), rep.Bytes)
	}
	if _, errs, code := run(t, url, "backup", "--out", archive); code == 0 || !strings.Contains(errs, "--force") {
		t.Fatalf("backup over an existing file: exit %d %q", code, errs)
	}
	dev.stop(t)

	// Damaged archives: one flipped byte in a blob, in the manifest, a cut.
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	damaged := func(name string, edit func([]byte) []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, edit(bytes.Clone(good)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(at int) func([]byte) []byte { return func(b []byte) []byte { b[at] ^= 0x40; return b } }
	bad := []struct{ file, want string }{
		{damaged("blob.tar", flip(len(good)/2)), "damaged"},
		{damaged("manifest.tar", flip(bytes.Index(good, []byte(`"format"`))+2)), "manifest"},
		{damaged("cut.tar", func(b []byte) []byte { return b[:len(b)*2/3] }), "truncated"},
	}

	dev = startDev(t, filepath.Join(dir, "b"), "--workers", "1")
	url = dev.url
	for _, b := range bad {
		_, errs, code := run(t, url, "restore", b.file)
		if code == 0 || !strings.Contains(errs, b.file) || !strings.Contains(errs, b.want) {
			t.Errorf("restore %s: exit %d, %q; want an error naming the file and %q", filepath.Base(b.file), code, errs, b.want)
		}
	}
	// Nothing was written: no state, and no blob for the collector to find.
	var gc struct{ Removed, Referenced, Young int }
	runJSON(t, url, &gc, "gc", "--grace", "0")
	if out, _, _ := run(t, url, "dataset", "list", "--output", "json"); strings.TrimSpace(out) != "[]" || gc.Removed+gc.Referenced+gc.Young != 0 {
		t.Fatalf("a refused restore left something: datasets %s, gc %+v", out, gc)
	}

	start = time.Now()
	runJSON(t, url, &rep, "restore", archive)
	t.Logf("restore: %d blobs, %d bytes in %v: %+v", rep.Counts.Blobs, rep.Bytes, time.Since(start).Round(time.Millisecond), rep.Counts)
	got := views(url, "after")
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s differs after the restore:\nbefore: %.400s\nafter:  %.400s", k, w, got[k])
		}
	}
	if _, errs, code := run(t, url, "restore", archive); code == 0 || !strings.Contains(errs, "restore into a new cluster") {
		t.Fatalf("a second restore: exit %d %q", code, errs)
	}
	// The restored cluster works on: a new job is numbered after the old ones.
	var next struct {
		Job   string `json:"job"`
		State string `json:"state"`
	}
	runJSON(t, url, &next, "train", "kmeans", "--dataset", "telco", "--k", "2", "--wait")
	if next.Job != "job-5" || next.State != "succeeded" {
		t.Fatalf("a job after the restore: %+v", next)
	}
	dev.stop(t)
}
