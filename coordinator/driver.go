package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/job"
	prom "github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
)

// newJob makes a job's state machine from the registry.
func (c *Coordinator) newJob(ctx context.Context, id string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	a, ok := builtin.Lookup(spec.Algo)
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %q", ErrInvalid, spec.Algo)
	}
	return a.NewJob(ctx, leaderEnv{c}, id, spec, ver)
}

// leaderEnv is what the leader offers an algorithm (job.Leader).
type leaderEnv struct{ c *Coordinator }

func (e leaderEnv) Model(id string) (*proto.Model, error) { return e.c.fsm.Model(id) }
func (e leaderEnv) Blob(ctx context.Context, ref proto.BlobRef) ([]byte, error) {
	return e.c.store.Get(ctx, ref)
}
func (e leaderEnv) Kind(kind string) (job.ModelKind, bool)      { return builtin.Kind(kind) }
func (e leaderEnv) Dataset(name string) (*proto.Dataset, error) { return e.c.fsm.Dataset(name) }
func (e leaderEnv) CheckWrite(dc *proto.DatasetCommit, flag string) error {
	return e.c.checkWrite(dc, flag)
}

// drive runs one job to its end on this leader. It returns quietly when
// leadership is lost or the job was cancelled: the state committed so far is
// where the next leader resumes.
func (c *Coordinator) drive(ctx context.Context, id string) {
	err := c.runJob(ctx, id)
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrNotLeader) {
		if err != nil && !errors.Is(err, context.Canceled) {
			c.log.Info("job paused", "job", id, "err", err)
		}
		return
	}
	var te *transientError
	if errors.As(err, &te) {
		n := c.transientFailure(id)
		if n < maxTransient {
			wait := min(30*time.Second, (100*time.Millisecond)<<n)
			c.log.Warn("job hit a transient failure; retrying", "job", id, "attempt", n, "in", wait, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			return // the scheduler starts the job again from its last committed pass
		}
		err = fmt.Errorf("gave up after %d transient failures in a row: %w", n, te.err)
	}
	c.log.Error("job failed", "job", id, "err", err)
	if _, aerr := c.apply(msgJobFinish, entryJobFinish{ID: id, State: proto.JobFailed, Reason: err.Error(), Time: time.Now().UTC(),
		Permanent: permanentFailure(err)}); aerr != nil {
		c.log.Warn("could not record job failure", "job", id, "err", aerr)
		return
	}
	c.publish(proto.JobEvent{Job: id, State: proto.JobFailed, Reason: err.Error()})
}

// maxTransient bounds how often in a row a job may hit a transient failure
// (the object store or raft not answering) before it fails for good.
const maxTransient = 12

// transientError marks a failure that may pass when the job is tried again.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error {
	if err == nil || errors.Is(err, ErrNotLeader) || errors.Is(err, context.Canceled) {
		return err
	}
	return &transientError{err}
}

// transientFailure counts a job's transient failures in a row.
func (c *Coordinator) transientFailure(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.transients[id]++
	return c.transients[id]
}

func (c *Coordinator) progressed(id string) {
	c.mu.Lock()
	delete(c.transients, id)
	c.mu.Unlock()
}

// blobName names a blob uniquely: a leader never overwrites a blob another
// (perhaps deposed) leader wrote or a reader is reading.
func blobName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (c *Coordinator) runJob(ctx context.Context, id string) error {
	j, err := c.fsm.Job(id)
	if err != nil || j.Terminal() {
		return err
	}
	ds, err := c.fsm.Dataset(j.Spec.Dataset)
	if err != nil {
		return err
	}
	ver := ds.Version(j.Spec.DatasetVersion)
	if ver == nil {
		return fmt.Errorf("%w: dataset %s version %d", ErrNotFound, ds.Name, j.Spec.DatasetVersion)
	}
	alg, err := c.newJob(ctx, id, j.Spec, ver)
	if err != nil {
		return err
	}
	if j.StateRef.Object != "" {
		b, err := c.store.Get(ctx, j.StateRef)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrChecksum) {
			return fmt.Errorf("load state of pass %d: %w", j.Pass, err)
		}
		if err != nil {
			return transient(fmt.Errorf("load state of pass %d: %w", j.Pass, err))
		}
		if err := alg.Load(b); err != nil {
			return fmt.Errorf("load state of pass %d: %w", j.Pass, err)
		}
		c.log.Info("resuming job", "job", id, "pass", j.Pass, "iteration", j.Iteration)
	}
	if j.State == proto.JobQueued {
		if _, err := c.apply(msgJobStart, entryJobStart{ID: id, Time: time.Now().UTC()}); err != nil {
			return transient(err)
		}
	}
	var lloydSeconds []float64
	// The raft commit of a pass runs while the next pass computes: at most
	// one commit is in flight, the next one starts only once it is done,
	// and the job ends only after the last. Should it fail, the pass under
	// way is abandoned; a new leader resumes at the last committed pass, as
	// after any failure.
	cm := &committer{prev: j.StateRef}
	defer cm.wait()
	for pass := j.Pass + 1; ; pass++ {
		task, done := alg.Next()
		if done {
			break
		}
		taskJSON, err := json.Marshal(task)
		if err != nil {
			return err
		}
		started := time.Now()
		before := alg.Progress()
		pub := c.progressPublisher(id, j.Spec.Algo, alg, pass, lloydSeconds, cm.inFlight())
		shards := ver.Shards
		if la, ok := alg.(job.Layouter); ok {
			shards = la.Shards(ver)
		}
		pctx, cancelPass := context.WithCancel(ctx)
		cm.passStarted(cancelPass)
		// The first partial of this pass lets the last pass's commit start.
		progress := func(done, total int) { cm.release(); pub(done, total) }
		ps := passSpec{job: id, pass: pass, algo: j.Spec.Algo, prep: alg.Prep(), task: taskJSON, shards: shards, progress: progress}
		if pd, ok := alg.(job.Predecoder); ok {
			ps.predecode = pd.DecodePartial
		}
		parts, retries, dispatched, err := c.runPass(pctx, ps)
		if err != nil {
			cancelPass()
			return cm.failed(err)
		}
		absorbing := time.Now()
		if err := alg.Absorb(parts); err != nil {
			cancelPass()
			return cm.failed(err)
		}
		trace := passTrace(parts, c.members, started, dispatched, time.Since(absorbing))
		secs := time.Since(started).Seconds()
		after := alg.Progress()
		newPhase, newIter, obj, shift := after.Phase, after.Iteration, after.Objective, after.Shift
		if before.Phase == "lloyd" && newIter > before.Iteration {
			lloydSeconds = append(lloydSeconds, secs)
		}
		var metrics []proto.Metric
		if ma, ok := alg.(job.Measurer); ok {
			metrics = ma.Metrics()
		}
		var refs []proto.BlobRef
		if ra, ok := alg.(job.Referrer); ok {
			refs = ra.Refs()
		}
		// The state is encoded now, before the next pass changes it; storing
		// and committing it overlap the next pass.
		saving := time.Now()
		state, err := alg.Save()
		if err != nil {
			cancelPass()
			return cm.failed(err)
		}
		trace.Save = time.Since(saving).Seconds()
		trace.Total = time.Since(started).Seconds()
		trace.Overhead = max(0, trace.Total-trace.SlowestCompute)
		finishTrace(trace, parts, started)
		cancelPass()
		if err := cm.wait(); err != nil {
			return err
		}
		rec := proto.PassRecord{Pass: pass, Phase: newPhase, Iteration: newIter, Objective: finite(obj), Shift: finite(shift),
			Seconds: secs, Retries: retries, Metrics: metrics, Trace: trace}
		ev := proto.JobEvent{Job: id, Algo: j.Spec.Algo, State: proto.JobRunning, Phase: newPhase, Pass: pass, Iteration: newIter,
			MaxIter: alg.MaxIter(), Objective: finite(obj), Shift: finite(shift), ShardsDone: len(shards),
			ShardsTotal: len(shards), ETASeconds: eta(lloydSeconds, alg.MaxIter()-newIter), Metrics: metrics}
		cm.start(func(prev proto.BlobRef, commitPrev float64) (proto.BlobRef, float64, error) {
			rec.Trace.CommitPrev = commitPrev
			ref, commitSecs, err := c.commitPass(ctx, id, pass, state, refs, rec, prev)
			if err != nil {
				return ref, 0, err
			}
			prom.PassSeconds.WithLabelValues(j.Spec.Algo).Observe(secs)
			c.publish(ev)
			return ref, commitSecs, nil
		})
	}
	if err := cm.wait(); err != nil {
		return err
	}
	return c.finishJob(ctx, id, alg)
}

// commitHold bounds how long a pass's commit waits for the next pass's
// first partial before it starts anyway.
const commitHold = 250 * time.Millisecond

// committer runs one pass's commit at a time beside the next pass.
//
// A commit starts once the next pass's first partial has arrived (see
// release), or after commitHold: by then every worker has its batch and
// computes, and the leader, idle until the partials come, has the time to
// store and commit. Started at once, the commit's work (the object store
// write, the raft entry, the FSM's apply) ran in the leader's process just
// as it sent the next pass's batches and NATS routed them, and delayed them.
type committer struct {
	prev       proto.BlobRef // the state the last commit made current
	commitSecs float64       // how long the last commit took
	done       chan struct{} // closed when the commit in flight ends; nil when none
	err        error
	// cancelPass ends the pass under way; a failed commit calls it.
	cancelPass context.CancelFunc
	// open lets the commit in flight start; nil when none waits.
	open func()
	mu   sync.Mutex
}

// start runs commit once the commit before has ended (the caller has
// waited for it) and the commit is released or has waited commitHold.
func (cm *committer) start(commit func(prev proto.BlobRef, commitPrev float64) (proto.BlobRef, float64, error)) {
	done := make(chan struct{})
	cm.done = done
	prev, commitPrev := cm.prev, cm.commitSecs
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	hold := time.AfterFunc(commitHold, open)
	cm.mu.Lock()
	cm.open = open
	cm.mu.Unlock()
	go func() {
		defer close(done)
		<-gate
		hold.Stop()
		ref, secs, err := commit(prev, commitPrev)
		cm.mu.Lock()
		defer cm.mu.Unlock()
		if err != nil {
			cm.err = err
			if cm.cancelPass != nil {
				cm.cancelPass()
			}
			return
		}
		cm.prev, cm.commitSecs = ref, secs
	}()
}

// passStarted tells the committer how to end the pass under way, which it
// does at once when the last commit has already failed.
func (cm *committer) passStarted(cancel context.CancelFunc) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	cm.cancelPass = cancel
	if cm.err != nil {
		cancel()
	}
}

// release lets the commit in flight, if any, start now. It may be called
// from any goroutine, any number of times.
func (cm *committer) release() {
	cm.mu.Lock()
	open := cm.open
	cm.mu.Unlock()
	if open != nil {
		open()
	}
}

// wait releases the commit in flight, if any, waits for it and returns its
// error.
func (cm *committer) wait() error {
	if cm.done == nil {
		return nil
	}
	cm.release()
	<-cm.done
	cm.done = nil
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return cm.err
}

// inFlight is closed when the commit in flight, if any, has ended.
func (cm *committer) inFlight() <-chan struct{} {
	if cm.done == nil {
		return nil
	}
	return cm.done
}

// failed returns the error of a pass that failed, or the commit's error
// when the commit before it failed (and so ended the pass).
func (cm *committer) failed(err error) error {
	if cerr := cm.wait(); cerr != nil {
		return cerr
	}
	return err
}

// commitPass stores the state after a pass and commits the pass; the state
// of the pass before, no longer referenced, is deleted with the next batch
// (stale.go).
func (c *Coordinator) commitPass(ctx context.Context, id string, pass int, state []byte, refs []proto.BlobRef, rec proto.PassRecord,
	prev proto.BlobRef) (proto.BlobRef, float64, error) {
	storing := time.Now()
	ref, err := c.store.Put(ctx, proto.BucketModels, blobName(fmt.Sprintf("jobs/%s/state-%06d", id, pass)), state)
	if err != nil {
		return ref, 0, transient(err)
	}
	if t := rec.Trace; t != nil {
		t.Store = time.Since(storing).Seconds()
	}
	committing := time.Now()
	rec.Committed = time.Now().UTC()
	// No blob to check: a running job's blobs are not collected (gc.go).
	if _, err := c.applyBlobs(ctx, msgJobPass, entryJobPass{ID: id, Record: rec, StateRef: ref, Refs: refs}, nil); err != nil {
		if errors.Is(err, ErrConflict) {
			return ref, 0, err
		}
		return ref, 0, transient(err)
	}
	commitSecs := time.Since(committing).Seconds()
	c.progressed(id)
	// The previous state is no longer referenced once this pass is
	// committed: the entry made ref the job's state (a leader that took over
	// since resumes from it). Reading the job back would copy its whole
	// history, every pass.
	if prev.Object != "" && prev.Object != ref.Object {
		c.dropLater(prev)
	}
	return ref, commitSecs, nil
}

func (c *Coordinator) finishJob(ctx context.Context, id string, alg job.Job) error {
	res, err := alg.Finish()
	if err != nil {
		return err
	}
	switch {
	case res.Output != nil:
		return c.finishOutput(ctx, id, alg, res.Output)
	case res.Scores != nil:
		return c.finishScores(ctx, id, res.Scores)
	case res.Model == nil:
		return fmt.Errorf("coordinator: job %s ended with nothing to show", id)
	}
	ref, err := c.store.Put(ctx, proto.BucketModels, blobName("models/"+id), res.Model.Blob)
	if err != nil {
		return transient(err)
	}
	modelRefs := res.Model.Refs
	model, err := c.applyBlobs(ctx, msgJobFinish, entryJobFinish{ID: id, State: proto.JobSucceeded, Model: &ref, Kind: res.Model.Kind,
		ModelRefs: modelRefs, Time: time.Now().UTC()}, append([]proto.BlobRef{ref}, modelRefs...))
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return transient(err)
	}
	pr := alg.Progress()
	c.log.Info("job succeeded", "job", id, "model", model, "iterations", pr.Iteration, "objective", pr.Objective)
	c.publish(proto.JobEvent{Job: id, State: proto.JobSucceeded, Phase: "done", Iteration: pr.Iteration, MaxIter: alg.MaxIter(),
		Objective: finite(pr.Objective), Model: model})
	return nil
}

// finishOutput commits the dataset version a job made, in the entry that
// ends the job: the version is visible exactly when the job has succeeded.
func (c *Coordinator) finishOutput(ctx context.Context, id string, alg job.Job, out *proto.DatasetCommit) error {
	name, err := c.applyBlobs(ctx, msgJobFinish, entryJobFinish{ID: id, State: proto.JobSucceeded, Output: out, Time: time.Now().UTC()},
		shardBlobs(out.Shards))
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return transient(err)
	}
	c.log.Info("job succeeded", "job", id, "output", name, "rows", out.Rows)
	c.publish(proto.JobEvent{Job: id, State: proto.JobSucceeded, Phase: "done", Iteration: alg.Progress().Iteration, Output: name})
	return nil
}

// finishScores commits the score set a job made in the entry that ends the
// job: the set is visible exactly when the job has succeeded.
func (c *Coordinator) finishScores(ctx context.Context, id string, ss *proto.ScoreSet) error {
	name, err := c.applyBlobs(ctx, msgJobFinish, entryJobFinish{ID: id, State: proto.JobSucceeded, Scores: ss, Time: time.Now().UTC()},
		shardBlobs(ss.Shards))
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return transient(err)
	}
	c.log.Info("job succeeded", "job", id, "scores", name, "rows", ss.Rows)
	c.publish(proto.JobEvent{Job: id, State: proto.JobSucceeded, Phase: "done", Output: name})
	return nil
}

// progressPublisher publishes shard progress within a pass, at most every 200ms.
// Nothing is published until the pass before, whose commit is told by
// committed (closed, or nil when there is none in flight), has published its
// own event: the events of a job come in pass order.
func (c *Coordinator) progressPublisher(id, algo string, alg job.Job, pass int, lloydSeconds []float64,
	committed <-chan struct{}) func(done, total int) {
	var mu sync.Mutex
	var last time.Time
	pr := alg.Progress()
	phase, iter, obj, shift := pr.Phase, pr.Iteration, pr.Objective, pr.Shift
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		// The pass's last event is the one published when it is committed.
		if done == total || time.Since(last) < 200*time.Millisecond {
			return
		}
		if committed != nil {
			select {
			case <-committed:
			default:
				return
			}
		}
		last = time.Now()
		c.publish(proto.JobEvent{Job: id, Algo: algo, State: proto.JobRunning, Phase: phase, Pass: pass, Iteration: iter,
			MaxIter: alg.MaxIter(), Objective: finite(obj), Shift: finite(shift), ShardsDone: done, ShardsTotal: total,
			ETASeconds: eta(lloydSeconds, alg.MaxIter()-iter)})
	}
}

func (c *Coordinator) publish(ev proto.JobEvent) {
	ev.V = proto.Version
	if ev.Algo == "" { // the rare events: a job's end
		if j, err := c.fsm.Job(ev.Job); err == nil {
			ev.Algo = j.Spec.Algo
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	_ = c.nc.Publish(proto.JobEventSubject(ev.Job), b)
}

// eta estimates the time left from the mean Lloyd pass time.
func eta(lloydSeconds []float64, remaining int) float64 {
	if len(lloydSeconds) == 0 || remaining <= 0 {
		return 0
	}
	var sum float64
	for _, s := range lloydSeconds {
		sum += s
	}
	return sum / float64(len(lloydSeconds)) * float64(remaining+1)
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// finishTrace fills in where the overhead went, from the last partial to
// arrive (see proto.PassTrace), once t.Total is known. Its batch went out
// RoundTrip before it arrived; the time from the pass's first step to that
// counts as worker-wait, so that the parts add up to the overhead.
func finishTrace(t *proto.PassTrace, parts []*proto.Partial, started time.Time) {
	var last *proto.StepTiming
	for _, p := range parts {
		if st := p.Timing; st != nil && (last == nil || st.At.After(last.At)) {
			last = st
		}
	}
	if last == nil || last.Held <= 0 {
		return // a worker of an earlier build: no hold time
	}
	arrived := last.At.Sub(started).Seconds()
	lag := arrived - last.RoundTrip - t.Dispatch // its batch behind the pass's first step
	t.Transit = max(0, last.RoundTrip-last.Held)
	t.WorkerWait = lag + last.Held - t.SlowestCompute
	t.Tail = t.Total - arrived
}

// passTrace sums where a pass's time went from its partials' timings.
func passTrace(parts []*proto.Partial, m *members, started, dispatched time.Time, combine time.Duration) *proto.PassTrace {
	t := &proto.PassTrace{Combine: combine.Seconds(), Steps: len(parts)}
	if !dispatched.IsZero() && dispatched.After(started) {
		t.Dispatch = dispatched.Sub(started).Seconds()
	}
	perWorker, steps := map[string]float64{}, map[string]int{}
	for _, p := range parts {
		st := p.Timing
		if st == nil {
			continue
		}
		t.Queue += st.Queue
		t.Compute += st.Compute
		t.Encode += st.Encode
		t.Decode += st.Decode
		t.Transfer += max(0, st.RoundTrip-st.Queue-st.Compute-st.Encode)
		t.PartialBytes += st.Bytes
		perWorker[st.Worker] += st.Compute
		steps[st.Worker]++
	}
	for w, compute := range perWorker {
		slots := 1
		if c := m.capacity(w); c > 0 {
			slots = c
		}
		slots = min(slots, steps[w])
		t.SlowestCompute = max(t.SlowestCompute, compute/float64(slots))
	}
	return t
}
