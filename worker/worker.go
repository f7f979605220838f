// Package worker runs steps for the coordinator: it loads the shards it is
// given from the object store (verifying their checksums), keeps them in a
// byte-budgeted cache, computes one partial per step and replies with a
// compressed, checksummed blob. A worker holds no state that matters: killing
// it at any moment loses nothing, its steps are sent elsewhere.
package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/nats-io/nats.go"
)

// Config configures a worker.
type Config struct {
	// ID names the worker; it decides which shards it owns.
	ID string
	// Capacity is how many steps it runs at once.
	Capacity int
	// CacheBytes is the shard cache budget.
	CacheBytes int64
	// Heartbeat is how often it tells the coordinators it is alive.
	Heartbeat time.Duration
	Logger    *slog.Logger
}

// DefaultConfig returns a configuration sized to this machine.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		ID:         fmt.Sprintf("%s-%d", host, os.Getpid()),
		Capacity:   runtime.GOMAXPROCS(0),
		CacheBytes: 2 << 30,
		Heartbeat:  time.Second,
	}
}

// Validate says what is wrong with a configuration.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("worker: ID is required")
	case c.Capacity < 1:
		return errors.New("worker: Capacity must be at least 1")
	case c.CacheBytes < 1<<20:
		return fmt.Errorf("worker: CacheBytes %d is too low (minimum 1 MiB)", c.CacheBytes)
	case c.Heartbeat < 10*time.Millisecond:
		return fmt.Errorf("worker: Heartbeat %v is too low", c.Heartbeat)
	}
	return nil
}

// Worker is a running worker.
type Worker struct {
	cfg Config
	log *slog.Logger
	// started tells this incarnation of the worker id from the next one.
	started time.Time
	nc      *nats.Conn
	store   *store.Store
	// data holds shards and prepared matrices; bodies holds decoded step bodies.
	data   *onceCache
	bodies *onceCache
	slots  chan struct{}

	sub    *nats.Subscription
	ctrl   *nats.Subscription
	lookup *nats.Subscription
	// subDone is closed once the step subscription has delivered its last
	// message: from then on nothing adds to inflight.
	subDone  chan struct{}
	inflight sync.WaitGroup
	steps    atomic.Int64 // steps answered with a partial
	draining atomic.Bool
	stop     chan struct{}
	drained  chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

type load struct {
	done chan struct{}
	val  any
	err  error
}

// New starts a worker on nc: it subscribes to its step subject and announces itself.
func New(cfg Config, nc *nats.Conn, st *store.Store) (*Worker, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Worker{
		cfg: cfg, log: cfg.Logger.With("worker", cfg.ID), nc: nc, store: st, started: time.Now().UTC(),
		data: newOnceCache(cfg.CacheBytes), bodies: newOnceCache(4 << 20), slots: make(chan struct{}, cfg.Capacity),
		stop: make(chan struct{}), drained: make(chan struct{}), subDone: make(chan struct{}),
	}
	w.data.hit = metrics.CacheEvents.WithLabelValues(cfg.ID, "hit")
	w.data.miss = metrics.CacheEvents.WithLabelValues(cfg.ID, "miss")
	w.data.evict = metrics.CacheEvents.WithLabelValues(cfg.ID, "eviction")
	var err error
	if w.sub, err = nc.Subscribe(proto.WorkerStepSubject(cfg.ID), w.onStep); err != nil {
		return nil, fmt.Errorf("worker: subscribe: %w", err)
	}
	var subOnce sync.Once
	w.sub.SetClosedHandler(func(string) { subOnce.Do(func() { close(w.subDone) }) })
	if w.ctrl, err = nc.Subscribe(proto.WorkerControlSubject(cfg.ID), w.onControl); err != nil {
		_ = w.sub.Unsubscribe()
		return nil, fmt.Errorf("worker: subscribe: %w", err)
	}
	if w.lookup, err = nc.Subscribe(proto.WorkerLookupSubject(cfg.ID), w.onLookup); err != nil {
		_ = w.sub.Unsubscribe()
		_ = w.ctrl.Unsubscribe()
		return nil, fmt.Errorf("worker: subscribe: %w", err)
	}
	if err := nc.Flush(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	w.announce(proto.WorkerHelloSubject(cfg.ID))
	w.wg.Add(1)
	go w.heartbeat()
	return w, nil
}

// ID is the worker's id.
func (w *Worker) ID() string { return w.cfg.ID }

// Drained is closed once a drain has finished.
func (w *Worker) Drained() <-chan struct{} { return w.drained }

func (w *Worker) hello() proto.Hello {
	host, _ := os.Hostname()
	used, n := w.data.stats(shardKeyPrefix)
	return proto.Hello{V: proto.Version, ID: w.cfg.ID, Host: host, PID: os.Getpid(), Started: w.started, Capacity: w.cfg.Capacity, CacheBytes: used, Shards: n, Kernels: builtin.Kernels(),
		Steps: w.steps.Load(), Draining: w.draining.Load()}
}

func (w *Worker) announce(subject string) {
	b, _ := json.Marshal(w.hello())
	_ = w.nc.Publish(subject, b)
}

func (w *Worker) heartbeat() {
	defer w.wg.Done()
	t := time.NewTicker(w.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.announce(proto.WorkerHeartbeatSubject(w.cfg.ID))
			metrics.CacheBytes.WithLabelValues(w.cfg.ID).Set(float64(w.data.bytes()))
		}
	}
}

func (w *Worker) onControl(m *nats.Msg) {
	if string(m.Data) == "drain" {
		go func() {
			err := w.Drain(context.Background())
			msg := "drained"
			if err != nil {
				msg = err.Error()
			}
			_ = m.Respond([]byte(msg))
		}()
	}
}

// Drain leaves the cluster without losing or repeating work. In order: it
// tells the coordinators it is draining (they send it no new step and place
// its shards elsewhere), stops taking steps, answers every step it already
// took, stops heartbeating and only then says goodbye, so that the goodbye
// reaches the coordinators after its last reply. When ctx ends first, it
// says goodbye at once and the coordinators re-send what it did not answer.
func (w *Worker) Drain(ctx context.Context) error {
	var err error
	w.once.Do(func() {
		w.draining.Store(true)
		w.announce(proto.WorkerHeartbeatSubject(w.cfg.ID))
		_ = w.sub.Drain()
		select {
		case <-w.subDone:
			done := make(chan struct{})
			go func() { w.inflight.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		case <-ctx.Done():
			err = ctx.Err()
		}
		close(w.stop)
		w.wg.Wait()
		w.announce(proto.WorkerByeSubject(w.cfg.ID))
		_ = w.nc.Flush()
		_ = w.ctrl.Unsubscribe()
		_ = w.lookup.Unsubscribe()
		close(w.drained)
	})
	return err
}

// Close stops the worker without waiting for steps in flight.
func (w *Worker) Close() {
	w.once.Do(func() {
		_ = w.sub.Unsubscribe()
		_ = w.ctrl.Unsubscribe()
		_ = w.lookup.Unsubscribe()
		close(w.stop)
		w.wg.Wait()
		close(w.drained)
	})
}

func (w *Worker) onStep(m *nats.Msg) {
	if m.Header.Get(proto.HeaderShards) != "" {
		w.onBatch(m)
		return
	}
	w.inflight.Add(1)
	arrived := time.Now()
	go func() {
		defer w.inflight.Done()
		w.slots <- struct{}{}
		defer func() { <-w.slots }()
		queued := time.Since(arrived)
		var tm stepTimes
		out, err := w.step(m, &tm)
		_ = m.RespondMsg(w.reply(m.Reply, arrived, queued, tm, out, err))
	}()
}

// onBatch takes a batched step: every shard of a pass this worker is asked
// for, in one message. It runs them in the order given, as many at once as
// it has slots, and answers each shard as soon as it is done, on the
// message's reply subject.
//
// At most capacity runners work through the batch, each taking the next
// shard in order once it holds a slot: a slot freed by one shard is taken
// again at once by the same runner, with no goroutine started and no other
// woken per shard. Slots are still taken one shard at a time, so batches of
// other jobs running at the same time get their turn.
func (w *Worker) onBatch(m *nats.Msg) {
	shards, err := w.batchShards(m.Header.Get(proto.HeaderShards))
	if err != nil {
		resp := w.reply(m.Reply, time.Now(), 0, stepTimes{}, nil, fmt.Errorf("worker: bad step shards header: %w", err))
		_ = m.RespondMsg(resp)
		return
	}
	// Counted before the handler returns, so a drain waits for every shard.
	w.inflight.Add(len(shards))
	arrived := time.Now()
	reply := m.Reply
	data := m.Data
	var next atomic.Int64
	runner := func(body *decodedBody, berr error) {
		for {
			w.slots <- struct{}{}
			i := int(next.Add(1)) - 1
			if i >= len(shards) {
				<-w.slots
				return
			}
			bs := shards[i]
			queued := time.Since(arrived)
			var tm stepTimes
			var out []byte
			err := berr
			if err == nil {
				out, err = w.run(body, bs.Shard, &tm)
			}
			<-w.slots
			resp := w.reply(reply, arrived, queued, tm, out, err)
			resp.Header.Set(proto.HeaderShardIndex, strconv.Itoa(bs.Shard.Index))
			resp.Header.Set(proto.HeaderAttempt, strconv.Itoa(bs.Attempt))
			_ = w.nc.PublishMsg(resp)
			w.inflight.Done()
		}
	}
	go func() {
		body, berr := w.stepBody(data)
		for range min(w.cfg.Capacity, len(shards)) - 1 {
			go runner(body, berr)
		}
		runner(body, berr)
	}()
}

// batchShards decodes a batch's shards header once, however many passes
// send the same one: a worker is sent the same shards, each at its first
// attempt, pass after pass, and decoding their JSON took longer than
// hashing it by two orders of magnitude. The list returned is shared: it
// is read only.
func (w *Worker) batchShards(hdr string) ([]proto.BatchShard, error) {
	sum := sha256.Sum256([]byte(hdr))
	v, err := w.bodies.loadOnce("shards|"+string(sum[:]), func() (any, int64, error) {
		var shards []proto.BatchShard
		if err := json.Unmarshal([]byte(hdr), &shards); err != nil {
			return nil, 0, err
		}
		if len(shards) == 0 {
			return nil, 0, errors.New("no shard")
		}
		return shards, int64(len(hdr)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]proto.BatchShard), nil
}

// reply is the answer to one shard's step: its partial, or its error and
// the error's class, with where the step's time went; the step's message
// arrived at arrived, and the reply is sent as soon as it is made.
func (w *Worker) reply(subject string, arrived time.Time, queued time.Duration, tm stepTimes, out []byte, err error) *nats.Msg {
	resp := nats.NewMsg(subject)
	resp.Header.Set(proto.HeaderQueueNs, strconv.FormatInt(int64(queued), 10))
	resp.Header.Set(proto.HeaderComputeNs, strconv.FormatInt(int64(tm.compute), 10))
	resp.Header.Set(proto.HeaderEncodeNs, strconv.FormatInt(int64(tm.encode), 10))
	resp.Header.Set(proto.HeaderHeldNs, strconv.FormatInt(int64(time.Since(arrived)), 10))
	if err != nil {
		w.log.Warn("step failed", "err", err)
		class := Classify(err)
		resp.Header.Set(proto.HeaderError, err.Error())
		resp.Header.Set(classHeader, class)
		metrics.WorkerSteps.WithLabelValues(w.cfg.ID, class).Inc()
	} else {
		resp.Data = out
		w.steps.Add(1)
		metrics.WorkerSteps.WithLabelValues(w.cfg.ID, "ok").Inc()
	}
	return resp
}

// stepTimes are where a step's time went on the worker.
type stepTimes struct{ compute, encode time.Duration }

func (w *Worker) step(m *nats.Msg, tm *stepTimes) ([]byte, error) {
	var ref proto.ShardRef
	if err := json.Unmarshal([]byte(m.Header.Get(proto.HeaderShard)), &ref); err != nil {
		return nil, fmt.Errorf("worker: bad step shard header: %w", err)
	}
	body, err := w.stepBody(m.Data)
	if err != nil {
		return nil, err
	}
	return w.run(body, ref, tm)
}

// run computes one shard's partial and encodes it.
func (w *Worker) run(body *decodedBody, ref proto.ShardRef, tm *stepTimes) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	defer func(start time.Time) {
		metrics.WorkerStepSeconds.WithLabelValues(body.Algo).Observe(time.Since(start).Seconds())
	}(time.Now())
	p := proto.Partial{Job: body.Job, Pass: body.Pass, Shard: ref.Index, WireOK: body.Wire >= proto.WireVersion}
	sh := &shardEnv{w: w, body: body, ref: ref}
	t0 := time.Now()
	if err := body.algo.RunShard(ctx, sh, body.task, &p); err != nil {
		return nil, fmt.Errorf("worker: shard %d: %w", ref.Index, err)
	}
	t1 := time.Now()
	b, err := blob.EncodeTransient(proto.PartialKind, p)
	tm.compute, tm.encode = t1.Sub(t0), time.Since(t1)
	return b, err
}

// decodedBody is a step body with its algorithm looked up and its task
// decoded; tasks are read-only.
type decodedBody struct {
	proto.StepBody
	algo job.Algorithm
	task any
}

// stepBody decodes a pass's step body once, however many of its shards this
// worker runs: the body is the same for every shard of a pass.
func (w *Worker) stepBody(data []byte) (*decodedBody, error) {
	sum := sha256.Sum256(data)
	key := string(sum[:])
	v, err := w.bodies.loadOnce(key, func() (any, int64, error) {
		var b decodedBody
		if err := json.Unmarshal(data, &b.StepBody); err != nil {
			return nil, 0, fmt.Errorf("worker: bad step: %w", err)
		}
		if err := proto.Check(b.V); err != nil {
			return nil, 0, err
		}
		a, ok := builtin.Lookup(b.Algo)
		if !ok {
			return nil, 0, fmt.Errorf("worker: unknown algorithm %q", b.Algo)
		}
		task, err := a.DecodeTask(b.Task)
		if err != nil {
			return nil, 0, fmt.Errorf("worker: bad %s task: %w", b.Algo, err)
		}
		b.algo, b.task = a, task
		return &b, int64(len(data)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*decodedBody), nil
}

// shardEnv is what the worker offers one step (job.Shard).
type shardEnv struct {
	w    *Worker
	body *decodedBody
	ref  proto.ShardRef
}

func (s *shardEnv) Job() string         { return s.body.Job }
func (s *shardEnv) Pass() int           { return s.body.Pass }
func (s *shardEnv) Ref() proto.ShardRef { return s.ref }
func (s *shardEnv) Features(ctx context.Context) (*partition.Shard, error) {
	return s.w.shard(ctx, s.ref)
}
func (s *shardEnv) Matrix(ctx context.Context) (*feature.Matrix, error) {
	return s.w.matrix(ctx, s.ref, s.body.Prep)
}
func (s *shardEnv) Cached(key string, fn func() (any, int64, error)) (any, error) {
	return s.w.data.loadOnce(key, fn)
}
func (s *shardEnv) Keep(key string, v any, size int64) { s.w.data.put(key, v, size) }
func (s *shardEnv) Get(ctx context.Context, ref proto.BlobRef) ([]byte, error) {
	return s.w.store.Get(ctx, ref)
}
func (s *shardEnv) Put(ctx context.Context, bucket, name string, b []byte) (proto.BlobRef, error) {
	return s.w.store.Put(ctx, bucket, name, b)
}
func (s *shardEnv) Kind(kind string) (job.ModelKind, bool) { return builtin.Kind(kind) }

// matrix returns the shard's prepared matrix, from the cache when it can.
func (w *Worker) matrix(ctx context.Context, ref proto.ShardRef, prep proto.Prep) (*feature.Matrix, error) {
	key := feature.PrepKey(ref.Object+"@"+ref.SHA256, prep)
	v, err := w.data.loadOnce(key, func() (any, int64, error) {
		sh, err := w.shard(ctx, ref)
		if err != nil {
			return nil, 0, err
		}
		m, err := feature.BuildMatrix(sh, prep)
		if err != nil {
			return nil, 0, err
		}
		return m, m.Size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*feature.Matrix), nil
}

// shardKeyPrefix marks the cache entries that are whole shards.
const shardKeyPrefix = "shard|"

// shard loads and verifies one shard, from the cache when it can.
func (w *Worker) shard(ctx context.Context, ref proto.ShardRef) (*partition.Shard, error) {
	v, err := w.data.loadOnce(shardKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := w.store.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		sh, err := partition.ReadShard(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("worker: shard %s: %w", ref.Object, err)
		}
		if int64(sh.Rows()) != ref.Rows {
			return nil, 0, fmt.Errorf("worker: shard %s has %d rows, recorded %d", ref.Object, sh.Rows(), ref.Rows)
		}
		return sh, sh.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*partition.Shard), nil
}

// onceCache is a byte-budgeted cache whose misses are computed once, however
// many steps ask for the same key at the same time.
type onceCache struct {
	*cache
	mu      sync.Mutex
	loading map[string]*load
}

func newOnceCache(budget int64) *onceCache {
	return &onceCache{cache: newCache(budget), loading: map[string]*load{}}
}

func (c *onceCache) loadOnce(key string, fn func() (any, int64, error)) (any, error) {
	if v, ok := c.get(key); ok {
		return v, nil
	}
	c.mu.Lock()
	if l, ok := c.loading[key]; ok {
		c.mu.Unlock()
		<-l.done
		return l.val, l.err
	}
	l := &load{done: make(chan struct{})}
	c.loading[key] = l
	c.mu.Unlock()
	var size int64
	l.val, size, l.err = fn()
	if l.err == nil {
		c.put(key, l.val, size)
	}
	c.mu.Lock()
	delete(c.loading, key)
	c.mu.Unlock()
	close(l.done)
	return l.val, l.err
}
