package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// benchALS times ALS iterations (a users pass and an items pass) on a
// ratings file from gen.py next to the numpy reference of anchors.py on one
// thread, the same rank, λ, α and iteration count, in the same run.
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
	spec := alsjob.Spec(name, alsjob.Params{Rank: rank, Lambda: 1, Iterations: iters, Implicit: implicit, Alpha: 40})
	spec.Seed = 1
	wp.resetPeaks()
	stop, err := startProfile(fmt.Sprintf("%s.%s", profile, name))
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
	// The first pass writes the initial item factors; then users and items
	// passes alternate.
	var perIter []float64
	for i := 1; i+1 < len(j.History); i += 2 {
		perIter = append(perIter, j.History[i].Seconds+j.History[i+1].Seconds)
	}
	algo := "als"
	if implicit {
		algo = "ials"
	}
	emit(map[string]any{"bench": algo + "_iter", "impl": "mathcrm dev", "nnz": ds.Latest().Rows, "rank": rank,
		"users": ds.Latest().Interactions.Users, "items": ds.Latest().Interactions.Items,
		"per_iter_s": round(median(perIter), 4), "iter_s": roundAll(perIter, 3), "pass_s": roundAll(passes, 3), "job_s": round(j.Finished.Sub(j.Started).Seconds(), 3),
		"objective": j.Objective, "worker_peak_rss_mib": wp.peaks()})
	if anchors == "" {
		return nil
	}
	args := []string{anchors, "--threads", "1", "als", "--data", data, "--rank", fmt.Sprint(rank), "--iters", fmt.Sprint(iters)}
	if implicit {
		args = append(args, "--implicit")
	}
	cmd := exec.Command(python, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s als: %w", anchors, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var rec struct {
			Algo     string         `json:"algo"`
			Impl     string         `json:"impl"`
			PerIterS float64        `json:"per_iter_s"`
			Quality  map[string]any `json:"quality"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Algo != algo {
			continue
		}
		emit(map[string]any{"bench": algo + "_iter", "impl": rec.Impl + ", 1 thread", "per_iter_s": rec.PerIterS, "quality": rec.Quality})
		emit(map[string]any{"bench": algo + "_iter_ratio", "what": "mathcrm dev (2 workers) / numpy ALS (1 thread), per-iteration medians, same run",
			"ratio": round(median(perIter)/rec.PerIterS, 3), "target": "<= 0.5"})
	}
	return nil
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
