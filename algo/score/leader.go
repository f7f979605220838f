package score

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// topItems is how many most recommended items a recommendations score set
// summary keeps.
const topItems = 20

// scorerOf returns the scorer of a model's kind and the model, decoded.
func scorerOf(ctx context.Context, env job.Leader, m *proto.Model) (Model, any, error) {
	k, ok := env.Kind(m.Kind)
	if !ok {
		return nil, nil, job.Invalid("model %s is a %s model, which this build does not know", m.ID, m.Kind)
	}
	r, ok := k.(Model)
	if !ok {
		return nil, nil, job.Invalid("a %s model does not score datasets", m.Kind)
	}
	b, err := env.Blob(ctx, m.Blob)
	if err != nil {
		return nil, nil, fmt.Errorf("coordinator: reading the model: %w", err)
	}
	v, err := k.Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("coordinator: reading the model: %w", err)
	}
	return r, v, nil
}

// Check resolves a scoring spec: a known model of a kind that scores this
// kind of dataset, every column it reads present with the type it was
// trained on, and a score set name.
func (Algorithm) Check(ctx context.Context, env job.Leader, spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := Params(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	m, err := env.Model(p.Model)
	if err != nil {
		return err
	}
	sc, model, err := scorerOf(ctx, env, m)
	if err != nil {
		return err
	}
	want, need := sc.Input(model)
	if ds.Kind != want {
		return job.Invalid("a %s model scores a %s dataset; %s is %s", m.Kind, want, ds.Name, ds.Kind)
	}
	if p.Items {
		if _, ok := sc.(ItemScorer); !ok {
			return job.Invalid("a %s model has no item neighbours (--items is for ALS and basket models)", m.Kind)
		}
		need = nil // the rows are the model's items
	}
	if p.As == "" {
		p.As = spec.Dataset + "-" + p.Model
		if p.Items {
			p.As += "-items"
		}
	}
	if !proto.ValidName(p.As) {
		return job.Invalid("score set name %q (letters, digits, _ . -)", p.As)
	}
	if kind, _ := sc.Output(model); (kind == proto.ScoresRecommendations || p.Items) && p.Top == nil {
		p.Top = new(proto.DefaultTop) // left out: the default, in the committed spec
	}
	if tu, ok := sc.(Tuner); ok {
		if err := tu.Tune(model, p); err != nil {
			return err
		}
	} else if p.Horizon != nil || p.DiscountRate != nil {
		return job.Invalid("a %s model takes no horizon or discount rate", m.Kind)
	}
	if ver.Key == "" {
		return job.Invalid("dataset %s has no key column", ds.Name)
	}
	var missing []string
	for _, name := range need {
		if cs := feature.Column(ver, name); cs != nil && !cs.Categorical() {
			continue
		}
		col, _, onehot := strings.Cut(name, "=")
		if cs := feature.Column(ver, col); onehot && cs != nil && cs.Categorical() {
			continue
		}
		missing = append(missing, name)
	}
	if len(missing) > 0 {
		return job.Invalid("model %s needs column %s, which dataset %s version %d does not have as a %s (it has %s)",
			m.ID, quoteList(missing), spec.Dataset, ver.Version, columnKind(missing[0]), strings.Join(feature.Names(ver), ", "))
	}
	return job.SetParams(spec, p)
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

// scoreJob scores every row of a dataset version with a model: for a
// Ranker first the exact decile cuts of its scores, then one pass that
// writes a score shard per dataset shard.
type scoreJob struct {
	spec   proto.JobSpec
	p      *proto.ScoreSpec
	ver    *proto.DatasetVersion
	id     string
	model  *proto.Model
	key    string // the score set's key column
	output string // the score set kind
	cols   []string
	q      *quantile.State
	cuts   []float64
	// search is a Cutter's search, found what it found.
	search Search
	found  json.RawMessage
	// written and parts are the kept output shards and their summaries,
	// once the write pass is done.
	written []proto.ShardRef
	parts   []*Partial
}

// NewJob makes a scoring job's state machine.
func (Algorithm) NewJob(ctx context.Context, env job.Leader, id string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	p, err := Params(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	m, err := env.Model(p.Model)
	if err != nil {
		return nil, err
	}
	sc, model, err := scorerOf(ctx, env, m)
	if err != nil {
		return nil, err
	}
	j := &scoreJob{spec: spec, p: p, ver: ver, id: id, model: m, key: ver.Key}
	var cols []string
	j.output, cols = outputColumns(sc, model)
	j.cols = cols
	if p.Items {
		is, ok := sc.(ItemScorer)
		if !ok {
			return nil, job.Invalid("a %s model has no item neighbours", m.Kind)
		}
		j.output, j.key, j.cols = proto.ScoresNeighbours, ItemKey, nil
		for _, c := range is.ItemOutput(model) {
			j.cols = append(j.cols, c.Name)
		}
		return j, nil // one write pass
	}
	if _, ok := sc.(Scorer); !ok { // a Ranker: deciles first
		if j.q, err = quantile.New(quantile.Config{Q: 10, Descending: true}, 1); err != nil {
			return nil, err
		}
	}
	if c, ok := sc.(Cutter); ok {
		if j.search, err = c.Search(model, p); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func outputColumns(sc Model, model any) (string, []string) {
	kind, cols := sc.Output(model)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return kind, names
}

func (j *scoreJob) task(stage string) *Task {
	t := &Task{Kind: j.model.Kind, Model: j.model.Blob, Key: j.key, Stage: stage,
		Prefix: "scores/" + j.p.As + "/" + j.id, Items: j.p.Items}
	if j.p.Items {
		t.Shards = len(j.ver.Shards)
	}
	if top := j.p.Top; top != nil {
		t.Top = *top
	}
	t.Horizon, t.DiscountRate = j.p.Horizon, j.p.DiscountRate
	for _, c := range j.ver.Columns {
		if c.Categorical() {
			if t.Levels == nil {
				t.Levels = map[string][]string{}
			}
			t.Levels[c.Name] = c.Levels
		}
	}
	return t
}

func (j *scoreJob) Next() (any, bool) {
	if j.q != nil {
		if qt, done := j.q.Next(); !done {
			t := j.task(StageCuts)
			t.Quantile = qt
			return t, false
		}
	}
	if j.search != nil && j.found == nil {
		if st, done := j.search.Next(); !done {
			t := j.task(StageSearch)
			t.Search = st
			return t, false
		}
	}
	if j.written != nil {
		return nil, true
	}
	t := j.task(StageWrite)
	t.Cuts, t.Found = j.cuts, j.found
	return t, false
}

func (j *scoreJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[Partial](Name, parts)
	if err != nil {
		return err
	}
	if j.q != nil {
		if _, done := j.q.Next(); !done {
			qs := make([]*quantile.Result, len(res))
			for i, r := range res {
				if r.Quantile == nil {
					return fmt.Errorf("score: shard %d sent no quantile result", i)
				}
				qs[i] = r.Quantile
			}
			if err := j.q.Absorb(qs); err != nil {
				return err
			}
			if _, done := j.q.Next(); done {
				j.cuts = j.q.Cuts()[0]
			}
			return nil
		}
	}
	if j.search != nil && j.found == nil {
		if _, done := j.search.Next(); !done {
			answers := make([]json.RawMessage, len(res))
			for i, r := range res {
				if r.Search == nil {
					return fmt.Errorf("score: shard %d sent no search result", i)
				}
				answers[i] = r.Search
			}
			if err := j.search.Absorb(answers); err != nil {
				return err
			}
			if _, done := j.search.Next(); done {
				if j.found, err = j.search.Found(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	written := make([]proto.ShardRef, len(parts))
	for i, p := range parts {
		if p.Output == nil || p.Output.Index != i {
			return fmt.Errorf("score: shard %d sent no score shard", i)
		}
		written[i] = *p.Output
	}
	j.written, j.parts = written, res
	return nil
}

func (j *scoreJob) Progress() job.Progress {
	switch {
	case j.written != nil:
		return job.Progress{Phase: "written"}
	case j.q != nil && j.cuts == nil:
		return job.Progress{Phase: "deciles"}
	case j.search != nil && j.found == nil:
		return job.Progress{Phase: "search"}
	}
	return job.Progress{Phase: "score"}
}

func (j *scoreJob) MaxIter() int     { return 0 }
func (j *scoreJob) Prep() proto.Prep { return proto.Prep{} }

type saved struct {
	Q       json.RawMessage  `json:"q,omitempty"`
	Cuts    []float64        `json:"cuts,omitempty"`
	Written []proto.ShardRef `json:"written,omitempty"`
	Parts   []*Partial       `json:"parts,omitempty"`
	Search  json.RawMessage  `json:"search,omitempty"`
	Found   json.RawMessage  `json:"found,omitempty"`
}

const stateKind = "score.state"

func (j *scoreJob) Save() ([]byte, error) {
	s := saved{Cuts: j.cuts, Written: j.written, Parts: j.parts, Found: j.found}
	if j.search != nil {
		b, err := j.search.MarshalJSON()
		if err != nil {
			return nil, err
		}
		s.Search = b
	}
	if j.q != nil {
		b, err := json.Marshal(j.q)
		if err != nil {
			return nil, err
		}
		s.Q = b
	}
	return blob.Encode(stateKind, s)
}

func (j *scoreJob) Load(b []byte) error {
	var s saved
	if err := blob.Decode(b, stateKind, &s); err != nil {
		return err
	}
	if s.Q != nil {
		j.q = new(quantile.State)
		if err := json.Unmarshal(s.Q, j.q); err != nil {
			return err
		}
	}
	if s.Search != nil {
		if j.search == nil {
			return fmt.Errorf("score: a saved search for a model without one")
		}
		if err := j.search.UnmarshalJSON(s.Search); err != nil {
			return err
		}
	}
	j.cuts, j.written, j.parts, j.found = s.Cuts, s.Written, s.Parts, s.Found
	return nil
}

// Refs are the written shards, kept until the score set is committed.
func (j *scoreJob) Refs() []proto.BlobRef {
	out := make([]proto.BlobRef, 0, len(j.written))
	for _, s := range j.written {
		out = append(out, proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256})
	}
	return out
}

// Finish is the score set the job made, with its summary merged from the
// shards' in shard order.
func (j *scoreJob) Finish() (*job.Result, error) {
	if j.written == nil {
		return nil, fmt.Errorf("score: scoring job %s has written no shards", j.id)
	}
	ss := &proto.ScoreSet{Name: j.p.As, Kind: j.output, Model: j.model.ID, Dataset: j.spec.Dataset,
		Key: j.key, Shards: j.written, Schedule: j.spec.Schedule, Columns: j.cols}
	ss.DatasetVersion = j.spec.DatasetVersion
	sum := &ss.Summary
	var deciles []proto.DecileSums
	items := map[string]int64{}
	for i, p := range j.parts {
		ss.Rows += j.written[i].Rows
		ss.Scored += p.Scored
		ss.Unscored += p.Unscored
		sum.Moments.Merge(p.Values)
		for s, n := range p.Segments {
			if s >= len(sum.Segments) {
				sum.Segments = append(sum.Segments, make([]int64, s+1-len(sum.Segments))...)
			}
			sum.Segments[s] += n
		}
		if p.Deciles != nil {
			if deciles == nil {
				deciles = make([]proto.DecileSums, len(p.Deciles))
				for d := range deciles {
					deciles[d].Min, deciles[d].Max = math.Inf(1), math.Inf(-1)
				}
			}
			for d, ds := range p.Deciles {
				deciles[d].Rows += ds.Rows
				deciles[d].Sum += ds.Sum
				deciles[d].Min, deciles[d].Max = min(deciles[d].Min, ds.Min), max(deciles[d].Max, ds.Max)
			}
		}
		for _, ic := range p.Items {
			items[ic.Item] += ic.Count
		}
		mergeTiers(sum, p.Tiers)
	}
	for i := range sum.Tiers {
		if sum.Tiers[i].Rows == 0 {
			sum.Tiers[i].Min, sum.Tiers[i].Max = 0, 0
		}
	}
	if j.search != nil {
		j.search.Summarize(sum)
	}
	for d, ds := range deciles {
		row := proto.Decile{Decile: d + 1, Rows: ds.Rows}
		if ds.Rows > 0 {
			row.Min, row.Max, row.Mean = ds.Min, ds.Max, ds.Sum/float64(ds.Rows)
		}
		sum.Deciles = append(sum.Deciles, row)
	}
	for id, n := range items {
		sum.Items = append(sum.Items, proto.ItemCount{Item: id, Count: n})
	}
	slices.SortFunc(sum.Items, func(a, b proto.ItemCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Item, b.Item))
	})
	if len(sum.Items) > topItems {
		sum.Items = sum.Items[:topItems]
	}
	if sum.Moments.Count == 0 {
		sum.Moments.Min, sum.Moments.Max = 0, 0
	}
	return &job.Result{Scores: ss}, nil
}

// mergeTiers adds one shard's value tier sums to the summary's.
func mergeTiers(sum *proto.ScoreSummary, tiers []proto.ValueTier) {
	for i, t := range tiers {
		if i == len(sum.Tiers) {
			sum.Tiers = append(sum.Tiers, proto.ValueTier{Tier: t.Tier, Min: math.Inf(1), Max: math.Inf(-1)})
		}
		row := &sum.Tiers[i]
		row.Rows += t.Rows
		row.Sum += t.Sum
		if t.Rows > 0 {
			row.Min, row.Max = min(row.Min, t.Min), max(row.Max, t.Max)
		}
	}
}
