package coordinator

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Customer erasure. The client rewrites the shards that hold the erased
// customers, as an import writes shards (internal/client/erase.go); the
// leader checks the new blobs and swaps them in, one raft entry per dataset
// or score set version, then records a salted hash of every key. The old
// blobs are then unreferenced, and collect deletes them after cfg.GCGrace.

func (c *Coordinator) eraseHandlers() map[string]handler {
	return map[string]handler{
		proto.APIEraseDataset: c.apiEraseDataset,
		proto.APIEraseScores:  c.apiEraseScores,
		proto.APIEraseRecord:  c.apiEraseRecord,
	}
}

// checkSwaps checks that every new shard is stored whole, under a new name.
func (c *Coordinator) checkSwaps(ctx context.Context, what string, swaps []proto.ShardSwap) error {
	for _, s := range swaps {
		if s.New.Object == "" || s.New.Object == s.Old {
			return fmt.Errorf("%w: %s shard %d: the rewritten shard needs a new object name", ErrInvalid, what, s.New.Index)
		}
		ref := proto.BlobRef{Bucket: proto.BucketShards, Object: s.New.Object, Size: s.New.Size, SHA256: s.New.SHA256}
		if err := c.store.Stat(ctx, ref); err != nil {
			return fmt.Errorf("%w: %s shard %d: %v", ErrInvalid, what, s.New.Index, err)
		}
	}
	return nil
}

func (c *Coordinator) apiEraseDataset(ctx context.Context, body json.RawMessage) (any, error) {
	e, err := parse[proto.EraseDataset](body)
	if err != nil {
		return nil, err
	}
	what := e.Dataset + "@" + strconv.Itoa(e.Version)
	if len(e.Shards) == 0 {
		return nil, fmt.Errorf("%w: %s: no shards to swap", ErrInvalid, what)
	}
	if err := c.checkSwaps(ctx, what, append(append([]proto.ShardSwap(nil), e.Shards...), e.ItemShards...)); err != nil {
		return nil, err
	}
	id, err := c.apply(msgEraseDataset, entryEraseDataset{EraseDataset: e, Time: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	c.log.Info("customers erased from dataset version", "version", id, "shards", len(e.Shards)+len(e.ItemShards), "rows", e.Rows)
	return proto.Named{Name: id}, nil
}

func (c *Coordinator) apiEraseScores(ctx context.Context, body json.RawMessage) (any, error) {
	e, err := parse[proto.EraseScores](body)
	if err != nil {
		return nil, err
	}
	what := "score set " + e.Name + "@" + strconv.Itoa(e.Version)
	if len(e.Shards) == 0 {
		return nil, fmt.Errorf("%w: %s: no shards to swap", ErrInvalid, what)
	}
	if err := c.checkSwaps(ctx, what, e.Shards); err != nil {
		return nil, err
	}
	id, err := c.apply(msgEraseScores, entryEraseScores{EraseScores: e, Time: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	c.log.Info("customers erased from score set version", "version", id, "shards", len(e.Shards), "rows", e.Rows)
	return proto.Named{Name: id}, nil
}

// eraseSalt returns the cluster's erasure salt, choosing it first if no
// leader has: 32 random bytes, committed once; the committed one wins.
func (c *Coordinator) eraseSalt() (string, error) {
	if s := c.fsm.EraseSalt(); s != "" {
		return s, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return c.apply(msgEraseSalt, entryEraseSalt{Salt: hex.EncodeToString(b[:])})
}

// keyHash is what the erasure log keeps of a key: HMAC-SHA256 keyed by the
// cluster's salt, which names the key to whoever knows it, and to nobody
// else.
func keyHash(salt, key string) string {
	m := hmac.New(sha256.New, []byte(salt))
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Coordinator) apiEraseRecord(_ context.Context, body json.RawMessage) (any, error) {
	r, err := parse[proto.EraseRecord](body)
	if err != nil {
		return nil, err
	}
	if len(r.Keys) == 0 {
		return nil, fmt.Errorf("%w: no keys to record", ErrInvalid)
	}
	salt, err := c.eraseSalt()
	if err != nil {
		return nil, err
	}
	found := make(map[string]bool, len(r.Found))
	for _, k := range r.Found {
		found[k] = true
	}
	now := time.Now().UTC()
	e := entryEraseRecord{Keys: make([]proto.ErasedKey, len(r.Keys))}
	for i, k := range r.Keys {
		e.Keys[i] = proto.ErasedKey{Hash: keyHash(salt, k), Time: now, Found: found[k]}
	}
	if _, err := c.apply(msgEraseRecord, e); err != nil {
		return nil, err
	}
	touched := map[string]bool{}
	for _, t := range r.Touched {
		if t.Dataset != "" {
			touched[t.Dataset+"@"+strconv.Itoa(t.Version)] = true
		}
	}
	rep := proto.EraseReport{Keys: len(r.Keys), Found: len(found), Touched: r.Touched, Time: now}
	for _, rt := range c.fsm.Retrains() {
		if touched[rt.Dataset+"@"+strconv.Itoa(rt.Version)] {
			rep.Retrain = append(rep.Retrain, rt)
		}
	}
	c.log.Info("customer erasure recorded", "keys", len(r.Keys), "found", len(found), "versions", len(r.Touched), "retrain", len(rep.Retrain))
	return rep, nil
}
