package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// benchALS times ALS iterations (a users pass and an items pass) on a
// ratings file from gen.py next to the numpy reference of anchors.py on one
// thread, the same rank, λ, α and iteration count, --rounds rounds
// interleaved, and reports the medians. Both solve the same problem: the
// job regularises with the reference's plain λ (--reg-scaling none), and
// the two objectives are printed side by side.
func benchALS(ctx context.Context, cl *client.Client, wp *workerProcs, data string, implicit bool, python, anchors, dir string) error {
	name := "ratings"
	if implicit {
		name = "ratings_implicit"
	}
	ds, err := cl.Import(ctx, name, data, client.ImportOptions{Kind: proto.KindInteractions,
		Options:      partition.Options{Shards: 64, TempDir: dir},
		Interactions: partition.InteractionOptions{User: "user_id", Item: "item_id", Value: header(data, 2)}})
	if err != nil {
		return err
	}
	const rank, iters = 32, 5
	spec := alsjob.Spec(name, alsjob.Params{Rank: rank, Lambda: 1, Iterations: iters, Implicit: implicit, Alpha: 40,
		RegScaling: als.RegNone})
	spec.Seed = 1
	algo := "als"
	if implicit {
		algo = "ials"
	}
	rounds := max(1, flag.Lookup("rounds").Value.(flag.Getter).Get().(int))
	var ours, theirs, objs, refObjs []float64
	var peaks [][]float64
	for r := range rounds {
		wp.resetPeaks()
		stop, err := startProfile(fmt.Sprintf("%s.%s.%d", profile, name, r))
		if err != nil {
			return err
		}
		j, err := trainJob(ctx, cl, spec)
		stop()
		if err != nil {
			return err
		}
		var passes []float64
		for _, p := range j.History {
			if p.Phase == "train" || p.Phase == "done" || p.Phase == "eval" {
				passes = append(passes, p.Seconds)
			}
		}
		printTraces("als", j)
		// The first pass writes the initial item factors; then users and
		// items passes alternate.
		var perIter []float64
		for i := 1; i+1 < len(j.History); i += 2 {
			perIter = append(perIter, j.History[i].Seconds+j.History[i+1].Seconds)
		}
		peak := wp.peaks()
		ours, objs, peaks = append(ours, median(perIter)), append(objs, j.Objective), append(peaks, peak)
		emit(map[string]any{"bench": algo + "_iter", "impl": "mathcrm dev", "round": r, "nnz": ds.Latest().Rows, "rank": rank,
			"users": ds.Latest().Interactions.Users, "items": ds.Latest().Interactions.Items, "reg_scaling": als.RegNone,
			"per_iter_s": round(median(perIter), 4), "iter_s": roundAll(perIter, 3), "pass_s": roundAll(passes, 3),
			"job_s": round(j.Finished.Sub(j.Started).Seconds(), 3), "objective": j.Objective, "worker_peak_rss_mib": peak})
		if anchors == "" {
			continue
		}
		ref, err := alsReference(python, anchors, data, algo, rank, iters, implicit)
		if err != nil {
			return err
		}
		theirs = append(theirs, ref.PerIterS)
		if obj, ok := ref.Quality["objective"].(float64); ok {
			refObjs = append(refObjs, obj)
		}
		emit(map[string]any{"bench": algo + "_iter", "impl": ref.Impl + ", 1 thread", "round": r, "per_iter_s": ref.PerIterS,
			"quality": ref.Quality})
	}
	if len(theirs) == 0 {
		return nil
	}
	line := map[string]any{"bench": algo + "_iter_ratio",
		"what":   "mathcrm dev (2 workers) / numpy ALS (1 thread), plain λ both, per-iteration medians of the rounds, same run",
		"rounds": len(ours), "mathcrm_s": roundAll(ours, 4), "numpy_s": theirs, "ratio": round(median(ours)/median(theirs), 3),
		"mathcrm_objective": median(objs), "worker_peak_rss_mib": maxPeaks(peaks), "target": "<= 0.25"}
	if len(refObjs) > 0 {
		ref := median(refObjs)
		line["numpy_objective"] = ref
		line["objective_rel_diff"] = round((median(objs)-ref)/ref, 6)
	}
	emit(line)
	return nil
}

// alsRecord is the reference's ALS line.
type alsRecord struct {
	Algo     string         `json:"algo"`
	Impl     string         `json:"impl"`
	PerIterS float64        `json:"per_iter_s"`
	Quality  map[string]any `json:"quality"`
}

// alsReference runs anchors.py's numpy ALS on one thread.
func alsReference(python, anchors, data, algo string, rank, iters int, implicit bool) (alsRecord, error) {
	args := []string{anchors, "--threads", "1", "als", "--data", data, "--rank", fmt.Sprint(rank), "--iters", fmt.Sprint(iters)}
	if implicit {
		args = append(args, "--implicit")
	}
	cmd := exec.Command(python, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return alsRecord{}, fmt.Errorf("%s als: %w", anchors, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var rec alsRecord
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Algo == algo {
			return rec, nil
		}
	}
	return alsRecord{}, fmt.Errorf("%s printed no %s record", anchors, algo)
}

// maxPeaks is each worker's largest peak over the rounds.
func maxPeaks(rounds [][]float64) []float64 {
	var out []float64
	for _, p := range rounds {
		for i, x := range p {
			if i == len(out) {
				out = append(out, x)
			}
			out[i] = max(out[i], x)
		}
	}
	return out
}

// header returns column i of a CSV file's header.
func header(path string, i int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, _ := f.Read(b)
	line, _, _ := strings.Cut(string(b[:n]), "\n")
	cols := strings.Split(strings.TrimSpace(line), ",")
	if i < len(cols) {
		return cols[i]
	}
	return ""
}

func roundAll(xs []float64, digits int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = round(x, digits)
	}
	return out
}
