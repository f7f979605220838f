package rfmjob

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Check checks an RFM spec against its transactions version: the output
// needs a valid name that is not a dataset of another kind or schema
// (unless replaced), the segment map must be whole, and the as-of time
// must be a whole day after the first transaction.
func (Algorithm) Check(_ context.Context, env job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	p, err := ParamsOf(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if ver.Transactions == nil {
		return job.Invalid("features rfm needs a transactions dataset")
	}
	if !proto.ValidName(p.As) {
		return job.Invalid("output dataset name %q (letters, digits, _ . -)", p.As)
	}
	if p.As == spec.Dataset {
		return job.Invalid("the output must be a new dataset, not the transactions %q", p.As)
	}
	if err := env.CheckWrite(output(p, ver), "--replace"); err != nil {
		return err
	}
	if _, err := newJob(*spec, p, ver, ""); err != nil {
		return err
	}
	if tx, at := ver.Transactions, p.AsOf; !at.IsZero() && !at.After(tx.First) {
		return job.Invalid("as-of %s is not after the first transaction (%s): no customer has a purchase before it",
			at.Format(time.DateOnly), tx.First.Format(time.DateTime))
	}
	return nil
}

// output is the features dataset version an RFM job writes, without its
// shards and statistics.
func output(p *Params, ver *proto.DatasetVersion) *proto.DatasetCommit {
	return &proto.DatasetCommit{Name: p.As, Kind: proto.KindFeatures, Key: ver.Key, Columns: columns(p), Replace: p.Replace}
}

// columns are the columns of the features dataset an RFM job writes,
// without statistics: the segment column is categorical, its dictionary
// the names of the job's segment map.
func columns(p *Params) []proto.ColumnStats {
	names := rfm.ColumnNames()
	cols := make([]proto.ColumnStats, len(names))
	for i, n := range names {
		cols[i] = proto.ColumnStats{Name: n}
	}
	cols[rfm.ColSegment].Levels = rfm.Config{Segments: p.Segments}.SegmentMap().Names()
	return cols
}

func config(p *Params, ver *proto.DatasetVersion) rfm.Config {
	asOf := rfm.DefaultAsOf(ver.Transactions.Last.Unix())
	if !p.AsOf.IsZero() {
		asOf = p.AsOf.Unix()
	}
	return rfm.Config{AsOf: asOf, Segments: p.Segments}
}

// rfmJob computes RFM features: search passes for the exact quintile cuts,
// then one pass that writes a features shard per transactions shard.
type rfmJob struct {
	spec proto.JobSpec
	p    *Params
	ver  *proto.DatasetVersion
	id   string
	cfg  rfm.Config
	st   *rfm.State
	// written holds the kept output shard of each shard once the write
	// pass is done, with its column moments.
	written []proto.ShardRef
	moments [][]proto.Moments
	// levels holds each written shard's count of customers per segment
	// code.
	levels [][]int64
}

// NewJob makes an RFM job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, id string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	p, err := ParamsOf(&spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	if ver.Transactions == nil {
		return nil, job.Invalid("features rfm needs a transactions dataset")
	}
	return newJob(spec, p, ver, id)
}

func newJob(spec proto.JobSpec, p *Params, ver *proto.DatasetVersion, id string) (*rfmJob, error) {
	cfg := config(p, ver)
	st, err := rfm.New(cfg)
	if err != nil {
		return nil, job.Invalid("%v", err)
	}
	return &rfmJob{spec: spec, p: p, ver: ver, id: id, cfg: cfg, st: st}, nil
}

func (j *rfmJob) Next() (any, bool) {
	if t, done := j.st.Next(); !done {
		return &Task{Search: t}, false
	}
	if j.written != nil {
		return nil, true
	}
	return &Task{Write: &Write{Config: j.cfg, Cuts: j.st.Cuts(), Key: j.ver.Key,
		Prefix: "datasets/" + j.p.As + "/" + j.id}}, false
}

func (j *rfmJob) Absorb(parts []*proto.Partial) error {
	if _, done := j.st.Next(); !done {
		res, err := job.Decode[rfm.Result](Name, parts)
		if err != nil {
			return err
		}
		return j.st.Absorb(res)
	}
	res, err := job.Decode[Written](Name, parts)
	if err != nil {
		return err
	}
	written := make([]proto.ShardRef, len(parts))
	moments := make([][]proto.Moments, len(parts))
	levels := make([][]int64, len(parts))
	segments := len(j.cfg.SegmentMap().Names())
	for i, p := range parts {
		if p.Output == nil || p.Output.Index != i || len(res[i].Moments) != rfm.NumColumns {
			return fmt.Errorf("rfm: shard %d sent no features shard", i)
		}
		var counted int64
		for _, n := range res[i].Segments {
			if n < 0 {
				counted = -1
				break
			}
			counted += n
		}
		if len(res[i].Segments) != segments || counted != p.Output.Rows {
			return fmt.Errorf("rfm: shard %d sent no segment counts for its %d rows", i, p.Output.Rows)
		}
		written[i], moments[i], levels[i] = *p.Output, res[i].Moments, res[i].Segments
	}
	j.written, j.moments, j.levels = written, moments, levels
	return nil
}

func (j *rfmJob) Progress() job.Progress {
	switch _, done := j.st.Next(); {
	case j.written != nil:
		return job.Progress{Phase: "written", Iteration: j.st.Iteration() + 1}
	case done:
		return job.Progress{Phase: "write", Iteration: j.st.Iteration()}
	}
	return job.Progress{Phase: j.st.Phase(), Iteration: j.st.Iteration()}
}

func (j *rfmJob) MaxIter() int     { return 0 }
func (j *rfmJob) Prep() proto.Prep { return proto.Prep{} }

const stateKind = "rfm.state"

type saved struct {
	State   json.RawMessage
	Written []proto.ShardRef
	Moments [][]proto.Moments
	Levels  [][]int64 `json:",omitempty"`
}

func (j *rfmJob) Save() ([]byte, error) {
	b, err := json.Marshal(j.st)
	if err != nil {
		return nil, err
	}
	return blob.Encode(stateKind, saved{State: b, Written: j.written, Moments: j.moments, Levels: j.levels})
}

func (j *rfmJob) Load(b []byte) error {
	var s saved
	if err := blob.Decode(b, stateKind, &s); err != nil {
		return err
	}
	st := new(rfm.State)
	if err := json.Unmarshal(s.State, st); err != nil {
		return err
	}
	j.st, j.written, j.moments, j.levels = st, s.Written, s.Moments, s.Levels
	return nil
}

// Refs are the written shards, kept alive until the output is committed.
func (j *rfmJob) Refs() []proto.BlobRef {
	out := make([]proto.BlobRef, 0, len(j.written))
	for _, s := range j.written {
		out = append(out, proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256})
	}
	return out
}

// Finish is the features dataset version the job made.
func (j *rfmJob) Finish() (*job.Result, error) {
	if j.written == nil {
		return nil, fmt.Errorf("rfm: job %s has written no shards", j.id)
	}
	cols := columns(j.p)
	merged := make([]proto.Moments, len(cols))
	counts := make([]int64, len(cols[rfm.ColSegment].Levels))
	var rows int64
	for i, s := range j.written {
		if len(j.moments) != len(j.written) || len(j.moments[i]) != len(cols) || len(j.levels) != len(j.written) || len(j.levels[i]) != len(counts) {
			return nil, fmt.Errorf("rfm: job %s: shard %d's statistics are not of this version's columns", j.id, i)
		}
		rows += s.Rows
		for c := range cols {
			merged[c].Merge(j.moments[i][c])
		}
		for k, n := range j.levels[i] {
			counts[k] += n
		}
	}
	for c := range cols {
		levels := cols[c].Levels
		cols[c] = merged[c].Stats(cols[c].Name)
		if levels != nil {
			// Categorical, as an import describes one: the values' counts.
			cols[c].Min, cols[c].Max, cols[c].Mean, cols[c].Std = 0, 0, 0, 0
			cols[c].Levels, cols[c].LevelCounts = levels, counts
		}
	}
	src := fmt.Sprintf("features rfm of %s version %d as of %s", j.spec.Dataset, j.spec.DatasetVersion,
		time.Unix(j.cfg.AsOf, 0).UTC().Format(time.DateOnly))
	return &job.Result{Output: &proto.DatasetCommit{Name: j.p.As, Kind: proto.KindFeatures, Key: j.ver.Key, Source: src,
		Rows: rows, Columns: cols, Shards: j.written, Replace: j.p.Replace}}, nil
}
