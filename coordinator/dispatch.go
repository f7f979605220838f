package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
)

var (
	// ErrNoWorkers reports a pass that found no live worker for too long.
	ErrNoWorkers = errors.New("coordinator: no live workers")
	// ErrStepFailed reports a shard that failed on every attempt.
	ErrStepFailed = errors.New("coordinator: step failed")
	// ErrStepRefused reports a step that failed for a reason that does not
	// depend on the worker (bad data, a missing column, a bad parameter):
	// the job fails at once with the worker's message, with no retry.
	ErrStepRefused = errors.New("coordinator: step failed for good")
	errWorkerGone  = errors.New("coordinator: worker gone")
	// errNotDelivered reports a step that never reached its worker: the
	// worker had left, was leaving, or nobody listened on its step subject.
	// Such a step is placed elsewhere without counting as a retry: no work
	// was lost or done twice.
	errNotDelivered = errors.New("coordinator: step not delivered")
)

const (
	// maxAttempts bounds how often one shard's step may fail after it was
	// delivered, in one pass.
	maxAttempts = 6
	// maxMisses bounds how often one shard's step may go undelivered in one
	// pass. Re-sending to a worker that already missed waits a quarter of the
	// base TTL, so 64 misses outlast the longest effective TTL: a worker that
	// vanished is expired before its shards run out of misses.
	maxMisses = 64
)

type passSpec struct {
	job    string
	pass   int
	algo   string
	prep   proto.Prep
	task   json.RawMessage
	shards []proto.ShardRef
	// progress is told how many shards are done; it must not block.
	progress func(done, total int)
}

// runPass sends one step per shard to the shard's owner among the live
// workers and returns exactly one partial per shard, in shard order, and the
// number of retries (re-sent failed steps plus speculative copies); see
// passRun for the rules.
func (c *Coordinator) runPass(ctx context.Context, ps passSpec) ([]*proto.Partial, int, time.Time, error) {
	body, err := json.Marshal(proto.StepBody{V: proto.Version, Job: ps.job, Pass: ps.pass, Algo: ps.algo, Prep: ps.prep, Task: ps.task})
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	r := &passRun{
		job: ps.job, pass: ps.pass, shards: len(ps.shards), progress: ps.progress,
		live: c.members.live,
		send: func(ctx context.Context, worker string, shard, attempt int, sent func()) (*proto.Partial, error) {
			return c.sendStep(ctx, worker, ps, body, ps.shards[shard], attempt, sent)
		},
		spec: defaultSpeculation, wait: c.cfg.WorkerWait, backoff: c.cfg.HeartbeatTTL / 4, log: c.log,
	}
	parts, retries, err := r.run(ctx)
	return parts, retries, time.Unix(0, r.firstSent.Load()), err
}

// sendStep runs one step on one worker; sent is called as the step goes out.
// It gives up when the step times out, the worker is declared dead, or ctx
// ends. A step that never went out, or that nobody received, fails with
// errNotDelivered.
func (c *Coordinator) sendStep(ctx context.Context, worker string, ps passSpec, body []byte, shard proto.ShardRef, attempt int, sent func()) (*proto.Partial, error) {
	m, ok := c.members.get(worker)
	if !ok {
		return nil, fmt.Errorf("%w: worker %s is gone", errNotDelivered, worker)
	}
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.ctx.Done():
		return nil, fmt.Errorf("%w: worker %s is gone", errNotDelivered, worker)
	case <-m.leaving:
		return nil, fmt.Errorf("%w: worker %s is leaving", errNotDelivered, worker)
	}
	defer func() { <-m.slots }()
	// A slot may have come free just as the worker began to leave.
	select {
	case <-m.leaving:
		return nil, fmt.Errorf("%w: worker %s is leaving", errNotDelivered, worker)
	default:
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.StepTimeout)
	defer cancel()
	stopAfter := context.AfterFunc(m.ctx, cancel)
	defer stopAfter()
	ref, err := json.Marshal(shard)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(proto.WorkerStepSubject(worker))
	msg.Data = body
	msg.Header.Set(proto.HeaderShard, string(ref))
	msg.Header.Set(proto.HeaderAttempt, strconv.Itoa(attempt))
	sent()
	t0 := time.Now()
	resp, err := c.nc.RequestMsgWithContext(rctx, msg)
	rtt := time.Since(t0)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("%w: nobody listens for worker %s's steps", errNotDelivered, worker)
		}
		if m.ctx.Err() != nil && ctx.Err() == nil {
			return nil, errWorkerGone
		}
		return nil, fmt.Errorf("step on %s: %w", worker, err)
	}
	if e := resp.Header.Get(proto.HeaderError); e != "" {
		if resp.Header.Get(proto.HeaderErrorKey) == stepPermanent {
			return nil, fmt.Errorf("%w: %s", ErrStepRefused, e)
		}
		return nil, fmt.Errorf("worker %s: %s", worker, e)
	}
	metrics.PartialBytes.Add(float64(len(resp.Data)))
	var p proto.Partial
	t1 := time.Now()
	if err := blob.Decode(resp.Data, proto.PartialKind, &p); err != nil {
		return nil, fmt.Errorf("partial from %s: %w", worker, err)
	}
	ns := func(h string) float64 { n, _ := strconv.ParseInt(resp.Header.Get(h), 10, 64); return float64(n) / 1e9 }
	p.Timing = &proto.StepTiming{Worker: worker, Queue: ns(proto.HeaderQueueNs), Compute: ns(proto.HeaderComputeNs),
		Encode: ns(proto.HeaderEncodeNs), RoundTrip: rtt.Seconds(), Decode: time.Since(t1).Seconds(), Bytes: int64(len(resp.Data))}
	if p.Shard != shard.Index || p.Pass != ps.pass || p.Job != ps.job {
		return nil, fmt.Errorf("partial from %s answers job %s pass %d shard %d, asked %s pass %d shard %d",
			worker, p.Job, p.Pass, p.Shard, ps.job, ps.pass, shard.Index)
	}
	return &p, nil
}
