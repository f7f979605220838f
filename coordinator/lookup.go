package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/keyhash"
	"github.com/mathcrm/mathcrm/internal/metrics"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// lookupTimeout bounds one worker's answer to a lookup before the next
// worker in the shard's ranking is asked.
const lookupTimeout = 2 * time.Second

// apiCustomerShow answers one customer's rows in the latest version of every
// score set. The key's shard is the one its hash places it in (the score
// set's shards are the scored dataset's); the shard's owner among the live
// workers answers from the score shard it keeps indexed by key — no score
// set is scanned. A worker that does not answer is passed over for the next
// in the shard's ranking.
func (c *Coordinator) apiCustomerShow(ctx context.Context, body json.RawMessage) (any, error) {
	defer func(start time.Time) { metrics.LookupSeconds.Observe(time.Since(start).Seconds()) }(time.Now())
	req, err := parse[proto.CustomerShow](body)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Key == "":
		return nil, fmt.Errorf("%w: an empty customer key", ErrInvalid)
	case len(req.Key) > proto.MaxKeyBytes:
		return nil, fmt.Errorf("%w: a customer key of %d bytes (at most %d)", ErrInvalid, len(req.Key), proto.MaxKeyBytes)
	}
	sets, err := c.fsm.lookupTargets(req.Key)
	if err != nil {
		return nil, err
	}
	out := &proto.CustomerScores{Key: req.Key, Searched: len(sets)}
	found := make([]*proto.CustomerSet, len(sets))
	errs := make([]error, len(sets))
	if len(sets) == 1 { // the common case: no goroutine
		found[0], errs[0] = c.lookupIn(ctx, &sets[0], req.Key)
	} else {
		var wg sync.WaitGroup
		for i := range sets {
			if sets[i].Ref.Rows == 0 {
				continue
			}
			wg.Go(func() { found[i], errs[i] = c.lookupIn(ctx, &sets[i], req.Key) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, cs := range found {
		if cs != nil {
			out.Sets = append(out.Sets, *cs)
		}
	}
	if len(out.Sets) == 0 {
		return nil, fmt.Errorf("%w: customer %q: no score set has a row for it (%d score sets searched)", ErrNotFound, req.Key, len(sets))
	}
	sort.SliceStable(out.Sets, func(i, j int) bool { return out.Sets[i].Created.After(out.Sets[j].Created) })
	return out, nil
}

// lookupTarget is the shard of one score set's latest version that holds a
// key's rows: what a lookup needs, read from the state without copying the
// score set (its summary, its other shards).
type lookupTarget struct {
	Name, Kind, Model, Dataset, Key string
	Version                         int
	Created                         time.Time
	Ref                             proto.ShardRef
}

// lookupTargets returns, for the latest version of every score set with
// shards, the shard that key hashes to.
func (f *FSM) lookupTargets(key string) ([]lookupTarget, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]lookupTarget, 0, len(f.st.Scores))
	for _, vs := range f.st.Scores {
		if len(vs) == 0 {
			continue
		}
		ss := vs[len(vs)-1]
		if len(ss.Shards) == 0 {
			continue
		}
		idx := keyhash.Shard(key, len(ss.Shards))
		t := lookupTarget{Name: ss.Name, Kind: ss.Kind, Model: ss.Model, Dataset: ss.Dataset, Key: ss.Key,
			Version: ss.Version, Created: ss.Created, Ref: proto.ShardRef{Index: -1}}
		if idx < len(ss.Shards) && ss.Shards[idx].Index == idx {
			t.Ref = ss.Shards[idx]
		} else {
			for i := range ss.Shards {
				if ss.Shards[i].Index == idx {
					t.Ref = ss.Shards[i]
				}
			}
		}
		if t.Ref.Index != idx {
			return nil, fmt.Errorf("coordinator: score set %s version %d has no shard %d", ss.Name, ss.Version, idx)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// lookupIn asks the owner of the key's shard of one score set for its rows.
func (c *Coordinator) lookupIn(ctx context.Context, ss *lookupTarget, key string) (*proto.CustomerSet, error) {
	ref, idx := &ss.Ref, ss.Ref.Index
	if ref.Rows == 0 {
		return nil, nil
	}
	body, err := json.Marshal(proto.LookupRequest{V: proto.Version, Key: key, KeyOf: ss.Key, Shard: *ref})
	if err != nil {
		return nil, err
	}
	ranked := Rank(idx, c.members.live())
	if len(ranked) == 0 {
		return nil, fmt.Errorf("coordinator: no live worker to look a customer up in score set %s", ss.Name)
	}
	var last error
	for _, m := range ranked {
		rctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		msg, err := c.nc.RequestWithContext(rctx, proto.WorkerLookupSubject(m.ID), body)
		cancel()
		if err != nil {
			last = fmt.Errorf("worker %s: %w", m.ID, err)
			continue
		}
		var rep proto.LookupReply
		if err := json.Unmarshal(msg.Data, &rep); err != nil {
			last = fmt.Errorf("worker %s: %w", m.ID, err)
			continue
		}
		if rep.Error != "" {
			last = fmt.Errorf("worker %s: %s", m.ID, rep.Error)
			continue
		}
		if len(rep.Rows) == 0 {
			return nil, nil
		}
		return &proto.CustomerSet{Name: ss.Name, Version: ss.Version, Kind: ss.Kind, Model: ss.Model, Dataset: ss.Dataset,
			Created: ss.Created, Columns: rep.Columns, Rows: rep.Rows}, nil
	}
	return nil, fmt.Errorf("coordinator: looking %q up in score set %s: %w", key, ss.Name, last)
}
