package score

import (
	"context"
	"encoding/json"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Cutter is a Scorer whose write pass needs values found over the whole
// dataset first (value tiers cut where the running total of a score
// reaches a share of the total): passes of its own search, before the
// write pass, which gets what the search found in Task.Found.
type Cutter interface {
	Scorer
	// Search starts the leader's search for a model and the job's
	// parameters.
	Search(model any, p *proto.ScoreSpec) (Search, error)
	// SearchShard runs one pass of the search on a shard: its task is
	// Task.Search, its answer the shard's Partial.Search.
	SearchShard(ctx context.Context, sh job.Shard, model any, t *Task) (json.RawMessage, error)
}

// Search is a Cutter's search on the leader, a state machine as a job is;
// it is saved after every pass as its JSON.
type Search interface {
	// Next returns the task of the next pass, or done.
	Next() (task json.RawMessage, done bool)
	// Absorb takes one answer per shard, in shard order.
	Absorb(parts []json.RawMessage) error
	// Found is what the write pass gets, once the search is done.
	Found() (json.RawMessage, error)
	// Summarize adds what the search found to the score set's summary.
	Summarize(sum *proto.ScoreSummary)
	json.Marshaler
	json.Unmarshaler
}

// Tuner is a model kind whose scores take the horizon and discount rate
// of proto.ScoreSpec: it fills in their defaults and checks them. A
// scoring job of another kind refuses them.
type Tuner interface {
	Tune(model any, p *proto.ScoreSpec) error
}
