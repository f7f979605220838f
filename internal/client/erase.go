package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
)

var (
	// ErrNoKeys reports an erasure of no customer keys.
	ErrNoKeys = errors.New("client: no customer keys to erase")
	// ErrBadKey reports a customer key that cannot name a customer.
	ErrBadKey = errors.New("client: bad customer key")
)

// ReadKeyFile reads customer keys from a file, one a line; surrounding
// spaces are trimmed and blank lines skipped.
func ReadKeyFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("client: reading keys: %w", err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		k := strings.TrimSpace(sc.Text())
		if k == "" {
			continue
		}
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("%w: %s line %d is not valid UTF-8", ErrBadKey, path, line)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("client: reading keys from %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s holds none", ErrNoKeys, path)
	}
	return keys, nil
}

// CheckKeys checks keys and returns them without repeats, in first-seen
// order.
func CheckKeys(keys []string) ([]string, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for i, k := range keys {
		if strings.TrimSpace(k) == "" || !utf8.ValidString(k) {
			return nil, fmt.Errorf("%w: key %d (%q) is blank or not valid UTF-8", ErrBadKey, i+1, k)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// eraser removes a set of keys from one version at a time.
type eraser struct {
	c     *Client
	st    *store.Store
	keys  map[string]bool
	found map[string]bool
	id    string // names this erasure's new blobs
	say   func(format string, args ...any)
}

// Erase removes customers from every version of every dataset and score
// set: for each version, it rewrites the shards that hold them (the shard
// a key hashes to; every shard of an interactions version's by-item
// layout, where a user may be anywhere), stores the copies, and has the
// leader swap them in with the version's new row counts and statistics in
// one commit. Then it records the erasure, which stores a salted hash of
// each key, never the key. The old shards are then unreferenced and the
// leader's garbage collection deletes them.
//
// A failure leaves the versions already swapped erased and the rest as
// they were; erasing the same keys again finishes the job.
func (c *Client) Erase(ctx context.Context, keys []string, progress func(format string, args ...any)) (*proto.EraseReport, error) {
	keys, err := CheckKeys(keys)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(string, ...any) {}
	}
	st, err := store.Open(ctx, c.nc, 1)
	if err != nil {
		return nil, err
	}
	e := &eraser{c: c, st: st, keys: map[string]bool{}, found: map[string]bool{}, id: NewRequestID(), say: progress}
	for _, k := range keys {
		e.keys[k] = true
	}
	var datasets []*proto.Dataset
	if err := c.Call(ctx, proto.APIDatasetList, nil, &datasets); err != nil {
		return nil, err
	}
	var touched []proto.EraseTouched
	for _, ds := range datasets {
		for i := range ds.Versions {
			t, err := e.dataset(ctx, ds, &ds.Versions[i])
			if err != nil {
				return nil, err
			}
			if t != nil {
				touched = append(touched, *t)
			}
		}
	}
	var sets []*proto.ScoreSet
	if err := c.Call(ctx, proto.APIScoresList, nil, &sets); err != nil {
		return nil, err
	}
	for _, latest := range sets {
		for v := 1; v <= latest.Version; v++ {
			var ss proto.ScoreSet
			err := c.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: latest.Name, Version: v}, &ss)
			if notFound(err) {
				continue // a deleted version
			}
			if err != nil {
				return nil, err
			}
			t, err := e.scores(ctx, &ss)
			if err != nil {
				return nil, err
			}
			if t != nil {
				touched = append(touched, *t)
			}
		}
	}
	rec := proto.EraseRecord{Keys: keys, Touched: touched}
	for _, k := range keys {
		if e.found[k] {
			rec.Found = append(rec.Found, k)
		}
	}
	var rep proto.EraseReport
	if err := c.Call(ctx, proto.APIEraseRecord, rec, &rep); err != nil {
		return nil, err
	}
	rep.Touched = touched
	for _, k := range keys {
		if !e.found[k] {
			rep.NotFound = append(rep.NotFound, k)
		}
	}
	return &rep, nil
}

// targets are the shards of n the keys hash to, ascending.
func (e *eraser) targets(n int) []int {
	var out []int
	for k := range e.keys {
		out = append(out, partition.ShardOf(k, n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rewritten is one shard rewritten without the erased rows and stored.
type rewritten struct {
	swap    proto.ShardSwap
	removed int64
}

// filter rewrites one dataset shard without the erased keys' rows, found by
// column, and stores the copy under name if it held any. It returns nil
// when the shard held none.
func (e *eraser) filter(ctx context.Context, ref proto.ShardRef, column, name string, stored *[]string) (*rewritten, error) {
	b, err := shardBytes(ctx, e.st, ref)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	res, err := partition.FilterRows(bytes.NewReader(b), int64(len(b)), &out, column, func(k string) bool {
		if e.keys[k] {
			e.found[k] = true
			return true
		}
		return false
	})
	if err != nil {
		return nil, fmt.Errorf("shard %d (%s): %w", ref.Index, ref.Object, err)
	}
	if res.Removed == 0 {
		return nil, nil
	}
	return e.put(ctx, ref, name, out.Bytes(), res.Rows, res.Removed, res.SHA256, stored)
}

// put stores a rewritten shard and checks that the store holds what was
// written.
func (e *eraser) put(ctx context.Context, old proto.ShardRef, name string, data []byte, rows, removed int64, sha string, stored *[]string) (*rewritten, error) {
	ref, err := e.st.Put(ctx, proto.BucketShards, name, data)
	if err != nil {
		return nil, err
	}
	*stored = append(*stored, name)
	if ref.SHA256 != sha || ref.Size != int64(len(data)) {
		return nil, fmt.Errorf("client: shard %d changed while it was stored", old.Index)
	}
	return &rewritten{removed: removed, swap: proto.ShardSwap{Old: old.Object,
		New: proto.ShardRef{Index: old.Index, Object: name, Size: ref.Size, SHA256: ref.SHA256, Rows: rows}}}, nil
}

// discard deletes blobs an erasure stored but did not commit.
func (e *eraser) discard(names []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One read of the bucket's meta data for all (store.DeleteMany); what
	// is left, the collection removes.
	_, _ = e.st.DeleteMany(ctx, proto.BucketShards, names)
}

// dataset erases the keys from one dataset version; nil when it held none.
func (e *eraser) dataset(ctx context.Context, ds *proto.Dataset, v *proto.DatasetVersion) (t *proto.EraseTouched, err error) {
	column := v.Key
	switch ds.Kind {
	case proto.KindInteractions:
		if v.Interactions == nil {
			return nil, fmt.Errorf("interactions dataset %s version %d has no description", ds.Name, v.Version)
		}
		column = v.Interactions.User
	case proto.KindTransactions:
		if v.Transactions == nil {
			return nil, fmt.Errorf("transactions dataset %s version %d has no description", ds.Name, v.Version)
		}
		column = v.Transactions.Key
	}
	var stored []string
	defer func() {
		if err != nil {
			e.discard(stored)
		}
	}()
	prefix := fmt.Sprintf("datasets/%s/erase-%s-v%d/", ds.Name, e.id, v.Version)
	var byKey, byItem []*rewritten
	for _, i := range e.targets(len(v.Shards)) {
		r, err := e.filter(ctx, v.Shards[i], column, fmt.Sprintf("%sshard-%04d.parquet", prefix, i), &stored)
		if err != nil {
			return nil, fmt.Errorf("dataset %s version %d: %w", ds.Name, v.Version, err)
		}
		if r != nil {
			byKey = append(byKey, r)
		}
	}
	if len(byKey) == 0 {
		return nil, nil
	}
	// A user's interactions are in any shard of the by-item layout.
	for i := range v.ItemShards {
		r, err := e.filter(ctx, v.ItemShards[i], column, fmt.Sprintf("%sitem-shard-%04d.parquet", prefix, i), &stored)
		if err != nil {
			return nil, fmt.Errorf("dataset %s version %d by item: %w", ds.Name, v.Version, err)
		}
		if r != nil {
			byItem = append(byItem, r)
		}
	}
	swap := proto.EraseDataset{Dataset: ds.Name, Version: v.Version}
	t = &proto.EraseTouched{Dataset: ds.Name, Version: v.Version, Shards: len(byKey) + len(byItem)}
	for _, r := range byKey {
		swap.Shards = append(swap.Shards, r.swap)
		t.Rows += r.removed
	}
	for _, r := range byItem {
		swap.ItemShards = append(swap.ItemShards, r.swap)
	}
	if err := e.restat(ctx, ds.Kind, v, &swap, byKey, byItem); err != nil {
		return nil, fmt.Errorf("dataset %s version %d: %w", ds.Name, v.Version, err)
	}
	err = e.c.Call(ctx, proto.APIEraseDataset, swap, nil)
	if notFound(err) {
		e.discard(stored) // the version was deleted meanwhile
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s version %d: %w", ds.Name, v.Version, err)
	}
	e.say("%s@%d: %d rows removed, %d shards rewritten", ds.Name, v.Version, t.Rows, t.Shards)
	return t, nil
}

// layoutBytes calls fn with every shard of a layout in shard order, read
// from the store and verified: the rewritten copy where there is one (read
// back rather than kept, so that one shard at a time is in memory), else
// the stored shard.
func (e *eraser) layoutBytes(ctx context.Context, shards []proto.ShardRef, rw []*rewritten, fn func(i int, b []byte) error) error {
	refs := append([]proto.ShardRef(nil), shards...)
	for _, r := range rw {
		refs[r.swap.New.Index] = r.swap.New
	}
	for i, ref := range refs {
		b, err := shardBytes(ctx, e.st, ref)
		if err != nil {
			return err
		}
		if err := fn(i, b); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return nil
}

// newMoments starts a column's moments.
func newMoments() proto.Moments { return proto.Moments{Min: math.Inf(1), Max: math.Inf(-1)} }

// restat computes the row count and statistics of what remains of a
// version, over every shard in shard order, as its import computed them.
func (e *eraser) restat(ctx context.Context, kind string, v *proto.DatasetVersion, swap *proto.EraseDataset, byKey, byItem []*rewritten) error {
	switch kind {
	case proto.KindInteractions:
		info := *v.Interactions
		info.Users, info.Items = 0, 0
		m := newMoments()
		err := e.layoutBytes(ctx, v.Shards, byKey, func(_ int, b []byte) error {
			s, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return err
			}
			swap.Rows += int64(s.Rows())
			info.Users += int64(len(s.Keys))
			for _, x := range s.Value {
				m.Add(x)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = e.layoutBytes(ctx, v.ItemShards, byItem, func(_ int, b []byte) error {
			s, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return err
			}
			info.Items += int64(len(s.Keys))
			return nil
		})
		if err != nil {
			return err
		}
		swap.Interactions = &info
		swap.Columns = []proto.ColumnStats{m.Stats(columnName(v.Columns, 0, info.Value))}
	case proto.KindTransactions:
		info := *v.Transactions
		info.Customers, info.Returns = 0, 0
		m := newMoments()
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		err := e.layoutBytes(ctx, v.Shards, byKey, func(_ int, b []byte) error {
			s, err := partition.ReadTransactions(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return err
			}
			swap.Rows += int64(s.Rows())
			info.Customers += int64(len(s.Keys))
			for k, x := range s.Amount {
				m.Add(x)
				first, last = min(first, s.Time[k]), max(last, s.Time[k])
				if s.Return[k] {
					info.Returns++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if swap.Rows > 0 {
			info.First, info.Last = unixUTC(first), unixUTC(last)
		}
		swap.Transactions = &info
		swap.Columns = []proto.ColumnStats{m.Stats(columnName(v.Columns, 0, info.Amount))}
	default:
		return e.restatFeatures(ctx, v, swap, byKey)
	}
	return nil
}

// restatFeatures recomputes a features version's column statistics: the
// moments of a numeric column, the level counts of a categorical one
// (whose dictionary stays, as the shards store codes into it).
func (e *eraser) restatFeatures(ctx context.Context, v *proto.DatasetVersion, swap *proto.EraseDataset, byKey []*rewritten) error {
	ms := make([]proto.Moments, len(v.Columns))
	levels := make([][]int64, len(v.Columns))
	for j, cs := range v.Columns {
		ms[j] = newMoments()
		if cs.Categorical() {
			levels[j] = make([]int64, len(cs.Levels))
		}
	}
	err := e.layoutBytes(ctx, v.Shards, byKey, func(_ int, b []byte) error {
		sh, err := partition.ReadShard(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return err
		}
		swap.Rows += int64(sh.Rows())
		for j, cs := range v.Columns {
			col, ok := sh.Column(cs.Name)
			if !ok {
				return fmt.Errorf("no column %q", cs.Name)
			}
			for _, x := range col {
				if x != x { // NaN: missing
					ms[j].Missing++
					continue
				}
				ms[j].Add(x)
				if levels[j] != nil {
					code := int(x)
					if code < 0 || code >= len(levels[j]) || float64(code) != x {
						return fmt.Errorf("column %q holds %v, not a code of its %d levels", cs.Name, x, len(levels[j]))
					}
					levels[j][code]++
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	swap.Columns = make([]proto.ColumnStats, len(v.Columns))
	for j, cs := range v.Columns {
		out := ms[j].Stats(cs.Name)
		if levels[j] != nil {
			out.Min, out.Max, out.Mean, out.Std = 0, 0, 0, 0
			out.Levels, out.LevelCounts = cs.Levels, levels[j]
		}
		swap.Columns[j] = out
	}
	return nil
}

// notFound reports an API error saying that what was asked for does not
// exist (any more).
func notFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == "not_found"
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// columnName is the name of column j of cols, or def if it has none.
func columnName(cols []proto.ColumnStats, j int, def string) string {
	if j < len(cols) {
		return cols[j].Name
	}
	return def
}
