package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/partition"
)

func init() { register("import", benchImportCSV) }

// importTarget is issue 17's import target: rows per second end to end.
const importTarget = 1_000_000

// benchImportCSV imports the features CSV (--data) end to end — with
// --worker-bin, as `mathcrm dataset import` processes from their start to
// the committed, visible version, with each one's peak RSS; else through
// the client in this process — and times pandas.read_csv of the same file
// inside Python (parsing only, no interpreter start-up) right after each
// import, --rounds rounds interleaved, and reports the medians, their
// ratio and the import's rows per second.
func benchImportCSV(ctx context.Context, env *benchEnv) error {
	data := flag.Lookup("data").Value.String()
	if data == "" || data == os.DevNull {
		return nil
	}
	rounds := max(1, flag.Lookup("rounds").Value.(flag.Getter).Get().(int))
	key := header(data, 0)
	var ours, theirs, rss, oursCPU, theirsCPU []float64
	var rows int64
	if workerBin == "" { // the imports run in this process
		stop, err := startProfile(profile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for r := range rounds {
		name := fmt.Sprintf("import-%d-%d", time.Now().UnixNano(), r)
		run, err := importOnce(ctx, env, name, data, key)
		if err != nil {
			return err
		}
		p, pcpu, err := pandasReadCSV(env.python, data)
		if err != nil {
			return err
		}
		rows = run.rows
		ours, theirs, rss = append(ours, run.secs), append(theirs, p), append(rss, run.peak)
		oursCPU, theirsCPU = append(oursCPU, run.cpu), append(theirsCPU, pcpu)
		emit(map[string]any{"bench": "import_csv", "round": r, "rows": run.rows, "mathcrm_s": round(run.secs, 3),
			"mathcrm_cpu_s": round(run.cpu, 3), "pandas_read_csv_s": round(p, 3), "pandas_cpu_s": round(pcpu, 3),
			"import_peak_rss_mib": run.peak, "load_average": loadAverage()})
	}
	m, p := median(ours), median(theirs)
	emit(map[string]any{"bench": "import_csv_summary", "what": "mathcrm dataset import end to end / pandas.read_csv, medians, same run",
		"file": data, "rows": rows, "rounds": len(ours), "mathcrm_s": roundAll(ours, 3), "pandas_read_csv_s": roundAll(theirs, 3),
		"rows_per_s": round(float64(rows)/m, 0), "ratio": round(m/p, 3), "import_peak_rss_mib": maxOf(rss),
		// CPU seconds (the import process's, user + system; pandas's
		// process time) change less with the machine's load than wall time.
		"mathcrm_cpu_s": roundAll(oursCPU, 3), "pandas_cpu_s": roundAll(theirsCPU, 3),
		"cpu_ratio":           round(median(oursCPU)/median(theirsCPU), 3),
		"worker_peak_rss_mib": env.wp.peaks(), "load_average": loadAverage(),
		"target": fmt.Sprintf(">= %d rows/s, ratio <= 1.0", importTarget),
		"met":    float64(rows)/m >= importTarget && m <= p})
	return nil
}

// importRun is one import's measurement.
type importRun struct {
	secs, cpu, peak float64 // wall and CPU seconds, peak RSS (MiB)
	rows            int64
}

// importOnce imports data as dataset name. With --worker-bin it runs
// `mathcrm dataset import` and measures that process (CPU and peak RSS);
// else it imports in this process and measures the wall time only.
func importOnce(ctx context.Context, env *benchEnv, name, data, key string) (importRun, error) {
	if workerBin == "" {
		t0 := time.Now()
		ds, err := env.cl.Import(ctx, name, data, client.ImportOptions{Kind: "features",
			Options: partition.Options{Key: key, TempDir: env.dir}})
		if err != nil {
			return importRun{}, err
		}
		return importRun{secs: time.Since(t0).Seconds(), rows: ds.Latest().Rows}, nil
	}
	cmd := exec.CommandContext(ctx, workerBin, "--output", "json", "dataset", "import", name, data, "--key", key)
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+env.url)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	t0 := time.Now()
	err := cmd.Start()
	var peak float64
	if err == nil {
		// The process's own peak resident memory (VmHWM), read while it
		// runs: the rusage of a child started by os/exec counts the
		// bench's resident memory too, since Linux carries the peak of
		// the memory the child shared with its parent until exec over
		// into the child's (the bench's several GiB after the ALS
		// blocks). VmHWM only grows, so the last reading is the peak up
		// to 5 ms before the end.
		done, peaks := make(chan struct{}), make(chan float64)
		go func() {
			p := 0.0
			for {
				p = max(p, procPeakRSS(cmd.Process.Pid))
				select {
				case <-done:
					peaks <- p
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		err = cmd.Wait()
		close(done)
		peak = <-peaks
	}
	run := importRun{secs: time.Since(t0).Seconds()}
	if err != nil {
		return run, fmt.Errorf("%s dataset import: %w: %s", workerBin, err, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		Rows int64 `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Rows <= 0 {
		return run, fmt.Errorf("%s dataset import printed no row count: %v", workerBin, err)
	}
	run.rows = res.Rows
	run.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	run.peak = peak
	return run, nil
}

// pandasReadCSV times pandas.read_csv of path inside Python: wall and
// process (CPU) seconds.
func pandasReadCSV(python, path string) (float64, float64, error) {
	cmd := exec.Command(python, "-c", "import sys, time, pandas\n"+
		"t, c = time.perf_counter(), time.process_time()\n"+
		"pandas.read_csv(sys.argv[1])\n"+
		"print(time.perf_counter() - t, time.process_time() - c)", path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("pandas.read_csv: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("pandas.read_csv printed %q", out)
	}
	wall, err1 := strconv.ParseFloat(f[0], 64)
	cpu, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("pandas.read_csv printed %q", out)
	}
	return wall, cpu, nil
}

// loadAverage is the machine's 1-minute load average, to read a figure by.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}
