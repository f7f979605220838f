package coordinator

import (
	"context"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// collect deletes blobs that no committed state refers to and that are older
// than cfg.GCGrace: shards of failed or interrupted imports, states of passes
// a crashed leader never committed. Younger blobs may belong to an import or a
// pass still in progress.
func (c *Coordinator) collect(ctx context.Context) int {
	refs := c.fsm.Referenced()
	cutoff := time.Now().Add(-c.cfg.GCGrace).UnixNano()
	removed := 0
	for _, bucket := range []string{proto.BucketShards, proto.BucketModels} {
		objs, err := c.store.List(ctx, bucket)
		if err != nil {
			c.log.Warn("gc: list", "bucket", bucket, "err", err)
			continue
		}
		for _, o := range objs {
			if refs[bucket][o.Name] || o.ModTime > cutoff {
				continue
			}
			// Re-check against the latest state: a commit may have landed since.
			if c.fsm.Referenced()[bucket][o.Name] {
				continue
			}
			if err := c.store.Delete(ctx, bucket, o.Name); err == nil {
				removed++
			}
		}
	}
	if removed > 0 {
		c.log.Info("gc: removed unreferenced blobs", "count", removed)
	}
	return removed
}
