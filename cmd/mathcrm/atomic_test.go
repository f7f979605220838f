package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/rfm/rfmjob"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// tcpProxy forwards TCP connections to a target until cut, which drops
// every connection at once, as a network cut would.
type tcpProxy struct {
	ln     net.Listener
	target string
	// accepted is closed when the first connection comes in.
	accepted chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	closed   bool
}

func startProxy(t *testing.T, natsURL string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: strings.TrimPrefix(natsURL, "nats://"), accepted: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for n := 0; ; n++ {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if n == 0 {
			close(p.accepted)
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.wg.Add(2)
		p.mu.Unlock()
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// interruption is where an import is interrupted and how.
type interruption struct {
	// after is what triggers it: "connected" (the CLI has connected to
	// NATS and reads the file), or a progress line: "read " (shards are
	// being stored), "stored " (the commit is being asked for).
	after string
	// how: "SIGINT", "SIGKILL", or "cut" (the connection to NATS dropped,
	// then the process killed if it does not give up by itself).
	how string
	// delay is how long after the trigger.
	delay time.Duration
}

// interruptedImport runs `mathcrm dataset import` through a proxy to NATS
// and interrupts it. It returns the exit code (-1: killed) and stderr.
func interruptedImport(t *testing.T, natsURL, name, csv string, in interruption) (int, string) {
	t.Helper()
	p := startProxy(t, natsURL)
	cmd := exec.Command(bin, "dataset", "import", name, csv, "--key", "customer_id", "--shards", "16")
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+p.url())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	hit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !seen && in.after != "connected" && strings.HasPrefix(sc.Text(), in.after) {
				seen = true
				close(hit)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { <-done; exited <- cmd.Wait() }()
	wait := func(d time.Duration) (error, bool) {
		select {
		case err := <-exited:
			return err, true
		case <-time.After(d):
			return nil, false
		}
	}
	trigger := hit
	if in.after == "connected" {
		trigger = p.accepted
	}
	if in.after != "" {
		select {
		case <-trigger:
		case err := <-exited:
			exited <- err // it ended before the trigger: nothing to interrupt
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("import %s printed no %q line", name, in.after)
		}
	}
	time.Sleep(in.delay)
	switch in.how {
	case "SIGINT":
		_ = cmd.Process.Signal(os.Interrupt)
	case "SIGKILL":
		_ = cmd.Process.Kill()
	case "cut":
		p.cut()
		if err, ok := wait(time.Second); ok {
			return exitOf(t, err, name, log.String()), log.String()
		}
		_ = cmd.Process.Kill()
	}
	err, ok := wait(30 * time.Second)
	if !ok {
		_ = cmd.Process.Kill()
		t.Fatalf("import %s did not end after %s: %s", name, in.how, log.String())
	}
	return exitOf(t, err, name, log.String()), log.String()
}

func exitOf(t *testing.T, err error, name, log string) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("import %s: %v: %s", name, err, log)
	return 0
}

// checkDataset holds the invariant for one import: the dataset is not
// visible, or it has exactly one whole version whose every shard verifies.
func checkDataset(t *testing.T, cl *client.Client, name string, rows int64, shards int) bool {
	t.Helper()
	ctx := context.Background()
	var ds proto.Dataset
	err := cl.Call(ctx, proto.APIDatasetShow, proto.Named{Name: name}, &ds)
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code == "not_found" {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Versions) != 1 || ds.Latest().Rows != rows || len(ds.Latest().Shards) != shards {
		t.Fatalf("dataset %s is visible but not whole: %d versions, latest %+v", name, len(ds.Versions), ds.Latest())
	}
	if n, err := cl.ExportDataset(ctx, name, 1, "csv", io.Discard); err != nil || n != rows {
		t.Fatalf("dataset %s is visible but does not read back: %d of %d rows: %v", name, n, rows, err)
	}
	return true
}

// TestImportInterruptedAtEveryStage: an import interrupted by SIGINT,
// SIGKILL or a cut network while it reads, stores or commits leaves either
// one whole version or nothing; then a collection with no grace leaves no
// blob that nothing refers to.
func TestImportInterruptedAtEveryStage(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 4000, 5)
	// A file big enough that reading it outlasts the interruption.
	big := filepath.Join(dir, "big.csv")
	testutil.GenCustomers(t, big, 100_000, 5)
	cl, err := client.Dial(dev.url)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var cases []interruption
	for _, how := range []string{"SIGINT", "SIGKILL", "cut"} {
		cases = append(cases,
			interruption{after: "connected", how: how, delay: 20 * time.Millisecond}, // into the file
			interruption{after: "read ", how: how, delay: 5 * time.Millisecond},      // some shards stored, some not
			interruption{after: "stored ", how: how})
	}
	// The commit is on its way for a few milliseconds: interrupt it at a
	// few points in between.
	for d := 2 * time.Millisecond; d <= 10*time.Millisecond; d += 2 * time.Millisecond {
		cases = append(cases, interruption{after: "stored ", how: "SIGINT", delay: d})
	}
	visible := 0
	for i, in := range cases {
		name, file, rows := fmt.Sprintf("imp%d", i), csv, int64(4000)
		if in.after == "connected" {
			file, rows = big, 100_000
		}
		code, log := interruptedImport(t, dev.url, name, file, in)
		ok := checkDataset(t, cl, name, rows, 16)
		if code == 0 && !ok {
			t.Fatalf("import %s exited 0 but nothing is visible: %s", name, log)
		}
		if ok {
			visible++
		}
		t.Logf("%s %v after %q: exit %d, version visible: %v; %s", in.how, in.delay, in.after, code, ok,
			strings.ReplaceAll(strings.TrimSpace(log), "\n", " | "))
	}
	t.Logf("%d of %d interrupted imports committed", visible, len(cases))
	assertNoOrphans(t, dev.url, cl)
	dev.stop(t)
}

// ---- jobs ----

func waitJobState(t *testing.T, cl *client.Client, id string, done func(*proto.Job) bool) *proto.Job {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var j proto.Job
		if err := cl.Call(context.Background(), proto.APIJobStatus, proto.Named{Name: id}, &j); err != nil {
			t.Fatal(err)
		}
		if done(&j) {
			return &j
		}
	}
	t.Fatalf("job %s: condition not reached", id)
	return nil
}

// killDev kills the dev process (coordinator, workers and NATS) at once.
func (d *devProc) kill(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Kill()
	_, _ = d.cmd.Process.Wait()
}

func dialT(t *testing.T, url string) *client.Client {
	t.Helper()
	cl, err := client.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestJobsInterruptedKeepOutputsWhole: the process running the coordinator
// and the workers is killed (or stopped) in the middle of training, scoring
// and RFM jobs and started again on the same data: every job ends, and what
// it made is whole and verifies, or absent. A collection with no grace then
// leaves only what datasets, models and score sets name — of an ALS job,
// its final factor shards, not the hundreds its passes wrote.
func TestJobsInterruptedKeepOutputsWhole(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cluster")
	dev := startDev(t, data)
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 4000, 6)
	var imp map[string]any
	runJSON(t, dev.url, &imp, "dataset", "import", "cust", csv, "--key", "customer_id", "--shards", "8")
	runJSON(t, dev.url, &imp, "dataset", "import", "ratings", "../../testdata/ratings/spark_sample_movielens.csv",
		"--kind", "interactions", "--user", "user", "--item", "item", "--value", "rating", "--shards", "8")
	runJSON(t, dev.url, &imp, "dataset", "import", "retail", "../../testdata/online-retail/onlineretail-sample.csv.gz",
		"--kind", "transactions", "--key", "CustomerID", "--time", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
		"--invoice", "InvoiceNo", "--skip-missing-key", "--shards", "8")
	cl := dialT(t, dev.url)
	ctx := context.Background()
	restart := func(stop func(*testing.T)) {
		stop(t)
		dev = startDev(t, data)
		cl = dialT(t, dev.url)
	}
	ended := func(j *proto.Job) bool { return j.Terminal() }
	mustSucceed := func(j *proto.Job) {
		if j.State != proto.JobSucceeded {
			t.Fatalf("job %s %s after a restart: %s", j.ID, j.State, j.Reason)
		}
	}

	// k-means, killed after its second pass.
	km, err := cl.Submit(ctx, testutil.KMeansSpec("cust", "kmeans||", 30))
	if err != nil {
		t.Fatal(err)
	}
	j := waitJobState(t, cl, km.ID, func(j *proto.Job) bool { return j.Pass >= 2 || j.Terminal() })
	t.Logf("k-means killed at pass %d, %s", j.Pass, j.State)
	restart(dev.kill)
	kmJob := waitJobState(t, cl, km.ID, ended)
	mustSucceed(kmJob)

	// Scoring, stopped with SIGINT while it writes its shards, then killed
	// while it runs again.
	sc, err := cl.Submit(ctx, proto.JobSpec{Algo: "score", Dataset: "cust", Params: proto.MustJSON(proto.ScoreSpec{Model: kmJob.Model, As: "seg"})})
	if err != nil {
		t.Fatal(err)
	}
	running := func(j *proto.Job) bool { return j.State == proto.JobRunning || j.Terminal() }
	j = waitJobState(t, cl, sc.ID, running)
	t.Logf("scoring stopped %s", j.State)
	restart(dev.stop)
	j = waitJobState(t, cl, sc.ID, running)
	t.Logf("scoring killed %s", j.State)
	restart(dev.kill)
	mustSucceed(waitJobState(t, cl, sc.ID, ended))

	// ALS, killed after its third pass.
	const iters, shards = 10, 8
	alsSpec := alsjob.Spec("ratings", alsjob.Params{Rank: 4, Lambda: 0.1, Iterations: iters})
	alsSpec.Seed = 3
	als, err := cl.Submit(ctx, alsSpec)
	if err != nil {
		t.Fatal(err)
	}
	j = waitJobState(t, cl, als.ID, func(j *proto.Job) bool { return j.Pass >= 3 || j.Terminal() })
	t.Logf("ALS killed at pass %d, %s", j.Pass, j.State)
	restart(dev.kill)
	mustSucceed(waitJobState(t, cl, als.ID, ended))

	// RFM features, a derived dataset, killed after its first pass.
	rfm, err := cl.Submit(ctx, rfmjob.Spec("retail", rfmjob.Params{As: "rfm"}))
	if err != nil {
		t.Fatal(err)
	}
	j = waitJobState(t, cl, rfm.ID, func(j *proto.Job) bool { return j.Pass >= 1 || j.Terminal() })
	t.Logf("RFM killed at pass %d, %s", j.Pass, j.State)
	restart(dev.kill)
	mustSucceed(waitJobState(t, cl, rfm.ID, ended))

	res := assertNoOrphans(t, dev.url, cl)
	// Each pass wrote one side's factor shards; only the last of each side stay.
	if res.Removed < (2*iters-2)*shards {
		t.Fatalf("gc removed %d blobs; the ALS job alone left %d intermediate factor shards", res.Removed, (2*iters-2)*shards)
	}
	st, err := store.Open(ctx, cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(ctx, proto.BucketModels)
	if err != nil {
		t.Fatal(err)
	}
	// The k-means model, the ALS model and its two sides' factor shards.
	if want := 1 + 1 + 2*shards; len(objs) != want {
		t.Fatalf("%d blobs in %s after the collection, want %d", len(objs), proto.BucketModels, want)
	}
	dev.stop(t)
}

// assertNoOrphans runs `mathcrm gc --grace 0` and checks that every blob
// left is one that committed state names, and that everything committed
// still verifies.
func assertNoOrphans(t *testing.T, url string, cl *client.Client) proto.GCResult {
	t.Helper()
	var res proto.GCResult
	runJSON(t, url, &res, "gc", "--grace", "0")
	if res.Running != 0 || res.Failed != 0 {
		t.Fatalf("gc --grace 0 with nothing running kept unreferenced blobs: %+v", res)
	}
	refs := verifyAll(t, cl)
	ctx := context.Background()
	st, err := store.Open(ctx, cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	total, partials := 0, 0
	for _, b := range proto.Buckets {
		objs, err := st.List(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if !refs[b][o.Name] {
				t.Errorf("%s/%s is left, and nothing refers to it", b, o.Name)
			}
		}
		total += len(objs)
		ps, err := st.Partials(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		partials += len(ps)
	}
	// Only the chunks of uploads killed midway may stay, for GCPartialAge.
	if res.Young != partials {
		t.Fatalf("gc --grace 0 kept %d young blobs, %d of them partial uploads: %+v", res.Young, partials, res)
	}
	if total != res.Referenced {
		t.Fatalf("%d blobs stored, gc counted %d referenced", total, res.Referenced)
	}
	t.Logf("gc --grace 0: %+v", res)
	return res
}

// verifyAll reads back every version of every dataset and score set and
// checks every model's blobs, and returns the blobs they name.
func verifyAll(t *testing.T, cl *client.Client) map[string]map[string]bool {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cl.Conn(), 1)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]bool{}
	for _, b := range proto.Buckets {
		refs[b] = map[string]bool{}
	}
	stat := func(what string, r proto.BlobRef) {
		if err := st.Stat(ctx, r); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		refs[r.Bucket][r.Object] = true
	}
	shard := func(s proto.ShardRef) proto.BlobRef {
		return proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256}
	}
	var list []proto.Dataset
	if err := cl.Call(ctx, proto.APIDatasetList, nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, ds := range list {
		for _, v := range ds.Versions {
			for _, s := range append(v.Shards, v.ItemShards...) {
				stat(fmt.Sprintf("dataset %s version %d shard %d", ds.Name, v.Version, s.Index), shard(s))
			}
			if n, err := cl.ExportDataset(ctx, ds.Name, v.Version, "csv", io.Discard); err != nil || n != v.Rows {
				t.Fatalf("dataset %s version %d reads back %d of %d rows: %v", ds.Name, v.Version, n, v.Rows, err)
			}
		}
	}
	var jobs []proto.Job
	if err := cl.Call(ctx, proto.APIJobList, nil, &jobs); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if !j.Terminal() {
			t.Fatalf("job %s is still %s", j.ID, j.State)
		}
		if j.Model == "" {
			continue
		}
		var d proto.ModelDetail
		if err := cl.Call(ctx, proto.APIModelShow, proto.Named{Name: j.Model}, &d); err != nil {
			t.Fatalf("model %s: %v", j.Model, err)
		}
		stat("model "+j.Model, d.Model.Blob)
		for _, r := range d.Model.Refs {
			stat("model "+j.Model+" part", r)
		}
	}
	var sets []proto.ScoreSet
	if err := cl.Call(ctx, proto.APIScoresList, nil, &sets); err != nil {
		t.Fatal(err)
	}
	for _, latest := range sets {
		for v := 1; v <= latest.Version; v++ {
			var ss proto.ScoreSet
			if err := cl.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: latest.Name, Version: v}, &ss); err != nil {
				t.Fatal(err)
			}
			for _, s := range ss.Shards {
				stat(fmt.Sprintf("score set %s version %d shard %d", ss.Name, v, s.Index), shard(s))
			}
			// An export lists the unscored rows too, with empty scores.
			if n, err := cl.ExportScores(ctx, ss.Name, v, "csv", io.Discard); err != nil || n != ss.Rows+ss.Unscored {
				t.Fatalf("score set %s version %d reads back %d of %d + %d unscored rows: %v", ss.Name, v, n, ss.Rows, ss.Unscored, err)
			}
		}
	}
	return refs
}

// TestGCCommand: the command's output and its refusal of a negative grace.
func TestGCCommand(t *testing.T) {
	dev := startDev(t, t.TempDir())
	out, errs, code := run(t, dev.url, "gc", "--grace", "0")
	if code != 0 || out != "removed 0 blobs (0 B) and 0 partial uploads; kept 0 referenced, 0 younger than 0s, 0 of running jobs\n" {
		t.Fatalf("gc: exit %d, %q %q", code, out, errs)
	}
	_, errs, code = run(t, dev.url, "gc", "--grace", "-5m")
	if code != 1 || errs != "error: --grace -5m0s is negative (0 or more; 0 collects everything unreferenced now)\n" {
		t.Fatalf("gc --grace -5m: exit %d, %q", code, errs)
	}
	var res proto.GCResult
	runJSON(t, dev.url, &res, "gc")
	if res.Grace != time.Hour {
		t.Fatalf("gc without --grace used %v, not the configured hour", res.Grace)
	}
	b, _ := json.Marshal(res)
	t.Logf("%s", b)
	dev.stop(t)
}
