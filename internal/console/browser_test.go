package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// chromium finds a Chromium binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// dumpDOM loads url in headless Chromium and returns the DOM after scripts
// ran. MATHCRM_SCREENSHOTS=DIR also writes a screenshot of the page there.
func dumpDOM(t *testing.T, bin, url, shot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile := browserProfile(t)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + profile, "--virtual-time-budget=2000"}
	out, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v", url, err)
	}
	if dir := os.Getenv("MATHCRM_SCREENSHOTS"); dir != "" {
		path, _ := filepath.Abs(filepath.Join(dir, shot+".png"))
		if err := exec.CommandContext(ctx, bin, append(args, "--hide-scrollbars", "--window-size=1200,1400", "--screenshot="+path, url)...).Run(); err != nil {
			t.Errorf("screenshot of %s: %v", url, err)
		}
	}
	return string(out)
}

func count(dom, re string) int { return len(regexp.MustCompile(re).FindAllStringIndex(dom, -1)) }

// testBrowser loads pages in a real headless Chromium and checks that the
// DOM it built holds the figures and one chart mark per segment.
func testBrowser(t *testing.T, f *fixture) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium); .ci/run installs it")
	}
	km := testutil.Detail[kmeans.Segmentation](t, f.model)
	testPagesLoadCleanly(t, bin, f)

	dom := dumpDOM(t, bin, f.srv.URL+"/", "cluster")
	for _, w := range []string{`<table id="voters">`, `<table id="workers">`, "<td>dev"} {
		if !strings.Contains(dom, w) {
			t.Errorf("cluster page: no %q in\n%s", w, dom)
		}
	}
	if n := count(dom, `<table id="workers">[\s\S]*?</table>`); n != 1 || count(dom, `<tr><td>dev-w`) != 2 {
		t.Errorf("cluster page: want 2 worker rows\n%s", dom)
	}

	dom = dumpDOM(t, bin, f.srv.URL+"/datasets/customers", "dataset")
	for _, w := range []string{"<h1>Dataset customers</h1>", fmt.Sprintf("<h2>Version 1: %d rows</h2>", f.rows), "<td>monthly</td>"} {
		if !strings.Contains(dom, w) {
			t.Errorf("dataset page: no %q in\n%s", w, dom)
		}
	}
	if n := count(dom, `<svg [^>]*class="range"`); n != 3 {
		t.Errorf("dataset page: %d range charts, want one per numeric column (3)", n)
	}
	if n := count(dom, `<rect class="bar"`); n != 3 {
		t.Errorf("dataset page: %d bars, want one per level of plan (3)", n)
	}

	dom = dumpDOM(t, bin, f.srv.URL+"/models/"+f.model.Model.ID, "model")
	if !strings.Contains(dom, "k-means, k=3") {
		t.Errorf("model page: no title in\n%s", dom)
	}
	if n := count(dom, `<rect class="bar"`); n != len(km.Sizes) {
		t.Errorf("model page: %d bars, want one per segment (%d)", n, len(km.Sizes))
	}
	for i, s := range km.Sizes {
		if !strings.Contains(dom, fmt.Sprintf("<title>segment %d: %d</title>", i, s)) {
			t.Errorf("model page: no bar for segment %d of size %d", i, s)
		}
	}
}

// testLiveProgress opens a running job's page in Chromium and waits for its
// script to show the shards done that the event stream brings.
func testLiveProgress(t *testing.T, f *fixture, id string) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium); .ci/run installs it")
	}
	b := startCDP(t, bin)
	b.navigate(t, f.srv.URL+"/jobs/"+id)
	shards := regexp.MustCompile(`^[0-9]+ / 3$`)
	var got string
	deadline := time.Now().Add(20 * time.Second)
	for got = b.eval(t, `document.getElementById("shards").textContent`); !shards.MatchString(got); got = b.eval(t, `document.getElementById("shards").textContent`) {
		if time.Now().After(deadline) {
			t.Fatalf("shards done still %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("job page: %q", errs)
	}
}

// testPagesLoadCleanly loads every page in Chromium: no console error, no
// failed request, and the expected number of chart marks.
func testPagesLoadCleanly(t *testing.T, bin string, f *fixture) {
	b := startCDP(t, bin)
	pages := []struct {
		path       string
		bars, svgs int
	}{
		{"/", 0, 0}, {"/datasets", 0, 0}, {"/datasets/customers", 3, 4}, {"/jobs", 0, 0}, {"/jobs/" + f.job, 0, 1},
		{"/models", 0, 0}, {"/models/" + f.model.Model.ID, 3, 1}, {"/scores", 0, 0}, {"/scores/segs", 3, 1},
		{"/schedules", 0, 0}, {"/schedules/nightly", 0, 1},
	}
	for _, p := range pages {
		b.reset()
		b.navigate(t, f.srv.URL+p.path)
		if errs := b.consoleErrors(); len(errs) > 0 {
			t.Errorf("%s: %q", p.path, errs)
		}
		bars := b.eval(t, `document.querySelectorAll("svg rect.bar").length`)
		svgs := b.eval(t, `document.querySelectorAll("svg").length`)
		if bars != fmt.Sprint(p.bars) || svgs != fmt.Sprint(p.svgs) {
			t.Errorf("%s: %s bars in %s charts, want %d in %d", p.path, bars, svgs, p.bars, p.svgs)
		}
	}
}
