package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// speculation says when a pass sends a straggling shard's step to a second
// worker while the first keeps running (a "backup task").
type speculation struct {
	// After is the fraction of the pass's shards that must be done first:
	// until then the median step time means little, and every worker is
	// busy with its own shards anyway.
	After float64
	// A step straggles once it has run for longer than Factor times the
	// median step time of the pass so far, and never before Floor.
	Factor float64
	Floor  time.Duration
}

// defaultSpeculation is the rule runPass follows.
var defaultSpeculation = speculation{After: 0.75, Factor: 3, Floor: 500 * time.Millisecond}

// check is how often a pass looks for stragglers.
func (s speculation) check() time.Duration { return max(s.Floor/5, 5*time.Millisecond) }

// stepSender runs one step of the pass (its shard index and attempt number)
// on one worker and calls sent as the step goes out to it; a step waiting
// for room on a busy worker is not running yet.
type stepSender func(ctx context.Context, worker string, shard, attempt int, sent func()) (*proto.Partial, error)

// batchStep is one step of a batch: its shard index, its attempt number,
// its own context (cancelled when another copy of the shard won), sent to
// call as it starts to run on the worker, and done to call exactly once
// with its outcome.
type batchStep struct {
	ctx           context.Context
	shard, number int
	sent          func()
	done          func(*proto.Partial, error)
}

// batchSender runs several steps of the pass on one worker with one message
// and calls each step's done as its answer arrives or it fails. It returns
// once every step is done.
type batchSender func(ctx context.Context, worker string, steps []batchStep)

// passRun is the bookkeeping of one pass: where each shard's step goes,
// which partial is kept, what is re-sent. It knows neither NATS nor raft:
// live and send are given.
//
// The rules:
//   - A shard's first step goes to its owner among the workers live when
//     the pass starts (Balanced: its rendezvous order, with no worker given
//     more than its share). A step sent again goes to the first live worker
//     in the shard's rendezvous order (Rank) that has not had it in this pass
//     (or to its owner again, after a pause, once every live worker has had
//     it).
//   - A step that fails, times out or whose worker dies is sent to the next
//     worker, up to maxAttempts times; one that was never delivered (its
//     worker left or is leaving) is placed elsewhere up to maxMisses times and
//     is not a retry.
//   - Once After of the shards are done, a step running for longer than
//     max(Floor, Factor × the pass's median step time) gets one speculative
//     copy on the next worker in the shard's rendezvous order, while the first
//     keeps running.
//   - The first partial of a shard to arrive is kept and every other copy is
//     cancelled or dropped. Per-shard work is deterministic, so any copy's
//     partial is bit for bit the same: which one wins does not change the
//     model.
//   - Retries counts re-sent failed steps plus speculative copies.
type passRun struct {
	job    string
	pass   int
	shards int
	live   func() []Member
	send   stepSender
	// batch, if set, replaces send: the steps a pass places on one worker
	// at one moment (every shard it owns, at the start of a pass) go out
	// together in one message.
	batch    batchSender
	spec     speculation
	wait     time.Duration // how long to wait for any live worker
	backoff  time.Duration // pause before re-sending to a worker that had the step
	log      *slog.Logger
	progress func(done, total int)
	// checked, if set, is told the time of every straggler check that finds
	// nothing more to do than it did (it never blocks the pass); tests wait on
	// it instead of sleeping.
	checked chan<- time.Time

	// Filled in by run: speculative copies sent and won, and when the
	// pass's first step went out (unix nanoseconds).
	specSent, specWon int
	firstSent         atomic.Int64
}

// attempt is one copy of a shard's step.
type attempt struct {
	shard  int
	number int // the shard's sends in this pass, this one included
	worker string
	spec   bool
	sentAt atomic.Int64 // unix nanoseconds when it went out; 0 before
	ctx    context.Context
	cancel context.CancelFunc
}

type outcome struct {
	a    *attempt
	part *proto.Partial
	err  error
	at   time.Time
}

// shardState is what a pass knows about one shard.
type shardState struct {
	running  []*attempt
	tried    map[string]bool
	sends    int
	failures int
	misses   int
	specced  bool
}

// passState is one run of a pass, owned by run's goroutine.
type passState struct {
	*passRun
	ctx       context.Context
	wg        sync.WaitGroup
	out       chan outcome
	parts     []*proto.Partial
	st        []shardState
	durations []time.Duration // step times of the shards done so far
	done      int
	retries   int
	// pending are the attempts placed since the last flush, by worker, in
	// the order placed (batch mode).
	pending map[string][]*attempt
	// owners are the shards' first workers (Balanced), or nil when no
	// worker was live as the pass started.
	owners []string
}

func (r *passRun) run(ctx context.Context) ([]*proto.Partial, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	p := &passState{passRun: r, ctx: ctx, parts: make([]*proto.Partial, r.shards), st: make([]shardState, r.shards),
		// At most two copies of a shard's step run at once, so sends never block.
		out: make(chan outcome, 2*r.shards)}
	defer p.wg.Wait()
	defer cancel()
	if live := r.live(); len(live) > 0 {
		p.owners = Balanced(r.shards, live)
	}
	for s := range p.parts {
		if err := p.place(s); err != nil {
			return nil, 0, err
		}
	}
	p.flush()
	tick := time.NewTicker(r.spec.check())
	defer tick.Stop()
	for p.done < r.shards {
		select {
		case <-ctx.Done():
			return nil, p.retries, ctx.Err()
		case now := <-tick.C:
			p.speculate(now)
			p.flush()
			if r.checked != nil {
				select {
				case r.checked <- now:
				default:
				}
			}
		case o := <-p.out:
			if err := p.settle(o); err != nil {
				return nil, p.retries, err
			}
			p.flush()
		}
	}
	if r.specSent > 0 {
		r.log.Info("pass had stragglers", "job", r.job, "pass", r.pass, "speculative_copies", r.specSent, "copies_won", r.specWon)
	}
	return p.parts, p.retries, nil
}

// launch sends shard s's step to worker w after delay.
func (p *passState) launch(s int, w string, spec bool, delay time.Duration) {
	sh := &p.st[s]
	sh.sends++
	if sh.tried == nil {
		sh.tried = map[string]bool{}
	}
	sh.tried[w] = true
	actx, acancel := context.WithCancel(p.ctx)
	a := &attempt{shard: s, number: sh.sends, worker: w, spec: spec, ctx: actx, cancel: acancel}
	sh.running = append(sh.running, a)
	metrics.Steps.WithLabelValues("sent").Inc()
	if spec {
		metrics.Steps.WithLabelValues("speculative").Inc()
	}
	if p.batch != nil && delay == 0 {
		if p.pending == nil {
			p.pending = map[string][]*attempt{}
		}
		p.pending[w] = append(p.pending[w], a)
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-actx.Done():
			}
			t.Stop()
		}
		if p.batch != nil {
			p.batch(p.ctx, w, []batchStep{p.stepOf(a)})
			return
		}
		part, err := p.send(actx, w, s, a.number, p.sentFunc(a))
		p.out <- outcome{a: a, part: part, err: err, at: time.Now()}
	}()
}

// sentFunc records when attempt a went out.
func (p *passState) sentFunc(a *attempt) func() {
	return func() {
		now := time.Now().UnixNano()
		a.sentAt.Store(now)
		p.firstSent.CompareAndSwap(0, now)
	}
}

// stepOf is attempt a as a batch's step.
func (p *passState) stepOf(a *attempt) batchStep {
	return batchStep{ctx: a.ctx, shard: a.shard, number: a.number, sent: p.sentFunc(a), done: func(part *proto.Partial, err error) {
		p.out <- outcome{a: a, part: part, err: err, at: time.Now()}
	}}
}

// flush sends the attempts placed since the last flush, one batch per
// worker, in shard order.
func (p *passState) flush() {
	for w, as := range p.pending {
		delete(p.pending, w)
		steps := make([]batchStep, len(as))
		for i, a := range as {
			steps[i] = p.stepOf(a)
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.batch(p.ctx, w, steps)
		}()
	}
}

// place sends shard s's step to the next worker for it: its owner the
// first time, then the next in its rendezvous order.
func (p *passState) place(s int) error {
	if p.st[s].sends == 0 && p.owners != nil && p.owners[s] != "" {
		p.launch(s, p.owners[s], false, 0)
		return nil
	}
	w, fresh, err := p.pick(p.ctx, s, p.st[s].tried)
	if err != nil {
		return err
	}
	var delay time.Duration
	if !fresh {
		delay = p.backoff
	}
	p.launch(s, w, false, delay)
	return nil
}

// settle takes one copy's outcome: it keeps the shard's first partial and
// re-sends a failed step when no other copy of it is running.
func (p *passState) settle(o outcome) error {
	s, sh := o.a.shard, &p.st[o.a.shard]
	sh.running = slices.DeleteFunc(sh.running, func(a *attempt) bool { return a == o.a })
	o.a.cancel()
	if p.parts[s] != nil {
		return nil // a late copy: the shard's first partial won
	}
	if o.err == nil {
		p.parts[s] = o.part
		p.done++
		if at := o.a.sentAt.Load(); at != 0 {
			p.durations = append(p.durations, o.at.Sub(time.Unix(0, at)))
		}
		if o.a.spec {
			p.specWon++
		}
		for _, a := range sh.running {
			a.cancel()
		}
		if p.progress != nil {
			p.progress(p.done, p.shards)
		}
		return nil
	}
	if p.ctx.Err() != nil {
		return p.ctx.Err()
	}
	metrics.Steps.WithLabelValues("failed").Inc()
	if errors.Is(o.err, ErrStepRefused) {
		// Every worker would fail the same way: no retry, no other copy.
		p.log.Warn("step failed for good; failing the job", "job", p.job, "pass", p.pass, "shard", s,
			"worker", o.a.worker, "err", o.err)
		return o.err
	}
	undelivered := errors.Is(o.err, errNotDelivered)
	if undelivered {
		sh.misses++
		p.log.Info("step not delivered; placing it elsewhere", "job", p.job, "pass", p.pass, "shard", s,
			"worker", o.a.worker, "err", o.err)
		if sh.misses > maxMisses {
			return fmt.Errorf("%w: shard %d not delivered after %d tries: %v", ErrStepFailed, s, sh.misses, o.err)
		}
	} else {
		sh.failures++
		p.log.Warn("step failed; sending it elsewhere", "job", p.job, "pass", p.pass, "shard", s,
			"worker", o.a.worker, "attempt", sh.failures, "speculative", o.a.spec, "err", o.err)
		if sh.failures >= maxAttempts {
			return fmt.Errorf("%w: shard %d after %d attempts: %v", ErrStepFailed, s, sh.failures, o.err)
		}
	}
	if len(sh.running) > 0 {
		return nil // the other copy may still answer
	}
	if !undelivered {
		p.retries++
		metrics.Steps.WithLabelValues("retried").Inc()
	}
	return p.place(s)
}

// speculate sends one speculative copy of every straggling step, once enough
// of the pass is done.
func (p *passState) speculate(now time.Time) {
	if float64(p.done) < p.spec.After*float64(p.shards) {
		return
	}
	threshold := max(p.spec.Floor, time.Duration(p.spec.Factor*float64(median(p.durations))))
	var live []Member
	for s := range p.parts {
		sh := &p.st[s]
		if p.parts[s] != nil || sh.specced || len(sh.running) != 1 {
			continue
		}
		a := sh.running[0]
		at := a.sentAt.Load()
		if at == 0 || now.Sub(time.Unix(0, at)) <= threshold {
			continue
		}
		if live == nil {
			live = p.live()
		}
		to := ""
		for _, m := range Rank(s, live) {
			if !sh.tried[m.ID] {
				to = m.ID
				break
			}
		}
		if to == "" {
			continue // no other worker to try yet
		}
		sh.specced = true
		p.specSent++
		p.retries++
		p.log.Info("straggler: sending a speculative copy", "job", p.job, "pass", p.pass, "shard", s,
			"worker", a.worker, "to", to, "running", now.Sub(time.Unix(0, at)).Round(time.Millisecond), "threshold", threshold)
		p.launch(s, to, true, 0)
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	c := slices.Clone(d)
	slices.Sort(c)
	return c[len(c)/2]
}

// pick returns the first live worker in the shard's rendezvous order that
// has not had its step yet in this pass, or, when every one has, the owner
// again with fresh false; it waits up to r.wait for a worker to appear.
func (r *passRun) pick(ctx context.Context, shard int, tried map[string]bool) (string, bool, error) {
	deadline := time.Now().Add(r.wait)
	for {
		live := r.live()
		if len(live) > 0 {
			ranked := Rank(shard, live)
			for _, m := range ranked {
				if !tried[m.ID] {
					return m.ID, true, nil
				}
			}
			return ranked[0].ID, false, nil
		}
		if time.Now().After(deadline) {
			return "", false, fmt.Errorf("%w for %v", ErrNoWorkers, r.wait)
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
