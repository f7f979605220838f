package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Cache key prefixes of ALS entries.
const (
	blockKeyPrefix  = "block|"
	tableKeyPrefix  = "alstable|"
	prepKeyPrefix   = "alsprep|"
	factorKeyPrefix = "factors|"
)

// alsTables remembers, per job and side, the last factor table built, so
// that the next pass's table shares its id index instead of rebuilding it.
type alsTables struct {
	mu   sync.Mutex
	last map[string]*als.Table
}

func (t *alsTables) get(key string) *als.Table {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[key]
}

func (t *alsTables) put(key string, tab *als.Table) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]*als.Table{}
	}
	if len(t.last) > 16 { // a handful of jobs at a time; forget old ones
		clear(t.last)
	}
	t.last[key] = tab
}

// block loads one interactions shard (either layout) as an ALS block.
func (w *Worker) block(ctx context.Context, ref proto.ShardRef) (*als.Block, error) {
	v, err := w.data.loadOnce(blockKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := w.store.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		sh, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("worker: shard %s: %w", ref.Object, err)
		}
		if int64(len(sh.Value)) != ref.Rows {
			return nil, 0, fmt.Errorf("worker: shard %s has %d rows, recorded %d", ref.Object, len(sh.Value), ref.Rows)
		}
		return &als.Block{IDs: sh.Keys, Ptr: sh.Ptr, Other: sh.Other, Value: sh.Value}, sh.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Block), nil
}

// factors loads one factor shard blob.
func (w *Worker) factors(ctx context.Context, ref als.FactorRef) (*als.Factors, error) {
	v, err := w.data.loadOnce(factorKey(ref), func() (any, int64, error) {
		b, err := w.store.Get(ctx, proto.BlobRef{Bucket: proto.BucketModels, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		f, err := proto.DecodeFactors(b)
		if err != nil {
			return nil, 0, fmt.Errorf("worker: factors %s: %w", ref.Object, err)
		}
		return f, int64(len(b)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Factors), nil
}

// factorKey is the cache key of a factor shard.
func factorKey(ref als.FactorRef) string { return factorKeyPrefix + ref.Object + "@" + ref.SHA256 }

// factorFetches is how many factor shards a worker fetches at once. One
// at a time, the round trips of 64 small blobs were most of a pass's time.
const factorFetches = 8

// allFactors loads the factor shards refs names, several at a time, those
// in the cache (this worker's own output of the last pass among them)
// without a fetch.
func (w *Worker) allFactors(ctx context.Context, refs []als.FactorRef) ([]*als.Factors, error) {
	out := make([]*als.Factors, len(refs))
	errs := make([]error, len(refs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(factorFetches, len(refs)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = w.factors(ctx, refs[i])
			}
		})
	}
	for i := range refs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// table builds the other side's factor table a pass reads, once per pass
// and worker however many of the pass's shards the worker runs.
func (w *Worker) table(ctx context.Context, job string, t *als.Task) (*als.Table, error) {
	h := sha256.New()
	for _, r := range t.Other {
		h.Write([]byte(r.Object))
		h.Write([]byte{0})
		h.Write([]byte(r.SHA256))
	}
	key := tableKeyPrefix + hex.EncodeToString(h.Sum(nil))
	side := job + "|" + string(t.Side.Other())
	v, err := w.data.loadOnce(key, func() (any, int64, error) {
		shards, err := w.allFactors(ctx, t.Other)
		if err != nil {
			return nil, 0, err
		}
		var size int64
		for _, r := range t.Other {
			size += r.Size
		}
		tab, err := als.NewTable(w.tables.get(side), shards)
		if err != nil {
			return nil, 0, err
		}
		w.tables.put(side, tab)
		return tab, 2 * size, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Table), nil
}

// prep resolves a block against a table's layout once per job and side.
func (w *Worker) prep(t *als.Task, ref proto.ShardRef, blk *als.Block, tab *als.Table) (*als.Prep, error) {
	key := prepKeyPrefix + ref.Object + "@" + ref.SHA256 + "|" + string(t.Side) + "|" +
		strconv.FormatUint(tab.Layout(), 16) + "|" + strconv.FormatFloat(t.Config.Holdout, 'g', -1, 64) + "|" +
		strconv.FormatUint(t.Config.Seed, 16)
	v, err := w.data.loadOnce(key, func() (any, int64, error) {
		p, err := als.Prepare(t, blk, tab)
		if err != nil {
			return nil, 0, err
		}
		return p, int64(len(blk.Value))*5 + 64, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Prep), nil
}

// stepALS runs one ALS pass on one shard of the task's side and stores the
// shard's new factors.
func (w *Worker) stepALS(ctx context.Context, job string, t *als.Task, ref proto.ShardRef, p *proto.Partial) error {
	blk, err := w.block(ctx, ref)
	if err != nil {
		return err
	}
	p.Rows = int64(len(blk.Value))
	var tab *als.Table
	var prep *als.Prep
	if t.Other != nil {
		if tab, err = w.table(ctx, job, t); err != nil {
			return err
		}
		if prep, err = w.prep(t, ref, blk, tab); err != nil {
			return err
		}
	}
	var prev *als.Factors
	if t.Prev != nil {
		if ref.Index >= len(t.Prev) {
			return fmt.Errorf("worker: task names %d previous factor shards, not shard %d", len(t.Prev), ref.Index)
		}
		if prev, err = w.factors(ctx, t.Prev[ref.Index]); err != nil {
			return err
		}
	}
	res, f, err := als.RunTask(t, blk, tab, prep, prev, ref.Index)
	if err != nil {
		return err
	}
	if f != nil {
		var r [6]byte
		_, _ = rand.Read(r[:])
		name := fmt.Sprintf("jobs/%s/factors/%s-%06d-%04d-%s", job, t.Side, t.Step, ref.Index, hex.EncodeToString(r[:]))
		b := proto.EncodeFactors(f)
		bref, err := w.store.Put(ctx, proto.BucketModels, name, b)
		if err != nil {
			return err
		}
		res.Ref = als.FactorRef{Object: bref.Object, Size: bref.Size, SHA256: bref.SHA256}
		// The next pass reads this shard back into the table of this
		// side: keep it as a reader would decode it, and save the fetch.
		if dec, err := proto.DecodeFactors(b); err == nil {
			w.data.put(factorKey(res.Ref), dec, bref.Size)
		}
	}
	p.ALS = res
	return nil
}
