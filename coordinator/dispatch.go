package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
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
	// predecode, if set, decodes a partial's payload as it arrives
	// (job.Predecoder); it is called from several goroutines at once.
	predecode func(*proto.Partial) (any, error)
}

// runPass sends each worker one batched step naming all the shards it owns
// among the live workers, and returns exactly one partial per shard, in
// shard order, and the number of retries (re-sent failed steps plus
// speculative copies); see passRun for the rules.
func (c *Coordinator) runPass(ctx context.Context, ps passSpec) ([]*proto.Partial, int, time.Time, error) {
	body, err := json.Marshal(proto.StepBody{V: proto.Version, Job: ps.job, Pass: ps.pass, Algo: ps.algo, Prep: ps.prep, Task: ps.task,
		Wire: proto.WireVersion})
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	r := &passRun{
		job: ps.job, pass: ps.pass, shards: len(ps.shards), progress: ps.progress,
		live: c.members.live,
		batch: func(ctx context.Context, worker string, steps []batchStep) {
			c.sendBatch(ctx, worker, ps, body, steps)
		},
		spec: defaultSpeculation, wait: c.cfg.WorkerWait, backoff: c.cfg.HeartbeatTTL / 4, log: c.log,
	}
	parts, retries, err := r.run(ctx)
	return parts, retries, time.Unix(0, r.firstSent.Load()), err
}

// sendBatch runs steps on one worker with one message (proto.HeaderShards)
// and settles each step as its reply arrives. A step fails when it times
// out (StepTimeout after it started to run), the worker is declared dead or
// ctx ends; the whole batch fails with errNotDelivered when the worker is
// gone or leaving, nobody listens on its step subject or the message could
// not be sent. When a step times out, the steps that never started to run
// (still queued behind it on the worker) fail with errNotDelivered at once.
// Each step is settled exactly once.
//
// The worker runs the steps in the order given, its capacity at a time; as
// before batches, the coordinator counts at most twice the worker's capacity
// of them as running (sent): the first ones when the batch goes out, one
// more with each reply, so that a step waiting in the worker's queue does
// not look like a straggler.
func (c *Coordinator) sendBatch(ctx context.Context, worker string, ps passSpec, body []byte, steps []batchStep) {
	if len(steps) > proto.MaxBatch {
		var wg sync.WaitGroup
		for len(steps) > 0 {
			chunk := steps[:min(len(steps), proto.MaxBatch)]
			steps = steps[len(chunk):]
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.sendBatch(ctx, worker, ps, body, chunk)
			}()
		}
		wg.Wait()
		return
	}
	n := len(steps)
	settled := make([]bool, n)
	left := n
	sentAt := make([]time.Time, n)
	// next is the first step not yet counted as running; running counts
	// those counted and not settled, at most window of them.
	next, running, window := 0, 0, 0
	topUp := func() {
		for ; next < n && running < window; next++ {
			if !settled[next] {
				sentAt[next] = time.Now()
				steps[next].sent()
				running++
			}
		}
	}
	// finish settles step i. A step that counted as running frees its
	// place for the next, whether it was answered, timed out or cancelled,
	// as a request's slot was freed before batches: a worker that stops
	// answering has every step time out in turn, not only the first ones.
	finish := func(i int, p *proto.Partial, err error) {
		if settled[i] {
			return
		}
		settled[i], left = true, left-1
		if !sentAt[i].IsZero() {
			running--
		}
		steps[i].done(p, err)
	}
	failAll := func(err error) {
		for i := range steps {
			finish(i, nil, err)
		}
	}
	m, ok := c.members.get(worker)
	if !ok {
		failAll(fmt.Errorf("%w: worker %s is gone", errNotDelivered, worker))
		return
	}
	select {
	case <-m.leaving:
		failAll(fmt.Errorf("%w: worker %s is leaving", errNotDelivered, worker))
		return
	default:
	}
	if m.ctx.Err() != nil {
		failAll(fmt.Errorf("%w: worker %s is gone", errNotDelivered, worker))
		return
	}
	shards := make([]proto.BatchShard, n)
	at := make(map[int]int, n) // shard index → position in steps
	for i, st := range steps {
		shards[i] = proto.BatchShard{Shard: ps.shards[st.shard], Attempt: st.number}
		at[ps.shards[st.shard].Index] = i
	}
	hdr, err := json.Marshal(shards)
	if err != nil {
		failAll(err)
		return
	}
	// One reply per step, and perhaps the server's "no responders".
	replies := make(chan *nats.Msg, n+2)
	sub, err := c.nc.ChanSubscribe(proto.WorkerReplySubject(worker, nuid.Next()), replies)
	if err != nil {
		failAll(fmt.Errorf("step on %s: %w", worker, err))
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	cancelled := make(chan int, n)
	for i, st := range steps {
		stop := context.AfterFunc(st.ctx, func() { cancelled <- i })
		defer stop()
	}
	msg := nats.NewMsg(proto.WorkerStepSubject(worker))
	msg.Reply = sub.Subject
	msg.Data = body
	msg.Header.Set(proto.HeaderShards, string(hdr))
	t0 := time.Now()
	if err := c.nc.PublishMsg(msg); err != nil {
		failAll(fmt.Errorf("%w: step on %s: %v", errNotDelivered, worker, err))
		return
	}
	window = max(m.window, 1)
	topUp()
	tick := time.NewTicker(max(c.cfg.StepTimeout/8, 10*time.Millisecond))
	defer tick.Stop()
	for ; left > 0; topUp() {
		select {
		case <-ctx.Done():
			failAll(ctx.Err())
			return
		case <-m.ctx.Done():
			failAll(fmt.Errorf("%w: worker %s: %v", errWorkerGone, worker, context.Cause(m.ctx)))
			return
		case i := <-cancelled:
			finish(i, nil, steps[i].ctx.Err())
		case now := <-tick.C:
			timedOut := false
			for i := range steps {
				if !settled[i] && !sentAt[i].IsZero() && now.Sub(sentAt[i]) > c.cfg.StepTimeout {
					finish(i, nil, fmt.Errorf("step on %s: %w", worker, context.DeadlineExceeded))
					timedOut = true
				}
			}
			if timedOut {
				// The window timed out: the worker did not get through a
				// step in a step timeout. The steps still queued behind it
				// never started to run; they fail now as not delivered, to
				// run elsewhere at once, instead of each waiting its turn to
				// time out.
				for i := range steps {
					if !settled[i] && sentAt[i].IsZero() {
						finish(i, nil, fmt.Errorf("%w: worker %s: the step was still queued behind steps that timed out after %v",
							errNotDelivered, worker, c.cfg.StepTimeout))
					}
				}
			}
		case resp := <-replies:
			if len(resp.Data) == 0 && resp.Header.Get("Status") == "503" {
				failAll(fmt.Errorf("%w: nobody listens for worker %s's steps", errNotDelivered, worker))
				return
			}
			idx, err := strconv.Atoi(resp.Header.Get(proto.HeaderShardIndex))
			i, ok := at[idx]
			if err != nil || !ok {
				if e := resp.Header.Get(proto.HeaderError); e != "" {
					// The worker could not read the batch at all.
					failAll(fmt.Errorf("worker %s: %s", worker, e))
					return
				}
				c.log.Warn("reply for a shard not asked", "worker", worker, "job", ps.job, "pass", ps.pass,
					"shard", resp.Header.Get(proto.HeaderShardIndex))
				continue
			}
			p, err := c.partialOf(resp, worker, ps, ps.shards[steps[i].shard], time.Since(t0))
			finish(i, p, err)
		}
	}
}

// partialOf reads one step's reply: its partial and where its time went.
func (c *Coordinator) partialOf(resp *nats.Msg, worker string, ps passSpec, shard proto.ShardRef, rtt time.Duration) (*proto.Partial, error) {
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
	if p.Shard != shard.Index || p.Pass != ps.pass || p.Job != ps.job {
		return nil, fmt.Errorf("partial from %s answers job %s pass %d shard %d, asked %s pass %d shard %d",
			worker, p.Job, p.Pass, p.Shard, ps.job, ps.pass, shard.Index)
	}
	if ps.predecode != nil && p.Algo == ps.algo && p.Payload != nil {
		// A payload that does not decode is left to Absorb, which says
		// which shard's it is.
		if v, err := ps.predecode(&p); err == nil {
			p.Decoded = v
		}
	}
	ns := func(h string) float64 { n, _ := strconv.ParseInt(resp.Header.Get(h), 10, 64); return float64(n) / 1e9 }
	p.Timing = &proto.StepTiming{Worker: worker, Queue: ns(proto.HeaderQueueNs), Compute: ns(proto.HeaderComputeNs),
		Encode: ns(proto.HeaderEncodeNs), RoundTrip: rtt.Seconds(), Decode: time.Since(t1).Seconds(), Bytes: int64(len(resp.Data)),
		Held: ns(proto.HeaderHeldNs), At: t1}
	return &p, nil
}
