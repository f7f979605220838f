package alsjob

import (
	"fmt"

	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// Describe describes an ALS model: the metrics of every iteration as a
// table and charts (objective; RMSE for explicit ratings, precision,
// recall and NDCG at K for implicit counts with a holdout) and the most
// popular items.
func (Kind) Describe(d *proto.ModelDetail, model any) (*describe.Description, error) {
	m, ok := model.(*Factorization)
	if !ok {
		return nil, fmt.Errorf("%w: model %s has no ALS part", describe.ErrKind, d.Model.ID)
	}
	cfg := m.Summary.Config
	kind := "explicit ratings"
	if cfg.Implicit {
		kind = fmt.Sprintf("implicit counts (alpha %g)", cfg.Alpha)
	}
	desc := &describe.Description{
		Title:    fmt.Sprintf("model %s: ALS, rank %d", d.Model.ID, cfg.Rank),
		Subtitle: describe.Source(d, m.Dataset, m.Version),
		Figures: []describe.Figure{
			{Label: "users", Value: describe.Count(m.Users)}, {Label: "items", Value: describe.Count(m.Items)},
			{Label: "iterations", Value: fmt.Sprint(m.Summary.Iterations)},
			{Label: "lambda", Value: fmt.Sprintf("%g (%s)", cfg.Lambda, cfg.RegScaling)}, {Label: "data", Value: kind},
			{Label: "training interactions", Value: describe.Count(m.Summary.NTrain)}, {Label: "held out", Value: describe.Count(m.Summary.NHoldout)},
		},
	}
	if cfg.Implicit {
		desc.Tables, desc.Charts = implicitIterations(m)
	} else {
		desc.Tables, desc.Charts = explicitIterations(m)
	}
	if pop := m.Summary.Popular; len(pop) > 0 {
		pt := describe.Table{Title: "Most popular items", Columns: []string{"item", "interactions"}}
		var bars []describe.Bar
		for i, p := range pop {
			if i == 10 {
				break
			}
			pt.Rows = append(pt.Rows, []string{p.ID, describe.Count(p.Count)})
			bars = append(bars, describe.Bar{Label: p.ID, Value: float64(p.Count)})
		}
		desc.Tables = append(desc.Tables, pt)
		desc.Charts = append(desc.Charts, describe.Chart{Title: "Most popular items", Kind: describe.ChartBars, XLabel: "item", YLabel: "interactions", Bars: bars})
	}
	return desc, nil
}

// implicitIterations are the iterations of an implicit model: objective,
// and the held-out ranking metrics of the iterations that were evaluated.
func implicitIterations(m *Factorization) ([]describe.Table, []describe.Chart) {
	obj := describe.Series{Name: "objective"}
	t := describe.Table{Title: "Iterations", Columns: []string{"iteration", "objective", "precision@K", "recall@K", "NDCG@K", "users evaluated"}}
	prec, rec, ndcg := describe.Series{Name: "precision@K"}, describe.Series{Name: "recall@K"}, describe.Series{Name: "NDCG@K"}
	for _, it := range m.Summary.History {
		x := float64(it.Iteration)
		obj.Points = append(obj.Points, describe.Point{X: x, Y: it.Objective})
		if it.EvalUsers == 0 {
			t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), describe.Num(it.Objective), "-", "-", "-", "-"})
			continue
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), describe.Num(it.Objective), describe.Num(it.Precision),
			describe.Num(it.Recall), describe.Num(it.NDCG), describe.Count(it.EvalUsers)})
		prec.Points = append(prec.Points, describe.Point{X: x, Y: it.Precision})
		rec.Points = append(rec.Points, describe.Point{X: x, Y: it.Recall})
		ndcg.Points = append(ndcg.Points, describe.Point{X: x, Y: it.NDCG})
	}
	charts := []describe.Chart{{Title: "Objective", Kind: describe.ChartLines, XLabel: "iteration", YLabel: "objective", Series: []describe.Series{obj}}}
	if len(prec.Points) > 0 {
		charts = append(charts, describe.Chart{Title: "Held-out ranking", Kind: describe.ChartLines, XLabel: "iteration",
			Series: []describe.Series{prec, rec, ndcg}})
	}
	return []describe.Table{t}, charts
}

// explicitIterations are the iterations of an explicit model: objective,
// training RMSE and, with a holdout, held-out RMSE.
func explicitIterations(m *Factorization) ([]describe.Table, []describe.Chart) {
	obj := describe.Series{Name: "objective"}
	t := describe.Table{Title: "Iterations", Columns: []string{"iteration", "objective", "train RMSE", "holdout RMSE"}}
	train, hold := describe.Series{Name: "train RMSE"}, describe.Series{Name: "holdout RMSE"}
	for _, it := range m.Summary.History {
		x := float64(it.Iteration)
		obj.Points = append(obj.Points, describe.Point{X: x, Y: it.Objective})
		train.Points = append(train.Points, describe.Point{X: x, Y: it.TrainRMSE})
		h := "-"
		if it.NHoldout > 0 {
			h = describe.Num(it.HoldoutRMSE)
			hold.Points = append(hold.Points, describe.Point{X: x, Y: it.HoldoutRMSE})
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(it.Iteration), describe.Num(it.Objective), describe.Num(it.TrainRMSE), h})
	}
	rmse := []describe.Series{train}
	if len(hold.Points) > 0 {
		rmse = append(rmse, hold)
	}
	return []describe.Table{t}, []describe.Chart{
		{Title: "Objective", Kind: describe.ChartLines, XLabel: "iteration", YLabel: "objective", Series: []describe.Series{obj}},
		{Title: "RMSE", Kind: describe.ChartLines, XLabel: "iteration", YLabel: "RMSE", Series: rmse},
	}
}
