// Package coordinator is a raft voter that holds the cluster's state — datasets,
// jobs, models, workers — and, while it leads, drives jobs across the workers.
//
// Guarantees: a dataset version, a job's pass and a model become visible in one
// raft commit each, after the blobs they name are stored; a job's passes are
// committed in order exactly once, so a new leader resumes a job at its last
// committed pass and reaches the same model bit for bit.
package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/nats-io/nats.go"
)

// ErrNotLeader reports that no leader could take a write.
var ErrNotLeader = errors.New("coordinator: no leader")

// Coordinator is one coordinator process's state and goroutines.
type Coordinator struct {
	// caughtUp is true while this leader has applied every entry committed
	// before its term (a barrier went through): only then does it answer
	// the API, so no read sees older state than a write that succeeded.
	caughtUp  atomic.Bool
	collector *collector
	cfg       Config
	log       *slog.Logger
	nc        *nats.Conn
	store     *store.Store
	fsm       *FSM
	raft      *raft.Raft
	trans     *raft.NetworkTransport
	logs      io.Closer
	members   *members

	kick chan struct{} // wakes the job scheduler

	mu      sync.Mutex
	running map[string]context.CancelFunc // jobs this leader drives
	// transients counts each job's transient failures in a row.
	transients map[string]int

	// rollupsDenied is set once the buckets refuse rollups; until then
	// each collection tries again (gc.go).
	rollupsDenied atomic.Bool

	blobMu   sync.Mutex // a commit's blob check and entry against a collection's deletes (gc.go)
	submitMu sync.Mutex // a role's bound of active jobs against its concurrent submits (roles.go)
	gcMu     sync.Mutex // one collection at a time

	stale *staleBlobs // states passes left behind, deleted in batches (stale.go)

	subs []*nats.Subscription
	stop chan struct{}
	wg   sync.WaitGroup
}

// New starts a coordinator: raft on cfg.RaftAddr, API and heartbeat
// subscriptions on nc.
func New(cfg Config, nc *nats.Conn, st *store.Store) (*Coordinator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Coordinator{
		cfg: cfg, log: cfg.Logger.With("coordinator", cfg.ID), nc: nc, store: st,
		fsm: NewFSM(), members: newMembers(cfg.HeartbeatTTL),
		kick: make(chan struct{}, 1), running: map[string]context.CancelFunc{}, transients: map[string]int{}, stop: make(chan struct{}),
		stale: newStale(),
	}
	c.fsm.notify = c.onJobChange
	r, trans, logs, err := openRaft(cfg, c.fsm)
	if err != nil {
		return nil, err
	}
	c.raft, c.trans, c.logs = r, trans, logs
	c.collector = &collector{c: c}
	_ = metrics.Registry.Register(c.collector)
	if err := c.subscribe(); err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(3)
	go c.leaderLoop()
	go c.expireLoop()
	go c.staleLoop()
	if cfg.Join != "" {
		c.wg.Add(1)
		go c.joinLoop()
	}
	return c, nil
}

// RaftAddr is the address raft listens on.
func (c *Coordinator) RaftAddr() string { return string(c.trans.LocalAddr()) }

// IsLeader reports whether this coordinator leads.
func (c *Coordinator) IsLeader() bool { return c.raft.State() == raft.Leader }

// WaitLeader blocks until the cluster has a leader.
func (c *Coordinator) WaitLeader(ctx context.Context) error {
	for {
		if addr, _ := c.raft.LeaderWithID(); addr != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrNotLeader, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FSM exposes the state machine for reads.
func (c *Coordinator) FSM() *FSM { return c.fsm }

// Close stops the coordinator and its jobs; committed state stays on disk.
func (c *Coordinator) Close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	if c.collector != nil {
		metrics.Registry.Unregister(c.collector)
	}
	for _, s := range c.subs {
		_ = s.Unsubscribe()
	}
	// Once the server has taken the unsubscribes it routes every call to
	// the other coordinators: none reaches this one and goes unanswered.
	_ = c.nc.FlushTimeout(time.Second)
	c.wg.Wait()
	var err error
	if c.raft != nil {
		err = c.raft.Shutdown().Error()
	}
	if c.trans != nil {
		_ = c.trans.Close()
	}
	if c.logs != nil {
		err = errors.Join(err, c.logs.Close())
	}
	return err
}

// apply commits one entry; only the leader can.
func (c *Coordinator) apply(t msgType, v any) (string, error) {
	b, err := encodeEntry(t, v)
	if err != nil {
		return "", err
	}
	defer func(start time.Time) { metrics.RaftApply.Observe(time.Since(start).Seconds()) }(time.Now())
	f := c.raft.Apply(b, 10*time.Second)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return "", fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return "", fmt.Errorf("coordinator: raft apply: %w", err)
	}
	res, _ := f.Response().(applyResult)
	return res.ID, res.Err
}

func (c *Coordinator) onJobChange(id string) {
	c.mu.Lock()
	cancel := c.running[id]
	c.mu.Unlock()
	if cancel != nil {
		// The driver re-reads the job; a cancelled or deleted job stops at once.
		if state, err := c.fsm.JobState(id); err != nil || state == proto.JobCancelled {
			cancel()
		}
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// leaderLoop runs the job scheduler, and the schedules (schedule.go),
// while this node leads.
func (c *Coordinator) leaderLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	type term struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var cur *term
	stopLeading := func() {
		c.caughtUp.Store(false)
		if cur != nil {
			cur.cancel()
			<-cur.done
			cur = nil
		}
	}
	defer stopLeading()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		leading := c.IsLeader()
		switch {
		case leading && cur == nil:
			// Make sure every committed entry is applied before acting on state.
			if err := c.raft.Barrier(5 * time.Second).Error(); err != nil {
				continue
			}
			c.caughtUp.Store(true)
			c.log.Info("leading")
			c.denyRollups()
			ctx, cancel := context.WithCancel(context.Background())
			cur = &term{cancel: cancel, done: make(chan struct{})}
			go func(done chan struct{}) {
				defer close(done)
				schedules, retain := make(chan struct{}), make(chan struct{})
				go func() { defer close(schedules); c.runSchedules(ctx) }()
				go func() { defer close(retain); c.retainLoop(ctx) }()
				c.schedule(ctx)
				<-schedules
				<-retain
			}(cur.done)
		case !leading && cur != nil:
			c.log.Info("no longer leading")
			stopLeading()
		}
	}
}

// denyRollups makes buckets made before the store appended only refuse
// rollups, which any role that writes blobs could purge them with. The
// leader does it, so that in an upgrade (followers first, the leader
// last) no coordinator of the version that wrote with rollups still
// writes blobs when it happens. Until it succeeds, each collection tries
// again (gc.go).
func (c *Coordinator) denyRollups() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.store.DenyRollups(ctx); err == nil {
		c.rollupsDenied.Store(true)
	} else {
		c.log.Error("the object store's buckets still take rollups: a worker's or analyst's credential can purge them; "+
			"give the coordinator's credential the stream update API, or update the streams OBJ_* with allow_rollup_hdrs false", "err", err)
	}
}

// schedule starts drivers for queued and running jobs, oldest first.
func (c *Coordinator) schedule(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	gc := time.NewTicker(time.Minute)
	defer gc.Stop()
	for {
		for _, id := range c.fsm.UnfinishedJobs() {
			c.mu.Lock()
			_, busy := c.running[id]
			n := len(c.running)
			if busy || n >= c.cfg.MaxRunningJobs {
				c.mu.Unlock()
				continue
			}
			jctx, cancel := context.WithCancel(ctx)
			c.running[id] = cancel
			c.mu.Unlock()
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				defer func() {
					c.mu.Lock()
					delete(c.running, id)
					c.mu.Unlock()
					cancel()
					select {
					case c.kick <- struct{}{}:
					default:
					}
				}()
				c.drive(jctx, id)
			}(id)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-gc.C:
			c.collect(ctx, c.cfg.GCGrace)
		}
	}
}

func (c *Coordinator) expireLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.HeartbeatTTL / 4)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			for _, id := range c.members.expire() {
				c.log.Warn("worker lost: heartbeats stopped", "worker", id)
			}
		}
	}
}

// subscribe listens for API requests and worker heartbeats.
func (c *Coordinator) subscribe() error {
	// A hello, heartbeat or goodbye names its worker twice, in the
	// subject and in the body: the NATS server vouches for the subject (a
	// worker's own credential publishes under its id only), so one whose
	// body claims another id is refused.
	claimed := func(m *nats.Msg, h proto.Hello) bool {
		if sid := proto.WorkerOf(m.Subject); sid != h.ID {
			c.log.Warn("refusing a worker message that claims another worker's id", "subject", m.Subject, "subject_id", sid, "claimed_id", h.ID)
			return false
		}
		return true
	}
	hb := func(m *nats.Msg) {
		var h proto.Hello
		if err := json.Unmarshal(m.Data, &h); err != nil || proto.Check(h.V) != nil || h.ID == "" {
			c.log.Warn("ignoring bad worker hello", "subject", m.Subject)
			return
		}
		if !claimed(m, h) {
			return
		}
		switch c.members.seen(h) {
		case beat:
			return
		case stale:
			c.log.Warn("ignoring a heartbeat from an older process under a worker's id", "worker", h.ID,
				"host", h.Host, "pid", h.PID, "started", h.Started)
			return
		case restarted:
			c.log.Warn("worker restarted: the steps in flight to its old process are sent elsewhere", "worker", h.ID,
				"host", h.Host, "pid", h.PID, "started", h.Started, "capacity", h.Capacity)
		case joined:
			c.log.Info("worker joined", "worker", h.ID, "host", h.Host, "pid", h.PID, "capacity", h.Capacity)
		}
		if c.IsLeader() {
			go c.apply(msgWorkerSeen, entryWorkerSeen{ID: h.ID, Host: h.Host, Time: time.Now().UTC()})
		}
	}
	bye := func(m *nats.Msg) {
		var h proto.Hello
		if json.Unmarshal(m.Data, &h) == nil && h.ID != "" && claimed(m, h) {
			if c.members.gone(h) {
				c.log.Info("worker left", "worker", h.ID)
			} else {
				c.log.Info("ignoring the goodbye of a process no longer known under a worker's id", "worker", h.ID,
					"host", h.Host, "pid", h.PID)
			}
		}
	}
	subs := []struct {
		subj, queue string
		h           nats.MsgHandler
	}{
		{proto.WorkerHelloSubject("*"), "", hb},
		{proto.WorkerHeartbeatSubject("*"), "", hb},
		{proto.WorkerByeSubject("*"), "", bye},
		{proto.APIPrefix + ">", proto.APIQueue, c.handleAPI},
		{directPrefix(c.cfg.ID) + ">", "", c.handleDirect},
		{proto.CoordInfoSubject(c.cfg.ID), "", func(m *nats.Msg) {
			b, _ := json.Marshal(c.info())
			_ = m.Respond(b)
		}},
	}
	for _, s := range subs {
		var sub *nats.Subscription
		var err error
		if s.queue != "" {
			sub, err = c.nc.QueueSubscribe(s.subj, s.queue, s.h)
		} else {
			sub, err = c.nc.Subscribe(s.subj, s.h)
		}
		if err != nil {
			return fmt.Errorf("coordinator: subscribe %s: %w", s.subj, err)
		}
		c.subs = append(c.subs, sub)
	}
	return c.nc.Flush()
}

// joinLoop asks the cluster's leader, over NATS, to add this coordinator as a
// voter, until the configuration this node replicates contains it.
func (c *Coordinator) joinLoop() {
	defer c.wg.Done()
	body, _ := json.Marshal(proto.VoterChange{ID: c.cfg.ID, Address: c.RaftAddr()})
	req, _ := json.Marshal(proto.Request{V: proto.Version, Body: body})
	// The call goes to the API queue group, which holds the coordinators
	// still joining too: one that knows no leader answers "not leader", and
	// the call is sent again at the next tick rather than after the 2 s a
	// leader's refusal waits.
	wait := 0
	for {
		if c.isVoter() {
			c.log.Info("joined the cluster", "via", c.cfg.Join)
			return
		}
		if wait == 0 {
			wait = 10
			m, err := c.nc.Request(proto.APISubject(secrets.RoleCoordinator, proto.APIAddVoter), req, 35*time.Second)
			var resp proto.Response
			switch {
			case err != nil:
			case json.Unmarshal(m.Data, &resp) != nil:
			case resp.Code == "not_leader":
				wait = 1
			case resp.Error != "":
				c.log.Warn("join refused", "err", resp.Error)
			}
		}
		wait--
		select {
		case <-c.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Coordinator) isVoter() bool {
	f := c.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == raft.ServerID(c.cfg.ID) && s.Suffrage == raft.Voter {
			return true
		}
	}
	return false
}

// directPrefix is where a follower forwards API calls to the leader.
func directPrefix(id string) string { return "mathcrm.coord." + id + ".api." }

// WaitLeaderNow reports, without waiting, whether the cluster has a leader.
func (c *Coordinator) WaitLeaderNow(context.Context) error {
	if addr, _ := c.raft.LeaderWithID(); addr == "" {
		return ErrNotLeader
	}
	return nil
}

// Snapshot takes a raft snapshot of the state applied so far now, rather
// than when the log has grown by the configured threshold.
func (c *Coordinator) Snapshot() error { return c.raft.Snapshot().Error() }
