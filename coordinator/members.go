package coordinator

import (
	"context"
	"errors"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// maxTTLFactor caps how far the heartbeat TTL grows with the number of
// workers, so that a lost worker is still noticed within 8 base TTLs.
const maxTTLFactor = 8

// members tracks live workers from their heartbeats. It is soft state: every
// coordinator keeps its own, and a new leader learns the workers within one
// heartbeat interval.
//
// A worker counts as alive while its last heartbeat is younger than the
// effective TTL, ttlFor(n): the base TTL times max(1, log2 n) for n known
// workers, capped at maxTTLFactor times the base. The more workers there are,
// the more heartbeats the coordinators and NATS handle per second and the
// likelier one of them is delayed by a burst or a pause; and the less one
// worker's shards weigh in a pass, so a slower verdict costs little while a
// false one (every step in flight to a busy worker re-sent) costs a lot.
// Stragglers are covered by speculative copies (see passRun), not by a
// tighter TTL.
type members struct {
	mu   sync.Mutex
	base time.Duration
	byID map[string]*member
	now  func() time.Time
}

type member struct {
	hello    proto.Hello
	lastSeen time.Time
	// ctx is cancelled when the worker is declared dead or, a grace period
	// after it said goodbye, which aborts every step in flight to it.
	// Its cause says why (errExpired, errRestarted, errLeft).
	ctx    context.Context
	cancel context.CancelCauseFunc
	// leaving is closed once the worker said it is draining or said goodbye:
	// no batch is sent to it from then on (it answers those it took).
	leaving   chan struct{}
	isLeaving bool
	// window is how many steps of one batch count as running on it at
	// once, the rest waiting in its queue: twice the capacity it declared
	// first. It never changes.
	window int
}

func newMembers(ttl time.Duration) *members {
	return &members{base: ttl, byID: map[string]*member{}, now: time.Now}
}

// ttlFor is the effective heartbeat TTL with n known workers.
func (m *members) ttlFor(n int) time.Duration {
	f := max(1, min(math.Log2(float64(n)), maxTTLFactor))
	return time.Duration(float64(m.base) * f)
}

// arrival is what a heartbeat or hello told members.
type arrival int

const (
	// beat is a heartbeat of the incarnation known.
	beat arrival = iota
	// joined is a worker not known before.
	joined
	// restarted is a new process under a known worker id: the old one is
	// gone, and with it every step in flight to it and its cache.
	restarted
	// stale is a heartbeat of an older process than the one known under
	// its id (two processes share an id): it is ignored.
	stale
)

// errRestarted is why a worker's steps in flight were aborted when a new
// process took over its id.
var errRestarted = errors.New("a new process took over its id")

// errExpired is why a worker's steps in flight were aborted when its
// heartbeats stopped.
var errExpired = errors.New("its heartbeats stopped")

// errLeft is why a worker's steps in flight were aborted after it said
// goodbye.
var errLeft = errors.New("it said goodbye")

// sameProcess says whether two hellos come from one process.
func sameProcess(a, b proto.Hello) bool {
	return a.Host == b.Host && a.PID == b.PID && a.Started.Equal(b.Started)
}

// older says whether hello a comes from a process started before b's.
func older(a, b proto.Hello) bool {
	return !a.Started.IsZero() && !b.Started.IsZero() && a.Started.Before(b.Started)
}

// seen records a heartbeat or hello and says what it was.
//
// A hello from another process than the one known under its id (another
// host, PID or start time) is a restart: the old process is gone, whether
// or not its goodbye or the end of its heartbeats was seen, so every step in
// flight to it is aborted at once (through its member's ctx) and a new member
// takes its place, with nothing of the old one's: a step for the old process
// is never taken for one of the new. A heartbeat of a process older than the
// known one is ignored.
func (m *members) seen(h proto.Hello) arrival {
	m.mu.Lock()
	defer m.mu.Unlock()
	kind := joined
	if cur, ok := m.byID[h.ID]; ok {
		if sameProcess(cur.hello, h) {
			cur.hello, cur.lastSeen = h, m.now()
			if h.Draining {
				cur.leave()
			}
			return beat
		}
		if older(h, cur.hello) {
			return stale
		}
		cur.cancel(errRestarted)
		cur.leave()
		delete(m.byID, h.ID)
		kind = restarted
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	capacity := max(h.Capacity, 1)
	cur := &member{hello: h, lastSeen: m.now(), ctx: ctx, cancel: cancel,
		leaving: make(chan struct{}), window: 2 * capacity}
	if h.Draining {
		cur.leave()
	}
	m.byID[h.ID] = cur
	return kind
}

// leave marks the member as leaving; the caller holds members.mu.
func (cur *member) leave() {
	if !cur.isLeaving {
		cur.isLeaving = true
		close(cur.leaving)
	}
}

// gone removes a worker that said goodbye. A worker says goodbye only after
// it has answered every step it took, so nothing in flight to it is lost; but
// its last replies may still be on their way through this process when the
// goodbye is handled, so the steps waiting on it are aborted only after one
// base TTL. The goodbye of another process than the one known under its id
// (an old one, replaced by a restart) changes nothing; it reports whether
// the goodbye was the known process's.
func (m *members) gone(h proto.Hello) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.byID[h.ID]
	if !ok || !sameProcess(cur.hello, h) {
		return false
	}
	cur.leave()
	delete(m.byID, h.ID)
	time.AfterFunc(m.base, func() { cur.cancel(errLeft) })
	return true
}

// expire drops the workers whose heartbeats stopped; it returns their ids.
func (m *members) expire() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dead []string
	now := m.now()
	ttl := m.ttlFor(len(m.byID))
	for id, cur := range m.byID {
		if now.Sub(cur.lastSeen) > ttl {
			cur.cancel(errExpired)
			delete(m.byID, id)
			dead = append(dead, id)
		}
	}
	sort.Strings(dead)
	return dead
}

// live returns the workers that take steps, sorted by id: those that are
// neither expired nor leaving.
func (m *members) live() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.byID))
	for id, cur := range m.byID {
		if cur.isLeaving {
			continue
		}
		out = append(out, Member{ID: id, Capacity: max(cur.hello.Capacity, 1)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// get returns the known worker with this id, leaving or not.
func (m *members) get(id string) (*member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.byID[id]
	return cur, ok
}

// capacity is the capacity a worker declared in its last heartbeat, 0 for
// a worker not known; a heartbeat replaces it, so it is read under the lock.
func (m *members) capacity(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.byID[id]; ok {
		return cur.hello.Capacity
	}
	return 0
}

func (m *members) info() []proto.WorkerInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]proto.WorkerInfo, 0, len(m.byID))
	now := m.now()
	for _, cur := range m.byID {
		h := cur.hello
		out = append(out, proto.WorkerInfo{
			ID: h.ID, Host: h.Host, PID: h.PID, Capacity: h.Capacity,
			HeartbeatAge: now.Sub(cur.lastSeen).Seconds(), Shards: h.Shards, CacheBytes: h.CacheBytes,
			Steps: h.Steps, Draining: cur.isLeaving, Kernels: h.Kernels,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
