package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// ClusterPage is the data of /: what cluster status knows.
type ClusterPage struct {
	Status *proto.ClusterStatus `json:"status"`
}

func (c *Console) cluster(ctx context.Context, _ *http.Request) (any, error) {
	st, err := c.src.ClusterStatus(ctx)
	if err != nil {
		return nil, err
	}
	return ClusterPage{Status: st}, nil
}

// DatasetRow is one dataset of /datasets, described by its latest version.
type DatasetRow struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Versions int       `json:"versions"`
	Latest   int       `json:"latest"`
	Rows     int64     `json:"rows"`
	Columns  int       `json:"columns"`
	Shards   int       `json:"shards"`
	Created  time.Time `json:"created"`
	Bytes    int64     `json:"bytes"`
}

// DatasetsPage is the data of /datasets.
type DatasetsPage struct {
	Datasets []DatasetRow `json:"datasets"`
}

func (c *Console) datasets(ctx context.Context, _ *http.Request) (any, error) {
	list, err := c.src.Datasets(ctx)
	if err != nil {
		return nil, err
	}
	p := DatasetsPage{Datasets: []DatasetRow{}}
	for _, ds := range list {
		row := DatasetRow{Name: ds.Name, Kind: ds.Kind, Versions: len(ds.Versions), Bytes: ds.Bytes}
		if v := ds.Latest(); v != nil {
			row.Latest, row.Rows, row.Columns, row.Shards, row.Created = v.Version, v.Rows, len(v.Columns), len(v.Shards), v.Created
		}
		p.Datasets = append(p.Datasets, row)
	}
	return p, nil
}

// DatasetPage is the data of /datasets/NAME: every version, and the schema
// and column statistics of the version shown (the latest unless ?version=N).
type DatasetPage struct {
	Name     string                 `json:"name"`
	Kind     string                 `json:"kind"`
	Bytes    int64                  `json:"bytes"`
	Versions []proto.DatasetVersion `json:"versions"`
	Shown    *proto.DatasetVersion  `json:"shown"`
	Columns  []ColumnView           `json:"columns"`
}

// ColumnView is one column's statistics and, for a categorical column,
// the bars of its level counts.
type ColumnView struct {
	proto.ColumnStats
	LevelChart *describe.Chart `json:"level_chart,omitempty"`
}

func (c *Console) dataset(ctx context.Context, r *http.Request) (any, error) {
	n, err := versionParam(r)
	if err != nil {
		return nil, err
	}
	ds, err := c.src.Dataset(ctx, r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	p := DatasetPage{Name: ds.Name, Kind: ds.Kind, Bytes: ds.Bytes, Versions: ds.Versions, Shown: ds.Latest(), Columns: []ColumnView{}}
	if n > 0 {
		if p.Shown = ds.Version(n); p.Shown == nil {
			return nil, fmt.Errorf("%w: dataset %s has no version %d (it has %s)", ErrNotFound, ds.Name, n, proto.VersionList(ds.VersionNumbers()))
		}
	}
	if p.Shown == nil {
		return p, nil
	}
	for _, col := range p.Shown.Columns {
		v := ColumnView{ColumnStats: col}
		if col.Categorical() && len(col.LevelCounts) == len(col.Levels) {
			ch := describe.Chart{Title: col.Name, Kind: describe.ChartBars, YLabel: "rows"}
			for i, l := range col.Levels {
				ch.Bars = append(ch.Bars, describe.Bar{Label: l, Value: float64(col.LevelCounts[i])})
			}
			v.LevelChart = &ch
		}
		p.Columns = append(p.Columns, v)
	}
	return p, nil
}

// JobsPage is the data of /jobs, oldest first.
type JobsPage struct {
	Jobs []JobRow `json:"jobs"`
}

// JobRow is one job of /jobs.
type JobRow struct {
	ID        string    `json:"id"`
	Algo      string    `json:"algo"`
	Dataset   string    `json:"dataset"`
	State     string    `json:"state"`
	Pass      int       `json:"pass"`
	Objective float64   `json:"objective"`
	Created   time.Time `json:"created"`
	Model     string    `json:"model,omitempty"`
	Output    string    `json:"output,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

func (c *Console) jobs(ctx context.Context, _ *http.Request) (any, error) {
	list, err := c.src.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	p := JobsPage{Jobs: []JobRow{}}
	for _, j := range list {
		p.Jobs = append(p.Jobs, JobRow{ID: j.ID, Algo: j.Spec.Algo, Dataset: j.Spec.Dataset, State: j.State, Pass: j.Pass,
			Objective: j.Objective, Created: j.Created, Model: j.Model, Output: j.Output, Reason: j.Reason})
	}
	return p, nil
}

// JobPage is the data of /jobs/ID: the job and the objective of every
// committed pass from the first that has one.
type JobPage struct {
	Job         *proto.Job     `json:"job"`
	Running     bool           `json:"running"`
	Convergence describe.Chart `json:"convergence"`
}

func (c *Console) job(ctx context.Context, r *http.Request) (any, error) {
	j, err := c.src.Job(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	// The passes before the first objective (k-means seeding, ALS
	// initialisation) have none to draw.
	s := describe.Series{Name: "objective", Points: []describe.Point{}}
	for _, h := range j.History {
		if h.Objective != 0 || len(s.Points) > 0 {
			s.Points = append(s.Points, describe.Point{X: float64(h.Pass), Y: h.Objective})
		}
	}
	return JobPage{Job: j, Running: !j.Terminal(), Convergence: describe.Chart{Title: "Objective per committed pass",
		Kind: describe.ChartLines, XLabel: "pass", YLabel: "objective", Series: []describe.Series{s}}}, nil
}

// ModelsPage is the data of /models.
type ModelsPage struct {
	Models []proto.ModelSummary `json:"models"`
}

func (c *Console) models(ctx context.Context, _ *http.Request) (any, error) {
	list, err := c.src.Models(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []proto.ModelSummary{}
	}
	return ModelsPage{Models: list}, nil
}

// ModelPage is the data of /models/ID: the model and its description.
type ModelPage struct {
	Model       proto.Model           `json:"model"`
	Description *describe.Description `json:"description"`
}

func (c *Console) model(ctx context.Context, r *http.Request) (any, error) {
	d, err := c.src.Model(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	desc, err := builtin.Describe(d)
	if err != nil {
		return nil, err
	}
	return ModelPage{Model: d.Model, Description: desc}, nil
}

// ScoresPage is the data of /scores: every score set's latest version.
type ScoresPage struct {
	ScoreSets []proto.ScoreSet `json:"score_sets"`
}

func (c *Console) scores(ctx context.Context, _ *http.Request) (any, error) {
	list, err := c.src.ScoreSets(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Shards = nil
	}
	if list == nil {
		list = []proto.ScoreSet{}
	}
	return ScoresPage{ScoreSets: list}, nil
}

// versionParam is the ?version=N of a request, 0 when absent.
func versionParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("version")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: version %q is not a positive whole number", errBadRequest, s)
	}
	return n, nil
}

// ScorePage is the data of /scores/NAME[?version=N] (the latest without
// it): the version and its distribution as a table and a chart.
type ScorePage struct {
	ScoreSet     *proto.ScoreSet `json:"score_set"`
	Distribution describe.Table  `json:"distribution"`
	Chart        *describe.Chart `json:"chart,omitempty"`
}

func (c *Console) score(ctx context.Context, r *http.Request) (any, error) {
	n, err := versionParam(r)
	if err != nil {
		return nil, err
	}
	ss, err := c.src.ScoreSet(ctx, r.PathValue("name"), n)
	if err != nil {
		return nil, err
	}
	p := ScorePage{ScoreSet: ss}
	p.Distribution, p.Chart = distribution(ss)
	return p, nil
}

// distribution is what scores show prints: segment sizes, the decile
// table, the histogram of predictions, the value tiers or the most
// recommended items.
func distribution(ss *proto.ScoreSet) (describe.Table, *describe.Chart) {
	sum := &ss.Summary
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	n := func(x int64) string { return strconv.FormatInt(x, 10) }
	var t describe.Table
	ch := &describe.Chart{Kind: describe.ChartBars}
	switch {
	case len(sum.Segments) > 0:
		t = describe.Table{Title: "Segments", Columns: []string{"segment", "rows", "share"}}
		ch.Title, ch.XLabel, ch.YLabel = "Segment sizes", "segment", "rows"
		for s, k := range sum.Segments {
			t.Rows = append(t.Rows, []string{strconv.Itoa(s), n(k), fmt.Sprintf("%.1f%%", 100*float64(k)/float64(max(ss.Rows, 1)))})
			ch.Bars = append(ch.Bars, describe.Bar{Label: fmt.Sprintf("segment %d", s), Value: float64(k)})
		}
	case len(sum.Deciles) > 0:
		t = describe.Table{Title: "Deciles (1 holds the highest probabilities)", Columns: []string{"decile", "rows", "min", "mean", "max"}}
		ch.Title, ch.XLabel, ch.YLabel = "Mean probability by decile", "decile", "mean probability"
		for _, d := range sum.Deciles {
			t.Rows = append(t.Rows, []string{strconv.Itoa(d.Decile), n(d.Rows), f(d.Min), f(d.Mean), f(d.Max)})
			ch.Bars = append(ch.Bars, describe.Bar{Label: strconv.Itoa(d.Decile), Value: d.Mean})
		}
	case sum.Hist != nil && len(sum.Hist.Counts) > 0:
		h := sum.Hist
		t = describe.Table{Title: "Predictions", Columns: []string{"from", "to", "rows"}}
		ch.Title, ch.XLabel, ch.YLabel = "Distribution of predictions", "prediction", "rows"
		w := (h.Max - h.Min) / float64(len(h.Counts))
		for i, k := range h.Counts {
			lo := h.Min + float64(i)*w
			t.Rows = append(t.Rows, []string{f(lo), f(lo + w), n(k)})
			ch.Bars = append(ch.Bars, describe.Bar{Label: f(lo), Value: float64(k)})
		}
	case len(sum.Tiers) > 0:
		var total float64
		for _, vt := range sum.Tiers {
			total += vt.Sum
		}
		t = describe.Table{Title: "Value tiers", Columns: []string{"tier", "customers", "value", "share of value", "min", "max"}}
		if ts := sum.TopShare; ts != nil {
			t.Title = fmt.Sprintf("Value tiers (the top %.0f%% of customers hold %.1f%% of the value)", 100*ts.Fraction, 100*ts.Share)
		}
		ch.Title, ch.XLabel, ch.YLabel = "Value by tier", "tier", "value"
		for _, vt := range sum.Tiers {
			share := 0.0
			if total > 0 {
				share = 100 * vt.Sum / total
			}
			t.Rows = append(t.Rows, []string{vt.Tier, n(vt.Rows), f(vt.Sum), fmt.Sprintf("%.1f%%", share), f(vt.Min), f(vt.Max)})
			ch.Bars = append(ch.Bars, describe.Bar{Label: vt.Tier, Value: vt.Sum})
		}
	case len(sum.Items) > 0:
		t = describe.Table{Title: "Most recommended items", Columns: []string{"item", "users"}}
		ch.Title, ch.XLabel, ch.YLabel = "Most recommended items", "item", "users"
		for _, it := range sum.Items {
			t.Rows = append(t.Rows, []string{it.Item, n(it.Count)})
			ch.Bars = append(ch.Bars, describe.Bar{Label: it.Item, Value: float64(it.Count)})
		}
	default:
		return t, nil
	}
	return t, ch
}

// SchedulesPage is the data of /schedules.
type SchedulesPage struct {
	Schedules []proto.ScheduleInfo `json:"schedules"`
}

func (c *Console) schedules(ctx context.Context, _ *http.Request) (any, error) {
	list, err := c.src.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []proto.ScheduleInfo{}
	}
	return SchedulesPage{Schedules: list}, nil
}

// SchedulePage is the data of /schedules/NAME: the schedule and its runs.
type SchedulePage struct {
	Schedule *proto.ScheduleInfo `json:"schedule"`
}

func (c *Console) schedule(ctx context.Context, r *http.Request) (any, error) {
	s, err := c.src.Schedule(ctx, r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return SchedulePage{Schedule: s}, nil
}

// title is a page's title.
func title(name string, data any) string {
	switch p := data.(type) {
	case DatasetPage:
		return "dataset " + p.Name
	case JobPage:
		return "job " + p.Job.ID
	case ModelPage:
		return "model " + p.Model.ID
	case ScorePage:
		return "score set " + p.ScoreSet.Name
	case SchedulePage:
		return "schedule " + p.Schedule.Name
	case CustomerPage:
		return "customer " + p.Key
	case errorPage:
		return http.StatusText(p.Status)
	}
	return name
}
