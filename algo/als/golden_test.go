package als

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// alsGolden is testdata/golden/als_golden.json, written by
// make_als_golden.py with numpy 1.24.2 (see the README there): a plain
// numpy ALS with the package's split, initial factors and metric
// definitions, solving every row with numpy.linalg.solve.
type alsGolden struct {
	Command  string            `json:"command"`
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name   string `json:"name"`
		Data   string `json:"data"`
		Config struct {
			Rank       int     `json:"rank"`
			Lambda     float64 `json:"lambda"`
			Iterations int     `json:"iterations"`
			Implicit   bool    `json:"implicit"`
			Alpha      float64 `json:"alpha"`
			RegScaling string  `json:"reg_scaling"`
			Seed       uint64  `json:"seed"`
			Holdout    float64 `json:"holdout"`
			EvalK      int     `json:"eval_k"`
		} `json:"config"`
		Users   int   `json:"users"`
		Items   int   `json:"items"`
		NTrain  int64 `json:"ntrain"`
		NHeld   int64 `json:"nheld"`
		History []struct {
			Iteration   int     `json:"iteration"`
			Objective   float64 `json:"objective"`
			TrainRMSE   float64 `json:"train_rmse"`
			HoldoutRMSE float64 `json:"holdout_rmse"`
			NHoldout    int64   `json:"nholdout"`
			NCold       int64   `json:"ncold"`
			Precision   float64 `json:"precision"`
			Recall      float64 `json:"recall"`
			NDCG        float64 `json:"ndcg"`
			EvalUsers   int64   `json:"eval_users"`
		} `json:"history"`
		FirstUsers map[string][]float64 `json:"first_users"`
		FirstItems map[string][]float64 `json:"first_items"`
	} `json:"cases"`
}

// The tolerances: held-out RMSE within 1 % of the numpy reference
// (explicit), precision@10 within 2 % (implicit). The two compute the same
// math in a different order, so they agree far more closely; tolSame holds
// every metric and the factors to that (relative, absolute below 1), and
// the test logs the worst differences.
const (
	tolRMSE      = 0.01
	tolPrecision = 0.02
	tolSame      = 1e-10
)

func TestGoldenNumpy(t *testing.T) {
	b, err := os.ReadFile("../../testdata/golden/als_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g alsGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			tr := readTriples(t, filepath.Join("../..", c.Data))
			cfg := DefaultConfig()
			cfg.Rank, cfg.Lambda, cfg.Iterations = c.Config.Rank, c.Config.Lambda, c.Config.Iterations
			cfg.Implicit, cfg.Alpha, cfg.RegScaling = c.Config.Implicit, c.Config.Alpha, c.Config.RegScaling
			cfg.Seed, cfg.Holdout, cfg.EvalK, cfg.EvalSample = c.Config.Seed, c.Config.Holdout, c.Config.EvalK, 1
			u, i := tr.blocks(4)
			m, err := Reference(cfg, u, i)
			if err != nil {
				t.Fatal(err)
			}
			if m.Users.Len() != c.Users || m.Items.Len() != c.Items {
				t.Fatalf("%d users and %d items, numpy %d and %d", m.Users.Len(), m.Items.Len(), c.Users, c.Items)
			}
			worst := map[string]float64{}
			check := func(what string, got, want, tol float64) {
				t.Helper()
				e := math.Abs(got-want) / math.Max(1, math.Abs(want))
				worst[what] = max(worst[what], e)
				if e > tol {
					t.Errorf("%s = %.12g, numpy %.12g (relative error %.2g > %g)", what, got, want, e, tol)
				}
			}
			for k, h := range c.History {
				got := m.History[k]
				check("objective", got.Objective, h.Objective, tolSame)
				if cfg.Implicit {
					if got.EvalUsers != h.EvalUsers {
						t.Errorf("iteration %d: %d users evaluated, numpy %d", k+1, got.EvalUsers, h.EvalUsers)
					}
					check("precision@10", got.Precision, h.Precision, tolPrecision)
					check("precision@10", got.Precision, h.Precision, tolSame)
					check("recall@10", got.Recall, h.Recall, tolSame)
					check("ndcg@10", got.NDCG, h.NDCG, tolSame)
					continue
				}
				if got.NHoldout != h.NHoldout || got.NCold != h.NCold {
					t.Errorf("iteration %d: %d held out and %d cold, numpy %d and %d", k+1, got.NHoldout, got.NCold, h.NHoldout, h.NCold)
				}
				check("holdout RMSE", got.HoldoutRMSE, h.HoldoutRMSE, tolRMSE)
				check("holdout RMSE", got.HoldoutRMSE, h.HoldoutRMSE, tolSame)
				check("train RMSE", got.TrainRMSE, h.TrainRMSE, tolSame)
			}
			for _, side := range []struct {
				tab  *Table
				want map[string][]float64
			}{{m.Users, c.FirstUsers}, {m.Items, c.FirstItems}} {
				for id, f := range side.want {
					i, ok := side.tab.Index(id)
					if !ok {
						t.Fatalf("no factor for %q", id)
					}
					for k, v := range f {
						check("factor", side.tab.Row(i)[k], v, tolSame)
					}
				}
			}
			last := m.History[len(m.History)-1]
			t.Logf("final: holdout RMSE %.6f, precision@10 %.6f (numpy %.6f, %.6f); worst relative differences %v",
				last.HoldoutRMSE, last.Precision, c.History[len(c.History)-1].HoldoutRMSE, c.History[len(c.History)-1].Precision, worst)
		})
	}
}
