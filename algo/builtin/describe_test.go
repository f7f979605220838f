package builtin_test

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/basket"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/clv"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/linear"
	"github.com/mathcrm/mathcrm/algo/logistic"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func detail(kind string) *proto.ModelDetail {
	return &proto.ModelDetail{Model: proto.Model{ID: "model-7", Job: "job-7", Kind: kind}}
}

func table(t *testing.T, d *describe.Description, title string) describe.Table {
	t.Helper()
	for _, tb := range d.Tables {
		if tb.Title == title {
			return tb
		}
	}
	t.Fatalf("no table %q in %+v", title, d.Tables)
	return describe.Table{}
}

func TestKMeans(t *testing.T) {
	d := detail("kmeans")
	d.Detail = proto.MustJSON(&kmeans.Segmentation{Columns: []string{"tenure", "plan=pro"}, Centroids: [][]float64{{1, 0.5}, {20, 0.25}}, Sizes: []int64{30, 10},
		Iterations: 4, Converged: true, Dataset: "customers", Version: 2,
		Profile: &kmeans.Profile{Columns: []string{"tenure", "plan=pro"}, Means: [][]float64{{1, 0.5}, {20, 0.25}}}})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Title != "model model-7: k-means, k=2" || desc.Subtitle != "from job job-7 on customers version 2" {
		t.Fatalf("title %q, subtitle %q", desc.Title, desc.Subtitle)
	}
	bars := desc.Charts[0].Bars
	if len(bars) != 2 || bars[0] != (describe.Bar{Label: "segment 0", Value: 30}) || bars[1].Value != 10 {
		t.Fatalf("bars %+v", bars)
	}
	if got := table(t, desc, "Segments").Rows[1]; got[1] != "10" || got[2] != "25.0%" {
		t.Fatalf("segment 1 row %q", got)
	}
	prof := desc.Tables[len(desc.Tables)-1]
	if prof.Rows[1][0] != "plan=pro" || prof.Rows[1][1] != "50.0%" || prof.Rows[0][2] != "20" {
		t.Fatalf("profile rows %q", prof.Rows)
	}
}

func TestLinear(t *testing.T) {
	d := detail("linear")
	d.Detail = proto.MustJSON(&supervised.Model{Kind: "linear", Target: "spend", Features: []string{"tenure", "age"},
		Linear: &linear.Model{Coefficients: []float64{2.5, -1}, Intercept: 3, N: 100, R2: 0.5, RMSE: 1.25}})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	co := table(t, desc, "Coefficients")
	want := [][]string{{"(intercept)", "3", "-", "-"}, {"tenure", "2.5", "-", "-"}, {"age", "-1", "-", "-"}}
	for i, row := range want {
		for j, cell := range row {
			if co.Rows[i][j] != cell {
				t.Fatalf("coefficients %q, want %q", co.Rows, want)
			}
		}
	}
	if bars := desc.Charts[0].Bars; len(bars) != 2 || bars[1].Value != -1 {
		t.Fatalf("bars %+v", bars)
	}
}

func TestLogistic(t *testing.T) {
	d := detail("logistic")
	d.Detail = proto.MustJSON(&supervised.Model{Kind: "logistic", Target: "churn", Features: []string{"tenure"},
		Logistic: &logistic.Model{Coefficients: []float64{math.Log(2)}, Intercept: -1, Solver: "newton", Iterations: 5, Converged: true,
			Train: logistic.Metrics{N: 80, AUC: 0.75, Calibration: []logistic.CalBin{
				{Lo: 0, Hi: 0.5, Count: 60, MeanPredicted: 0.2, ObservedRate: 0.25}, {Lo: 0.5, Hi: 1, Count: 0}}}}})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if or := table(t, desc, "Coefficients").Rows[1][2]; or != "2" {
		t.Fatalf("odds ratio %q, want 2", or)
	}
	cal := table(t, desc, "Calibration (training rows)")
	if len(cal.Rows) != 2 || cal.Rows[0][2] != "0.2500" {
		t.Fatalf("calibration %q", cal.Rows)
	}
	// An empty bin is in the table but not on the chart.
	if pts := desc.Charts[0].Series[0].Points; len(pts) != 1 || pts[0] != (describe.Point{X: 0.2, Y: 0.25}) {
		t.Fatalf("calibration points %+v", pts)
	}
	// A logistic model without its fit has nothing to describe.
	d.Detail = proto.MustJSON(&supervised.Model{Kind: "logistic", Target: "churn"})
	if _, err := builtin.Describe(d); !errors.Is(err, describe.ErrKind) ||
		err.Error() != `describe: no description for this kind of model: model model-7 of kind "logistic" has no logistic part` {
		t.Fatalf("missing part: %v", err)
	}
}

func TestBasket(t *testing.T) {
	m, err := basket.Reference(basket.Config{MinSupport: 0.4, MinConfidence: 0.5, MaxLen: 3},
		basket.FromLists([][]string{{"a", "b", "c"}, {"a", "b"}, {"a", "c"}, {"b", "c"}, {"a", "b", "c"}}))
	if err != nil {
		t.Fatal(err)
	}
	d := detail("basket")
	d.Detail = proto.MustJSON(&basket.Mined{Kind: "basket", Config: m.Config, Baskets: m.Baskets, MinCount: m.MinCount,
		Itemsets: m.Itemsets, Rules: m.Rules, Source: basket.Source{Kind: "interactions", Basket: "user"}, Dataset: "invoices", Version: 3})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Title != "model model-7: market baskets, min support 0.4, min confidence 0.5, up to 3 items" ||
		desc.Subtitle != "from job job-7 on invoices version 3" {
		t.Fatalf("title %q, subtitle %q", desc.Title, desc.Subtitle)
	}
	// Items a, b, c in 4 of 5 baskets each; pairs in 3; the triple in 2.
	if got := table(t, desc, "Frequent itemsets by length").Rows; len(got) != 3 || got[0][1] != "3" || got[1][1] != "3" || got[2][1] != "1" {
		t.Fatalf("itemsets by length %q", got)
	}
	rules := desc.Tables[1]
	// Pairs: confidence 3/4, lift 0.75/0.8, conviction 0.2/0.25; ties by
	// antecedent, then consequent.
	if len(rules.Rows) != len(m.Rules) || rules.Rows[0][0] != "a → b" || rules.Rows[0][3] != "0.9375" || rules.Rows[0][5] != "0.8" ||
		rules.Rows[1][0] != "a → c" {
		t.Fatalf("rules by lift %q", rules.Rows)
	}
}

func TestUnknownKindOrMissingPart(t *testing.T) {
	_, err := builtin.Describe(detail("forest"))
	if !errors.Is(err, describe.ErrKind) || err.Error() != `describe: no description for this kind of model: model model-7 is of kind "forest"` {
		t.Fatalf("unknown kind: %v", err)
	}
	_, err = builtin.Describe(detail("kmeans"))
	if err == nil || err.Error() != "model model-7: the leader sent no kmeans detail" {
		t.Fatalf("missing part: %v", err)
	}
}

func TestALS(t *testing.T) {
	d := detail("als")
	d.Detail = proto.MustJSON(&alsjob.Factorization{Users: 3, Items: 4, Summary: als.Summary{Config: als.Config{Rank: 8}, Iterations: 2,
		History: []als.Iter{{Iteration: 1, Objective: 10, TrainRMSE: 1}, {Iteration: 2, Objective: 5, TrainRMSE: 0.5, HoldoutRMSE: 0.75, NHoldout: 3}},
		Popular: []als.Popular{{ID: "i1", Count: 9}, {ID: "i2", Count: 4}}}})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Charts) != 3 {
		t.Fatalf("%d charts, want objective, RMSE and popular items", len(desc.Charts))
	}
	rmse := desc.Charts[1].Series
	if len(rmse) != 2 || len(rmse[0].Points) != 2 || len(rmse[1].Points) != 1 || rmse[1].Points[0].Y != 0.75 {
		t.Fatalf("RMSE series %+v", rmse)
	}
	if it := table(t, desc, "Iterations").Rows[0]; it[3] != "-" {
		t.Fatalf("iteration 1 without a holdout: %q", it)
	}
	if pop := table(t, desc, "Most popular items").Rows; len(pop) != 2 || pop[0][0] != "i1" || pop[0][1] != strconv.Itoa(9) {
		t.Fatalf("popular %q", pop)
	}
}

// An implicit model's iterations show the held-out ranking of the
// iterations that were evaluated, and a dash for the others.
func TestALSImplicit(t *testing.T) {
	d := detail("als")
	d.Detail = proto.MustJSON(&alsjob.Factorization{Summary: als.Summary{Config: als.Config{Rank: 4, Implicit: true, Alpha: 40}, Iterations: 2,
		History: []als.Iter{{Iteration: 1, Objective: 10}, {Iteration: 2, Objective: 5, K: 10, Precision: 0.25, Recall: 0.5, NDCG: 0.375, EvalUsers: 7}}}})
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Charts) != 2 || desc.Charts[1].Title != "Held-out ranking" || len(desc.Charts[1].Series[0].Points) != 1 {
		t.Fatalf("charts %+v", desc.Charts)
	}
	rows := table(t, desc, "Iterations").Rows
	if rows[0][2] != "-" || rows[1][2] != "0.25" || rows[1][5] != "7" {
		t.Fatalf("iterations %q", rows)
	}
}

func TestCLV(t *testing.T) {
	d := detail("clv")
	h := &clv.HoldoutTable{Horizon: 39, Actual: 10, Predicted: 11, RelError: 0.1}
	for g := range h.Rows {
		h.Rows[g] = clv.HoldoutRow{Repeat: g, Customers: 2, Actual: 1, Predicted: 1.5}
	}
	v := &clv.Value{Kind: "clv", Model: clv.BGNBD, TimeUnit: clv.Week, CalibrationEnd: "1997-09-30", HoldoutEnd: "1998-06-30",
		Purchase: clv.Fitted{Model: clv.BGNBD, Params: clv.Named{{Name: "r", Value: 0.243}, {Name: "alpha", Value: 4.414}, {Name: "a", Value: 0.793}, {Name: "b", Value: 2.426}},
			StdErrors: clv.Named{{Name: "r", Value: 0.0125}, {Name: "alpha", Value: 0.378}, {Name: "a", Value: 0.185}, {Name: "b", Value: 0.705}}, LogLik: -9582.43, Customers: 2357},
		Spend:  clv.Fitted{Model: clv.GammaGamma, Params: clv.Named{{Name: "p", Value: 6.25}, {Name: "q", Value: 3.74}, {Name: "v", Value: 15.44}}, LogLik: -4000, Customers: 946},
		Counts: clv.Counts{Customers: 2357, Repeat: 1000, Spend: 946, OnlyAfter: 3}, Holdout: h, Dataset: "cdnow", Version: 1}
	d.Detail = proto.MustJSON(v)
	desc, err := builtin.Describe(d)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Title != "model model-7: customer value, BG/NBD + Gamma-Gamma" || desc.Subtitle != "from job job-7 on cdnow version 1" {
		t.Fatalf("title %q, subtitle %q", desc.Title, desc.Subtitle)
	}
	params := table(t, desc, "Parameters (maximum likelihood, standard errors from the Hessian)")
	if got := params.Rows[1]; got[0] != "BG/NBD" || got[1] != "alpha" || got[2] != "4.414" || got[3] != "0.378" {
		t.Fatalf("alpha row %q", got)
	}
	if got := params.Rows[5]; got[0] != "Gamma-Gamma" || got[1] != "q" || got[3] != "—" {
		t.Fatalf("q row %q", got)
	}
	left := table(t, desc, "Customers left out")
	if left.Rows[0][1] != "3" || left.Rows[2][1] != "1411" {
		t.Fatalf("left out %q", left.Rows)
	}
	ho := desc.Tables[len(desc.Tables)-1]
	if got := ho.Rows[7]; got[0] != "7+" || got[3] != "1.5" || ho.Rows[8][0] != "total" || len(desc.Charts) != 1 {
		t.Fatalf("holdout rows %q", ho.Rows)
	}
}
