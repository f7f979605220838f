package migrate

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/mathcrm/mathcrm/internal/blob"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Labels of the extra row and column and of a missing value.
const (
	NewLabel     = "(new)"
	GoneLabel    = "(gone)"
	MissingLabel = "(missing)"
)

// Migration is the exported form of a migration table: Counts[i][j] is
// the number of customers in segment Labels[i] of the earlier snapshot and
// Labels[j] of the later one; the last row counts the customers only in
// the later snapshot (new), the last column those only in the earlier one
// (gone). RowPercent is each row as a percentage of its total.
type Migration struct {
	Kind        string        `json:"kind"`
	Column      string        `json:"column"`
	From        string        `json:"from"`
	FromVersion int           `json:"from_version"`
	To          string        `json:"to"`
	ToVersion   int           `json:"to_version"`
	Labels      []string      `json:"labels"`
	Rows        []string      `json:"rows"`
	Columns     []string      `json:"columns"`
	Counts      [][]int64     `json:"counts"`
	RowPercent  [][]float64   `json:"row_percent"`
	Customers   int64         `json:"customers"`
	Stayed      int64         `json:"stayed"`
	Moved       int64         `json:"moved"`
	New         int64         `json:"new"`
	Gone        int64         `json:"gone"`
	Spec        proto.JobSpec `json:"spec"`
}

// labeller names the values of one snapshot's column.
type labeller struct{ levels []string }

func (l labeller) label(b uint64) (string, error) {
	v := math.Float64frombits(b)
	switch {
	case v != v:
		return MissingLabel, nil
	case l.levels == nil:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	i := int(v)
	if float64(i) != v || i < 0 || i >= len(l.levels) {
		return "", fmt.Errorf("migrate: category code %v of %d levels", v, len(l.levels))
	}
	return l.levels[i], nil
}

func levelsOf(ver *proto.DatasetVersion, col string) []string {
	for _, c := range ver.Columns {
		if c.Name == col {
			return c.Levels
		}
	}
	return nil
}

// table builds the exported table from the merged cells.
func table(spec proto.JobSpec, p *Params, from, to *proto.DatasetVersion, cells []Cell) (*Migration, error) {
	fl, tl := labeller{levelsOf(from, p.Column)}, labeller{levelsOf(to, p.Column)}
	m := &Migration{Kind: KindName, Column: p.Column, From: p.From, FromVersion: from.Version, To: spec.Dataset,
		ToVersion: to.Version, Spec: spec}
	// Labels: the categories in the earlier snapshot's order, then the
	// later one's new ones; numbers ascending; missing last.
	var labels []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			labels = append(labels, s)
		}
	}
	categorical := fl.levels != nil
	if categorical {
		for _, l := range fl.levels {
			add(l)
		}
		for _, l := range tl.levels {
			add(l)
		}
	}
	type named struct{ from, to string }
	names := make([]named, len(cells))
	var nums []float64
	missing := false
	for i, c := range cells {
		var err error
		if c.Status != New {
			if names[i].from, err = fl.label(c.From); err != nil {
				return nil, err
			}
		}
		if c.Status != Gone {
			if names[i].to, err = tl.label(c.To); err != nil {
				return nil, err
			}
		}
		for _, s := range []string{names[i].from, names[i].to} {
			switch {
			case s == MissingLabel:
				missing = true
			case s != "" && !categorical && !seen[s]:
				seen[s] = true
				v, _ := strconv.ParseFloat(s, 64)
				nums = append(nums, v)
			}
		}
	}
	slices.Sort(nums)
	for _, v := range nums {
		labels = append(labels, strconv.FormatFloat(v, 'g', -1, 64))
	}
	if missing {
		labels = append(labels, MissingLabel)
	}
	idx := map[string]int{}
	for i, l := range labels {
		idx[l] = i
	}
	n := len(labels)
	m.Labels = labels
	m.Rows = append(slices.Clone(labels), NewLabel)
	m.Columns = append(slices.Clone(labels), GoneLabel)
	m.Counts = make([][]int64, n+1)
	for i := range m.Counts {
		m.Counts[i] = make([]int64, n+1)
	}
	for i, c := range cells {
		r, col := n, n
		if c.Status != New {
			r = idx[names[i].from]
		}
		if c.Status != Gone {
			col = idx[names[i].to]
		}
		m.Counts[r][col] += c.N
		m.Customers += c.N
		switch {
		case c.Status == New:
			m.New += c.N
		case c.Status == Gone:
			m.Gone += c.N
		case r == col:
			m.Stayed += c.N
		default:
			m.Moved += c.N
		}
	}
	m.RowPercent = make([][]float64, n+1)
	for i, row := range m.Counts {
		var tot int64
		for _, x := range row {
			tot += x
		}
		m.RowPercent[i] = make([]float64, n+1)
		for j, x := range row {
			if tot > 0 {
				m.RowPercent[i][j] = 100 * float64(x) / float64(tot)
			}
		}
	}
	return m, nil
}

// Kind is the migration table model kind.
type Kind struct{}

// Decode reads a table blob.
func (Kind) Decode(b []byte) (any, error) {
	m := new(Migration)
	if err := blob.Decode(b, ModelKind, m); err != nil {
		return nil, err
	}
	return m, nil
}

// New returns an empty table to decode into.
func (Kind) New() any { return new(Migration) }

// Describe shows the table of counts and the table of row percentages.
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	m, ok := model.(*Migration)
	if !ok {
		return nil, fmt.Errorf("%w: model %s is not a migration table", describe.ErrKind, d.Model.ID)
	}
	desc := &describe.Description{
		Title: fmt.Sprintf("model %s: %s migration from %s version %d to %s version %d", d.Model.ID, m.Column, m.From, m.FromVersion, m.To, m.ToVersion),
		Figures: []describe.Figure{
			{Label: "customers", Value: describe.Count(m.Customers)}, {Label: "stayed", Value: describe.Count(m.Stayed)},
			{Label: "moved", Value: describe.Count(m.Moved)}, {Label: "new", Value: describe.Count(m.New)}, {Label: "gone", Value: describe.Count(m.Gone)},
		},
	}
	head := append([]string{"from \\ to"}, m.Columns...)
	counts := describe.Table{Title: "Customers by " + m.Column + " (rows: " + m.From + ", columns: " + m.To + ")", Columns: append(head, "total")}
	pct := describe.Table{Title: "Row percentages", Columns: head}
	for i, row := range m.Counts {
		cells := []string{m.Rows[i]}
		var tot int64
		for _, x := range row {
			cells = append(cells, describe.Count(x))
			tot += x
		}
		counts.Rows = append(counts.Rows, append(cells, describe.Count(tot)))
		pc := []string{m.Rows[i]}
		for _, x := range m.RowPercent[i] {
			pc = append(pc, fmt.Sprintf("%.1f%%", x))
		}
		pct.Rows = append(pct.Rows, pc)
	}
	desc.Tables = append(desc.Tables, counts, pct)
	return desc, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
