package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

// Flags of the scoring benchmark.
var (
	scoreData = flag.String("score-data", "", "a large features CSV from gen.py (10M rows) for the scoring benchmark; "+
		"without it only --data is scored")
	scoreCacheBytes = flag.Int64("score-cache-bytes", 256<<20,
		"shard cache budget of the workers in the scoring benchmark's bounded-memory run (worker processes only)")
)

func init() { register("score", benchScoreKMeans) }

// scoreTarget is issue 17's throughput target for k-means scoring (issue
// 5's was 5M rows/s).
const scoreTarget = 10e6

// benchScoreKMeans times `score` with a k-means model (k=16, standardised)
// end to end — submit until the score set is committed — on --data and on
// --score-data, with the shards already in the workers' caches, and reads
// the workers' peak memory for each. Then, with worker processes, it
// restarts them with a --score-cache-bytes budget smaller than the large
// dataset and scores both again: a worker's peak memory must stay near the
// budget whatever the number of rows.
func benchScoreKMeans(ctx context.Context, env *benchEnv) error {
	data := flag.Lookup("data").Value.String()
	rounds := max(1, flag.Lookup("rounds").Value.(flag.Getter).Get().(int))
	sets := []struct{ name, path string }{{"score-small", data}}
	if *scoreData != "" {
		sets = append(sets, struct{ name, path string }{"score-large", *scoreData})
	}
	rows := map[string]int64{}
	for _, s := range sets {
		t0 := time.Now()
		ds, err := env.cl.Import(ctx, s.name, s.path, client.ImportOptions{Kind: proto.KindFeatures,
			Options: partition.Options{Key: "customer_id", Shards: 64, TempDir: env.dir}})
		if err != nil {
			return err
		}
		rows[s.name] = ds.Latest().Rows
		emit(map[string]any{"bench": "score_import", "dataset": s.path, "rows": ds.Latest().Rows,
			"seconds": round(time.Since(t0).Seconds(), 2)})
	}
	model, cols, err := scoreModel(ctx, env.cl, data)
	if err != nil {
		return err
	}
	budget := int64(8 << 30) // startWorkers' budget in main
	if env.wp == nil {
		budget = 0 // in-process workers: the dev cluster's default
	}
	for _, s := range sets {
		env.wp.resetPeaks()
		// The first job loads every shard into the workers' caches.
		if _, _, err := scoreJob(ctx, env.cl, s.name, model); err != nil {
			return err
		}
		time.Sleep(settle)
		var rates []float64
		for r := range rounds {
			stop, err := startProfile(fmt.Sprintf("%s.score.%s.%d", profile, s.name, r))
			if err != nil {
				return err
			}
			secs, ss, err := scoreJob(ctx, env.cl, s.name, model)
			stop()
			if err != nil {
				return err
			}
			if ss.Rows != rows[s.name] {
				return fmt.Errorf("score set %s has %d rows, the dataset %d", ss.Name, ss.Rows, rows[s.name])
			}
			rates = append(rates, float64(ss.Rows)/secs)
			emit(map[string]any{"bench": "score_kmeans", "impl": "mathcrm dev", "round": r, "rows": ss.Rows, "d": len(cols),
				"k": 16, "workers": env.workers, "shards": len(ss.Shards), "seconds": round(secs, 3),
				"pass_s": ss.passSeconds(), "rows_per_s": round(float64(ss.Rows)/secs, 0), "score_set_bytes": shardBytes(ss.Shards)})
		}
		line := map[string]any{"bench": "score_kmeans_summary", "impl": "mathcrm dev", "rows": rows[s.name], "d": len(cols),
			"k": 16, "workers": env.workers, "rounds": rounds, "rows_per_s_best": round(slices.Max(rates), 0),
			"rows_per_s_median": round(median(rates), 0), "worker_peak_rss_mib": env.wp.peaks(),
			"worker_cache_budget_mib": budget >> 20, "bench_peak_rss_mib": peakRSS()}
		if s.name == "score-large" {
			line["target"] = ">= 10000000 rows/s"
			line["met"] = median(rates) >= scoreTarget
		}
		emit(line)
		if s.name == sets[len(sets)-1].name { // the largest score set: look its customers up
			if err := benchLookup(ctx, env, s.path, rows[s.name]); err != nil {
				return err
			}
		}
	}
	if env.wp == nil {
		return nil
	}
	// Bounded memory: workers whose budget holds the small dataset but not
	// the large one, each dataset scored twice from a fresh worker; then the
	// large one again with half the budget, so that the peak is seen to
	// follow the budget, not the rows.
	defer func() { _ = restartWorkers(ctx, env, workerCacheBytes) }()
	type memRun struct {
		set    string
		budget int64
	}
	var runs []memRun
	for _, s := range sets {
		runs = append(runs, memRun{s.name, *scoreCacheBytes})
	}
	runs = append(runs, memRun{sets[len(sets)-1].name, *scoreCacheBytes / 2})
	for _, r := range runs {
		if err := restartWorkers(ctx, env, r.budget); err != nil {
			return err
		}
		var secs []float64
		for range 2 {
			t, _, err := scoreJob(ctx, env.cl, r.set, model)
			if err != nil {
				return err
			}
			secs = append(secs, round(t, 3))
		}
		emit(map[string]any{"bench": "score_kmeans_memory", "impl": "mathcrm dev", "rows": rows[r.set],
			"workers": env.workers, "worker_cache_budget_mib": r.budget >> 20, "worker_peak_rss_mib": env.wp.peaks(),
			"seconds": secs, "what": "two scoring jobs from fresh workers with this budget"})
	}
	return nil
}

// scoreModel trains the k-means model the benchmark scores with: k=16 on
// the standardised features of the small dataset, a few Lloyd iterations.
func scoreModel(ctx context.Context, cl *client.Client, data string) (string, []string, error) {
	cols, _, err := firstRows(data, 0)
	if err != nil {
		return "", nil, err
	}
	j, err := trainJob(ctx, cl, proto.JobSpec{Algo: "kmeans", Dataset: "score-small", Seed: 1,
		Params: proto.MustJSON(kmeans.Params{K: 16, Columns: cols, Standardize: true, MaxIter: 5})})
	if err != nil {
		return "", nil, err
	}
	return j.Model, cols, nil
}

// scoreJob scores a dataset with a model and returns the seconds from
// submit until the job is seen succeeded, when its score set is committed.
func scoreJob(ctx context.Context, cl *client.Client, dataset, model string) (float64, *scoreRun, error) {
	t0 := time.Now()
	sub, err := cl.Submit(ctx, proto.JobSpec{Algo: "score", Dataset: dataset,
		Params: proto.MustJSON(proto.ScoreSpec{Model: model, As: dataset + "-segments"})})
	if err != nil {
		return 0, nil, err
	}
	j := *sub
	for {
		if err := cl.Call(ctx, proto.APIJobStatus, proto.Named{Name: j.ID}, &j); err != nil {
			return 0, nil, err
		}
		if j.Terminal() {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	secs := time.Since(t0).Seconds()
	if j.State != proto.JobSucceeded {
		return 0, nil, fmt.Errorf("job %s %s: %s", j.ID, j.State, j.Reason)
	}
	r := &scoreRun{job: &j}
	if err := cl.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: dataset + "-segments"}, &r.ScoreSet); err != nil {
		return 0, nil, err
	}
	if r.Job != j.ID {
		return 0, nil, fmt.Errorf("score set %s was made by job %s, not %s", r.Name, r.Job, j.ID)
	}
	return secs, r, nil
}

// scoreRun is a scoring job and the score set it committed.
type scoreRun struct {
	proto.ScoreSet
	job *proto.Job
}

// passSeconds is how long the job's scoring pass took on the coordinator.
func (r *scoreRun) passSeconds() float64 {
	var s float64
	for _, p := range r.job.History {
		s += p.Seconds
	}
	return round(s, 3)
}

func shardBytes(refs []proto.ShardRef) int64 {
	var n int64
	for _, r := range refs {
		n += r.Size
	}
	return n
}

// restartWorkers replaces the benchmark's worker processes by as many new
// ones with the given cache budget, once the old ones have left.
func restartWorkers(ctx context.Context, env *benchEnv, cacheBytes int64) error {
	old := map[int]bool{}
	for _, c := range env.wp.cmds {
		old[c.Process.Pid] = true
	}
	env.wp.stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st proto.ClusterStatus
		if err := env.cl.Call(ctx, proto.APIClusterStatus, nil, &st); err != nil {
			return err
		}
		if !slices.ContainsFunc(st.Workers, func(w proto.WorkerInfo) bool { return old[w.PID] }) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the stopped workers are still listed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wp, err := startWorkers(ctx, env.cl, workerBin, env.url, env.workers, cacheBytes)
	if err != nil {
		return err
	}
	// main stops the workers through the same pointer.
	*env.wp = *wp
	return nil
}
