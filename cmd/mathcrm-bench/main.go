// Command mathcrm-bench measures mathcrm against the outside references on
// this machine and prints one JSON line per measurement. `make bench` runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/algo/builtin"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/partition"
)

func main() {
	data := flag.String("data", "", "features CSV from ../shared/bench/gen.py (customer_id,f0..)")
	labels := flag.String("labels", "", "labels CSV from gen.py --labels, for the regression benchmarks (optional)")
	flag.StringVar(&ratings, "ratings", "", "explicit ratings CSV from gen.py ratings, for the ALS benchmark (optional)")
	flag.StringVar(&ratingsImplicit, "ratings-implicit", "", "implicit counts CSV from gen.py ratings --implicit (optional)")
	flag.StringVar(&workerBin, "worker-bin", "", "run the workers as processes of this mathcrm binary, to measure each one's peak memory")
	flag.StringVar(&only, "only", "", "run only these benchmarks, comma separated: kmeans, regression, als and the registered ones")
	anchors := flag.String("anchors", "", "path of ../shared/bench/anchors.py; empty skips the reference")
	python := flag.String("python", "/usr/bin/python3", "python with scikit-learn")
	k := flag.Int("k", 16, "clusters")
	iters := flag.Int("iters", 20, "Lloyd iterations per run")
	workers := flag.Int("workers", 2, "workers in the dev cluster")
	rounds := flag.Int("rounds", 2, "interleaved rounds of mathcrm and reference")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.DurationVar(&settle, "settle", 10*time.Second, "pause between the warm-up jobs and the measured ones")
	flag.Parse()
	profile = *cpuprofile
	if err := run(*data, *labels, *anchors, *python, *k, *iters, *workers, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "mathcrm-bench:", err)
		os.Exit(1)
	}
}

// profile names the CPU profile file, if any.
var profile string

// ratings, ratingsImplicit, workerBin and only are flags.
var ratings, ratingsImplicit, workerBin, only string

// wanted reports whether a benchmark is to run.
func wanted(name string) bool {
	if only == "" {
		return true
	}
	for _, n := range strings.Split(only, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// benchEnv is what a registered benchmark works with: the dev cluster's
// client and NATS URL, the worker processes (nil when the workers run in
// this process), the reference's python and anchors.py, a scratch
// directory and the number of workers.
type benchEnv struct {
	cl                   *client.Client
	wp                   *workerProcs
	url                  string
	python, anchors, dir string
	workers              int
}

// registered are the benchmarks that their own files register by name;
// they run after the ALS ones, in the order registered.
var registered []struct {
	name string
	run  func(context.Context, *benchEnv) error
}

// register adds a benchmark that runs when --only is empty or names it.
func register(name string, run func(context.Context, *benchEnv) error) {
	registered = append(registered, struct {
		name string
		run  func(context.Context, *benchEnv) error
	}{name, run})
}

// settle is the pause before measuring.
var settle time.Duration

func emit(v map[string]any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<= 1.0", not "\u003c= 1.0"
	_ = enc.Encode(v)
	os.Stdout.Write(b.Bytes())
}

// emitMachine prints the machine the figures come from: its CPU, its load
// and the kernel path each worker takes.
func emitMachine(ctx context.Context, cl *client.Client) error {
	var st proto.ClusterStatus
	if err := cl.Call(ctx, proto.APIClusterStatus, nil, &st); err != nil {
		return err
	}
	kernels := map[string]string{}
	for _, w := range st.Workers {
		kernels[w.ID] = w.Kernels
	}
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	emit(map[string]any{"bench": "machine", "cpu": cpu, "cores": runtime.NumCPU(), "load": loadAverage(), "kernels": kernels})
	return nil
}

func run(data, labels, anchors, python string, k, iters, workers, rounds int) error {
	if data == "" {
		return fmt.Errorf("--data is required")
	}
	dir, err := os.MkdirTemp("", "mathcrm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	inproc := workers
	if workerBin != "" {
		inproc = 0
	}
	c, err := devcluster.Start(ctx, devcluster.Config{DataDir: filepath.Join(dir, "cluster"), Workers: inproc,
		NATSListen: "127.0.0.1:0", Logger: logger})
	if err != nil {
		return err
	}
	defer c.Close()
	cl, err := client.Dial(c.URL)
	if err != nil {
		return err
	}
	defer cl.Close()
	var wp *workerProcs
	if workerBin != "" {
		if wp, err = startWorkers(ctx, cl, workerBin, c.URL, workers, workerCacheBytes); err != nil {
			return err
		}
		defer wp.stop()
	}
	if err := emitMachine(ctx, cl); err != nil {
		return err
	}
	env := &benchEnv{cl: cl, wp: wp, url: c.URL, python: python, anchors: anchors, dir: dir, workers: workers}
	// Each block after the first gets new worker processes, so that no
	// figure, nor its peak memory, depends on the blocks before it (their
	// cached shards, the workers' heaps); the block's own warm-up fills
	// the caches again.
	ran := false
	fresh := func() error {
		if wp == nil || !ran {
			ran = true
			return nil
		}
		return restartWorkers(ctx, env, workerCacheBytes)
	}
	if wanted("als") {
		for _, r := range []struct {
			path     string
			implicit bool
		}{{ratings, false}, {ratingsImplicit, true}} {
			if r.path == "" {
				continue
			}
			if err := fresh(); err != nil {
				return err
			}
			if err := benchALS(ctx, cl, wp, r.path, r.implicit, python, anchors, dir); err != nil {
				return err
			}
		}
	}
	for _, b := range registered {
		if wanted(b.name) {
			if err := fresh(); err != nil {
				return err
			}
			if err := b.run(ctx, env); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
		}
	}
	if !wanted("kmeans") {
		if labels != "" && wanted("regression") {
			if err := fresh(); err != nil {
				return err
			}
			return benchRegression(ctx, cl, wp, labels, python, anchors, dir)
		}
		return nil
	}
	if err := fresh(); err != nil {
		return err
	}
	cols, given, err := firstRows(data, k)
	if err != nil {
		return err
	}
	t0 := time.Now()
	ds, err := cl.Import(ctx, "bench", data, client.ImportOptions{Kind: "features",
		Options: partition.Options{Key: "customer_id", Shards: 64, TempDir: dir}})
	if err != nil {
		return err
	}
	v := ds.Latest()
	emit(map[string]any{"bench": "import", "impl": "mathcrm", "rows": v.Rows, "cols": len(v.Columns), "shards": len(v.Shards),
		"seconds": round(time.Since(t0).Seconds(), 3), "rows_per_s": round(float64(v.Rows)/time.Since(t0).Seconds(), 0)})
	spec := proto.JobSpec{Algo: "kmeans", Dataset: "bench", Seed: 1, Params: proto.MustJSON(kmeans.Params{
		K: k, Columns: cols, Init: "given", Given: given, MaxIter: iters, Tol: 0})}
	// Warm up: the first job loads every shard into the workers' caches; the
	// second, and a pause, let NATS finish writing the freshly imported
	// shards to disk.
	for i := 0; i < 2; i++ {
		if _, err := trainJob(ctx, cl, spec); err != nil {
			return err
		}
	}
	time.Sleep(settle)
	var ours, theirs []float64
	var inertia float64
	po := startPassOverheads(wp)
	stopProfile, err := startProfile(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	wp.resetPeaks()
	for r := 0; r < rounds; r++ {
		j, err := trainJob(ctx, cl, spec)
		if err != nil {
			return err
		}
		var secs []float64
		for _, p := range j.History {
			if p.Phase == "lloyd" || (p.Phase == "final" && p.Iteration == iters && len(secs) < iters) {
				secs = append(secs, p.Seconds)
			}
		}
		secs = secs[:min(len(secs), iters)]
		po.add(j)
		if os.Getenv("MATHCRM_BENCH_PASSES") != "" {
			fmt.Fprintln(os.Stderr, "pass seconds:", secs)
		}
		med := median(secs)
		ours = append(ours, med)
		var m proto.ModelDetail
		if err := cl.Call(ctx, proto.APIModelShow, proto.Named{Name: j.Model}, &m); err != nil {
			return err
		}
		det, err := builtin.Detail(&m)
		if err != nil {
			return err
		}
		inertia = det.(*kmeans.Segmentation).Inertia
		workersAs := "processes"
		if wp == nil {
			workersAs = "in process (mathcrm dev)"
		}
		emit(map[string]any{"bench": "kmeans_lloyd_iter", "impl": "mathcrm dev", "n": v.Rows, "d": len(cols), "k": k,
			"workers": workers, "workers_as": workersAs, "gomaxprocs": runtime.GOMAXPROCS(0), "per_iter_s": round(med, 5),
			"per_iter_min_s": round(minOf(secs), 5), "per_iter_max_s": round(maxOf(secs), 5), "iters": len(secs),
			"job_s": round(j.Finished.Sub(j.Started).Seconds(), 3), "inertia": round(inertia, 3),
			"worker_peak_rss_mib": wp.peaks(), "bench_peak_rss_mib": peakRSS()})
		if anchors != "" {
			ref, refInertia, err := sklearn(python, anchors, data, k, iters)
			if err != nil {
				return err
			}
			theirs = append(theirs, ref)
			emit(map[string]any{"bench": "kmeans_lloyd_iter", "impl": "scikit-learn KMeans(lloyd), 2 threads", "n": v.Rows,
				"d": len(cols), "k": k, "per_iter_s": ref, "inertia": refInertia,
				"inertia_rel_diff": round((inertia-refInertia)/refInertia, 12)})
		}
	}
	stopProfile()
	po.emit(workers)
	if labels != "" && wanted("regression") {
		if err := fresh(); err != nil {
			return err
		}
		if err := benchRegression(ctx, cl, wp, labels, python, anchors, dir); err != nil {
			return err
		}
	}
	if len(theirs) > 0 {
		emit(map[string]any{"bench": "kmeans_lloyd_iter_ratio", "what": "mathcrm dev / scikit-learn, per-iteration medians, same run",
			"ratio_best": round(minOf(ours)/minOf(theirs), 3), "ratio_median": round(median(ours)/median(theirs), 3),
			"ratio_worst": round(maxOf(ours)/minOf(theirs), 3), "rounds": len(ours),
			"mathcrm_s": ours, "sklearn_s": theirs, "worker_peak_rss_mib": wp.peaks(), "target": "<= 0.35"})
	}
	return nil
}

func trainJob(ctx context.Context, cl *client.Client, spec proto.JobSpec) (*proto.Job, error) {
	sub, err := cl.Submit(ctx, spec)
	if err != nil {
		return nil, err
	}
	j := *sub
	for {
		if err := cl.Call(ctx, proto.APIJobStatus, proto.Named{Name: j.ID}, &j); err != nil {
			return nil, err
		}
		if j.Terminal() {
			if j.State != proto.JobSucceeded {
				return nil, fmt.Errorf("job %s %s: %s", j.ID, j.State, j.Reason)
			}
			return &j, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// firstRows reads the header and the first k data rows (sklearn's init="first").
func firstRows(path string, k int) ([]string, []float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return nil, nil, fmt.Errorf("%s: empty", path)
	}
	cols := strings.Split(sc.Text(), ",")[1:]
	var given []float64
	for i := 0; i < k && sc.Scan(); i++ {
		for _, s := range strings.Split(sc.Text(), ",")[1:] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: row %d: %w", path, i+2, err)
			}
			given = append(given, x)
		}
	}
	return cols, given, sc.Err()
}

func sklearn(python, anchors, data string, k, iters int) (float64, float64, error) {
	cmd := exec.Command(python, anchors, "--threads", "2", "kmeans", "--data", data, "--k", strconv.Itoa(k),
		"--iters", strconv.Itoa(iters), "--no-numpy")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", anchors, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var rec struct {
			Algo     string  `json:"algo"`
			Impl     string  `json:"impl"`
			PerIterS float64 `json:"per_iter_s"`
			Quality  struct {
				Inertia float64 `json:"inertia"`
			} `json:"quality"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Algo == "kmeans" && strings.HasPrefix(rec.Impl, "sklearn") {
			return rec.PerIterS, rec.Quality.Inertia, nil
		}
	}
	return 0, 0, fmt.Errorf("%s printed no scikit-learn k-means record", anchors)
}

func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return round(kb/1024, 1)
		}
	}
	return 0
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func round(x float64, digits int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return p
}
