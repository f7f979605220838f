package describe

import (
	"fmt"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// ALS describes an ALS model: the metrics of every iteration as a table
// and charts (objective; RMSE for explicit ratings, precision, recall and
// NDCG at K for implicit counts with a holdout) and the most popular items.
func ALS(d *proto.ModelDetail) (*Description, error) {
	m := d.ALS
	if m == nil {
		return nil, missing(d, "ALS")
	}
	cfg := m.Summary.Config
	kind := "explicit ratings"
	if cfg.Implicit {
		kind = fmt.Sprintf("implicit counts (alpha %g)", cfg.Alpha)
	}
	desc := &Description{
		Title:    fmt.Sprintf("model %s: ALS, rank %d", d.Model.ID, cfg.Rank),
		Subtitle: source(d, m.Dataset, m.Version),
		Figures: []Figure{
			{"users", count(m.Users)}, {"items", count(m.Items)}, {"iterations", fmt.Sprint(m.Summary.Iterations)},
			{"lambda", fmt.Sprintf("%g (%s)", cfg.Lambda, cfg.RegScaling)}, {"data", kind},
			{"training interactions", count(m.Summary.NTrain)}, {"held out", count(m.Summary.NHoldout)},
		},
	}
	hist := m.Summary.History
	obj := Series{Name: "objective"}
	var t Table
	if cfg.Implicit {
		t = Table{Title: "Iterations", Columns: []string{"iteration", "objective", "precision@K", "recall@K", "NDCG@K", "users evaluated"}}
		prec, rec, ndcg := Series{Name: "precision@K"}, Series{Name: "recall@K"}, Series{Name: "NDCG@K"}
		for _, it := range hist {
			x := float64(it.Iteration)
			obj.Points = append(obj.Points, Point{x, it.Objective})
			if it.EvalUsers == 0 {
				t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), num(it.Objective), "-", "-", "-", "-"})
				continue
			}
			t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), num(it.Objective), num(it.Precision), num(it.Recall), num(it.NDCG), count(it.EvalUsers)})
			prec.Points = append(prec.Points, Point{x, it.Precision})
			rec.Points = append(rec.Points, Point{x, it.Recall})
			ndcg.Points = append(ndcg.Points, Point{x, it.NDCG})
		}
		desc.Charts = append(desc.Charts, Chart{Title: "Objective", Kind: ChartLines, XLabel: "iteration", YLabel: "objective", Series: []Series{obj}})
		if len(prec.Points) > 0 {
			desc.Charts = append(desc.Charts, Chart{Title: "Held-out ranking", Kind: ChartLines, XLabel: "iteration", Series: []Series{prec, rec, ndcg}})
		}
	} else {
		t = Table{Title: "Iterations", Columns: []string{"iteration", "objective", "train RMSE", "holdout RMSE"}}
		train, hold := Series{Name: "train RMSE"}, Series{Name: "holdout RMSE"}
		for _, it := range hist {
			x := float64(it.Iteration)
			obj.Points = append(obj.Points, Point{x, it.Objective})
			train.Points = append(train.Points, Point{x, it.TrainRMSE})
			h := "-"
			if it.NHoldout > 0 {
				h = num(it.HoldoutRMSE)
				hold.Points = append(hold.Points, Point{x, it.HoldoutRMSE})
			}
			t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), num(it.Objective), num(it.TrainRMSE), h})
		}
		rmse := []Series{train}
		if len(hold.Points) > 0 {
			rmse = append(rmse, hold)
		}
		desc.Charts = append(desc.Charts, Chart{Title: "Objective", Kind: ChartLines, XLabel: "iteration", YLabel: "objective", Series: []Series{obj}},
			Chart{Title: "RMSE", Kind: ChartLines, XLabel: "iteration", YLabel: "RMSE", Series: rmse})
	}
	desc.Tables = append(desc.Tables, t)
	if pop := m.Summary.Popular; len(pop) > 0 {
		pt := Table{Title: "Most popular items", Columns: []string{"item", "interactions"}}
		var bars []Bar
		for i, p := range pop {
			if i == 10 {
				break
			}
			pt.Rows = append(pt.Rows, []string{p.ID, count(p.Count)})
			bars = append(bars, Bar{Label: p.ID, Value: float64(p.Count)})
		}
		desc.Tables = append(desc.Tables, pt)
		desc.Charts = append(desc.Charts, Chart{Title: "Most popular items", Kind: ChartBars, XLabel: "item", YLabel: "interactions", Bars: bars})
	}
	return desc, nil
}
