package basket

import (
	"encoding/json"
	"testing"
)

// FuzzRunTask runs tasks and shards decoded from arbitrary bytes: RunTask
// must return a result or an error, never panic or read out of range.
func FuzzRunTask(f *testing.F) {
	f.Add([]byte(`{"kind":"count","len":2,"items":["a","b","c"],"cands":[0,1,0,2,1,2]}`), []byte(`{"Items":["a","b","c"],"Ptr":[0,2,3],"Idx":[0,2,1]}`))
	f.Add([]byte(`{"kind":"items"}`), []byte(`{"Items":["x"],"Ptr":[0,1],"Idx":[0]}`))
	f.Add([]byte(`{"kind":"count","len":1,"items":["b"],"cands":[0]}`), []byte(`{"Items":["a","b"],"Ptr":[0,2,1],"Idx":[0,1]}`))
	f.Fuzz(func(t *testing.T, task, shard []byte) {
		var tk Task
		var b Baskets
		if json.Unmarshal(task, &tk) != nil || json.Unmarshal(shard, &b) != nil {
			return
		}
		r, err := RunTask(nil, &tk, &b, 0)
		if err != nil {
			return
		}
		if r.Baskets != int64(b.Len()) {
			t.Fatalf("%d baskets reported of %d", r.Baskets, b.Len())
		}
		for _, c := range r.Counts {
			if c < 0 || c > r.Baskets {
				t.Fatalf("count %d of %d baskets", c, r.Baskets)
			}
		}
	})
}
