package builtin_test

import (
	"errors"
	"testing"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/clv"
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
