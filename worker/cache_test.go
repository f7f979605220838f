package worker

import "testing"

func TestCacheBudget(t *testing.T) {
	c := newCache(100)
	c.put("a", 1, 40)
	c.put("b", 2, 40)
	if _, ok := c.get("a"); !ok { // a is now most recent
		t.Fatal("a missing")
	}
	c.put("c", 3, 40) // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Fatal("b should have been evicted")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
	if used, n := c.stats(""); used != 80 || n != 2 {
		t.Fatalf("used %d in %d entries", used, n)
	}
	c.put("huge", 4, 101)
	if _, ok := c.get("huge"); ok {
		t.Fatal("an entry over budget was kept")
	}
	if used, _ := c.stats(""); used > 100 {
		t.Fatalf("over budget: %d", used)
	}
}
