package builtin_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/kmeans"
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
