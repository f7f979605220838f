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

// TestSilentWorkerTimesOutEveryStep: a worker that takes a batch of five
// steps, answers the first and then nothing has every other step time out
// in turn, not only those first counted as running, so each can be placed
// elsewhere; the answered one keeps its partial.
func TestSilentWorkerTimesOutEveryStep(t *testing.T) {
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
	var parts []*proto.Partial
	ctx := context.Background()
	var steps []batchStep
	for i := range 5 {
		steps = append(steps, batchStep{ctx: ctx, shard: i, number: 1,
			sent: func() { mu.Lock(); sent[i] = time.Now(); mu.Unlock() },
			done: func(p *proto.Partial, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs[i] = err
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
	for i := 1; i < 5; i++ {
		if !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Fatalf("shard %d: %v, want a timeout", i, errs[i])
		}
	}
	// Shards 3 and 4 counted as running only once others timed out.
	if sent[3].Sub(start) < 900*time.Millisecond || sent[4].Sub(start) < 900*time.Millisecond {
		t.Fatalf("steps counted as running before their turn: %v", sent)
	}
}
