package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/nats-io/nats.go"
)

// lookupKeyPrefix marks the cache entries that are indexed score shards.
const lookupKeyPrefix = "lookup|"

// lookupIndex is a score shard in memory with its rows sorted by key: a
// lookup is a binary search, with no map of millions of keys to keep.
type lookupIndex struct {
	tab  *scoreset.Table
	cols []string
	// order holds the rows (scored, then unscored as Rows()+i) by key.
	order []int32
}

func (x *lookupIndex) key(r int32) string {
	if int(r) < len(x.tab.Keys) {
		return x.tab.Keys[r]
	}
	return x.tab.Unscored[int(r)-len(x.tab.Keys)]
}

func (x *lookupIndex) size() int64 {
	n := int64(len(x.order)) * 4
	for _, k := range x.tab.Keys {
		n += int64(len(k)) + 16
	}
	for _, k := range x.tab.Unscored {
		n += int64(len(k)) + 16
	}
	return n + int64(len(x.tab.Keys)*len(x.cols))*8
}

// rows returns the key's rows, in shard order.
func (x *lookupIndex) rows(key string) [][]any {
	i, _ := slices.BinarySearchFunc(x.order, key, func(r int32, k string) int { return cmp.Compare(x.key(r), k) })
	var out [][]any
	for ; i < len(x.order) && x.key(x.order[i]) == key; i++ {
		r := int(x.order[i])
		row := make([]any, len(x.cols))
		if r < len(x.tab.Keys) {
			for j, c := range x.tab.Columns {
				switch c.Type {
				case scoreset.Float:
					row[j] = x.tab.Floats[j][r]
				case scoreset.Int:
					row[j] = x.tab.Ints[j][r]
				default:
					row[j] = x.tab.Strings[j][r]
				}
			}
		}
		out = append(out, row)
	}
	return out
}

// index loads a score shard and sorts its rows by key, once per shard
// however many lookups ask at the same time.
func (w *Worker) index(ctx context.Context, key string, ref proto.ShardRef) (*lookupIndex, error) {
	v, err := w.data.loadOnce(lookupKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := w.store.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		tab, err := scoreset.DecodeAny(b, key)
		if err != nil {
			return nil, 0, fmt.Errorf("worker: score shard %s: %w", ref.Object, err)
		}
		x := &lookupIndex{tab: tab, order: make([]int32, tab.AllRows())}
		for _, c := range tab.Columns {
			x.cols = append(x.cols, c.Name)
		}
		for i := range x.order {
			x.order[i] = int32(i)
		}
		slices.SortStableFunc(x.order, func(a, b int32) int { return cmp.Compare(x.key(a), x.key(b)) })
		return x, x.size(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*lookupIndex), nil
}

// lookupSlots bounds the lookups a worker answers at once.
var lookupSlots = make(chan struct{}, 64)

// onLookup answers a lookup in one score shard, off the subscription's
// goroutine: a shard being loaded and indexed does not hold up lookups in
// the shards already indexed.
func (w *Worker) onLookup(m *nats.Msg) {
	lookupSlots <- struct{}{}
	go func() {
		defer func() { <-lookupSlots }()
		w.answerLookup(m)
	}()
}

// answerLookup answers a lookup in one score shard.
func (w *Worker) answerLookup(m *nats.Msg) {
	defer func(start time.Time) { metrics.WorkerLookupSeconds.Observe(time.Since(start).Seconds()) }(time.Now())
	var req proto.LookupRequest
	var rep proto.LookupReply
	if err := json.Unmarshal(m.Data, &req); err != nil {
		rep.Error = fmt.Sprintf("worker: bad lookup: %v", err)
	} else if err := proto.Check(req.V); err != nil {
		rep.Error = err.Error()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		x, err := w.index(ctx, req.KeyOf, req.Shard)
		cancel()
		if err != nil {
			rep.Error = err.Error()
		} else {
			rep.Columns, rep.Rows = x.cols, x.rows(req.Key)
		}
	}
	b, _ := json.Marshal(rep)
	_ = m.Respond(b)
}
