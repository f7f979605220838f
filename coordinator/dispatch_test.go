package coordinator

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeClock is members' injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func hello(id string) proto.Hello {
	return proto.Hello{V: proto.Version, ID: id, Capacity: 1}
}

func TestHeartbeatTTLScalesWithWorkers(t *testing.T) {
	m := newMembers(time.Second)
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, time.Second}, {4, 2 * time.Second},
		{8, 3 * time.Second}, {64, 6 * time.Second}, {256, 8 * time.Second}, {100000, 8 * time.Second},
	} {
		if got := m.ttlFor(c.n); got != c.want {
			t.Errorf("ttlFor(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	if got := m.ttlFor(3); got <= time.Second || got >= 2*time.Second {
		t.Errorf("ttlFor(3) = %v, want between 1s and 2s", got)
	}
}

func TestExpireUsesScaledTTL(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	m := newMembers(time.Second)
	m.now = clock.now
	ids := []string{"w0", "w1", "w2", "w3"}
	for _, id := range ids {
		m.seen(hello(id))
	}
	// Four workers: the effective TTL is 2s. w3 falls silent.
	beat := func(d time.Duration) []string {
		clock.advance(d)
		for _, id := range ids[:3] {
			m.seen(hello(id))
		}
		return m.expire()
	}
	if dead := beat(1500 * time.Millisecond); len(dead) != 0 {
		t.Fatalf("expired %v after 1.5s of silence with 4 workers (TTL 2s)", dead)
	}
	if dead := beat(400 * time.Millisecond); len(dead) != 0 {
		t.Fatalf("expired %v after 1.9s of silence with 4 workers (TTL 2s)", dead)
	}
	if dead := beat(200 * time.Millisecond); fmt.Sprint(dead) != "[w3]" {
		t.Fatalf("after 2.1s of silence expired %v, want [w3]", dead)
	}
	// Three workers left: the TTL shrinks to 1.58s. With two it is the base.
	ids = ids[:2]
	clock.advance(1600 * time.Millisecond)
	m.seen(hello("w0"))
	m.seen(hello("w1"))
	if dead := m.expire(); fmt.Sprint(dead) != "[w2]" {
		t.Fatalf("after 1.6s of silence with 3 workers expired %v, want [w2]", dead)
	}
	clock.advance(900 * time.Millisecond)
	m.seen(hello("w0"))
	if dead := m.expire(); len(dead) != 0 {
		t.Fatalf("expired %v after 0.9s with 2 workers (TTL 1s)", dead)
	}
	clock.advance(200 * time.Millisecond)
	if dead := m.expire(); fmt.Sprint(dead) != "[w1]" {
		t.Fatalf("after 1.1s of silence with 2 workers expired %v, want [w1]", dead)
	}
	if live := m.live(); len(live) != 1 || live[0].ID != "w0" {
		t.Fatalf("live %v, want [w0]", live)
	}
}

func TestDrainingWorkerTakesNoStepsAndLeavesGracefully(t *testing.T) {
	m := newMembers(50 * time.Millisecond)
	m.seen(hello("w0"))
	m.seen(hello("w1"))
	h := hello("w1")
	h.Draining = true
	m.seen(h)
	if live := m.live(); len(live) != 1 || live[0].ID != "w0" {
		t.Fatalf("live %v while w1 drains, want [w0]", live)
	}
	cur, ok := m.get("w1")
	if !ok {
		t.Fatal("a draining worker must stay known: its steps in flight still answer")
	}
	select {
	case <-cur.leaving:
	default:
		t.Fatal("leaving not closed for a draining worker")
	}
	if info := m.info(); len(info) != 2 || !info[1].Draining {
		t.Fatalf("info %+v, want w1 draining", info)
	}
	// A heartbeat sent before the drain must not bring it back.
	m.seen(hello("w1"))
	if live := m.live(); len(live) != 1 {
		t.Fatalf("live %v after a stale heartbeat", live)
	}
	// A new process under the same id, before the old one's goodbye, is a
	// new worker.
	m.seen(hello("w0"))
	h = hello("w0")
	h.Draining = true
	m.seen(h)
	old, _ := m.get("w0")
	h = hello("w0")
	h.PID = 4242
	if m.seen(h) != restarted || len(m.live()) != 1 || old.ctx.Err() == nil {
		t.Fatalf("a restarted worker stays leaving: live %v", m.live())
	}
	m.gone(hello("w1"))
	if _, ok := m.get("w1"); ok {
		t.Fatal("w1 still known after its goodbye")
	}
	if cur.ctx.Err() != nil {
		t.Fatal("steps in flight to w1 aborted at once; its last replies may still be on their way")
	}
	deadline := time.Now().Add(5 * time.Second)
	for cur.ctx.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("steps in flight to w1 never aborted after its goodbye")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRestartedWorkerIsANewWorker: a hello from another process under a
// known worker id (another PID, host or start time) aborts every step in
// flight to the old process at once, saying why, and the new one starts
// afresh; heartbeats and the goodbye of the older process change nothing.
func TestRestartedWorkerIsANewWorker(t *testing.T) {
	m := newMembers(time.Minute)
	t0 := time.Unix(1000, 0).UTC()
	first := hello("w0")
	first.Host, first.PID, first.Started, first.Capacity = "h", 1, t0, 4
	if m.seen(first) != joined {
		t.Fatal("a new worker is not reported as joined")
	}
	old, _ := m.get("w0")
	again := first
	again.Steps = 7
	if m.seen(again) != beat || old.ctx.Err() != nil {
		t.Fatal("a heartbeat of the same process is not a plain heartbeat")
	}
	for _, change := range []func(h *proto.Hello){
		func(h *proto.Hello) { h.Started = h.Started.Add(time.Second) }, // same PID, as in a container
		func(h *proto.Hello) { h.PID++ },
		func(h *proto.Hello) { h.Host = "other" },
	} {
		next := old.hello
		change(&next)
		next.Capacity = 1
		if got := m.seen(next); got != restarted {
			t.Fatalf("hello %+v after %+v: %v, want restarted", next, old.hello, got)
		}
		if !errors.Is(context.Cause(old.ctx), errRestarted) {
			t.Fatalf("the old process's steps were not aborted as restarted: %v", context.Cause(old.ctx))
		}
		cur, _ := m.get("w0")
		if cur == old || cur.ctx.Err() != nil || cur.window != 2 || len(m.live()) != 1 {
			t.Fatalf("the new process does not start afresh: window %d, live %v", cur.window, m.live())
		}
		old = cur
	}
	// The first process, still running, heartbeats: it is older than the
	// one known, so it is ignored.
	if got := m.seen(first); got != stale {
		t.Fatalf("a heartbeat of an older process: %v, want stale", got)
	}
	if m.gone(first) {
		t.Fatal("the older process's goodbye removed the newer one")
	}
	if cur, ok := m.get("w0"); !ok || cur != old || old.ctx.Err() != nil {
		t.Fatal("the older process's heartbeat or goodbye touched the newer one")
	}
	if !m.gone(old.hello) {
		t.Fatal("the known process's goodbye was not taken")
	}
}

// fakeWorkers is a stepSender over in-memory workers.
type fakeWorkers struct {
	mu    sync.Mutex
	live  []Member
	sends map[int][]sendRec
	do    func(ctx context.Context, worker string, shard int) (*proto.Partial, error)
}

type sendRec struct {
	worker  string
	attempt int
	at      time.Time
}

func newFakeWorkers(n int) *fakeWorkers {
	return &fakeWorkers{live: testMembers(n), sends: map[int][]sendRec{}}
}

func (f *fakeWorkers) members() []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Member(nil), f.live...)
}

func (f *fakeWorkers) send(ctx context.Context, worker string, shard, attempt int, sent func()) (*proto.Partial, error) {
	f.mu.Lock()
	f.sends[shard] = append(f.sends[shard], sendRec{worker: worker, attempt: attempt, at: time.Now()})
	f.mu.Unlock()
	sent()
	return f.do(ctx, worker, shard)
}

func (f *fakeWorkers) sent(shard int) []sendRec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendRec(nil), f.sends[shard]...)
}

func (f *fakeWorkers) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sends {
		n += len(s)
	}
	return n
}

// batch runs a batch's steps on the in-memory workers, each on its own.
func (f *fakeWorkers) batch(ctx context.Context, worker string, steps []batchStep) {
	var wg sync.WaitGroup
	for _, st := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.done(f.send(st.ctx, worker, st.shard, st.number, st.sent))
		}()
	}
	wg.Wait()
}

// run is a pass over the in-memory workers, in batches as runPass sends them.
func (f *fakeWorkers) run(t *testing.T, shards int, spec speculation) *passRun {
	return &passRun{job: "job", pass: 1, shards: shards, live: f.members, batch: f.batch, spec: spec,
		wait: time.Second, backoff: time.Millisecond, log: testLog(t)}
}

// byWorker is a partial that names the worker that computed it.
func byWorker(worker string, shard int) *proto.Partial {
	return &proto.Partial{Job: worker, Pass: 1, Shard: shard}
}

func TestStragglerGetsOneSpeculativeCopyOnNextRankedWorker(t *testing.T) {
	f := newFakeWorkers(3)
	const shards, slow = 12, 5
	owner, next := Balanced(shards, f.members())[slow], ""
	for _, m := range Rank(slow, f.members()) {
		if m.ID != owner {
			next = m.ID
			break
		}
	}
	abandoned := make(chan struct{})
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		if shard == slow && worker == owner {
			<-ctx.Done() // hung: it answers only by being cancelled
			close(abandoned)
			return nil, ctx.Err()
		}
		return byWorker(worker, shard), nil
	}
	spec := speculation{After: 0.75, Factor: 3, Floor: 30 * time.Millisecond}
	r := f.run(t, shards, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	parts, retries, err := r.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for s, p := range parts {
		if p == nil || p.Shard != s {
			t.Fatalf("shard %d: partial %+v", s, p)
		}
	}
	if parts[slow].Job != next {
		t.Fatalf("straggling shard answered by %s, want the next in its rendezvous order, %s", parts[slow].Job, next)
	}
	sends := f.sent(slow)
	if len(sends) != 2 || sends[0].worker != owner || sends[1].worker != next || sends[1].attempt != 2 {
		t.Fatalf("sends of the straggling shard: %+v", sends)
	}
	if wait := sends[1].at.Sub(sends[0].at); wait < spec.Floor {
		t.Fatalf("speculative copy sent after %v, before the %v floor", wait, spec.Floor)
	}
	if retries != 1 || r.specSent != 1 || r.specWon != 1 {
		t.Fatalf("retries %d, speculative copies %d, won %d; want 1, 1, 1", retries, r.specSent, r.specWon)
	}
	if f.total() != shards+1 {
		t.Fatalf("%d steps sent for %d shards and one straggler", f.total(), shards)
	}
	select {
	case <-abandoned:
	default:
		t.Fatal("the losing copy was not cancelled when the pass ended")
	}
}

func TestSpeculativeCopiesAreBounded(t *testing.T) {
	f := newFakeWorkers(4)
	const shards, slow = 16, 3
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		if shard == slow {
			// Slow wherever it runs: one copy may help, a third copy would not.
			select {
			case <-time.After(300 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return byWorker(worker, shard), nil
	}
	r := f.run(t, shards, speculation{After: 0.75, Factor: 3, Floor: 20 * time.Millisecond})
	_, retries, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.sent(slow)); n != 2 {
		t.Fatalf("the slow shard was sent %d times, want its step and one copy", n)
	}
	if retries != 1 || r.specSent != 1 {
		t.Fatalf("retries %d, speculative copies %d; want 1, 1", retries, r.specSent)
	}
}

func TestNoSpeculationBeforeMostShardsAreDone(t *testing.T) {
	f := newFakeWorkers(3)
	const shards = 8
	release := make(chan struct{})
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		if shard < 3 { // 5 of 8 done is less than 75%
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return byWorker(worker, shard), nil
	}
	spec := speculation{After: 0.75, Factor: 3, Floor: 10 * time.Millisecond}
	r := f.run(t, shards, spec)
	checks := make(chan time.Time, 1)
	r.checked = checks
	type result struct {
		retries int
		err     error
	}
	res := make(chan result, 1)
	go func() {
		_, retries, err := r.run(context.Background())
		res <- result{retries, err}
	}()
	testutil.WaitFor(t, 5*time.Second, time.Millisecond, func() error {
		if n := f.total(); n < shards {
			return fmt.Errorf("the pass sent %d of its %d steps", n, shards)
		}
		return nil
	})
	// A negative check on the pass's own clock: wait for a straggler check
	// made 20 floors after every step went out.
	sent := time.Now()
	for now := sent; now.Sub(sent) < 20*spec.Floor; {
		now = testutil.WaitEvent(t, checks, 5*time.Second, "straggler check")
	}
	if n := f.total(); n != shards {
		t.Fatalf("%d steps sent with only 5 of 8 shards done; want no speculative copy", n)
	}
	close(release)
	got := <-res
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.retries > 3 {
		t.Fatalf("retries %d", got.retries)
	}
}

func TestUndeliveredStepIsPlacedElsewhereWithoutRetry(t *testing.T) {
	f := newFakeWorkers(3)
	const shards = 24
	leaving := "w1"
	var failedOnce sync.Once
	failShard := -1
	for s := 0; s < shards; s++ {
		if Balanced(shards, f.members())[s] == "w2" {
			failShard = s
			break
		}
	}
	f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
		if worker == leaving {
			f.mu.Lock()
			f.live = []Member{{ID: "w0", Capacity: 1}, {ID: "w2", Capacity: 1}}
			f.mu.Unlock()
			return nil, fmt.Errorf("%w: worker %s is leaving", errNotDelivered, worker)
		}
		if shard == failShard {
			var failed bool
			failedOnce.Do(func() { failed = true })
			if failed {
				return nil, errors.New("worker w2: disk on fire")
			}
		}
		return byWorker(worker, shard), nil
	}
	r := f.run(t, shards, speculation{After: 2}) // no speculation
	parts, retries, err := r.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for s, p := range parts {
		if p == nil || p.Job == leaving {
			t.Fatalf("shard %d: partial %+v", s, p)
		}
		if sends := f.sent(s); sends[0].worker == leaving {
			moved++
			if len(sends) != 2 {
				t.Fatalf("shard %d: sends %+v", s, sends)
			}
		}
	}
	if moved == 0 {
		t.Fatal("no shard was owned by the leaving worker; pick another seed")
	}
	if retries != 1 {
		t.Fatalf("retries %d, want 1 (the failed step only, not the %d undelivered ones)", retries, moved)
	}
	if sends := f.sent(failShard); len(sends) != 2 || sends[1].worker == "w2" {
		t.Fatalf("failed shard %d: sends %+v, want a second worker", failShard, sends)
	}
}

// TestWhichCopyWinsDoesNotChangeTheModel runs a whole k-means job through
// passRun twice over the same in-memory shards: once with no speculation,
// once speculating on nearly every step with one worker much slower than the
// others, so that some shards are answered by their owner and others by a
// copy on another worker. Each fake worker computes its partial itself and
// sends it through the wire encoding. The models must be bit-identical.
func TestWhichCopyWinsDoesNotChangeTheModel(t *testing.T) {
	const shards, rows, d = 12, 400, 3
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([][]float64, shards)
	for s := range xs {
		for i := 0; i < rows; i++ {
			c := float64(rng.IntN(4)) * 5
			for j := 0; j < d; j++ {
				xs[s] = append(xs[s], c+rng.NormFloat64())
			}
		}
	}
	train := func(spec speculation, slow time.Duration) (*kmeans.Model, int, int) {
		st, err := kmeans.New(kmeans.Config{K: 4, MaxIter: 6, Seed: 7}, d)
		if err != nil {
			t.Fatal(err)
		}
		sent, won := 0, 0
		for pass := 1; ; pass++ {
			task, done := st.Next()
			if done {
				break
			}
			f := newFakeWorkers(3)
			f.do = func(ctx context.Context, worker string, shard int) (*proto.Partial, error) {
				j := jitter(worker, shard, pass)
				delay := time.Duration(j) * 100 * time.Microsecond
				switch {
				case worker == "w0":
					delay += slow
				case j%4 == 0:
					// About one copy in four is slower still than the
					// straggler, so that both copies and first steps win.
					delay += 3 * slow
				}
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				res, err := kmeans.RunTask(nil, task, xs[shard], rows, d, nil, 0, shard)
				if err != nil {
					return nil, err
				}
				p := proto.Partial{Job: "job", Pass: pass, Shard: shard, Rows: rows}
				if err := job.Encode(&p, kmeans.Name, res); err != nil {
					return nil, err
				}
				b, err := blob.Encode(proto.PartialKind, p)
				if err != nil {
					return nil, err
				}
				var got proto.Partial
				return &got, blob.Decode(b, proto.PartialKind, &got)
			}
			r := f.run(t, shards, spec)
			r.pass = pass
			parts, _, err := r.run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			results, err := job.Decode[kmeans.Result](kmeans.Name, parts)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Absorb(results); err != nil {
				t.Fatal(err)
			}
			sent, won = sent+r.specSent, won+r.specWon
		}
		return st.Model(), sent, won
	}
	calm, _, _ := train(speculation{After: 2}, 0)
	eager, sent, won := train(speculation{After: 0, Factor: 0, Floor: time.Millisecond}, 25*time.Millisecond)
	t.Logf("speculative copies: %d sent, %d won", sent, won)
	if won == 0 || won == sent {
		t.Fatalf("%d of %d speculative copies won; the test needs some copies and some first steps to win", won, sent)
	}
	if calm.Iterations != eager.Iterations || fmt.Sprint(calm.Sizes) != fmt.Sprint(eager.Sizes) {
		t.Fatalf("iterations %d/%d sizes %v/%v", calm.Iterations, eager.Iterations, calm.Sizes, eager.Sizes)
	}
	for i := range calm.Centroids {
		if math.Float64bits(calm.Centroids[i]) != math.Float64bits(eager.Centroids[i]) {
			t.Fatalf("centroid value %d: %v vs %v (not bit-identical)", i, calm.Centroids[i], eager.Centroids[i])
		}
	}
	if math.Float64bits(calm.Inertia) != math.Float64bits(eager.Inertia) {
		t.Fatalf("inertia %v vs %v", calm.Inertia, eager.Inertia)
	}
}

// jitter is a stable pseudo-random 0..19 per worker, shard and pass.
func jitter(worker string, shard, pass int) int {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d/%d", worker, shard, pass)
	return int(h.Sum32() % 20)
}
