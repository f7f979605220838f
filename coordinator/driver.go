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

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
)

// jobAlgo adapts one algorithm's state machine to the driver.
type jobAlgo interface {
	// Next returns the task for every shard, or done.
	Next() (task any, done bool)
	// Absorb takes one partial per shard, in shard order.
	Absorb(parts []*proto.Partial) error
	Progress() (phase string, iteration int, objective, shift float64)
	Save() ([]byte, error)
	Load(b []byte) error
	// Model returns the final model blob and its kind.
	Model() (kind string, b []byte, err error)
	Prep() proto.Prep
	MaxIter() int
}

// refsAlgo is a job whose saved state refers to further blobs (factor or
// output shards) that must outlive the pass.
type refsAlgo interface {
	Refs() []proto.BlobRef
}

// outputAlgo is a job that ends with a new dataset version, not a model.
type outputAlgo interface {
	Output() (*proto.DatasetCommit, error)
}

// metricsAlgo is a job that reports held-out metrics after a pass.
type metricsAlgo interface {
	Metrics() []proto.Metric
}

// layoutAlgo is a job whose passes run over another layout of the dataset
// than its primary shards (ALS's by-item passes).
type layoutAlgo interface {
	Shards(ver *proto.DatasetVersion) []proto.ShardRef
}

// scoresAlgo is a job that ends with a new score set version.
type scoresAlgo interface {
	Scores() (*proto.ScoreSet, error)
}

func (c *Coordinator) newJobAlgo(id string, spec proto.JobSpec, ver *proto.DatasetVersion) (jobAlgo, error) {
	switch spec.Algo {
	case "score":
		return c.newScoreJob(id, spec, ver)
	case "rfm":
		return newRFMJob(spec, ver, id)
	case "als":
		return newALSJob(spec, ver)
	case "kmeans":
		return newKMeansJob(spec, ver)
	case "linear", "logistic":
		return newRegressionJob(spec, ver)
	}
	return nil, fmt.Errorf("%w: unknown algorithm %q", ErrInvalid, spec.Algo)
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
	alg, err := c.newJobAlgo(id, j.Spec, ver)
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
		phase, iter, _, _ := alg.Progress()
		pub := c.progressPublisher(id, j.Spec.Algo, alg, pass, lloydSeconds)
		shards := ver.Shards
		if la, ok := alg.(layoutAlgo); ok {
			shards = la.Shards(ver)
		}
		parts, retries, err := c.runPass(ctx, passSpec{job: id, pass: pass, algo: j.Spec.Algo, prep: alg.Prep(),
			task: taskJSON, shards: shards, progress: pub})
		if err != nil {
			return err
		}
		if err := alg.Absorb(parts); err != nil {
			return err
		}
		secs := time.Since(started).Seconds()
		newPhase, newIter, obj, shift := alg.Progress()
		if phase == "lloyd" && newIter > iter {
			lloydSeconds = append(lloydSeconds, secs)
		}
		var metrics []proto.Metric
		if ma, ok := alg.(metricsAlgo); ok {
			metrics = ma.Metrics()
		}
		ref, err := c.commitPass(ctx, id, pass, alg, proto.PassRecord{Pass: pass, Phase: newPhase, Iteration: newIter,
			Objective: finite(obj), Shift: finite(shift), Seconds: secs, Retries: retries, Metrics: metrics}, j.StateRef)
		if err != nil {
			return err
		}
		j.StateRef = ref
		c.publish(proto.JobEvent{Job: id, Algo: j.Spec.Algo, State: proto.JobRunning, Phase: newPhase, Pass: pass, Iteration: newIter,
			MaxIter: alg.MaxIter(), Objective: finite(obj), Shift: finite(shift), ShardsDone: len(shards),
			ShardsTotal: len(shards), ETASeconds: eta(lloydSeconds, alg.MaxIter()-newIter), Metrics: metrics})
	}
	return c.finishJob(ctx, id, alg)
}

// commitPass stores the state after a pass and commits the pass; the state
// of the pass before, no longer referenced, is deleted.
func (c *Coordinator) commitPass(ctx context.Context, id string, pass int, alg jobAlgo, rec proto.PassRecord, prev proto.BlobRef) (proto.BlobRef, error) {
	b, err := alg.Save()
	if err != nil {
		return proto.BlobRef{}, err
	}
	ref, err := c.store.Put(ctx, proto.BucketModels, blobName(fmt.Sprintf("jobs/%s/state-%06d", id, pass)), b)
	if err != nil {
		return ref, transient(err)
	}
	rec.Committed = time.Now().UTC()
	var refs []proto.BlobRef
	if ra, ok := alg.(refsAlgo); ok {
		refs = ra.Refs()
	}
	// No blob to check: a running job's blobs are not collected (gc.go).
	if _, err := c.applyBlobs(ctx, msgJobPass, entryJobPass{ID: id, Record: rec, StateRef: ref, Refs: refs}, nil); err != nil {
		if errors.Is(err, ErrConflict) {
			return ref, err
		}
		return ref, transient(err)
	}
	c.progressed(id)
	// The previous state is no longer referenced once this pass is committed.
	if cur, err := c.fsm.Job(id); err == nil && cur.StateRef.Object == ref.Object && prev.Object != "" {
		_ = c.store.Delete(ctx, prev.Bucket, prev.Object)
	}
	return ref, nil
}

func (c *Coordinator) finishJob(ctx context.Context, id string, alg jobAlgo) error {
	if oa, ok := alg.(outputAlgo); ok {
		return c.finishOutput(ctx, id, alg, oa)
	}
	if sa, ok := alg.(scoresAlgo); ok {
		return c.finishScores(ctx, id, sa)
	}
	kind, b, err := alg.Model()
	if err != nil {
		return err
	}
	ref, err := c.store.Put(ctx, proto.BucketModels, blobName("models/"+id), b)
	if err != nil {
		return transient(err)
	}
	var modelRefs []proto.BlobRef
	if ma, ok := alg.(interface{ ModelRefs() []proto.BlobRef }); ok {
		modelRefs = ma.ModelRefs()
	}
	model, err := c.applyBlobs(ctx, msgJobFinish, entryJobFinish{ID: id, State: proto.JobSucceeded, Model: &ref, Kind: kind,
		ModelRefs: modelRefs, Time: time.Now().UTC()}, append([]proto.BlobRef{ref}, modelRefs...))
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return transient(err)
	}
	_, iter, obj, _ := alg.Progress()
	c.log.Info("job succeeded", "job", id, "model", model, "iterations", iter, "objective", obj)
	c.publish(proto.JobEvent{Job: id, State: proto.JobSucceeded, Phase: "done", Iteration: iter, MaxIter: alg.MaxIter(),
		Objective: finite(obj), Model: model})
	return nil
}

// finishOutput commits the dataset version a job made, in the entry that
// ends the job: the version is visible exactly when the job has succeeded.
func (c *Coordinator) finishOutput(ctx context.Context, id string, alg jobAlgo, oa outputAlgo) error {
	out, err := oa.Output()
	if err != nil {
		return err
	}
	name, err := c.applyBlobs(ctx, msgJobFinish, entryJobFinish{ID: id, State: proto.JobSucceeded, Output: out, Time: time.Now().UTC()},
		shardBlobs(out.Shards))
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return transient(err)
	}
	c.log.Info("job succeeded", "job", id, "output", name, "rows", out.Rows)
	_, iter, _, _ := alg.Progress()
	c.publish(proto.JobEvent{Job: id, State: proto.JobSucceeded, Phase: "done", Iteration: iter, Output: name})
	return nil
}

// finishScores commits the score set a job made in the entry that ends the
// job: the set is visible exactly when the job has succeeded.
func (c *Coordinator) finishScores(ctx context.Context, id string, sa scoresAlgo) error {
	ss, err := sa.Scores()
	if err != nil {
		return err
	}
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
func (c *Coordinator) progressPublisher(id, algo string, alg jobAlgo, pass int, lloydSeconds []float64) func(done, total int) {
	var mu sync.Mutex
	var last time.Time
	phase, iter, obj, shift := alg.Progress()
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		// The pass's last event is the one published when it is committed.
		if done == total || time.Since(last) < 200*time.Millisecond {
			return
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
