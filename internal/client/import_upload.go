package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
)

// uploaders is how many shards an import stores at once: enough to keep the
// object store busy while each upload waits for its acknowledgements, few
// enough that the shards in flight (held whole) stay small.
const uploaders = 4

// queuedShards bounds the shards written but not yet stored: the split
// waits for room, so memory does not grow when storing is slower.
const queuedShards = 2 * uploaders

// shardUploader stores the shard files of one import as they are written,
// on its own goroutines, so that storing overlaps splitting.
type shardUploader struct {
	st     *store.Store
	ctx    context.Context
	cancel context.CancelFunc
	name   string
	id     string
	// purge: the connection's role may delete blobs (admin's). Others
	// leave what they stored to the leader's collection of unreferenced
	// blobs: only the coordinators and admin are granted the purge API.
	purge  bool
	queue  chan upload
	room   chan struct{} // a token per shard in memory
	closed sync.Once
	wg     sync.WaitGroup

	mu     sync.Mutex
	refs   [2][]proto.ShardRef // by layout, then shard index
	stored []string
	err    error
}

// upload is one shard to store, from data or else its file: layout 0 is
// the shards, 1 the item shards.
type upload struct {
	layout   int
	sf       partition.ShardFile
	data     []byte
	inMemory bool // holds a token of room
}

func newShardUploader(ctx context.Context, st *store.Store, name, importID string, shards int, purge bool) *shardUploader {
	ctx, cancel := context.WithCancel(ctx)
	u := &shardUploader{st: st, ctx: ctx, cancel: cancel, name: name, id: importID, purge: purge,
		queue: make(chan upload, 2*shards), room: make(chan struct{}, queuedShards)}
	for l := range u.refs {
		u.refs[l] = make([]proto.ShardRef, shards)
	}
	for range uploaders {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			for up := range u.queue {
				if u.ctx.Err() == nil {
					u.put(up)
				}
				if up.inMemory {
					partition.RecycleShardBytes(up.data) // stored or not, no longer read
					<-u.room
				}
			}
		}()
	}
	return u
}

// add queues a shard file; it never blocks (the queue holds every shard).
func (u *shardUploader) add(layout int, sf partition.ShardFile) {
	u.queue <- upload{layout: layout, sf: sf}
}

// addData queues a shard held in memory, waiting while queuedShards are,
// or in its file when data is nil. It fails once storing has failed.
func (u *shardUploader) addData(sf partition.ShardFile, data []byte) error {
	if data == nil {
		u.add(0, sf)
		return nil
	}
	select {
	case u.room <- struct{}{}:
	case <-u.ctx.Done():
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.err != nil {
			return u.err
		}
		return u.ctx.Err()
	}
	u.queue <- upload{layout: 0, sf: sf, data: data, inMemory: true}
	return nil
}

// put stores one shard file and checks that the bytes stored are the ones
// the split wrote. A shard in memory comes without a checksum: the object
// store's, computed as it sends the bytes, is the one recorded.
func (u *shardUploader) put(up upload) {
	prefix := "shard"
	if up.layout == 1 {
		prefix = "item-shard"
	}
	obj := fmt.Sprintf("datasets/%s/%s/%s-%04d.parquet", u.name, u.id, prefix, up.sf.Index)
	// Recorded before the put: a put cut off by a cancelled import may
	// still have stored the object (or part of it), and abandon deletes it.
	u.mu.Lock()
	u.stored = append(u.stored, obj)
	u.mu.Unlock()
	err := func() error {
		var ref proto.BlobRef
		var err error
		if up.inMemory {
			ref, err = u.st.Put(u.ctx, proto.BucketShards, obj, up.data)
		} else {
			ref, err = u.st.PutFile(u.ctx, proto.BucketShards, obj, up.sf.Path)
		}
		if err != nil {
			return err
		}
		if up.inMemory && up.sf.SHA256 == "" {
			up.sf.SHA256 = ref.SHA256
		}
		if ref.SHA256 != up.sf.SHA256 || ref.Size != up.sf.Size {
			return fmt.Errorf("shard %d changed while it was stored", up.sf.Index)
		}
		return nil
	}()
	u.mu.Lock()
	defer u.mu.Unlock()
	if err != nil {
		if u.err == nil {
			u.err = err
		}
		u.cancel()
		return
	}
	u.refs[up.layout][up.sf.Index] = proto.ShardRef{Index: up.sf.Index, Object: obj, Size: up.sf.Size, SHA256: up.sf.SHA256, Rows: up.sf.Rows}
}

// wait waits until the queued shards are stored and returns the first
// error; nothing can be queued after it.
func (u *shardUploader) wait() error {
	u.closed.Do(func() { close(u.queue) })
	u.wg.Wait()
	u.cancel()
	return u.err
}

// abandon stops storing and deletes what was stored, when the role may.
func (u *shardUploader) abandon() {
	u.cancel()
	u.closed.Do(func() { close(u.queue) })
	u.wg.Wait()
	if !u.purge {
		return
	}
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, obj := range u.stored {
		_ = u.st.Delete(dctx, proto.BucketShards, obj)
	}
}

// layout returns the references of a layout's first n shards, checking that
// each was stored.
func (u *shardUploader) layout(l, n int) ([]proto.ShardRef, error) {
	refs := u.refs[l][:n]
	for i, r := range refs {
		if r.Object == "" {
			return nil, fmt.Errorf("shard %d was not stored", i)
		}
	}
	return refs, nil
}
