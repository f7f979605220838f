package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// What the leader checks before a job or a dataset version exists, so that a
// mistake that can be seen from the spec and the dataset's schema and column
// statistics is an answer to the request, not a job failing on the workers.

// checkParams checks a spec's parameters as the CLI does (proto.JobSpec.
// CheckParams) and the names it gives.
func checkParams(spec *proto.JobSpec) error {
	if err := spec.CheckParams(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !ValidName(spec.Dataset) {
		return fmt.Errorf("%w: dataset name %q (letters, digits, _ . -)", ErrInvalid, spec.Dataset)
	}
	return nil
}

// checkColumns checks, once a spec's columns are resolved against the
// dataset version, that each has values, and for a logistic regression that
// the target is 0/1.
func checkColumns(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	var cols []string
	switch spec.Algo {
	case "kmeans":
		cols = spec.KMeans.Columns
	case "linear":
		cols = append([]string{spec.Linear.Target}, spec.Linear.Features...)
	case "logistic":
		cols = append([]string{spec.Logistic.Target}, spec.Logistic.Features...)
		if err := checkBinaryTarget(ver, spec.Logistic.Target); err != nil {
			return err
		}
	case "als":
		return checkInteractionValues(spec.ALS, ver)
	case "rfm":
		if tx, at := ver.Transactions, spec.RFM.AsOf; tx != nil && !at.IsZero() && !at.After(tx.First) {
			return fmt.Errorf("%w: as-of %s is not after the first transaction (%s): no customer has a purchase before it",
				ErrInvalid, at.Format(time.DateOnly), tx.First.Format(time.DateTime))
		}
	}
	for _, name := range cols {
		cs := columnStats(ver, name)
		if cs == nil {
			cs, _, _ = oneHot(ver, name)
		}
		if cs != nil && cs.Count == 0 {
			return fmt.Errorf("%w: column %q has no value in version %d (every row is missing it)", ErrInvalid, name, ver.Version)
		}
	}
	return nil
}

// binaryTol bounds how far a 0/1 column's variance may be from p(1-p): the
// import's Welford moments are exact to about 1e-15 for such a column, and
// one value strictly between 0 and 1 among a million rows moves it by more.
const binaryTol = 1e-9

// checkBinaryTarget checks that a logistic target holds only 0 and 1, both:
// a one-hot column "c=v" always does; a numeric column does when its range
// is [0, 1] and its variance is that of a 0/1 column, p(1-p) with p its
// mean (any value strictly between 0 and 1 makes it smaller).
func checkBinaryTarget(ver *proto.DatasetVersion, target string) error {
	cs := columnStats(ver, target)
	if cs == nil || cs.Categorical() {
		return nil // a one-hot column
	}
	hint := ""
	if c := firstCategorical(ver); c != nil {
		hint = fmt.Sprintf(" (or name one value of a categorical column, e.g. --target %s=%s)", c.Name, c.Levels[len(c.Levels)-1])
	}
	switch {
	case cs.Count == 0:
		return fmt.Errorf("%w: logistic target %q has no value in version %d", ErrInvalid, target, ver.Version)
	case cs.Min < 0 || cs.Max > 1:
		return fmt.Errorf("%w: logistic target %q must hold only 0 and 1, but its values range from %v to %v%s",
			ErrInvalid, target, cs.Min, cs.Max, hint)
	case cs.Min == cs.Max:
		return fmt.Errorf("%w: logistic target %q holds only %v: it needs rows of both classes, 0 and 1", ErrInvalid, target, cs.Min)
	case cs.Mean*(1-cs.Mean)-cs.Std*cs.Std > binaryTol:
		return fmt.Errorf("%w: logistic target %q must hold only 0 and 1, but it holds values between 0 and 1%s", ErrInvalid, target, hint)
	}
	return nil
}

func firstCategorical(ver *proto.DatasetVersion) *proto.ColumnStats {
	for i := range ver.Columns {
		if c := &ver.Columns[i]; c.Categorical() && len(c.Levels) > 0 {
			return c
		}
	}
	return nil
}

// checkInteractionValues checks that implicit feedback has counts, not
// negative values.
func checkInteractionValues(as *proto.ALSSpec, ver *proto.DatasetVersion) error {
	if !as.Implicit || ver.Interactions == nil || ver.Interactions.Value == "" || len(ver.Columns) == 0 {
		return nil
	}
	if cs := ver.Columns[0]; cs.Count > 0 && cs.Min < 0 {
		return fmt.Errorf("%w: implicit feedback needs counts of at least 0, but column %q has values down to %v",
			ErrInvalid, ver.Interactions.Value, cs.Min)
	}
	return nil
}

// checkScoreColumns checks that the dataset version has every column the
// model reads, of the type it was trained on.
func (c *Coordinator) checkScoreColumns(ctx context.Context, spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	m, err := c.fsm.Model(spec.Score.Model)
	if err != nil {
		return err
	}
	var need []string
	switch m.Kind {
	case "kmeans":
		km, err := c.loadKMeansModel(ctx, m.Blob)
		if err != nil {
			return modelReadError(err)
		}
		need = km.Columns
	case "linear", "logistic":
		b, err := c.store.Get(ctx, m.Blob)
		if err != nil {
			return modelReadError(err)
		}
		var sm proto.SupervisedModel
		if err := blob.Decode(b, supervisedModelKind, &sm); err != nil {
			return err
		}
		need = sm.Features
	default:
		return nil // ALS scores the users of an interactions dataset
	}
	var missing []string
	for _, name := range need {
		if cs := columnStats(ver, name); cs != nil && !cs.Categorical() {
			continue
		}
		col, _, onehot := strings.Cut(name, "=")
		if cs := columnStats(ver, col); onehot && cs != nil && cs.Categorical() {
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: model %s needs column %s, which dataset %s version %d does not have as a %s (it has %s)",
			ErrInvalid, m.ID, quoteList(missing), spec.Dataset, ver.Version, columnKind(missing[0]), strings.Join(columnNames(ver), ", "))
	}
	return nil
}

func columnKind(name string) string {
	if strings.Contains(name, "=") {
		return "categorical column"
	}
	return "numeric column"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// modelReadError says that the model's blob could not be read while a
// request was checked: the store did not answer, and the request may be sent
// again.
func modelReadError(err error) error { return fmt.Errorf("coordinator: reading the model: %w", err) }

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
	case len(dc.Columns) > 0 && ds.Kind == proto.KindFeatures && !sameSet(dc.Columns, columnNames(v)):
		why = fmt.Sprintf("its columns are %s, this import's are %s", strings.Join(columnNames(v), ", "), strings.Join(dc.Columns, ", "))
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

// rfmOutput is the schema of the features dataset an RFM job writes.
func rfmOutput(spec *proto.JobSpec, ver *proto.DatasetVersion) *proto.DatasetCommit {
	return &proto.DatasetCommit{Name: spec.RFM.As, Kind: proto.KindFeatures, Key: ver.Key, Columns: rfmColumns(spec), Replace: spec.RFM.Replace}
}

// checkScheduleColumns checks, when a schedule is created, that its model
// can score the latest version of its dataset: the kinds fit and every
// column the model reads is there.
func (c *Coordinator) checkScheduleColumns(ctx context.Context, s *proto.ScheduleSpec) error {
	ds, err := c.fsm.Dataset(s.Dataset)
	if err != nil || ds.Latest() == nil {
		return err
	}
	spec := proto.JobSpec{Algo: "score", Dataset: s.Dataset, Score: &proto.ScoreSpec{Model: s.Model, As: s.Name}}
	if err := c.checkScore(&spec, ds, ds.Latest()); err != nil {
		return err
	}
	return c.checkScoreColumns(ctx, &spec, ds.Latest())
}
