package kmeans

import (
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Describe describes a k-means model: its segment sizes as bars and the
// profile of every segment (the mean of every feature; for a one-hot
// column, the share of the segment with that value).
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	m, ok := model.(*Segmentation)
	if !ok {
		return nil, fmt.Errorf("%w: model %s has no k-means part", describe.ErrKind, d.Model.ID)
	}
	var total int64
	for _, s := range m.Sizes {
		total += s
	}
	conv := "no"
	if m.Converged {
		conv = "yes"
	}
	space := "original units"
	if m.Standardize {
		space = "standardised units"
	}
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: k-means, k=%d", d.Model.ID, len(m.Sizes)),
		Subtitle: describe.Source(d, m.Dataset, m.Version),
		Figures: []describe.Figure{
			{Label: "segments", Value: fmt.Sprint(len(m.Sizes))}, {Label: "rows", Value: describe.Count(total)}, {Label: "iterations", Value: fmt.Sprint(m.Iterations)},
			{Label: "converged", Value: conv}, {Label: "inertia (" + space + ")", Value: describe.Num(m.Inertia)}, {Label: "rows skipped", Value: describe.Count(m.Skipped)},
		},
	}
	bars := make([]describe.Bar, len(m.Sizes))
	sizes := describe.Table{Title: "Segments", Columns: []string{"segment", "size", "share"}}
	for c, s := range m.Sizes {
		bars[c] = describe.Bar{Label: fmt.Sprintf("segment %d", c), Value: float64(s)}
		sizes.Rows = append(sizes.Rows, []string{fmt.Sprint(c), describe.Count(s), describe.Share(s, total)})
	}
	desc.Charts = append(desc.Charts, describe.Chart{Title: "Segment sizes", Kind: describe.ChartBars, XLabel: "segment", YLabel: "rows", Bars: bars})
	desc.Tables = append(desc.Tables, sizes)
	cent := describe.Table{Title: "Centroids (original units)", Columns: append([]string{"segment"}, m.Columns...)}
	for c, row := range m.Centroids {
		cells := []string{fmt.Sprint(c)}
		for _, x := range row {
			cells = append(cells, describe.Num(x))
		}
		cent.Rows = append(cent.Rows, cells)
	}
	desc.Tables = append(desc.Tables, cent)
	if p := m.Profile; p != nil {
		prof := describe.Table{Title: "Profile: the mean of every feature by segment (for a category, the share with that value)", Columns: []string{"feature"}}
		for c := range m.Sizes {
			prof.Columns = append(prof.Columns, fmt.Sprintf("segment %d", c))
		}
		for j, col := range p.Columns {
			cells := []string{col}
			for c := range m.Sizes {
				x := p.Means[c][j]
				if strings.Contains(col, "=") {
					cells = append(cells, fmt.Sprintf("%.1f%%", 100*x))
				} else {
					cells = append(cells, describe.Num(x))
				}
			}
			prof.Rows = append(prof.Rows, cells)
		}
		desc.Tables = append(desc.Tables, prof)
	}
	return desc, nil
}
