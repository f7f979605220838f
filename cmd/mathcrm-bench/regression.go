package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// benchRegression times linear (target clv) and logistic (target churn)
// regression jobs end to end on a labels file from gen.py, next to numpy's
// one-pass normal equations and scikit-learn's LogisticRegression(lbfgs).
// After a warm-up job of each and the settle pause, it runs --rounds
// interleaved rounds of both jobs and the reference, since the machine's
// speed drifts by tens of percent, and reports the ratios of the best and
// of the median times.
func benchRegression(ctx context.Context, cl *client.Client, wp *workerProcs, data, python, anchors, dir string) error {
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
		"linear": supervised.Spec(supervised.LinearName, "labels", supervised.Params{Target: "clv", Features: feats, L2: 1}),
		// To convergence by each tool's default test: ours (Tol 1e-8 on the
		// step, the objective's relative change and the gradient) and
		// scikit-learn's (tol 1e-4 on the projected gradient); the
		// log-losses reached are printed side by side.
		"logistic": supervised.Spec(supervised.LogisticName, "labels", supervised.Params{Target: "churn", Features: feats,
			C: new(1e6)}),
	}
	names := []string{"linear", "logistic"}
	for _, name := range names {
		if _, err := trainJob(ctx, cl, specs[name]); err != nil { // warm the caches
			return err
		}
	}
	time.Sleep(settle)
	rounds := 1
	if f := flag.Lookup("rounds"); f != nil {
		rounds = max(1, f.Value.(flag.Getter).Get().(int))
	}
	var lossPerRow, sklearnLoss float64
	ours := map[string][]float64{}
	theirs := map[string][]float64{}
	wp.resetPeaks()
	for r := 0; r < rounds; r++ {
		for _, name := range names {
			stop, err := startProfile(fmt.Sprintf("%s.%s.%d", profile, name, r))
			if err != nil {
				return err
			}
			cpu0 := clusterCPU(wp)
			j, err := trainJob(ctx, cl, specs[name])
			cpu := clusterCPU(wp) - cpu0
			stop()
			if err != nil {
				return err
			}
			secs := j.Finished.Sub(j.Started).Seconds()
			ours[name] = append(ours[name], secs)
			if name == "logistic" {
				lossPerRow = j.Objective / float64(ds.Latest().Rows)
			}
			var passes []float64
			for _, p := range j.History {
				passes = append(passes, round(p.Seconds, 4))
			}
			printTraces(name, j)
			emit(map[string]any{"bench": name + "_fit", "impl": "mathcrm dev", "round": r, "n": ds.Latest().Rows, "d": len(feats),
				"seconds": round(secs, 4), "cluster_cpu_s": round(cpu, 2), "passes": j.Pass, "pass_s": passes,
				"objective": j.Objective, "worker_peak_rss_mib": wp.peaks()})
		}
		if anchors == "" {
			continue
		}
		ref, refLoss, err := regressionAnchors(python, anchors, data)
		if err != nil {
			return err
		}
		sklearnLoss = refLoss
		for name, secs := range ref {
			theirs[name] = append(theirs[name], secs)
		}
	}
	for _, c := range []struct{ name, what, ref, target string }{
		{"linear", "mathcrm dev job / numpy one-pass normal equations", "numpy_s", "<= 0.5"},
		{"logistic", "mathcrm dev job / scikit-learn LogisticRegression(lbfgs)", "sklearn_s", "<= 0.3"},
	} {
		o, t := ours[c.name], theirs[c.name]
		if len(t) == 0 {
			continue
		}
		line := map[string]any{"bench": c.name + "_fit_ratio", "what": c.what + ", same run",
			"ratio_best": round(minOf(o)/minOf(t), 3), "ratio_median": round(median(o)/median(t), 3),
			"rounds": len(o), "mathcrm_s": roundAll(o, 4), c.ref: t, "worker_peak_rss_mib": wp.peaks(), "target": c.target}
		if c.name == "logistic" {
			// The objective is the mean log-loss plus ½‖β‖²/(C·n), which C = 1e6 makes negligible.
			line["mathcrm_objective_per_row"], line["sklearn_log_loss"] = round(lossPerRow, 8), sklearnLoss
		}
		emit(line)
	}
	return nil
}

// regressionAnchors runs the reference once and returns numpy's one-pass
// ridge time as "linear" and scikit-learn's logistic regression time as
// "logistic", and the mean log-loss scikit-learn reached.
func regressionAnchors(python, anchors, data string) (map[string]float64, float64, error) {
	cmd := exec.Command(python, anchors, "--threads", "2", "regression", "--data", data)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("%s regression: %w", anchors, err)
	}
	ref := map[string]float64{}
	var loss float64
	for _, line := range strings.Split(string(out), "\n") {
		var rec struct {
			Algo    string  `json:"algo"`
			Impl    string  `json:"impl"`
			FitS    float64 `json:"fit_s"`
			Quality struct {
				LogLoss float64 `json:"log_loss"`
			} `json:"quality"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Algo == "ridge" && strings.HasPrefix(rec.Impl, "numpy"):
			ref["linear"] = rec.FitS
		case rec.Algo == "logreg" && strings.HasPrefix(rec.Impl, "sklearn"):
			ref["logistic"], loss = rec.FitS, rec.Quality.LogLoss
		}
	}
	if len(ref) != 2 {
		return nil, 0, fmt.Errorf("%s regression printed no numpy ridge or scikit-learn logistic record", anchors)
	}
	return ref, loss, nil
}

// startProfile starts a CPU profile of this process (the coordinator, and
// the workers unless --worker-bin runs them apart) into path, when
// --cpuprofile names a file, and returns the function that stops it.
func startProfile(path string) (stop func(), err error) {
	if profile == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); f.Close() }), nil
}

// printTraces writes each pass's trace (job status --trace) of job j to
// stderr as a JSON line, when MATHCRM_BENCH_TRACE is set.
func printTraces(name string, j *proto.Job) {
	if os.Getenv("MATHCRM_BENCH_TRACE") == "" {
		return
	}
	for _, p := range j.History {
		if p.Trace != nil {
			b, _ := json.Marshal(p.Trace)
			fmt.Fprintf(os.Stderr, "%s pass %d trace %s\n", name, p.Pass, b)
		}
	}
}
