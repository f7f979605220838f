package devcluster_test

// Worker churn on real worker processes: joining, SIGKILL, SIGSTOP/SIGCONT
// and SIGTERM (drain) in the middle of a job. Every faulty run must end with
// the model of an undisturbed run, bit for bit.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/testutil"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/worker"
)

const (
	churnRows   = 40000
	churnShards = 32
	churnIters  = 20
	// faultPass is the pass at which a fault strikes; a 20-iteration
	// k-means|| job has about 26 passes.
	faultPass = 8
)

func churnSpec() proto.JobSpec { return testutil.KMeansSpec("customers", "kmeans||", churnIters) }

// logRecord is one log line of the coordinator.
type logRecord struct {
	at    time.Time
	msg   string
	attrs map[string]string
}

// logRecorder keeps the coordinator's log lines for the test to inspect
// and passes them on to t.Log.
type logRecorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type recHandler struct {
	r     *logRecorder
	attrs []slog.Attr
	next  slog.Handler
}

func (h recHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h recHandler) Handle(ctx context.Context, rec slog.Record) error {
	m := map[string]string{}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	h.r.mu.Lock()
	h.r.recs = append(h.r.recs, logRecord{at: rec.Time, msg: rec.Message, attrs: m})
	h.r.mu.Unlock()
	return h.next.Handle(ctx, rec)
}

func (h recHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recHandler{r: h.r, attrs: append(slices.Clone(h.attrs), as...), next: h.next.WithAttrs(as)}
}

func (h recHandler) WithGroup(name string) slog.Handler {
	return recHandler{r: h.r, attrs: h.attrs, next: h.next.WithGroup(name)}
}

// find returns the lines whose message starts with msg and whose attribute
// key is val ("" matches any).
func (r *logRecorder) find(msg, key, val string) []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logRecord
	for _, rec := range r.recs {
		if strings.HasPrefix(rec.msg, msg) && (key == "" || rec.attrs[key] == val) {
			out = append(out, rec)
		}
	}
	return out
}

func (r *logRecorder) waitFor(t *testing.T, msg, key, val string, within time.Duration) logRecord {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if recs := r.find(msg, key, val); len(recs) > 0 {
			return recs[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no log line %q with %s=%s within %v", msg, key, val, within)
	return logRecord{}
}

// churnCluster is a cluster with no in-process worker, a recorded
// coordinator log and the churn dataset imported.
type churnCluster struct {
	c   *devcluster.Cluster
	cl  *client.Client
	log *logRecorder
}

func startChurnCluster(t *testing.T) *churnCluster { return startTunedChurnCluster(t, nil) }

// startTunedChurnCluster is startChurnCluster with tune applied to the
// coordinator's configuration last.
func startTunedChurnCluster(t *testing.T, tune func(*coordinator.Config)) *churnCluster {
	t.Helper()
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, churnRows, 3)
	rec := &logRecorder{}
	logger := slog.New(recHandler{r: rec, next: slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: filepath.Join(dir, "cluster"), NATSListen: "127.0.0.1:0", Logger: logger,
		Coordinator: func(cfg *coordinator.Config) {
			cfg.FastRaft, cfg.HeartbeatTTL, cfg.StepTimeout = true, time.Second, 30*time.Second
			if tune != nil {
				tune(cfg)
			}
		},
		Worker: func(cfg *worker.Config) { cfg.Heartbeat = 100 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, churnShards)
	return &churnCluster{c: c, cl: cl, log: rec}
}

// workerProc is this test binary running as a worker process.
type workerProc struct {
	id     string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

func (h *churnCluster) startWorker(t *testing.T, id string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATHCRM_TEST_WORKER_URL="+h.c.URL, "MATHCRM_TEST_WORKER_ID="+id)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProc{id: id, cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.exited })
	return p
}

func (p *workerProc) signal(t *testing.T, sig syscall.Signal) time.Time {
	t.Helper()
	at := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%v to %s: %v", sig, p.id, err)
	}
	return at
}

func (h *churnCluster) status(t *testing.T) proto.ClusterStatus {
	t.Helper()
	var st proto.ClusterStatus
	if err := h.cl.Call(context.Background(), proto.APIClusterStatus, nil, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// workerInfo polls cluster status until ok accepts the worker's entry.
func (h *churnCluster) waitWorker(t *testing.T, id string, within time.Duration, ok func(proto.WorkerInfo) bool) proto.WorkerInfo {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, w := range h.status(t).Workers {
			if w.ID == id && ok(w) {
				return w
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("worker %s never reached the expected state in cluster status within %v: %+v", id, within, h.status(t).Workers)
	return proto.WorkerInfo{}
}

// waitPass waits until the job has committed pass p, failing if it ended.
func waitPass(t *testing.T, cl *client.Client, id string, p int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		j := jobStatus(t, cl, id)
		if j.Terminal() {
			t.Fatalf("job ended (%s) before pass %d; make it longer", j.State, p)
		}
		if j.Pass >= p {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job never reached pass %d", p)
}

func wall(j *proto.Job) time.Duration { return j.Finished.Sub(j.Started) }

func retries(j *proto.Job) int {
	n := 0
	for _, p := range j.History {
		n += p.Retries
	}
	return n
}

// faultCost is the extra time the passes hit by a fault took: the sum, over
// the passes after faultPass that took at least twice the job's median pass
// time, of their excess over the median. Unlike a comparison of wall times
// across runs, it hardly moves with the machine's load.
func faultCost(j *proto.Job) (cost, median time.Duration) {
	if len(j.History) == 0 {
		return 0, 0
	}
	var secs []float64
	for _, p := range j.History {
		secs = append(secs, p.Seconds)
	}
	slices.Sort(secs)
	med := secs[len(secs)/2]
	var extra float64
	for _, p := range j.History {
		if p.Pass > faultPass && p.Seconds >= 2*med {
			extra += p.Seconds - med
		}
	}
	return time.Duration(extra * float64(time.Second)), time.Duration(med * float64(time.Second))
}

func logCost(t *testing.T, fault string, calmWall time.Duration, j *proto.Job) {
	t.Helper()
	cost, med := faultCost(j)
	t.Logf("20-iteration job with a %s at pass %d: %v wall (undisturbed run: %v, difference %+v); passes hit by the fault took %v more than the median pass (%v); %d retries",
		fault, faultPass, wall(j).Round(time.Millisecond), calmWall.Round(time.Millisecond), (wall(j) - calmWall).Round(time.Millisecond),
		cost.Round(time.Millisecond), med.Round(time.Millisecond), retries(j))
}

// calm is the undisturbed run on three worker processes: its model and wall
// time, computed once per test binary.
var calm struct {
	sync.Mutex
	model *kmeans.Segmentation
	wall  time.Duration
}

func calmRun(t *testing.T) (*kmeans.Segmentation, time.Duration) {
	t.Helper()
	calm.Lock()
	defer calm.Unlock()
	if calm.model == nil {
		h := startChurnCluster(t)
		for i := 0; i < 3; i++ {
			h.startWorker(t, fmt.Sprintf("calm-w%d", i))
		}
		waitWorkers(t, h.cl, 3)
		j, m := train(t, h.cl, churnSpec())
		if r := retries(j); r != 0 {
			t.Logf("note: the undisturbed run had %d retries", r)
		}
		calm.model, calm.wall = m, wall(j)
		_, med := faultCost(j)
		t.Logf("undisturbed %d-iteration job on 3 worker processes: %d passes in %v (median pass %v)",
			churnIters, len(j.History), calm.wall.Round(time.Millisecond), med.Round(time.Millisecond))
	}
	return calm.model, calm.wall
}

// faultyRun starts three worker processes, submits the churn job and waits
// for faultPass.
func faultyRun(t *testing.T) (*churnCluster, []*workerProc, string) {
	t.Helper()
	h := startChurnCluster(t)
	var procs []*workerProc
	for i := 0; i < 3; i++ {
		procs = append(procs, h.startWorker(t, fmt.Sprintf("proc-w%d", i)))
	}
	waitWorkers(t, h.cl, 3)
	id := submit(t, h.cl, churnSpec())
	waitPass(t, h.cl, id, faultPass)
	return h, procs, id
}

func TestWorkersJoiningMidJobTakePart(t *testing.T) {
	want, _ := calmRun(t)
	h := startChurnCluster(t)
	for i := 0; i < 2; i++ {
		h.startWorker(t, fmt.Sprintf("proc-w%d", i))
	}
	waitWorkers(t, h.cl, 2)
	id := submit(t, h.cl, churnSpec())
	waitPass(t, h.cl, id, 4)
	joined := []string{"proc-w2", "proc-w3"}
	for _, w := range joined {
		h.startWorker(t, w)
	}
	waitWorkers(t, h.cl, 4)
	if j := jobStatus(t, h.cl, id); j.Terminal() {
		t.Fatalf("job ended before the new workers joined; make it longer")
	} else {
		t.Logf("two workers joined at pass %d", j.Pass)
	}
	j := waitJob(t, h.cl, id)
	testutil.SameKMeans(t, want, model(t, h.cl, j.Model))
	for _, w := range joined {
		info := h.waitWorker(t, w, 10*time.Second, func(w proto.WorkerInfo) bool { return w.Steps > 0 })
		t.Logf("%s joined mid-job and answered %d steps", w, info.Steps)
	}
}

func TestWorkerKilledCost(t *testing.T) {
	want, calmWall := calmRun(t)
	h, procs, id := faultyRun(t)
	killed := procs[1].signal(t, syscall.SIGKILL)
	lost := h.log.waitFor(t, "worker lost", "worker", procs[1].id, 30*time.Second)
	j := waitJob(t, h.cl, id)
	testutil.SameKMeans(t, want, model(t, h.cl, j.Model))
	waitWorkers(t, h.cl, 2)
	t.Logf("SIGKILL -> coordinator logs \"worker lost\": %v (base heartbeat TTL 1s, 3 workers, heartbeats every 100ms)",
		lost.at.Sub(killed).Round(time.Millisecond))
	logCost(t, "SIGKILL", calmWall, j)
}

func TestWorkerStoppedMidJob(t *testing.T) {
	want, calmWall := calmRun(t)
	h, procs, id := faultyRun(t)
	hung := procs[1]
	stopped := hung.signal(t, syscall.SIGSTOP)
	lost := h.log.waitFor(t, "worker lost", "worker", hung.id, 30*time.Second)
	t.Logf("SIGSTOP -> coordinator logs \"worker lost\": %v", lost.at.Sub(stopped).Round(time.Millisecond))
	j := waitJob(t, h.cl, id)
	testutil.SameKMeans(t, want, model(t, h.cl, j.Model))
	logCost(t, "SIGSTOP", calmWall, j)
	t.Logf("speculative copies: %d", len(h.log.find("straggler", "", "")))

	// SIGCONT: the worker heartbeats again and is back in cluster status.
	// Its answers to the steps it got before it stopped go nowhere.
	hung.signal(t, syscall.SIGCONT)
	info := h.waitWorker(t, hung.id, 10*time.Second, func(w proto.WorkerInfo) bool { return w.HeartbeatAge < 0.5 })
	if len(h.log.find("worker joined", "worker", hung.id)) < 2 {
		t.Fatalf("%s is in cluster status but the coordinator never saw it join again", hung.id)
	}
	// Nothing breaks: the next job uses it and ends with the same model. (It
	// may still be answering the few steps it got before it stopped: those
	// are not enough to pass the check.)
	before := info.Steps
	j2, m2 := train(t, h.cl, churnSpec())
	testutil.SameKMeans(t, want, m2)
	after := h.waitWorker(t, hung.id, 10*time.Second, func(w proto.WorkerInfo) bool { return w.Steps >= before+churnShards })
	t.Logf("after SIGCONT %s rejoined and answered %d steps of the next job (%d retries)", hung.id, after.Steps-before, retries(j2))
	if st := h.status(t); len(st.Workers) != 3 {
		t.Fatalf("cluster status lists %d workers after the rejoin, want 3", len(st.Workers))
	}
}

func TestWorkerDrainedMidJob(t *testing.T) {
	want, _ := calmRun(t)
	h, procs, id := faultyRun(t)
	leaving := procs[1]
	leaving.signal(t, syscall.SIGTERM)
	select {
	case <-leaving.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30s of SIGTERM", leaving.id)
	}
	if leaving.err != nil {
		t.Fatalf("%s exited with %v after SIGTERM, want exit code 0", leaving.id, leaving.err)
	}
	j := waitJob(t, h.cl, id)
	testutil.SameKMeans(t, want, model(t, h.cl, j.Model))
	h.log.waitFor(t, "worker left", "worker", leaving.id, 10*time.Second)
	for _, msg := range []string{"worker lost", "step failed", "straggler"} {
		if recs := h.log.find(msg, "worker", leaving.id); len(recs) > 0 {
			t.Errorf("the drained worker caused %d %q lines: %+v", len(recs), msg, recs[0].attrs)
		}
	}
	// Every retry of the job must be a speculative copy away from another,
	// straggling worker: normally there is none at all.
	spec := len(h.log.find("straggler", "", ""))
	failed := len(h.log.find("step failed", "", ""))
	if r := retries(j); r != spec || failed != 0 {
		t.Fatalf("job history records %d retries, %d failed steps, %d speculative copies; want only speculative copies", r, failed, spec)
	}
	t.Logf("drained at pass %d: exit code 0, %d undelivered steps placed elsewhere, %d retries",
		faultPass, len(h.log.find("step not delivered", "worker", leaving.id)), retries(j))
	waitWorkers(t, h.cl, 2)
}

// TestWorkerRestartedMidJob: a worker process that hangs mid-pass and is
// replaced by a new process under the same id (as a supervisor restarts it)
// loses its steps in flight at once: they are sent elsewhere as soon as the
// new process says hello, not after a step timeout, and the new process
// takes part from then on. Heartbeat TTL and step timeout are long here, so
// only the restart can free the pass quickly.
func TestWorkerRestartedMidJob(t *testing.T) {
	want, _ := calmRun(t)
	const stepTimeout = time.Minute
	h := startTunedChurnCluster(t, func(cfg *coordinator.Config) { cfg.HeartbeatTTL, cfg.StepTimeout = 10*time.Second, stepTimeout })
	var procs []*workerProc
	for i := 0; i < 3; i++ {
		procs = append(procs, h.startWorker(t, fmt.Sprintf("proc-w%d", i)))
	}
	waitWorkers(t, h.cl, 3)
	id := submit(t, h.cl, churnSpec())
	waitPass(t, h.cl, id, faultPass)
	old := procs[1]
	old.signal(t, syscall.SIGSTOP)
	// Its heartbeats stop; the passes go on sending it steps, and the pass
	// that needs its shards waits for them.
	h.waitWorker(t, old.id, 10*time.Second, func(w proto.WorkerInfo) bool { return w.HeartbeatAge > 0.5 })
	stuck := jobStatus(t, h.cl, id).Pass
	restartedAt := time.Now()
	h.startWorker(t, old.id)
	testutil.WaitFor(t, stepTimeout/3, 5*time.Millisecond, func() error {
		if j := jobStatus(t, h.cl, id); j.Pass <= stuck && !j.Terminal() {
			return fmt.Errorf("the pass stuck on the old process (after pass %d) has not ended since the restart", stuck)
		}
		return nil
	})
	freed := time.Since(restartedAt)
	h.log.waitFor(t, "worker restarted", "worker", old.id, 10*time.Second)
	j := waitJob(t, h.cl, id)
	testutil.SameKMeans(t, want, model(t, h.cl, j.Model))
	var aborted int
	for _, rec := range h.log.find("step failed", "worker", old.id) {
		if strings.Contains(rec.attrs["err"], "new process") {
			aborted++
		}
	}
	if aborted == 0 {
		t.Fatalf("no step in flight to the old process was failed by the restart")
	}
	if len(h.log.find("worker lost", "worker", old.id)) > 0 {
		t.Fatalf("%s was declared lost: the restart was not what freed its steps", old.id)
	}
	info := h.waitWorker(t, old.id, 10*time.Second, func(w proto.WorkerInfo) bool { return w.Steps > 0 && w.HeartbeatAge < 0.5 })
	t.Logf("restart at pass %d: %d steps in flight sent elsewhere; the pass ended %v after the restart; the new process answered %d steps; %d retries",
		stuck, aborted, freed.Round(time.Millisecond), info.Steps, retries(j))
}
