package coordinator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// topItems is how many most recommended items a recommendations score set
// summary keeps.
const topItems = 20

// checkScore validates a scoring spec: a known model of a kind that fits
// the dataset, and a score set name.
func (c *Coordinator) checkScore(spec *proto.JobSpec, ds *proto.Dataset, ver *proto.DatasetVersion) error {
	ss := spec.Score
	if ss == nil {
		return fmt.Errorf("%w: score parameters missing", ErrInvalid)
	}
	m, err := c.fsm.Model(ss.Model)
	if err != nil {
		return err
	}
	want := proto.KindFeatures
	if m.Kind == "als" {
		want = proto.KindInteractions
	}
	if ds.Kind != want {
		return fmt.Errorf("%w: a %s model scores a %s dataset; %s is %s", ErrInvalid, m.Kind, want, ds.Name, ds.Kind)
	}
	if ss.As == "" {
		ss.As = spec.Dataset + "-" + ss.Model
	}
	if !ValidName(ss.As) {
		return fmt.Errorf("%w: score set name %q (letters, digits, _ . -)", ErrInvalid, ss.As)
	}
	if m.Kind == "als" && ss.Top == nil {
		ss.Top = new(proto.DefaultTop) // left out: the default, in the committed spec
	}
	if ver.Key == "" {
		return fmt.Errorf("%w: dataset %s has no key column", ErrInvalid, ds.Name)
	}
	return nil
}

// scoreJob scores every row of a dataset version with a model: for linear
// and logistic models first the exact decile cuts of the predictions, then
// one pass that writes a score shard per dataset shard.
type scoreJob struct {
	spec  proto.JobSpec
	ver   *proto.DatasetVersion
	id    string
	model *proto.Model
	q     *quantile.State
	cuts  []float64
	// written and parts are the kept output shards and their summaries,
	// once the write pass is done.
	written []proto.ShardRef
	parts   []*proto.ScorePartial
}

func (c *Coordinator) newScoreJob(id string, spec proto.JobSpec, ver *proto.DatasetVersion) (*scoreJob, error) {
	if spec.Score == nil {
		return nil, fmt.Errorf("%w: score parameters missing", ErrInvalid)
	}
	m, err := c.fsm.Model(spec.Score.Model)
	if err != nil {
		return nil, err
	}
	j := &scoreJob{spec: spec, ver: ver, id: id, model: m}
	if m.Kind == "linear" || m.Kind == "logistic" {
		if j.q, err = quantile.New(quantile.Config{Q: 10, Descending: true}, 1); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func (j *scoreJob) task(stage string) *proto.ScoreTask {
	t := &proto.ScoreTask{Kind: j.model.Kind, Model: j.model.Blob, Key: j.ver.Key, Stage: stage,
		Prefix: "scores/" + j.spec.Score.As + "/" + j.id}
	if top := j.spec.Score.Top; top != nil {
		t.Top = *top
	}
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
			t := j.task(proto.ScoreStageCuts)
			t.Quantile = qt
			return t, false
		}
	}
	if j.written != nil {
		return nil, true
	}
	t := j.task(proto.ScoreStageWrite)
	t.Cuts = j.cuts
	return t, false
}

func (j *scoreJob) Absorb(parts []*proto.Partial) error {
	if j.q != nil {
		if _, done := j.q.Next(); !done {
			res := make([]*quantile.Result, len(parts))
			for i, p := range parts {
				if p.Score == nil || p.Score.Quantile == nil {
					return fmt.Errorf("coordinator: shard %d sent no quantile result", i)
				}
				res[i] = p.Score.Quantile
			}
			if err := j.q.Absorb(res); err != nil {
				return err
			}
			if _, done := j.q.Next(); done {
				j.cuts = j.q.Cuts()[0]
			}
			return nil
		}
	}
	written := make([]proto.ShardRef, len(parts))
	sums := make([]*proto.ScorePartial, len(parts))
	for i, p := range parts {
		if p.Output == nil || p.Output.Index != i || p.Score == nil {
			return fmt.Errorf("coordinator: shard %d sent no score shard", i)
		}
		written[i], sums[i] = *p.Output, p.Score
	}
	j.written, j.parts = written, sums
	return nil
}

// Shards is the layout scored: an ALS model scores the users of the
// by-user layout.
func (j *scoreJob) Shards(ver *proto.DatasetVersion) []proto.ShardRef { return ver.Shards }

func (j *scoreJob) Progress() (string, int, float64, float64) {
	switch {
	case j.written != nil:
		return "written", 0, 0, 0
	case j.q != nil && j.cuts == nil:
		return "deciles", 0, 0, 0
	}
	return "score", 0, 0, 0
}

func (j *scoreJob) MaxIter() int     { return 0 }
func (j *scoreJob) Prep() proto.Prep { return proto.Prep{} }

type scoreSaved struct {
	Q       json.RawMessage       `json:"q,omitempty"`
	Cuts    []float64             `json:"cuts,omitempty"`
	Written []proto.ShardRef      `json:"written,omitempty"`
	Parts   []*proto.ScorePartial `json:"parts,omitempty"`
}

func (j *scoreJob) Save() ([]byte, error) {
	s := scoreSaved{Cuts: j.cuts, Written: j.written, Parts: j.parts}
	if j.q != nil {
		b, err := json.Marshal(j.q)
		if err != nil {
			return nil, err
		}
		s.Q = b
	}
	return blob.Encode("score.state", s)
}

func (j *scoreJob) Load(b []byte) error {
	var s scoreSaved
	if err := blob.Decode(b, "score.state", &s); err != nil {
		return err
	}
	if s.Q != nil {
		j.q = new(quantile.State)
		if err := json.Unmarshal(s.Q, j.q); err != nil {
			return err
		}
	}
	j.cuts, j.written, j.parts = s.Cuts, s.Written, s.Parts
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

func (j *scoreJob) Model() (string, []byte, error) {
	return "", nil, fmt.Errorf("coordinator: a scoring job makes a score set, not a model")
}

// Scores is the score set the job made, with its summary merged from the
// shards' in shard order.
func (j *scoreJob) Scores() (*proto.ScoreSet, error) {
	if j.written == nil {
		return nil, fmt.Errorf("coordinator: scoring job %s has written no shards", j.id)
	}
	kind := scoreSetKindOf(j.model.Kind)
	ss := &proto.ScoreSet{Name: j.spec.Score.As, Kind: kind, Model: j.model.ID, Dataset: j.spec.Dataset,
		Key: j.ver.Key, Shards: j.written, Schedule: j.spec.Schedule}
	ss.DatasetVersion = j.spec.DatasetVersion
	switch kind {
	case proto.ScoresSegments:
		ss.Columns = []string{"segment", "distance"}
	case proto.ScoresPredictions:
		ss.Columns = []string{"prediction"}
	case proto.ScoresProbabilities:
		ss.Columns = []string{"probability", "decile"}
	case proto.ScoresRecommendations:
		ss.Columns = []string{"rank", "item", "score"}
	}
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
	return ss, nil
}

func scoreSetKindOf(modelKind string) string {
	switch modelKind {
	case "kmeans":
		return proto.ScoresSegments
	case "linear":
		return proto.ScoresPredictions
	case "logistic":
		return proto.ScoresProbabilities
	}
	return proto.ScoresRecommendations
}
