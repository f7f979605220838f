package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// benchRegression times linear (target clv) and logistic (target churn)
// regression jobs end to end on a labels file from gen.py, next to numpy's
// one-pass normal equations and scikit-learn's LogisticRegression(lbfgs).
func benchRegression(ctx context.Context, cl *client.Client, data, python, anchors, dir string) error {
	ds, err := cl.Import(ctx, "labels", data, client.ImportOptions{Kind: "features",
		Options: partition.Options{Key: "customer_id", Shards: 64, TempDir: dir}})
	if err != nil {
		return err
	}
	var feats []string
	for _, c := range ds.Latest().Columns {
		if strings.HasPrefix(c.Name, "f") {
			feats = append(feats, c.Name)
		}
	}
	specs := map[string]proto.JobSpec{
		"linear": {Algo: "linear", Dataset: "labels", Linear: &proto.RegressionSpec{Target: "clv", Features: feats, L2: 1}},
		"logistic": {Algo: "logistic", Dataset: "labels", Logistic: &proto.RegressionSpec{Target: "churn", Features: feats,
			C: 1e6, Tol: 1e-10}},
	}
	ours := map[string]float64{}
	for _, name := range []string{"linear", "logistic"} {
		spec := specs[name]
		if _, err := trainJob(ctx, cl, spec); err != nil { // warm the caches
			return err
		}
		j, err := trainJob(ctx, cl, spec)
		if err != nil {
			return err
		}
		secs := j.Finished.Sub(j.Started).Seconds()
		ours[name] = secs
		emit(map[string]any{"bench": name + "_fit", "impl": "mathcrm dev", "n": ds.Latest().Rows, "d": len(feats),
			"seconds": round(secs, 4), "passes": j.Pass, "objective": j.Objective, "peak_rss_mib": peakRSS()})
	}
	if anchors == "" {
		return nil
	}
	cmd := exec.Command(python, anchors, "--threads", "2", "regression", "--data", data)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s regression: %w", anchors, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var rec struct {
			Algo string  `json:"algo"`
			Impl string  `json:"impl"`
			FitS float64 `json:"fit_s"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Algo == "ridge" && strings.HasPrefix(rec.Impl, "numpy"):
			emit(map[string]any{"bench": "linear_fit_ratio", "what": "mathcrm dev job / numpy one-pass normal equations",
				"ratio": round(ours["linear"]/rec.FitS, 3), "mathcrm_s": round(ours["linear"], 4), "numpy_s": rec.FitS, "target": "<= 1.0"})
		case rec.Algo == "logreg" && strings.HasPrefix(rec.Impl, "sklearn"):
			emit(map[string]any{"bench": "logistic_fit_ratio", "what": "mathcrm dev job / scikit-learn LogisticRegression(lbfgs)",
				"ratio": round(ours["logistic"]/rec.FitS, 3), "mathcrm_s": round(ours["logistic"], 4), "sklearn_s": rec.FitS, "target": "<= 0.5"})
		}
	}
	return nil
}
