package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
)

// Blobs are written before the raft entry that names them, by a client (an
// import's shards) or by workers and the leader (a job's states, factor,
// score and output shards, models). Once a commit may have been asked for,
// only the leader decides a blob's fate: it commits the blobs an entry names
// or, when nothing ever names them, collects them here. blobMu keeps the two
// apart: a commit checks that the store holds its blobs and applies its
// entry under it, a collection re-reads what is referenced and deletes under
// it, so a blob is never deleted between a commit's check and its entry, and
// a commit whose blob was collected fails, naming the blob.

// ErrBlobMissing reports a commit naming a blob the object store does not
// hold, or holds with other bytes.
var ErrBlobMissing = errors.New("coordinator: blob missing")

// sweepBatch bounds how many deletions one hold of blobMu covers, so that a
// long collection lets commits through.
const sweepBatch = 128

// applyBlobs commits an entry under blobMu, after checking that the store
// holds every one of refs that committed state does not name yet. A job's
// own blobs are not collected while it runs (their names carry its id), so
// its pass commits, which name a factor or output shard per shard, check
// none, and its last commit checks the model blob.
func (c *Coordinator) applyBlobs(ctx context.Context, t msgType, v any, refs []proto.BlobRef) (string, error) {
	c.blobMu.Lock()
	defer c.blobMu.Unlock()
	if err := c.statNew(ctx, refs); err != nil {
		return "", err
	}
	return c.apply(t, v)
}

// statConcurrency bounds the Stat calls in flight for one commit: each is
// two round trips (meta data, then chunk count).
const statConcurrency = 8

// statNew checks the refs committed state does not name yet; the caller
// holds blobMu.
func (c *Coordinator) statNew(ctx context.Context, refs []proto.BlobRef) error {
	if len(refs) == 0 {
		return nil
	}
	known := c.fsm.Referenced()
	var todo []proto.BlobRef
	for _, r := range refs {
		if !known[r.Bucket][r.Object] {
			todo = append(todo, r)
		}
	}
	errs := make([]error, len(todo))
	sem := make(chan struct{}, statConcurrency)
	var wg sync.WaitGroup
	for i, r := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = c.store.Stat(ctx, r)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrChecksum) || errors.Is(err, store.ErrIncomplete) {
			return fmt.Errorf("%w: %w", ErrBlobMissing, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// collect deletes the blobs no committed state refers to that are older than
// grace and that no running job wrote: shards of failed or interrupted
// imports, the states, factor and output shards of ended jobs that their
// model or output does not keep, and what crashed leaders and workers left.
// Younger blobs may belong to an import in progress; a job still running may
// commit the blobs it wrote in its next pass.
func (c *Coordinator) collect(ctx context.Context, grace time.Duration) proto.GCResult {
	c.gcMu.Lock()
	defer c.gcMu.Unlock()
	if !c.rollupsDenied.Load() && c.IsLeader() {
		// It failed when this coordinator came to lead.
		c.denyRollups()
	}
	res := proto.GCResult{Grace: grace}
	cutoff := time.Now().Add(-grace).UnixNano()
	refs := c.fsm.Referenced()
	for _, bucket := range proto.Buckets {
		objs, err := c.store.List(ctx, bucket)
		if err != nil {
			c.log.Warn("gc: list", "bucket", bucket, "err", err)
			res.Failed++
			continue
		}
		var cands []store.Object
		for _, o := range objs {
			switch {
			case refs[bucket][o.Name]:
				res.Referenced++
			case o.ModTime > cutoff:
				res.Young++
			default:
				cands = append(cands, o)
			}
		}
		for len(cands) > 0 && ctx.Err() == nil {
			n := min(len(cands), sweepBatch)
			c.sweep(ctx, bucket, cands[:n], &res)
			cands = cands[n:]
		}
		c.sweepPartials(ctx, bucket, min(cutoff, time.Now().Add(-c.cfg.GCPartialAge).UnixNano()), &res)
	}
	if res.Removed > 0 || res.Partials > 0 || res.Failed > 0 {
		c.log.Info("gc: removed unreferenced blobs", "count", res.Removed, "bytes", res.Bytes, "partial_uploads", res.Partials,
			"failed", res.Failed, "grace", grace)
	}
	return res
}

// sweep deletes the candidates that are still unreferenced, re-read under
// blobMu: a commit may have named one since they were listed.
func (c *Coordinator) sweep(ctx context.Context, bucket string, objs []store.Object, res *proto.GCResult) {
	c.blobMu.Lock()
	defer c.blobMu.Unlock()
	if !c.IsLeader() {
		return // a deposed leader's view may be stale; the new leader collects
	}
	refs := c.fsm.Referenced()
	running := c.fsm.unendedJobs()
	var del []store.Object
	for _, o := range objs {
		switch {
		case refs[bucket][o.Name]:
			res.Referenced++
		case running[jobOfBlob(o.Name)]:
			res.Running++
		default:
			del = append(del, o)
		}
	}
	// Together: a delete reads every object's meta data in the bucket, to
	// purge only chunks that nothing else names (store.Delete).
	for len(del) > 0 && ctx.Err() == nil {
		names := make([]string, len(del))
		for i, o := range del {
			names[i] = o.Name
		}
		n, err := c.store.DeleteMany(ctx, bucket, names)
		for _, o := range del[:n] {
			res.Removed++
			res.Bytes += o.Size
		}
		if err == nil {
			break
		}
		if n < len(del) {
			c.log.Warn("gc: delete", "bucket", bucket, "object", del[n].Name, "err", err)
			res.Failed++
			n++
		} else {
			c.log.Warn("gc: delete", "bucket", bucket, "err", err)
		}
		del = del[n:]
	}
}

// sweepPartials deletes the chunks of uploads that never finished, older
// than the cutoff (never younger than cfg.GCPartialAge, so that no upload in
// progress is torn). Under blobMu no commit can name an object completed
// since the partials were listed: the store re-lists before it purges; and
// should a meta message land after its chunks were purged, the object fails
// Stat, so an import's commit of it fails.
func (c *Coordinator) sweepPartials(ctx context.Context, bucket string, cutoff int64, res *proto.GCResult) {
	ps, err := c.store.Partials(ctx, bucket)
	if err != nil {
		c.log.Warn("gc: list partial uploads", "bucket", bucket, "err", err)
		res.Failed++
		return
	}
	var old []store.Partial
	for _, p := range ps {
		if p.ModTime > cutoff {
			res.Young++
			continue
		}
		old = append(old, p)
	}
	if len(old) == 0 {
		return
	}
	c.blobMu.Lock()
	defer c.blobMu.Unlock()
	if !c.IsLeader() {
		return
	}
	n, err := c.store.PurgePartials(ctx, bucket, old)
	res.Partials += n
	if err != nil {
		c.log.Warn("gc: purge partial uploads", "bucket", bucket, "err", err)
		res.Failed++
	}
}

// jobOfBlob is the job a blob's name says wrote it ("jobs/job-3/state-…",
// "models/job-3-…", "scores/s/job-3/shard-…", "datasets/d/job-3/shard-…"),
// or "".
func jobOfBlob(name string) string {
	for seg := range strings.SplitSeq(name, "/") {
		rest, ok := strings.CutPrefix(seg, "job-")
		if !ok {
			continue
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 && (n == len(rest) || rest[n] == '-') {
			return "job-" + rest[:n]
		}
	}
	return ""
}

// unendedJobs is the set of jobs that have not ended.
func (f *FSM) unendedJobs() map[string]bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := map[string]bool{}
	for id, j := range f.st.Jobs {
		if !j.Terminal() {
			out[id] = true
		}
	}
	return out
}

// apiGC runs one collection now, with the configured grace or the one asked for.
func (c *Coordinator) apiGC(ctx context.Context, body json.RawMessage) (any, error) {
	var req proto.GCRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	grace := c.cfg.GCGrace
	if req.Grace != nil {
		if *req.Grace < 0 {
			return nil, fmt.Errorf("%w: grace %v is negative (0 collects everything unreferenced now)", ErrInvalid, *req.Grace)
		}
		grace = *req.Grace
	}
	return c.collect(ctx, grace), nil
}

// shardBlobs are the blobs of shards in the shards bucket.
func shardBlobs(shards []proto.ShardRef) []proto.BlobRef {
	out := make([]proto.BlobRef, len(shards))
	for i, s := range shards {
		out[i] = proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256}
	}
	return out
}
