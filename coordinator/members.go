package coordinator

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// members tracks live workers from their heartbeats. It is soft state: every
// coordinator keeps its own, and a new leader learns the workers within one
// heartbeat interval.
type members struct {
	mu   sync.Mutex
	ttl  time.Duration
	byID map[string]*member
	now  func() time.Time
}

type member struct {
	hello    proto.Hello
	lastSeen time.Time
	// ctx is cancelled when the worker is declared dead or says goodbye, which
	// aborts every step in flight to it.
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
}

func newMembers(ttl time.Duration) *members {
	return &members{ttl: ttl, byID: map[string]*member{}, now: time.Now}
}

// seen records a heartbeat; it reports whether the worker is new.
func (m *members) seen(h proto.Hello) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.byID[h.ID]; ok {
		cur.hello, cur.lastSeen = h, m.now()
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	capacity := max(h.Capacity, 1)
	m.byID[h.ID] = &member{hello: h, lastSeen: m.now(), ctx: ctx, cancel: cancel, slots: make(chan struct{}, 2*capacity)}
	return true
}

// gone removes a worker at once (it said goodbye or was drained).
func (m *members) gone(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.byID[id]; ok {
		cur.cancel()
		delete(m.byID, id)
	}
}

// expire drops the workers whose heartbeats stopped; it returns their ids.
func (m *members) expire() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dead []string
	now := m.now()
	for id, cur := range m.byID {
		if now.Sub(cur.lastSeen) > m.ttl {
			cur.cancel()
			delete(m.byID, id)
			dead = append(dead, id)
		}
	}
	sort.Strings(dead)
	return dead
}

// live returns the live workers sorted by id.
func (m *members) live() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.byID))
	for id, cur := range m.byID {
		out = append(out, Member{ID: id, Capacity: max(cur.hello.Capacity, 1)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// get returns the live worker with this id.
func (m *members) get(id string) (*member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.byID[id]
	return cur, ok
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
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
