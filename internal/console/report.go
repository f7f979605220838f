package console

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Report renders a model's page as one self-contained HTML file: the style
// sheet inline, the charts as inline SVG, no script and no link that needs
// the cluster or the network — a file to e-mail to people without access.
func Report(d *proto.ModelDetail, written time.Time) ([]byte, error) {
	desc, err := builtin.Describe(d)
	if err != nil {
		return nil, err
	}
	style, err := files.ReadFile("static/style.css")
	if err != nil {
		return nil, err
	}
	t, err := template.New("report.html").Funcs(funcs).ParseFS(files, "templates/report.html", "templates/chart.html")
	if err != nil {
		return nil, fmt.Errorf("console: report template: %w", err)
	}
	var b bytes.Buffer
	err = t.Execute(&b, struct {
		Title   string
		Style   template.CSS
		Page    ModelPage
		Written time.Time
	}{Title: desc.Title, Style: template.CSS(style), Page: ModelPage{Model: d.Model, Description: desc}, Written: written})
	if err != nil {
		return nil, fmt.Errorf("console: report: %w", err)
	}
	return b.Bytes(), nil
}
