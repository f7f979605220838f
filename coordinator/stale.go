package coordinator

import (
	"context"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// A pass leaves the state of the pass before it unreferenced. Deleting a
// blob reads the meta data of its whole bucket (a delete purges only
// chunks no meta data names, store.DeleteMany), too much to do once a
// pass: the states are deleted in batches instead, from every job at once,
// when staleBatch have gathered or staleEvery has passed. Whatever a
// leader that stops leaves undeleted, the collection removes once its job
// has ended (gc.go).
const (
	staleBatch = 128
	staleEvery = 2 * time.Second
)

// staleBlobs holds the blobs waiting to be deleted, by bucket.
type staleBlobs struct {
	mu    sync.Mutex
	names map[string][]string
	n     int
	kick  chan struct{}
}

func newStale() *staleBlobs {
	return &staleBlobs{names: map[string][]string{}, kick: make(chan struct{}, 1)}
}

// dropLater deletes ref with the next batch.
func (c *Coordinator) dropLater(ref proto.BlobRef) {
	s := c.stale
	s.mu.Lock()
	s.names[ref.Bucket] = append(s.names[ref.Bucket], ref.Object)
	s.n++
	full := s.n >= staleBatch
	s.mu.Unlock()
	if full {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// staleLoop deletes the gathered blobs until the coordinator closes.
func (c *Coordinator) staleLoop() {
	defer c.wg.Done()
	t := time.NewTicker(staleEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.stale.kick:
		}
		c.dropStale()
	}
}

// dropStale deletes the blobs gathered so far.
func (c *Coordinator) dropStale() {
	s := c.stale
	s.mu.Lock()
	batch := s.names
	s.names, s.n = map[string][]string{}, 0
	s.mu.Unlock()
	for bucket, names := range batch {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := c.store.DeleteMany(ctx, bucket, names)
		cancel()
		if err != nil {
			c.log.Warn("deleting the states passes left behind; the collection removes the rest", "bucket", bucket,
				"deleted", n, "of", len(names), "err", err)
		}
	}
}
