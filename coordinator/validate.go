package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/feature"
	scorealgo "github.com/mathcrm/mathcrm/algo/score"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// What the leader checks before a job or a dataset version exists, so that a
// mistake that can be seen from the spec and the dataset's schema and column
// statistics is an answer to the request, not a job failing on the workers.

// checkParams checks a spec's parameters as the CLI does (proto.JobSpec.
// CheckParams) and the names it gives.
func checkParams(spec *proto.JobSpec) error {
	if err := builtin.CheckParams(spec); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !ValidName(spec.Dataset) {
		return fmt.Errorf("%w: dataset name %q (letters, digits, _ . -)", ErrInvalid, spec.Dataset)
	}
	return nil
}

// schema describes what a dataset version holds, in words: its kind, key
// and columns with their types. Two versions of one dataset have the same
// schema unless a writer asked to replace it.
func schema(kind, key string, cols []proto.ColumnStats, in *proto.InteractionsInfo, tx *proto.TransactionsInfo) string {
	switch {
	case in != nil:
		s := fmt.Sprintf("interactions of user %q and item %q", in.User, in.Item)
		if in.Value != "" {
			s += fmt.Sprintf(", value %q", in.Value)
		}
		return s
	case tx != nil:
		s := fmt.Sprintf("transactions of customer %q at time %q, amount %q", tx.Key, tx.Time, tx.Amount)
		if tx.Invoice != "" {
			s += fmt.Sprintf(", invoice %q", tx.Invoice)
		}
		if tx.Item != "" {
			s += fmt.Sprintf(", item %q", tx.Item)
		}
		return s
	}
	names := make([]string, len(cols))
	for i, cs := range cols {
		names[i] = cs.Name
		if cs.Categorical() {
			names[i] += " (categorical)"
		}
	}
	return fmt.Sprintf("%s keyed by %q with columns %s", kind, key, strings.Join(names, ", "))
}

// checkWrite checks that a new version may be written under dc.Name: a
// valid name, and the kind and schema of the dataset's latest version unless
// dc.Replace. flag names the option that replaces, for the message.
func (c *Coordinator) checkWrite(dc *proto.DatasetCommit, flag string) error {
	if !ValidName(dc.Name) {
		return fmt.Errorf("%w: dataset name %q (letters, digits, _ . -)", ErrInvalid, dc.Name)
	}
	ds, err := c.fsm.Dataset(dc.Name)
	if err != nil || dc.Replace || ds.Latest() == nil {
		return nil
	}
	v := ds.Latest()
	// The order of the columns is not part of the schema.
	if schema(ds.Kind, v.Key, byName(v.Columns), v.Interactions, v.Transactions) ==
		schema(dc.Kind, dc.Key, byName(dc.Columns), dc.Interactions, dc.Transactions) {
		return nil
	}
	have := schema(ds.Kind, v.Key, v.Columns, v.Interactions, v.Transactions)
	want := schema(dc.Kind, dc.Key, dc.Columns, dc.Interactions, dc.Transactions)
	return fmt.Errorf("%w: dataset %q holds %s; this version would hold %s: %s replaces it with a new version anyway",
		ErrConflict, dc.Name, have, want, flag)
}

// apiDatasetCheck answers whether an import may write under a name, before
// it reads its file: the name, the kind, and the key and columns when the
// import names them.
func (c *Coordinator) apiDatasetCheck(_ context.Context, body json.RawMessage) (any, error) {
	dc, err := parse[proto.DatasetCheck](body)
	if err != nil {
		return nil, err
	}
	if !ValidName(dc.Name) {
		return nil, fmt.Errorf("%w: dataset name %q (letters, digits, _ . -)", ErrInvalid, dc.Name)
	}
	switch dc.Kind {
	case proto.KindFeatures, proto.KindInteractions, proto.KindTransactions:
	default:
		return nil, fmt.Errorf("%w: dataset kind %q is not supported (features, interactions, transactions)", ErrInvalid, dc.Kind)
	}
	ds, err := c.fsm.Dataset(dc.Name)
	if err != nil || dc.Replace || ds.Latest() == nil {
		return proto.Named{Name: dc.Name}, nil
	}
	v := ds.Latest()
	key := v.Key
	if v.Interactions != nil {
		key = v.Interactions.User
	}
	var why string
	switch {
	case ds.Kind != dc.Kind:
		why = fmt.Sprintf("it is a %s dataset, this import is %s", ds.Kind, dc.Kind)
	case dc.Key != "" && dc.Key != key:
		why = fmt.Sprintf("its key is %q, this import's is %q", key, dc.Key)
	case len(dc.Columns) > 0 && ds.Kind == proto.KindFeatures && !sameSet(dc.Columns, feature.Names(v)):
		why = fmt.Sprintf("its columns are %s, this import's are %s", strings.Join(feature.Names(v), ", "), strings.Join(dc.Columns, ", "))
	default:
		return proto.Named{Name: dc.Name}, nil
	}
	return nil, fmt.Errorf("%w: dataset %q exists and %s: --replace replaces it with a new version anyway", ErrConflict, dc.Name, why)
}

func byName(cols []proto.ColumnStats) []proto.ColumnStats {
	return slices.SortedFunc(slices.Values(cols), func(a, b proto.ColumnStats) int { return strings.Compare(a.Name, b.Name) })
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkScheduleColumns checks, when a schedule is created, that its model
// can score the latest version of its dataset: the kinds fit and every
// column the model reads is there.
func (c *Coordinator) checkScheduleColumns(ctx context.Context, s *proto.ScheduleSpec) error {
	ds, err := c.fsm.Dataset(s.Dataset)
	if err != nil || ds.Latest() == nil {
		return err
	}
	spec := scorealgo.Spec(s.Dataset, proto.ScoreSpec{Model: s.Model, As: s.Name})
	return scorealgo.Algorithm{}.Check(ctx, leaderEnv{c}, &spec, ds, ds.Latest())
}
