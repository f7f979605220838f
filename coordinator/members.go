package coordinator

import (
	"context"
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
	ctx    context.Context
	cancel context.CancelFunc
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

// seen records a heartbeat; it reports whether the worker is new.
func (m *members) seen(h proto.Hello) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.byID[h.ID]; ok && cur.isLeaving && !h.Draining && (h.PID != cur.hello.PID || h.Host != cur.hello.Host) {
		// A new process under the id of one that was leaving but whose
		// goodbye was lost: whatever the old one had in flight is gone.
		cur.cancel()
		delete(m.byID, h.ID)
	}
	if cur, ok := m.byID[h.ID]; ok {
		cur.hello, cur.lastSeen = h, m.now()
		if h.Draining {
			cur.leave()
		}
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	capacity := max(h.Capacity, 1)
	cur := &member{hello: h, lastSeen: m.now(), ctx: ctx, cancel: cancel,
		leaving: make(chan struct{}), window: 2 * capacity}
	if h.Draining {
		cur.leave()
	}
	m.byID[h.ID] = cur
	return true
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
// base TTL.
func (m *members) gone(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.byID[id]; ok {
		cur.leave()
		delete(m.byID, id)
		time.AfterFunc(m.base, cur.cancel)
	}
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
			cur.cancel()
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
			Steps: h.Steps, Draining: cur.isLeaving,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
