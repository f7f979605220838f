package coordinator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// batchLog records the batches a pass sends: worker and shards, in order.
type batchLog struct {
	mu      sync.Mutex
	batches []sentBatch
}

type sentBatch struct {
	worker string
	shards []int
}

func (l *batchLog) wrap(f batchSender) batchSender {
	return func(ctx context.Context, worker string, steps []batchStep) {
		b := sentBatch{worker: worker}
		for _, st := range steps {
			b.shards = append(b.shards, st.shard)
		}
		l.mu.Lock()
		l.batches = append(l.batches, b)
		l.mu.Unlock()
		f(ctx, worker, steps)
	}
}

func (l *batchLog) all() []sentBatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sentBatch(nil), l.batches...)
}

// TestPassSendsOneBatchPerWorker: a pass of 64 shards on 2 workers sends
// exactly two messages, each naming, in shard order, every shard its worker
// owns.
func TestPassSendsOneBatchPerWorker(t *testing.T) {
	f := newFakeWorkers(2)
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		return byWorker(worker, shard), nil
	}
	var log batchLog
	r := f.run(t, 64, defaultSpeculation)
	r.batch = log.wrap(r.batch)
	parts, retries, err := r.run(context.Background())
	if err != nil || retries != 0 {
		t.Fatalf("pass: %v, %d retries", err, retries)
	}
	owner := Balanced(64, f.members())
	batches := log.all()
	if len(batches) != 2 || batches[0].worker == batches[1].worker {
		t.Fatalf("batches %+v, want one per worker", batches)
	}
	for _, b := range batches {
		var want []int
		for s := 0; s < 64; s++ {
			if owner[s] == b.worker {
				want = append(want, s)
			}
		}
		if len(b.shards) != len(want) {
			t.Fatalf("%s got shards %v, owns %v", b.worker, b.shards, want)
		}
		for i := range want {
			if b.shards[i] != want[i] {
				t.Fatalf("%s got shards %v, owns %v (in shard order)", b.worker, b.shards, want)
			}
		}
	}
	for s, p := range parts {
		if p.Shard != s || p.Job != owner[s] {
			t.Fatalf("shard %d: partial %+v, want its owner %s's", s, p, owner[s])
		}
	}
}

// TestWorkerLossResendsOnlyItsShards: when one worker of a batch dies, its
// shards, and only they, are sent again, to the other worker, each kept
// exactly once.
func TestWorkerLossResendsOnlyItsShards(t *testing.T) {
	f := newFakeWorkers(3)
	var mu sync.Mutex
	dead := "w1"
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		mu.Lock()
		d := worker == dead
		mu.Unlock()
		if d {
			f.mu.Lock()
			f.live = testMembers(3)
			f.live = append(f.live[:1], f.live[2:]...)
			f.mu.Unlock()
			return nil, errWorkerGone
		}
		return byWorker(worker, shard), nil
	}
	var log batchLog
	r := f.run(t, 48, defaultSpeculation)
	r.batch = log.wrap(r.batch)
	parts, _, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	owner := Balanced(48, testMembers(3))
	for s, p := range parts {
		if p.Shard != s || p.Job == dead {
			t.Fatalf("shard %d: partial %+v", s, p)
		}
		sends := f.sent(s)
		if owner[s] != dead {
			if len(sends) != 1 || p.Job != owner[s] {
				t.Fatalf("shard %d of live %s sent %d times, kept %s's", s, owner[s], len(sends), p.Job)
			}
			continue
		}
		if len(sends) != 2 || sends[0].worker != dead || sends[1].worker == dead {
			t.Fatalf("shard %d of the dead worker: sends %+v", s, sends)
		}
	}
	// The first three batches are the pass's, one per worker; the re-sent
	// shards go out in batches too, never more than one per failure.
	if n := len(log.all()); n < 3 || n > 3+16 {
		t.Fatalf("%d batches", n)
	}
}

// TestBatchStepsCancelledWhenPassEnds: a batch whose pass fails is told so
// through every step's context, and the pass does not wait for answers.
func TestBatchStepsCancelledWhenPassEnds(t *testing.T) {
	f := newFakeWorkers(2)
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		if shard == 3 {
			return nil, ErrStepRefused
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	_, _, err := f.run(t, 16, defaultSpeculation).run(context.Background())
	if !errors.Is(err, ErrStepRefused) {
		t.Fatalf("pass: %v, want the refusal", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the pass waited for cancelled steps")
	}
}
