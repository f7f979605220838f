package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// retainEvery is how often the leader looks for versions beyond a
// retention count: new versions arrive and jobs that pinned old ones end.
const retainEvery = time.Second

func (c *Coordinator) lifecycleHandlers() map[string]handler {
	return map[string]handler{
		proto.APIDatasetDelete: c.deleter(msgDatasetDelete, "dataset"),
		proto.APIScoresDelete:  c.deleter(msgScoresDelete, "score set"),
		proto.APIModelDelete:   c.deleter(msgModelDelete, "model"),
		proto.APIJobDelete:     c.deleter(msgJobDelete, "job"),
		proto.APIDatasetRetain: c.retainer(lifeDataset),
		proto.APIScoresRetain:  c.retainer(lifeScores),
		proto.APIModelList: func(context.Context, json.RawMessage) (any, error) {
			return c.fsm.Models(), nil
		},
	}
}

// deleter serves one kind of delete: the FSM decides, from the state the
// entry meets, whether something uses what it deletes.
func (c *Coordinator) deleter(t msgType, noun string) handler {
	return func(_ context.Context, body json.RawMessage) (any, error) {
		d, err := parse[proto.Delete](body)
		if err != nil {
			return nil, err
		}
		if d.Name == "" {
			return nil, fmt.Errorf("%w: which %s? a name is needed", ErrInvalid, noun)
		}
		if d.Version < 0 || d.Version != 0 && (t == msgModelDelete || t == msgJobDelete) {
			return nil, fmt.Errorf("%w: version %d of %s %s", ErrInvalid, d.Version, noun, d.Name)
		}
		res, err := c.applyFull(t, entryDelete{Delete: d, Time: time.Now().UTC()})
		if err != nil {
			return nil, err
		}
		out, _ := res.Out.(proto.Deleted)
		c.log.Info("deleted", "what", out.What, "name", out.Name, "versions", out.Versions, "bytes", out.Bytes,
			"cancelled", out.Cancelled, "paused", out.Paused)
		return out, nil
	}
}

func (c *Coordinator) retainer(kind string) handler {
	return func(_ context.Context, body json.RawMessage) (any, error) {
		r, err := parse[proto.Retain](body)
		if err != nil {
			return nil, err
		}
		if !ValidName(r.Name) {
			return nil, fmt.Errorf("%w: name %q (letters, digits, _ . -)", ErrInvalid, r.Name)
		}
		if r.Keep < 0 || r.Keep > proto.MaxKeep {
			return nil, fmt.Errorf("%w: --keep %d (1 to %d, or 0 to keep every version)", ErrInvalid, r.Keep, proto.MaxKeep)
		}
		res, err := c.applyFull(msgRetain, entryRetain{Kind: kind, Retain: r, Time: time.Now().UTC()})
		if err != nil {
			return nil, err
		}
		return res.Out, nil
	}
}

// applyFull commits one entry and returns Apply's whole answer.
func (c *Coordinator) applyFull(t msgType, v any) (applyResult, error) {
	b, err := encodeEntry(t, v)
	if err != nil {
		return applyResult{}, err
	}
	f := c.raft.Apply(b, 10*time.Second)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return applyResult{}, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return applyResult{}, fmt.Errorf("coordinator: raft apply: %w", err)
	}
	res, _ := f.Response().(applyResult)
	return res, res.Err
}

// retainLoop drops versions beyond their retention count while this node
// leads (ctx is its term).
func (c *Coordinator) retainLoop(ctx context.Context) {
	t := time.NewTicker(retainEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, e := range c.fsm.retentionDue() {
			e.Time = time.Now().UTC()
			res, err := c.applyFull(msgRetentionDrop, e)
			if err != nil {
				if errors.Is(err, ErrNotLeader) {
					return
				}
				c.log.Warn("retention: drop", "what", e.Kind, "name", e.Name, "err", err)
				continue
			}
			if out, _ := res.Out.(proto.Retained); len(out.Dropped) > 0 {
				c.log.Info("retention dropped versions", "what", e.Kind, "name", e.Name, "versions", out.Dropped, "keep", out.Keep)
			}
		}
	}
}
