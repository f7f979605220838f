// Package histogram counts the values of one numeric column of a features
// dataset in equal-width bins over the column's range, on the workers: the
// smallest complete algorithm of the cluster, and the worked example of
// docs/architecture.md. One pass: every shard counts its rows per bin (a
// partial of Bins+1 integers, whatever the shard's size); the leader adds
// the counts in shard order — exact integers, so the same histogram from
// any number of workers — and the model is the histogram.
package histogram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/job"
	"github.com/mathcrm/mathcrm/algo/step"
	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Name is the algorithm's name in job specs, and its model kind.
const Name = "histogram"

// MaxBins bounds the number of bins.
const MaxBins = 10000

// ErrBadTask reports a task a shard cannot run.
var ErrBadTask = errors.New("histogram: bad task")

// Params are a histogram job's parameters.
type Params struct {
	Column string `json:"column"`
	Bins   int    `json:"bins"`
}

// UnmarshalJSON fills in the default number of bins when it is left out.
func (p *Params) UnmarshalJSON(b []byte) error {
	type plain Params
	v := plain{Bins: 20}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Params(v)
	return nil
}

// Spec is a histogram job's spec.
func Spec(dataset string, p Params) proto.JobSpec {
	s := proto.JobSpec{Algo: Name, Dataset: dataset}
	_ = job.SetParams(&s, p)
	return s
}

// Task is the one pass's task: the bins are [Min, Max] in Bins equal
// widths, the last one closed.
type Task struct {
	Column string  `json:"column"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Bins   int     `json:"bins"`
}

// Result is one shard's counts: Counts[i] rows in bin i, Missing rows
// without a value.
type Result struct {
	Counts  []int64 `json:"counts"`
	Missing int64   `json:"missing"`
}

// Histogram is the model.
type Histogram struct {
	Dataset string  `json:"dataset"`
	Version int     `json:"dataset_version"`
	Column  string  `json:"column"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Counts  []int64 `json:"counts"`
	Missing int64   `json:"missing"`
}

// Bin returns the bin of x for bins over [lo, hi]: the value's distance
// from lo in bin widths, the maximum in the last bin.
func Bin(x, lo, hi float64, bins int) int {
	if hi <= lo {
		return 0
	}
	i := int(float64(bins) * ((x - lo) / (hi - lo)))
	return min(max(i, 0), bins-1)
}

// Count is a shard's task run on its column: the specification the
// workers run.
func Count(t *Task, col []float64) (*Result, error) {
	if t.Bins < 1 || t.Bins > MaxBins || !(t.Min <= t.Max) {
		return nil, step.Errorf("histogram", ErrBadTask, "%d bins over [%v, %v]", t.Bins, t.Min, t.Max)
	}
	r := &Result{Counts: make([]int64, t.Bins)}
	for _, x := range col {
		if math.IsNaN(x) {
			r.Missing++
			continue
		}
		r.Counts[Bin(x, t.Min, t.Max, t.Bins)]++
	}
	return r, nil
}

// Algorithm is the histogram algorithm on the cluster.
type Algorithm struct{}

// DatasetKind is the kind of dataset it reads.
func (Algorithm) DatasetKind() string { return proto.KindFeatures }

// CheckParams checks the parameters that do not depend on the dataset.
func (Algorithm) CheckParams(raw json.RawMessage) error {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%w: histogram parameters: %v", proto.ErrParam, err)
	}
	if p.Column == "" {
		return fmt.Errorf("%w: histogram.column: a column is required (--column)", proto.ErrParam)
	}
	return proto.IntParam("histogram.bins", "--bins", p.Bins, 1, MaxBins)
}

// Check checks the column against the dataset version.
func (Algorithm) Check(_ context.Context, _ job.Leader, spec *proto.JobSpec, _ *proto.Dataset, ver *proto.DatasetVersion) error {
	var p Params
	if err := job.Params(spec, &p); err != nil {
		return fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	cs := feature.Column(ver, p.Column)
	switch {
	case cs == nil:
		return job.Invalid("dataset %s version %d has no column %q", spec.Dataset, ver.Version, p.Column)
	case cs.Categorical():
		return job.Invalid("column %q is categorical: a histogram needs a numeric column", p.Column)
	}
	return job.SetParams(spec, p)
}

// NewJob makes the job's state machine.
func (Algorithm) NewJob(_ context.Context, _ job.Leader, _ string, spec proto.JobSpec, ver *proto.DatasetVersion) (job.Job, error) {
	var p Params
	if err := job.Params(&spec, &p); err != nil {
		return nil, fmt.Errorf("%w: %w", proto.ErrInvalid, err)
	}
	cs := feature.Column(ver, p.Column)
	if cs == nil {
		return nil, job.Invalid("dataset %s version %d has no column %q", spec.Dataset, ver.Version, p.Column)
	}
	return &histJob{
		task: Task{Column: p.Column, Min: cs.Min, Max: cs.Max, Bins: p.Bins},
		out:  Histogram{Dataset: spec.Dataset, Version: spec.DatasetVersion, Column: p.Column, Min: cs.Min, Max: cs.Max},
	}, nil
}

// DecodeTask decodes the pass's task.
func (Algorithm) DecodeTask(raw json.RawMessage) (any, error) {
	t := new(Task)
	return t, json.Unmarshal(raw, t)
}

// RunShard counts one shard's column.
func (Algorithm) RunShard(ctx context.Context, sh job.Shard, task any, p *proto.Partial) error {
	t := task.(*Task)
	s, err := sh.Features(ctx)
	if err != nil {
		return err
	}
	col, ok := s.Column(t.Column)
	if !ok {
		return step.Errorf("histogram", feature.ErrColumn, "shard has no column %q", t.Column)
	}
	r, err := Count(t, col)
	if err != nil {
		return err
	}
	p.Rows = int64(len(col))
	return job.Encode(p, Name, r)
}

// Kinds are the model kinds the algorithm makes.
func (Algorithm) Kinds() map[string]job.ModelKind { return map[string]job.ModelKind{Name: Kind{}} }

// histJob is the job on the leader.
type histJob struct {
	task Task
	out  Histogram
	done bool
}

func (j *histJob) Next() (any, bool) { return &j.task, j.done }

func (j *histJob) Absorb(parts []*proto.Partial) error {
	res, err := job.Decode[Result](Name, parts)
	if err != nil {
		return err
	}
	j.out.Counts, j.out.Missing = make([]int64, j.task.Bins), 0
	for i, r := range res {
		if len(r.Counts) != j.task.Bins {
			return fmt.Errorf("histogram: shard %d sent %d counts for %d bins", i, len(r.Counts), j.task.Bins)
		}
		for b, n := range r.Counts {
			j.out.Counts[b] += n
		}
		j.out.Missing += r.Missing
	}
	j.done = true
	return nil
}

func (j *histJob) Progress() job.Progress {
	if j.done {
		return job.Progress{Phase: "done", Iteration: 1}
	}
	return job.Progress{Phase: "count"}
}

func (j *histJob) MaxIter() int     { return 1 }
func (j *histJob) Prep() proto.Prep { return proto.Prep{} }

const stateKind = "histogram.state"

func (j *histJob) Save() ([]byte, error) { return blob.Encode(stateKind, j.out) }

func (j *histJob) Load(b []byte) error {
	if err := blob.Decode(b, stateKind, &j.out); err != nil {
		return err
	}
	j.done = j.out.Counts != nil
	return nil
}

func (j *histJob) Finish() (*job.Result, error) {
	b, err := blob.Encode("model."+Name, j.out)
	if err != nil {
		return nil, err
	}
	return &job.Result{Model: &job.ModelBlob{Kind: Name, Blob: b}}, nil
}

// Kind is the histogram model kind.
type Kind struct{}

// Decode reads a model blob.
func (Kind) Decode(b []byte) (any, error) {
	h := new(Histogram)
	return h, blob.Decode(b, "model."+Name, h)
}

// New returns an empty model to decode into.
func (Kind) New() any { return new(Histogram) }

// Edges are the bins' lower edges and the last bin's upper edge.
func (h *Histogram) Edges() []float64 {
	n := len(h.Counts)
	out := make([]float64, n+1)
	for i := range out {
		out[i] = h.Min + (h.Max-h.Min)*float64(i)/float64(max(n, 1))
	}
	return out
}

// Describe shows the histogram as bars and a table.
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	h, ok := model.(*Histogram)
	if !ok {
		return nil, fmt.Errorf("%w: model %s has no histogram part", describe.ErrKind, d.Model.ID)
	}
	var total int64
	for _, n := range h.Counts {
		total += n
	}
	edges := h.Edges()
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: histogram of %s, %d bins", d.Model.ID, h.Column, len(h.Counts)),
		Subtitle: describe.Source(d, h.Dataset, h.Version),
		Figures: []describe.Figure{{Label: "rows", Value: describe.Count(total)}, {Label: "missing", Value: describe.Count(h.Missing)},
			{Label: "min", Value: describe.Num(h.Min)}, {Label: "max", Value: describe.Num(h.Max)}},
	}
	chart := describe.Chart{Title: h.Column, Kind: describe.ChartBars, XLabel: h.Column, YLabel: "rows"}
	tab := describe.Table{Title: "Bins", Columns: []string{"from", "to", "rows", "share"}}
	for i, n := range h.Counts {
		chart.Bars = append(chart.Bars, describe.Bar{Label: describe.Num(edges[i]), Value: float64(n)})
		tab.Rows = append(tab.Rows, []string{describe.Num(edges[i]), describe.Num(edges[i+1]), describe.Count(n), describe.Share(n, total)})
	}
	desc.Charts, desc.Tables = []describe.Chart{chart}, []describe.Table{tab}
	return desc, nil
}
