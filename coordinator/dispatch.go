package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
)

var (
	// ErrNoWorkers reports a pass that found no live worker for too long.
	ErrNoWorkers = errors.New("coordinator: no live workers")
	// ErrStepFailed reports a shard that failed on every attempt.
	ErrStepFailed = errors.New("coordinator: step failed")
	errWorkerGone = errors.New("coordinator: worker gone")
)

// maxAttempts bounds how often one shard's step is tried in one pass.
const maxAttempts = 6

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

type outcome struct {
	shard  int
	worker string
	part   *proto.Partial
	err    error
}

// runPass sends one step per shard to the shard's owner among the live
// workers and returns exactly one partial per shard, in shard order. A step
// that fails, times out or whose worker dies is sent to the next worker in the
// shard's rendezvous order; a late duplicate is dropped.
func (c *Coordinator) runPass(ctx context.Context, ps passSpec) ([]*proto.Partial, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(ps.shards)
	parts := make([]*proto.Partial, n)
	attempts := make([]int, n)
	tried := make([]map[string]bool, n)
	out := make(chan outcome, n)
	body, err := json.Marshal(proto.StepBody{V: proto.Version, Job: ps.job, Pass: ps.pass, Algo: ps.algo, Prep: ps.prep, Task: ps.task})
	if err != nil {
		return nil, 0, err
	}
	inflight := 0
	launch := func(s int) error {
		w, err := c.pickWorker(ctx, s, tried[s])
		if err != nil {
			return err
		}
		if tried[s] == nil {
			tried[s] = map[string]bool{}
		}
		tried[s][w] = true
		attempts[s]++
		inflight++
		go func(attempt int) {
			p, err := c.sendStep(ctx, w, ps, body, ps.shards[s], attempt)
			out <- outcome{shard: s, worker: w, part: p, err: err}
		}(attempts[s])
		return nil
	}
	for s := 0; s < n; s++ {
		if err := launch(s); err != nil {
			return nil, 0, err
		}
	}
	done, retries := 0, 0
	var lastErr error
	for done < n {
		var o outcome
		select {
		case <-ctx.Done():
			return nil, retries, ctx.Err()
		case o = <-out:
		}
		inflight--
		if o.err == nil {
			if parts[o.shard] == nil {
				parts[o.shard] = o.part
				done++
				if ps.progress != nil {
					ps.progress(done, n)
				}
			}
			continue
		}
		if ctx.Err() != nil {
			return nil, retries, ctx.Err()
		}
		lastErr = o.err
		c.log.Warn("step failed; sending it elsewhere", "job", ps.job, "pass", ps.pass, "shard", o.shard,
			"worker", o.worker, "attempt", attempts[o.shard], "err", o.err)
		if attempts[o.shard] >= maxAttempts {
			return nil, retries, fmt.Errorf("%w: shard %d after %d attempts: %v", ErrStepFailed, o.shard, attempts[o.shard], lastErr)
		}
		retries++
		if err := launch(o.shard); err != nil {
			return nil, retries, err
		}
	}
	return parts, retries, nil
}

// pickWorker returns the first live worker in the shard's rendezvous order
// that has not failed it yet in this pass (all of them again once every one
// has), waiting for a worker to appear up to cfg.WorkerWait.
func (c *Coordinator) pickWorker(ctx context.Context, shard int, tried map[string]bool) (string, error) {
	deadline := time.Now().Add(c.cfg.WorkerWait)
	for {
		live := c.members.live()
		if len(live) > 0 {
			ranked := Rank(shard, live)
			for _, m := range ranked {
				if !tried[m.ID] {
					return m.ID, nil
				}
			}
			return ranked[0].ID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%w for %v", ErrNoWorkers, c.cfg.WorkerWait)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sendStep runs one step on one worker. It gives up when the step times out,
// the worker is declared dead, or ctx ends.
func (c *Coordinator) sendStep(ctx context.Context, worker string, ps passSpec, body []byte, shard proto.ShardRef, attempt int) (*proto.Partial, error) {
	m, ok := c.members.get(worker)
	if !ok {
		return nil, errWorkerGone
	}
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.ctx.Done():
		return nil, errWorkerGone
	}
	defer func() { <-m.slots }()
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
	resp, err := c.nc.RequestMsgWithContext(rctx, msg)
	if err != nil {
		if m.ctx.Err() != nil {
			return nil, errWorkerGone
		}
		return nil, fmt.Errorf("step on %s: %w", worker, err)
	}
	if e := resp.Header.Get(proto.HeaderError); e != "" {
		return nil, fmt.Errorf("worker %s: %s", worker, e)
	}
	var p proto.Partial
	if err := blob.Decode(resp.Data, proto.PartialKind, &p); err != nil {
		return nil, fmt.Errorf("partial from %s: %w", worker, err)
	}
	if p.Shard != shard.Index || p.Pass != ps.pass || p.Job != ps.job {
		return nil, fmt.Errorf("partial from %s answers job %s pass %d shard %d, asked %s pass %d shard %d",
			worker, p.Job, p.Pass, p.Shard, ps.job, ps.pass, shard.Index)
	}
	return &p, nil
}
