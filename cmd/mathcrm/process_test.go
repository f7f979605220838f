package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failFast is how soon a process that cannot start must say so.
const failFast = 2 * time.Second

// runFails runs the CLI, expecting it to fail within failFast with exit 1
// and exactly want on stderr.
func runFails(t *testing.T, want string, args ...string) {
	t.Helper()
	start := time.Now()
	out, errs, code := run(t, "nats://127.0.0.1:1", args...)
	if took := time.Since(start); took > failFast {
		t.Errorf("mathcrm %s took %v to fail (limit %v)", strings.Join(args, " "), took, failFast)
	}
	if code != 1 || errs != want {
		t.Fatalf("mathcrm %s: exit %d, stderr %q, stdout %q\nwant exit 1, stderr %q", strings.Join(args, " "), code, errs, out, want)
	}
}

func TestSecondProcessOnALockedDirectoryFailsAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	dev := startDev(t, dir)
	holder := fmt.Sprintf("pid %d (mathcrm dev --data-dir %s --workers 3 --nats-listen 127.0.0.1:0)", dev.cmd.Process.Pid, dir)

	runFails(t, "error: dev: data directory "+dir+" is in use by "+holder+"\n",
		"dev", "--data-dir", dir, "--nats-listen", "127.0.0.1:0")
	// A coordinator on the dev's directory meets the raft directory's lock
	// (before its log's own lock, which would make it wait).
	runFails(t, "error: coordinator: raft directory "+filepath.Join(dir, "raft")+" is in use by "+holder+"\n",
		"coordinator", "--nats", dev.url, "--data-dir", dir, "--raft-addr", "127.0.0.1:0", "--bootstrap")

	// Two nats processes on one directory: the second names the first.
	ndir := filepath.Join(t.TempDir(), "nats")
	n := startRole(t, `mathcrm nats: (nats://\S+)`, "nats", "--listen", "127.0.0.1:0", "--data-dir", ndir)
	runFails(t, fmt.Sprintf("error: natsembed: JetStream directory %s is in use by pid %d (mathcrm nats --listen 127.0.0.1:0 --data-dir %s)\n",
		filepath.Join(ndir, "jetstream"), n.cmd.Process.Pid, ndir),
		"nats", "--listen", "127.0.0.1:0", "--data-dir", ndir)
	n.term(t, 10*time.Second)
	dev.stop(t)
}

func TestBusyListenAddressFailsAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	dev := startDev(t, dir)
	holder := fmt.Sprintf("pid %d (mathcrm dev --data-dir %s --workers 3 --nats-listen 127.0.0.1:0)", dev.cmd.Process.Pid, dir)
	natsAddr := strings.TrimPrefix(dev.url, "nats://")
	raftAddr, err := os.ReadFile(filepath.Join(dir, "raft-addr"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(string(raftAddr), ":0") {
		t.Fatalf("dev recorded raft address %s, not the port it listens on", raftAddr)
	}
	other := filepath.Join(t.TempDir(), "other")

	runFails(t, "error: natsembed: NATS listen address "+natsAddr+" is in use by "+holder+"\n",
		"dev", "--data-dir", other, "--nats-listen", natsAddr)
	runFails(t, "error: dev: HTTP listen address "+natsAddr+" is in use by "+holder+"\n",
		"dev", "--data-dir", other, "--nats-listen", "127.0.0.1:0", "--http-listen", natsAddr)
	runFails(t, "error: natsembed: NATS listen address "+natsAddr+" is in use by "+holder+"\n",
		"nats", "--data-dir", other, "--listen", natsAddr)
	runFails(t, "error: coordinator: raft address "+string(raftAddr)+" is in use by "+holder+"\n",
		"coordinator", "--nats", dev.url, "--data-dir", other, "--raft-addr", string(raftAddr), "--bootstrap")
	runFails(t, "error: coordinator: HTTP listen address "+natsAddr+" is in use by "+holder+"\n",
		"coordinator", "--nats", dev.url, "--data-dir", other, "--raft-addr", "127.0.0.1:0", "--bootstrap", "--http-listen", natsAddr)
	dev.stop(t)
}

// role is a mathcrm server process started by a test.
type role struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	url  string // what the start pattern captured
	done chan error
}

// startRole starts a server process and waits for its log to match ready
// (whose first group, if any, becomes url).
func startRole(t *testing.T, ready string, args ...string) *role {
	t.Helper()
	r := &role{cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done; r.done <- nil })
	re := regexp.MustCompile(ready)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(r.log.String()); m != nil {
			if len(m) > 1 {
				r.url = m[1]
			}
			return r
		}
	}
	t.Fatalf("mathcrm %s did not start: %s", strings.Join(args, " "), r.log.String())
	return nil
}

// term sends SIGTERM and expects a clean exit within limit.
func (r *role) term(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("mathcrm %s: exit %v after SIGTERM: %s", strings.Join(r.cmd.Args[1:], " "), err, r.log.String())
		}
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("mathcrm %s still runs %v after SIGTERM: %s", strings.Join(r.cmd.Args[1:], " "), limit, r.log.String())
		return 0
	}
}

func TestSIGTERMDuringStartupStopsDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	r := &role{cmd: exec.Command(bin, "dev", "--data-dir", dir, "--nats-listen", "127.0.0.1:0", "--drain-timeout", "2s"),
		log: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done; r.done <- nil })
	// The directory's lock is the first thing dev takes, after its
	// signal handler: from then on it is starting.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "lock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev took no lock: %s", r.log.String())
		}
	}
	took := r.term(t, 2*time.Second+5*time.Second)
	t.Logf("dev stopped %v after SIGTERM during startup: %q", took, r.log.String())
	// It let go of everything: the directory starts again at once.
	startDev(t, dir).stop(t)
}

// longJob submits a k-means job that runs far longer than the test and
// waits until it has committed a pass.
func longJob(t *testing.T, url string) string {
	t.Helper()
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--kind", "features",
		"--key", "customerID", "--columns", "tenure,MonthlyCharges", "--shards", "4")
	var sub struct {
		Job string `json:"job"`
	}
	runJSON(t, url, &sub, "train", "kmeans", "--dataset", "telco", "--k", "4", "--init", "random", "--max-iter", "100000", "--tol", "0")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var st struct {
			State   string           `json:"state"`
			History []map[string]any `json:"history"`
		}
		runJSON(t, url, &st, "job", "status", sub.Job)
		if st.State == "running" && len(st.History) > 1 {
			return sub.Job
		}
	}
	t.Fatalf("job %s did not run", sub.Job)
	return ""
}

func TestSIGTERMDuringAJobStopsDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cluster")
	dev := startRole(t, `export MATHCRM_NATS_URL=(\S+)`, "dev", "--data-dir", dir, "--nats-listen", "127.0.0.1:0", "--workers", "2", "--drain-timeout", "2s")
	longJob(t, dev.url)
	took := dev.term(t, 2*time.Second+5*time.Second)
	t.Logf("dev stopped %v after SIGTERM during a job", took)
}

func TestSIGTERMDuringAJobStopsEveryRole(t *testing.T) {
	dir := t.TempDir()
	n := startRole(t, `mathcrm nats: (nats://\S+)`, "nats", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "nats"))
	c := startRole(t, `mathcrm coordinator c1: raft`, "coordinator", "--nats", n.url, "--id", "c1", "--raft-addr", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "c1"), "--bootstrap", "--stop-timeout", "5s")
	w := startRole(t, `mathcrm worker w1:`, "worker", "--nats", n.url, "--id", "w1", "--capacity", "2", "--drain-timeout", "2s")
	longJob(t, n.url)
	// The worker finishes its steps in flight and says goodbye; the
	// coordinator stops the job it drives; NATS goes last.
	t.Logf("worker stopped in %v", w.term(t, 2*time.Second+time.Second))
	t.Logf("coordinator stopped in %v", c.term(t, 5*time.Second+time.Second))
	t.Logf("nats stopped in %v", n.term(t, 10*time.Second))
}

// TestJSONNumbersAreNumbers checks the documents of the listing, status and
// export commands: a number is a JSON number, never a string of digits. On
// the way it checks that unscored rows are counted and exported.
func TestJSONNumbersAreNumbers(t *testing.T) {
	dev := startDev(t, filepath.Join(t.TempDir(), "cluster"))
	var st struct {
		Voters []struct {
			Term        any `json:"term"`
			CommitIndex any `json:"commit_index"`
		} `json:"voters"`
		Workers []struct {
			Kernels string `json:"kernels"`
		} `json:"workers"`
	}
	runJSON(t, dev.url, &st, "cluster", "status")
	if len(st.Voters) != 1 || len(st.Workers) == 0 {
		t.Fatalf("cluster status: %+v", st)
	}
	for _, w := range st.Workers {
		if !slices.Contains([]string{"AVX-512", "AVX2", "portable"}, w.Kernels) {
			t.Fatalf("cluster status: a worker's kernels are %q, want a path's name", w.Kernels)
		}
	}
	if term, ok := st.Voters[0].Term.(float64); !ok || term < 1 {
		t.Fatalf("cluster status: term %#v, want a JSON number at least 1", st.Voters[0].Term)
	}
	if _, ok := st.Voters[0].CommitIndex.(float64); !ok {
		t.Fatalf("cluster status: commit_index %#v, want a JSON number", st.Voters[0].CommitIndex)
	}
	// A score set of a model whose input is missing in 11 rows: they are
	// counted, and exported with empty scores.
	url := dev.url
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--kind", "features",
		"--key", "customerID", "--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "4")
	var job struct {
		Job   string `json:"job"`
		Model string `json:"model"`
	}
	runJSON(t, url, &job, "train", "kmeans", "--dataset", "telco", "--k", "3", "--standardize", "--max-iter", "5", "--wait")
	var scored struct {
		Job string `json:"job"`
	}
	runJSON(t, url, &scored, "score", "--model", job.Model, "--dataset", "telco", "--as", "seg", "--wait")
	var ss struct {
		Rows     int64 `json:"rows"`
		Scored   int64 `json:"scored"`
		Unscored int64 `json:"unscored"`
	}
	runJSON(t, url, &ss, "scores", "show", "seg")
	if ss.Scored != 7032 || ss.Unscored != 11 {
		t.Fatalf("scores show: %+v, want 7032 scored and 11 unscored", ss)
	}
	out, errs, code := run(t, url, "scores", "export", "seg", "--format", "csv")
	if code != 0 {
		t.Fatalf("scores export: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	empty := 0
	for _, l := range lines {
		if strings.HasSuffix(l, ",,") {
			empty++
		}
	}
	if len(lines) != 1+7043 || empty != 11 || lines[0] != "customerID,segment,distance" || !strings.Contains(out, "\n4472-LVYGI,,\n") {
		t.Fatalf("scores export: %d lines, %d with empty scores, header %q", len(lines), empty, lines[0])
	}

	for _, args := range [][]string{{"cluster", "status"}, {"dataset", "list"}, {"job", "list"}, {"scores", "list"},
		{"dataset", "show", "telco"}, {"job", "status", job.Job}, {"job", "status", scored.Job}, {"model", "show", job.Model},
		{"model", "export", job.Model, "--format", "json"}, {"scores", "show", "seg"}} {
		var doc any
		runJSON(t, dev.url, &doc, args...)
		if path, s := numberAsString(doc, ""); path != "" {
			t.Fatalf("mathcrm %s --output json: %s is the string %q, not a JSON number", strings.Join(args, " "), path, s)
		}
	}
	dev.stop(t)
}

func TestStopTimeoutsMustBePositive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	runFails(t, "error: --drain-timeout must be positive, not 0s\n", "dev", "--data-dir", dir, "--drain-timeout", "0")
	runFails(t, "error: --drain-timeout must be positive, not -1s\n", "worker", "--drain-timeout", "-1s")
	runFails(t, "error: --stop-timeout must be positive, not 0s\n", "coordinator", "--data-dir", dir, "--stop-timeout", "0")
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("a refused start made %s", dir)
	}
}
