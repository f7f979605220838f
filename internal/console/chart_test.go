package console

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func TestDrawBars(t *testing.T) {
	c := drawBars(describe.Chart{Kind: describe.ChartBars, Bars: []describe.Bar{{Label: "a", Value: 3}, {Label: "b", Value: -1}, {Label: "c", Value: math.NaN()}}})
	if len(c.Bars) != 3 {
		t.Fatalf("%d bars", len(c.Bars))
	}
	zero := c.Bars[0].Y + c.Bars[0].H // the bottom of a positive bar is the zero line
	if b := c.Bars[1]; math.Abs(b.Y-zero) > 1e-9 || b.H <= 0 || b.Y+b.H > c.Y1+1e-9 {
		t.Fatalf("negative bar %+v, zero line at %v", b, zero)
	}
	if c.Bars[0].Y != c.Y0 {
		t.Fatalf("the highest bar starts at %v, not the top %v", c.Bars[0].Y, c.Y0)
	}
	if e := drawLines(describe.Chart{Kind: describe.ChartLines, Series: []describe.Series{{Name: "x"}}}); !e.Empty {
		t.Fatal("a chart with no points is not empty")
	}
}

func TestDrawTimeline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	c := drawTimeline([]proto.ScheduleRun{{ScheduledFor: t0, State: "succeeded"}, {ScheduledFor: t0.Add(48 * time.Hour), State: "failed"},
		{ScheduledFor: t0.Add(24 * time.Hour), State: "skipped"}})
	if len(c.Marks) != 3 || c.Marks[0].Class != "run succeeded" || c.Marks[1].Class != "run failed" {
		t.Fatalf("marks %+v", c.Marks)
	}
	if !(c.Marks[0].X < c.Marks[2].X && c.Marks[2].X < c.Marks[1].X) {
		t.Fatalf("marks not in time order: %+v", c.Marks)
	}
}

// oneModel is a Source that knows one model and nothing else.
type oneModel struct {
	Source
	d *proto.ModelDetail
}

func (s oneModel) Model(_ context.Context, id string) (*proto.ModelDetail, error) {
	if id != s.d.Model.ID {
		return nil, ErrNotFound
	}
	return s.d, nil
}

// TestMarkupIsEscaped renders names holding markup, in tables and in SVG.
func TestMarkupIsEscaped(t *testing.T) {
	evil := `<img src=x onerror=alert(1)>`
	d := &proto.ModelDetail{Model: proto.Model{ID: "m", Kind: "kmeans"}, Detail: proto.MustJSON(&kmeans.Segmentation{Columns: []string{evil},
		Centroids: [][]float64{{1}}, Sizes: []int64{5}, Dataset: evil})}
	c, err := New(oneModel{d: d}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/models/m")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != 200 || strings.Contains(body, "<img") || strings.Count(body, "&lt;img src=x onerror=alert(1)&gt;") < 2 {
		t.Fatalf("%d\n%s", resp.StatusCode, body)
	}
	d.Model.Kind = "forest"
	resp, err = http.Get(srv.URL + "/models/m")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("a kind with no description: %d", resp.StatusCode)
	}
}
