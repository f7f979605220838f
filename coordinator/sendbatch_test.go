package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/nats-io/nats.go"
)

// TestSilentWorkerFailsItsQueuedStepsAsNotDelivered: a worker that takes a
// batch of five steps, answers the first and then nothing has the steps
// counted as running time out after the step timeout, and at that moment the
// steps still queued behind them fail as not delivered, without ever counting
// as running and without waiting their own turn to time out; each step is
// settled exactly once, and the answered one keeps its partial.
func TestSilentWorkerFailsItsQueuedStepsAsNotDelivered(t *testing.T) {
	c, nc, _ := startCoordinator(t, func(cfg *Config) { cfg.StepTimeout = time.Second })
	c.members.seen(hello("wx")) // capacity 1: two steps count as running at once
	// It heartbeats throughout: it is alive, only silent.
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		beat := time.NewTicker(100 * time.Millisecond)
		defer beat.Stop()
		for {
			select {
			case <-quit:
				return
			case <-beat.C:
				c.members.seen(hello("wx"))
			}
		}
	}()
	var got []proto.BatchShard
	sub, err := nc.Subscribe(proto.WorkerStepSubject("wx"), func(m *nats.Msg) {
		if err := json.Unmarshal([]byte(m.Header.Get(proto.HeaderShards)), &got); err != nil {
			t.Error(err)
			return
		}
		b, _ := blob.Encode(proto.PartialKind, proto.Partial{Job: "j", Pass: 3, Shard: got[0].Shard.Index})
		r := nats.NewMsg(m.Reply)
		r.Data = b
		r.Header.Set(proto.HeaderShardIndex, strconv.Itoa(got[0].Shard.Index))
		_ = nc.PublishMsg(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ps := passSpec{job: "j", pass: 3}
	for i := range 5 {
		ps.shards = append(ps.shards, proto.ShardRef{Index: i, Object: "s" + strconv.Itoa(i)})
	}
	var mu sync.Mutex
	sent := map[int]time.Time{}
	errs := map[int]error{}
	failedAt := map[int]time.Time{}
	settles := map[int]int{}
	var parts []*proto.Partial
	ctx := context.Background()
	var steps []batchStep
	for i := range 5 {
		steps = append(steps, batchStep{ctx: ctx, shard: i, number: 1,
			sent: func() { mu.Lock(); sent[i] = time.Now(); mu.Unlock() },
			done: func(p *proto.Partial, err error) {
				mu.Lock()
				defer mu.Unlock()
				settles[i]++
				if err != nil {
					errs[i], failedAt[i] = err, time.Now()
				} else {
					parts = append(parts, p)
				}
			}})
	}
	start := time.Now()
	done := make(chan struct{})
	go func() { c.sendBatch(ctx, "wx", ps, []byte(`{}`), steps); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the batch never ended: queued steps of a silent worker never time out")
	}
	if len(got) != 5 {
		t.Fatalf("the worker got %d shards in its one message, want 5", len(got))
	}
	if len(parts) != 1 || parts[0].Shard != 0 {
		t.Fatalf("partials %v, want shard 0's", parts)
	}
	for i := range 5 {
		if settles[i] != 1 {
			t.Fatalf("shard %d settled %d times", i, settles[i])
		}
	}
	for i := 1; i <= 2; i++ {
		if !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Fatalf("shard %d: %v, want a timeout", i, errs[i])
		}
	}
	// Shards 3 and 4 never counted as running: they fail as not delivered
	// when the window times out, not a step timeout later.
	for i := 3; i <= 4; i++ {
		if !errors.Is(errs[i], errNotDelivered) || errors.Is(errs[i], context.DeadlineExceeded) {
			t.Fatalf("shard %d: %v, want not delivered", i, errs[i])
		}
		if !sent[i].IsZero() {
			t.Fatalf("shard %d counted as running though it was still queued", i)
		}
		if d := failedAt[i].Sub(start); d < 900*time.Millisecond || d > 1800*time.Millisecond {
			t.Fatalf("shard %d failed %v after the batch went out, want about one step timeout (1s)", i, d)
		}
	}
}

// respond answers, on NATS, the shards of every batch sent to worker id for
// which answer says so, each with its partial.
func respond(t *testing.T, nc *nats.Conn, id string, answer func(shard int) bool) *batchesSeen {
	t.Helper()
	seen := &batchesSeen{shards: map[int]int{}}
	sub, err := nc.Subscribe(proto.WorkerStepSubject(id), func(m *nats.Msg) {
		var bs []proto.BatchShard
		if err := json.Unmarshal([]byte(m.Header.Get(proto.HeaderShards)), &bs); err != nil {
			t.Error(err)
			return
		}
		seen.mu.Lock()
		seen.batches++
		for _, b := range bs {
			seen.shards[b.Shard.Index]++
		}
		seen.mu.Unlock()
		for _, b := range bs {
			if !answer(b.Shard.Index) {
				continue
			}
			out, _ := blob.Encode(proto.PartialKind, proto.Partial{Job: "j", Pass: 3, Shard: b.Shard.Index, Algo: id})
			r := nats.NewMsg(m.Reply)
			r.Data = out
			r.Header.Set(proto.HeaderShardIndex, strconv.Itoa(b.Shard.Index))
			_ = nc.PublishMsg(r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return seen
}

type batchesSeen struct {
	mu      sync.Mutex
	batches int
	shards  map[int]int // shard index → times received
}

// TestQueuedStepsOfASilentWorkerRunElsewhereAtOnce: in a pass over real
// NATS, a worker that answers its first step and then nothing costs the pass
// one step timeout, not one per window of its steps: its queued steps go to
// the other worker as soon as its window times out, each exactly once, and
// only the steps that timed out count as retries.
func TestQueuedStepsOfASilentWorkerRunElsewhereAtOnce(t *testing.T) {
	const stepTimeout = time.Second
	c, nc, _ := startCoordinator(t, func(cfg *Config) { cfg.StepTimeout = stepTimeout })
	quit := make(chan struct{})
	defer close(quit)
	beat := func() { c.members.seen(hello("wx")); c.members.seen(hello("wy")) }
	beat()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				beat()
			}
		}
	}()
	// Enough shards that wx owns at least seven: with a window of two, the
	// old rule took three step timeouts to get through them.
	n, owned := 0, []int(nil)
	for len(owned) < 7 {
		n++
		owned = owned[:0]
		for s, w := range Balanced(n, c.members.live()) {
			if w == "wx" {
				owned = append(owned, s)
			}
		}
	}
	first := owned[0]
	wx := respond(t, nc, "wx", func(shard int) bool { return shard == first })
	wy := respond(t, nc, "wy", func(int) bool { return true })
	ps := passSpec{job: "j", pass: 3, algo: "kmeans"}
	for i := range n {
		ps.shards = append(ps.shards, proto.ShardRef{Index: i, Object: "s" + strconv.Itoa(i)})
	}
	start := time.Now()
	parts, retries, _, err := c.runPass(context.Background(), ps)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	for s, p := range parts {
		want := "wy"
		if s == first {
			want = "wx"
		}
		if p == nil || p.Shard != s || p.Algo != want {
			t.Fatalf("shard %d: partial %+v, want %s's", s, p, want)
		}
	}
	wx.mu.Lock()
	wy.mu.Lock()
	defer wx.mu.Unlock()
	defer wy.mu.Unlock()
	if wx.batches != 1 {
		t.Fatalf("wx got %d batches, want its one", wx.batches)
	}
	for _, s := range owned[1:] {
		if wy.shards[s] != 1 {
			t.Fatalf("shard %d of the silent worker reached wy %d times, want once", s, wy.shards[s])
		}
	}
	// Two steps counted as running on wx and timed out (or were copied
	// speculatively first); the queued ones were not delivered, no retry.
	if retries != 2 {
		t.Fatalf("%d retries, want 2: only the steps that ran on wx and timed out", retries)
	}
	if took > stepTimeout*19/10 {
		t.Fatalf("the pass took %v with a step timeout of %v", took, stepTimeout)
	}
	t.Logf("%d shards, %d on the silent worker: the pass took %v (step timeout %v), %d retries", n, len(owned), took, stepTimeout, retries)
}
