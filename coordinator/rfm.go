package coordinator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mathcrm/mathcrm/algo/rfm"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// checkRFM validates an RFM spec: the output needs a valid name that is not
// a dataset of another kind, and the as-of time must be a whole day at or
// after the first transaction.
func (c *Coordinator) checkRFM(spec *proto.JobSpec, ver *proto.DatasetVersion) error {
	rs := spec.RFM
	if rs == nil {
		return fmt.Errorf("%w: rfm parameters missing", ErrInvalid)
	}
	if ver.Transactions == nil {
		return fmt.Errorf("%w: features rfm needs a transactions dataset", ErrInvalid)
	}
	if !ValidName(rs.As) {
		return fmt.Errorf("%w: output dataset name %q (letters, digits, _ . -)", ErrInvalid, rs.As)
	}
	if rs.As == spec.Dataset {
		return fmt.Errorf("%w: the output must be a new dataset, not the transactions %q", ErrInvalid, rs.As)
	}
	if err := c.checkWrite(rfmOutput(spec, ver), "--replace"); err != nil {
		return err
	}
	_, err := newRFMJob(*spec, ver, "")
	return err
}

// rfmJob computes RFM features: search passes for the exact quintile cuts,
// then one pass that writes a features shard per transactions shard.
type rfmJob struct {
	spec proto.JobSpec
	ver  *proto.DatasetVersion
	id   string
	cfg  rfm.Config
	st   *rfm.State
	// Written holds the kept output shard of each shard once the write pass
	// is done, with its column moments.
	written []proto.ShardRef
	moments [][]proto.Moments
	// levels holds each written shard's count of customers per segment
	// code.
	levels [][]int64
}

func rfmConfig(spec proto.JobSpec, ver *proto.DatasetVersion) rfm.Config {
	asOf := rfm.DefaultAsOf(ver.Transactions.Last.Unix())
	if !spec.RFM.AsOf.IsZero() {
		asOf = spec.RFM.AsOf.Unix()
	}
	return rfm.Config{AsOf: asOf, Segments: spec.RFM.Segments}
}

// rfmColumns are the columns of the features dataset an RFM job writes,
// without statistics: the segment column is categorical, its dictionary
// the names of the job's segment map.
func rfmColumns(spec *proto.JobSpec) []proto.ColumnStats {
	names := rfm.ColumnNames()
	cols := make([]proto.ColumnStats, len(names))
	for i, n := range names {
		cols[i] = proto.ColumnStats{Name: n}
	}
	cols[rfm.ColSegment].Levels = rfm.Config{Segments: spec.RFM.Segments}.SegmentMap().Names()
	return cols
}

func newRFMJob(spec proto.JobSpec, ver *proto.DatasetVersion, id string) (*rfmJob, error) {
	cfg := rfmConfig(spec, ver)
	st, err := rfm.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &rfmJob{spec: spec, ver: ver, id: id, cfg: cfg, st: st}, nil
}

func (j *rfmJob) Next() (any, bool) {
	if t, done := j.st.Next(); !done {
		return &proto.RFMTask{Search: t}, false
	}
	if j.written != nil {
		return nil, true
	}
	return &proto.RFMTask{Write: &proto.RFMWrite{Config: j.cfg, Cuts: j.st.Cuts(), Key: j.ver.Key,
		Prefix: "datasets/" + j.spec.RFM.As + "/" + j.id}}, false
}

func (j *rfmJob) Absorb(parts []*proto.Partial) error {
	if _, done := j.st.Next(); !done {
		res := make([]*rfm.Result, len(parts))
		for i, p := range parts {
			if p.RFM == nil {
				return fmt.Errorf("coordinator: shard %d sent no rfm result", i)
			}
			res[i] = p.RFM
		}
		return j.st.Absorb(res)
	}
	written := make([]proto.ShardRef, len(parts))
	moments := make([][]proto.Moments, len(parts))
	levels := make([][]int64, len(parts))
	segments := len(j.cfg.SegmentMap().Names())
	for i, p := range parts {
		if p.Output == nil || p.Output.Index != i || len(p.OutputStats) != rfm.NumColumns {
			return fmt.Errorf("coordinator: shard %d sent no features shard", i)
		}
		var counted int64
		if len(p.OutputLevels) == rfm.NumColumns {
			levels[i] = p.OutputLevels[rfm.ColSegment]
			for _, n := range levels[i] {
				if n < 0 {
					counted = -1
					break
				}
				counted += n
			}
		}
		if len(levels[i]) != segments || counted != p.Output.Rows {
			return fmt.Errorf("coordinator: shard %d sent no segment counts for its %d rows", i, p.Output.Rows)
		}
		written[i], moments[i] = *p.Output, p.OutputStats
	}
	j.written, j.moments, j.levels = written, moments, levels
	return nil
}

func (j *rfmJob) Progress() (string, int, float64, float64) {
	if j.written != nil {
		return "written", j.st.Iteration() + 1, 0, 0
	}
	if _, done := j.st.Next(); done {
		return "write", j.st.Iteration(), 0, 0
	}
	return j.st.Phase(), j.st.Iteration(), 0, 0
}

func (j *rfmJob) MaxIter() int     { return 0 }
func (j *rfmJob) Prep() proto.Prep { return proto.Prep{} }

type rfmSaved struct {
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
	return blob.Encode("rfm.state", rfmSaved{State: b, Written: j.written, Moments: j.moments, Levels: j.levels})
}

func (j *rfmJob) Load(b []byte) error {
	var s rfmSaved
	if err := blob.Decode(b, "rfm.state", &s); err != nil {
		return err
	}
	j.st = new(rfm.State)
	j.written, j.moments, j.levels = s.Written, s.Moments, s.Levels
	return json.Unmarshal(s.State, j.st)
}

// Refs are the written shards, kept alive until the output is committed.
func (j *rfmJob) Refs() []proto.BlobRef {
	out := make([]proto.BlobRef, 0, len(j.written))
	for _, s := range j.written {
		out = append(out, proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256})
	}
	return out
}

func (j *rfmJob) Model() (string, []byte, error) {
	return "", nil, fmt.Errorf("coordinator: an rfm job makes a dataset, not a model")
}

// Output is the features dataset version the job makes.
func (j *rfmJob) Output() (*proto.DatasetCommit, error) {
	if j.written == nil {
		return nil, fmt.Errorf("coordinator: rfm job %s has written no shards", j.id)
	}
	cols := rfmColumns(&j.spec)
	merged := make([]proto.Moments, len(cols))
	counts := make([]int64, len(cols[rfm.ColSegment].Levels))
	var rows int64
	for i, s := range j.written {
		if len(j.moments[i]) != len(cols) || len(j.levels) != len(j.written) || len(j.levels[i]) != len(counts) {
			return nil, fmt.Errorf("coordinator: rfm job %s: shard %d's statistics are not of this version's columns", j.id, i)
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
	return &proto.DatasetCommit{Name: j.spec.RFM.As, Kind: proto.KindFeatures, Key: j.ver.Key, Source: src,
		Rows: rows, Columns: cols, Shards: j.written, Replace: j.spec.RFM.Replace}, nil
}
