package describe

import (
	"fmt"
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// KMeans describes a k-means model: its segment sizes as bars and the
// profile of every segment (the mean of every feature; for a one-hot
// column, the share of the segment with that value).
func KMeans(d *proto.ModelDetail) (*Description, error) {
	m := d.KMeans
	if m == nil {
		return nil, missing(d, "k-means")
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
	desc := &Description{
		Title:    fmt.Sprintf("model %s: k-means, k=%d", d.Model.ID, len(m.Sizes)),
		Subtitle: source(d, m.Dataset, m.Version),
		Figures: []Figure{
			{"segments", fmt.Sprint(len(m.Sizes))}, {"rows", count(total)}, {"iterations", fmt.Sprint(m.Iterations)},
			{"converged", conv}, {"inertia (" + space + ")", num(m.Inertia)}, {"rows skipped", count(m.Skipped)},
		},
	}
	bars := make([]Bar, len(m.Sizes))
	sizes := Table{Title: "Segments", Columns: []string{"segment", "size", "share"}}
	for c, s := range m.Sizes {
		bars[c] = Bar{Label: fmt.Sprintf("segment %d", c), Value: float64(s)}
		sizes.Rows = append(sizes.Rows, []string{fmt.Sprint(c), count(s), share(s, total)})
	}
	desc.Charts = append(desc.Charts, Chart{Title: "Segment sizes", Kind: ChartBars, XLabel: "segment", YLabel: "rows", Bars: bars})
	desc.Tables = append(desc.Tables, sizes)
	cent := Table{Title: "Centroids (original units)", Columns: append([]string{"segment"}, m.Columns...)}
	for c, row := range m.Centroids {
		cells := []string{fmt.Sprint(c)}
		for _, x := range row {
			cells = append(cells, num(x))
		}
		cent.Rows = append(cent.Rows, cells)
	}
	desc.Tables = append(desc.Tables, cent)
	if p := m.Profile; p != nil {
		prof := Table{Title: "Profile: the mean of every feature by segment (for a category, the share with that value)", Columns: []string{"feature"}}
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
					cells = append(cells, num(x))
				}
			}
			prof.Rows = append(prof.Rows, cells)
		}
		desc.Tables = append(desc.Tables, prof)
	}
	return desc, nil
}
