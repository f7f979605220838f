package alsjob

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
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Cache key prefixes of ALS entries in a worker's cache.
const (
	blockKeyPrefix  = "block|"
	tableKeyPrefix  = "alstable|"
	prepKeyPrefix   = "alsprep|"
	factorKeyPrefix = "factors|"
	modelKeyPrefix  = "alsmodel|"
)

// lastTables remembers, per job and side, the last factor table built in
// this process, so that the next pass's table shares its id index instead
// of rebuilding it. Tables are read-only once built, so the workers of one
// process may share them.
var lastTables tables

type tables struct {
	mu   sync.Mutex
	last map[string]*als.Table
}

func (t *tables) get(key string) *als.Table {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last[key]
}

func (t *tables) put(key string, tab *als.Table) {
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

// block loads the step's interactions shard (either layout) as an ALS
// block.
func block(ctx context.Context, sh job.Shard) (*als.Block, error) {
	ref := sh.Ref()
	v, err := sh.Cached(blockKeyPrefix+ref.Object+"@"+ref.SHA256, func() (any, int64, error) {
		b, err := sh.Get(ctx, proto.BlobRef{Bucket: proto.BucketShards, Object: ref.Object, Size: ref.Size, SHA256: ref.SHA256})
		if err != nil {
			return nil, 0, err
		}
		in, err := partition.ReadInteractions(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, 0, fmt.Errorf("als: shard %s: %w", ref.Object, err)
		}
		if int64(len(in.Value)) != ref.Rows {
			return nil, 0, fmt.Errorf("als: shard %s has %d rows, recorded %d", ref.Object, len(in.Value), ref.Rows)
		}
		return &als.Block{IDs: in.Keys, Ptr: in.Ptr, Other: in.Other, Value: in.Value}, in.SizeBytes(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Block), nil
}

// factorKey is the cache key of a factor shard.
func factorKey(ref als.FactorRef) string { return factorKeyPrefix + ref.Object + "@" + ref.SHA256 }

// factors loads one factor shard blob.
func factors(ctx context.Context, sh job.Shard, ref als.FactorRef) (*als.Factors, error) {
	v, err := sh.Cached(factorKey(ref), func() (any, int64, error) {
		b, err := sh.Get(ctx, BlobRef(ref))
		if err != nil {
			return nil, 0, err
		}
		f, err := als.DecodeFactors(b)
		if err != nil {
			return nil, 0, fmt.Errorf("als: factors %s: %w", ref.Object, err)
		}
		return f, int64(len(b)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Factors), nil
}

// factorFetches is how many factor shards a worker fetches at once. One
// at a time, the round trips of 64 small blobs were most of a pass's time.
const factorFetches = 8

// allFactors loads the factor shards refs names, several at a time, those
// in the cache (this worker's own output of the last pass among them)
// without a fetch.
func allFactors(ctx context.Context, sh job.Shard, refs []als.FactorRef) ([]*als.Factors, error) {
	out := make([]*als.Factors, len(refs))
	errs := make([]error, len(refs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(factorFetches, len(refs)) {
		wg.Go(func() {
			for i := range next {
				out[i], errs[i] = factors(ctx, sh, refs[i])
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
func table(ctx context.Context, sh job.Shard, t *als.Task) (*als.Table, error) {
	h := sha256.New()
	for _, r := range t.Other {
		h.Write([]byte(r.Object))
		h.Write([]byte{0})
		h.Write([]byte(r.SHA256))
	}
	key := tableKeyPrefix + hex.EncodeToString(h.Sum(nil))
	side := sh.Job() + "|" + string(t.Side.Other())
	v, err := sh.Cached(key, func() (any, int64, error) {
		shards, err := allFactors(ctx, sh, t.Other)
		if err != nil {
			return nil, 0, err
		}
		var size int64
		for _, r := range t.Other {
			size += r.Size
		}
		tab, err := als.NewTable(lastTables.get(side), shards)
		if err != nil {
			return nil, 0, err
		}
		lastTables.put(side, tab)
		return tab, 2 * size, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*als.Table), nil
}

// prep resolves a block against a table's layout once per job and side.
// A transactions block is named by its source too (src, "" for an
// interactions shard): its cells depend on the value.
func prep(sh job.Shard, t *als.Task, src string, blk *als.Block, tab *als.Table) (*als.Prep, error) {
	ref := sh.Ref()
	key := prepKeyPrefix + src + "|" + ref.Object + "@" + ref.SHA256 + "|" + string(t.Side) + "|" +
		strconv.FormatUint(tab.Layout(), 16) + "|" + strconv.FormatFloat(t.Config.Holdout, 'g', -1, 64) + "|" +
		strconv.FormatUint(t.Config.Seed, 16)
	v, err := sh.Cached(key, func() (any, int64, error) {
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

// RunShard runs one ALS pass on one shard of the task's side and stores
// the shard's new factors.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	var (
		t   *als.Task
		tx  *TxSource
		blk *als.Block
		txb *txBlock
		err error
	)
	switch task := task.(type) {
	case *als.Task:
		t = task
		blk, err = block(ctx, sh)
	case *Task:
		t, tx = task.Task, task.Tx
		if txb, err = txBlockFor(ctx, sh, tx, t.Side); err == nil {
			blk = txb.blk
		}
	default:
		return fmt.Errorf("als: task of type %T", task)
	}
	if err != nil {
		return err
	}
	ref := sh.Ref()
	p.Rows = int64(len(blk.Value))
	var tab *als.Table
	var pr *als.Prep
	if t.Other != nil {
		if tab, err = table(ctx, sh, t); err != nil {
			return err
		}
		src := ""
		if tx != nil {
			src = tx.key()
		}
		if pr, err = prep(sh, t, src, blk, tab); err != nil {
			return err
		}
	}
	var prev *als.Factors
	if t.Prev != nil {
		if ref.Index >= len(t.Prev) {
			return fmt.Errorf("als: task names %d previous factor shards, not shard %d", len(t.Prev), ref.Index)
		}
		if prev, err = factors(ctx, sh, t.Prev[ref.Index]); err != nil {
			return err
		}
	}
	res, f, err := als.RunTask(t, blk, tab, pr, prev, ref.Index)
	if err != nil {
		return err
	}
	if f != nil {
		var r [6]byte
		_, _ = rand.Read(r[:])
		name := fmt.Sprintf("jobs/%s/factors/%s-%06d-%04d-%s", sh.Job(), t.Side, t.Step, ref.Index, hex.EncodeToString(r[:]))
		b := als.EncodeFactors(f)
		bref, err := sh.Put(ctx, proto.BucketModels, name, b)
		if err != nil {
			return err
		}
		res.Ref = als.FactorRef{Object: bref.Object, Size: bref.Size, SHA256: bref.SHA256}
		// The next pass reads this shard back into the table of this
		// side: keep it as a reader would decode it, and save the fetch.
		if dec, err := als.DecodeFactors(b); err == nil {
			sh.Keep(factorKey(res.Ref), dec, bref.Size)
		}
	}
	if tx != nil {
		tr := txResult{Result: res}
		if t.Kind == als.TaskInit {
			tr.Names = txb.names
		}
		return job.Encode(p, Name, tr)
	}
	return job.Encode(p, Name, res)
}
