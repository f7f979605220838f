package worker

import (
	"container/list"
	"strings"
	"sync"
)

// cache is a least-recently-used cache with a byte budget. An entry larger
// than the whole budget is not kept.
type cache struct {
	mu     sync.Mutex
	budget int64
	used   int64
	ll     *list.List
	items  map[string]*list.Element
	// hit, miss and evict count lookups and evictions (metrics); nil
	// counts nothing.
	hit, miss, evict interface{ Inc() }
}

type entry struct {
	key  string
	val  any
	size int64
}

func newCache(budget int64) *cache {
	return &cache{budget: budget, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *cache) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		if c.hit != nil {
			c.hit.Inc()
		}
		return e.Value.(*entry).val, true
	}
	if c.miss != nil {
		c.miss.Inc()
	}
	return nil, false
}

func (c *cache) put(key string, val any, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.used -= e.Value.(*entry).size
		c.ll.Remove(e)
		delete(c.items, key)
	}
	if size > c.budget {
		return
	}
	c.items[key] = c.ll.PushFront(&entry{key: key, val: val, size: size})
	c.used += size
	for c.used > c.budget {
		old := c.ll.Back()
		oe := old.Value.(*entry)
		c.ll.Remove(old)
		delete(c.items, oe.key)
		c.used -= oe.size
		if c.evict != nil {
			c.evict.Inc()
		}
	}
}

// bytes returns the bytes in use.
func (c *cache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// stats returns the bytes in use and the number of entries whose key has
// the given prefix.
func (c *cache) stats(prefix string) (int64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k := range c.items {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return c.used, n
}
