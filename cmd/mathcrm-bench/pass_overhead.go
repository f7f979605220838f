package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// passOverheads collects, over the measured k-means jobs, where each Lloyd
// pass's time went beyond its slowest worker's compute (the pass traces of
// `job status --trace`), for the pass_overhead_ms line.
type passOverheads struct {
	overhead, cycle, commit, compute []float64
	shards                           int
	// phases are the trace's other figures, ms, by name.
	phases map[string][]float64
	// cpu is the CPU time of this process (leader, NATS) and the worker
	// processes, seconds, when the last job was added; cpuPerPass is each
	// job's CPU time over its passes, ms.
	wp         *workerProcs
	cpu        float64
	cpuPerPass []float64
}

// startPassOverheads starts measuring before the first measured job.
func startPassOverheads(wp *workerProcs) *passOverheads {
	return &passOverheads{wp: wp, cpu: clusterCPU(wp)}
}

// clusterCPU is the user and system CPU time, seconds, of this process and
// the worker processes; on a shared machine it is steadier than wall time.
func clusterCPU(wp *workerProcs) float64 {
	pids := []int{os.Getpid()}
	if wp != nil {
		for _, c := range wp.cmds {
			pids = append(pids, c.Process.Pid)
		}
	}
	var sum float64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis; utime and
		// stime are the 14th and 15th of the whole line.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		sum += (u + s) / 100 // USER_HZ
	}
	return sum
}

// add takes the Lloyd passes of one job. Overhead is the trace's: the pass
// from its start until its state is saved, less the slowest worker's
// compute. Cycle is the same from one pass's raft commit to the next's, so
// it holds everything between two passes' arithmetic, the commit too.
func (po *passOverheads) add(j *proto.Job) {
	now := clusterCPU(po.wp)
	if len(j.History) > 0 {
		po.cpuPerPass = append(po.cpuPerPass, (now-po.cpu)/float64(len(j.History))*1e3)
	}
	po.cpu = now
	var prev *proto.PassRecord
	for i := range j.History {
		p := &j.History[i]
		t := p.Trace
		if p.Phase != "lloyd" || t == nil {
			prev = p
			continue
		}
		po.overhead = append(po.overhead, t.Overhead*1e3)
		po.compute = append(po.compute, t.SlowestCompute*1e3)
		po.shards = t.Steps
		if po.phases == nil {
			po.phases = map[string][]float64{}
		}
		for name, v := range map[string]float64{"dispatch": t.Dispatch, "queue_sum": t.Queue, "compute_sum": t.Compute,
			"encode_sum": t.Encode, "transfer_sum": t.Transfer, "decode_sum": t.Decode, "combine": t.Combine, "save": t.Save,
			"transit": t.Transit, "worker_wait": t.WorkerWait, "tail": t.Tail} {
			po.phases[name] = append(po.phases[name], v*1e3)
		}
		if prev != nil && prev.Trace != nil && !prev.Committed.IsZero() && !p.Committed.IsZero() {
			po.cycle = append(po.cycle, (p.Committed.Sub(prev.Committed).Seconds()-t.SlowestCompute)*1e3)
			po.commit = append(po.commit, t.CommitPrev*1e3)
		}
		prev = p
	}
}

// emit prints the pass_overhead_ms line: medians over every measured pass.
func (po *passOverheads) emit(workers int) {
	if len(po.overhead) == 0 {
		return
	}
	phases := map[string]float64{}
	for name, v := range po.phases {
		phases[name] = round(median(v), 2)
	}
	workersAs := "processes"
	if po.wp == nil {
		workersAs = "in process (mathcrm dev)"
	}
	emit(map[string]any{"bench": "pass_overhead_ms", "trace_medians_ms": phases, "what": "k-means Lloyd pass less its slowest worker's compute, median",
		"shards": po.shards, "workers": workers, "workers_as": workersAs, "passes": len(po.overhead),
		"pass_overhead_ms": round(median(po.overhead), 2), "pass_overhead_min_ms": round(minOf(po.overhead), 2),
		"pass_overhead_max_ms":         round(maxOf(po.overhead), 2),
		"commit_to_commit_overhead_ms": round(median(po.cycle), 2), "raft_commit_ms": round(median(po.commit), 2),
		"slowest_compute_ms": round(median(po.compute), 2),
		"cpu_per_pass_ms":    round(median(po.cpuPerPass), 2), "target": "<= 3"})
}
