package main

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCLIALS trains ALS from the CLI and reads the model back every way
// the CLI offers: show, export as JSON and as Parquet, and recommend, whose
// items and scores follow from the exported factors.
func TestCLIALS(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	ratings := "../../testdata/ratings/spark_sample_movielens.csv"
	var imp struct{ Rows int64 }
	runJSON(t, url, &imp, "dataset", "import", "ratings", ratings, "--kind", "interactions", "--user", "user", "--item", "item",
		"--value", "rating", "--shards", "3")
	var res struct {
		Model string `json:"model"`
		State string `json:"state"`
	}
	runJSON(t, url, &res, "train", "als", "--dataset", "ratings", "--rank", "4", "--iterations", "3", "--holdout", "0.2", "--seed", "2", "--wait")
	if res.State != "succeeded" || res.Model == "" {
		t.Fatalf("train als: %+v", res)
	}

	out, errs, code := run(t, url, "model", "show", res.Model)
	if code != 0 || !strings.Contains(out, "ALS, rank 4, lambda 0.1 (weighted), explicit ratings, 3 iterations") || !strings.Contains(out, "HOLDOUT RMSE") {
		t.Fatalf("model show: exit %d\n%s%s", code, out, errs)
	}
	var show struct {
		Detail struct {
			Kind    string `json:"kind"`
			Summary struct {
				Config struct {
					Rank int `json:"rank"`
				} `json:"config"`
				History []struct {
					HoldoutRMSE float64 `json:"holdout_rmse"`
				} `json:"history"`
			} `json:"summary"`
			Spec struct {
				Params struct {
					Rank   int     `json:"rank"`
					Lambda float64 `json:"lambda"`
				} `json:"als"`
			} `json:"spec"`
		} `json:"als"`
	}
	runJSON(t, url, &show, "model", "show", res.Model)
	if m := show.Detail; m.Kind != "als" || m.Summary.Config.Rank != 4 || len(m.Summary.History) != 3 || !(m.Summary.History[2].HoldoutRMSE > 0) ||
		m.Spec.Params.Rank != 4 || m.Spec.Params.Lambda != 0.1 {
		t.Fatalf("model show --output json: %+v", show)
	}

	var exp struct {
		Kind        string      `json:"kind"`
		Rank        int         `json:"rank"`
		Users       []string    `json:"users"`
		Items       []string    `json:"items"`
		UserFactors [][]float64 `json:"user_factors"`
		ItemFactors [][]float64 `json:"item_factors"`
	}
	runJSON(t, url, &exp, "model", "export", res.Model, "--format", "json")
	if exp.Kind != "als" || exp.Rank != 4 || len(exp.Users) == 0 || len(exp.UserFactors) != len(exp.Users) ||
		len(exp.ItemFactors) != len(exp.Items) || len(exp.ItemFactors[0]) != 4 {
		t.Fatalf("export: kind %s rank %d, %d users, %d user factors, %d items, %d item factors", exp.Kind, exp.Rank,
			len(exp.Users), len(exp.UserFactors), len(exp.Items), len(exp.ItemFactors))
	}
	pq := filepath.Join(dir, "als-model")
	if _, errs, code := run(t, url, "model", "export", res.Model, "--format", "parquet", "--out", pq); code != 0 {
		t.Fatalf("export parquet: exit %d: %s", code, errs)
	}
	for _, name := range []string{"users.parquet", "items.parquet", "model.json"} {
		if st, err := os.Stat(filepath.Join(pq, name)); err != nil || st.Size() == 0 {
			t.Fatalf("export parquet wrote no %s: %v", name, err)
		}
	}

	// The user's items, from the ratings file.
	const user = "0"
	var has []string
	f, err := os.Open(ratings)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u, rest, _ := strings.Cut(sc.Text(), ","); u == user {
			item, _, _ := strings.Cut(rest, ",")
			has = append(has, item)
		}
	}
	f.Close()
	var rec struct {
		Known bool `json:"known_user"`
		Items []struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
		} `json:"items"`
	}
	runJSON(t, url, &rec, "recommend", "--model", res.Model, "--user", user, "--n", "3")
	if !rec.Known || len(rec.Items) != 3 {
		t.Fatalf("recommend: %+v", rec)
	}
	uf := exp.UserFactors[slices.Index(exp.Users, user)]
	best := 0.0
	for i, item := range exp.Items {
		if slices.Contains(has, item) {
			continue
		}
		var s float64
		for k := range uf {
			s += uf[k] * exp.ItemFactors[i][k]
		}
		best = max(best, s)
	}
	for i, r := range rec.Items {
		if slices.Contains(has, r.ID) {
			t.Fatalf("user %s was recommended item %s, which they rated", user, r.ID)
		}
		v := exp.ItemFactors[slices.Index(exp.Items, r.ID)]
		var s float64
		for k := range uf {
			s += uf[k] * v[k]
		}
		if d := s - r.Score; d > 1e-9 || d < -1e-9 || i > 0 && r.Score > rec.Items[i-1].Score {
			t.Fatalf("item %s scored %v, the exported factors give %v (%+v)", r.ID, r.Score, s, rec.Items)
		}
	}
	if d := best - rec.Items[0].Score; d > 1e-9 {
		t.Fatalf("top item scores %v, an item the user has not rated scores %v", rec.Items[0].Score, best)
	}
	out, _, code = run(t, url, "recommend", "--model", res.Model, "--user", "nobody", "--n", "2")
	if code != 0 || !strings.Contains(out, "user nobody is not in model "+res.Model) {
		t.Fatalf("unknown user: exit %d\n%s", code, out)
	}
	if _, errs, code := run(t, url, "recommend", "--model", res.Model, "--user", user, "--n", "0"); code == 0 || !strings.Contains(errs, "--n must be at least 1") {
		t.Fatalf("--n 0: exit %d %q", code, errs)
	}
	dev.stop(t)
}
