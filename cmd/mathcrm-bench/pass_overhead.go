package main

import (
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
}

// add takes the Lloyd passes of one job. Overhead is the trace's: the pass
// from its start until its state is saved, less the slowest worker's
// compute. Cycle is the same from one pass's raft commit to the next's, so
// it holds everything between two passes' arithmetic, the commit too.
func (po *passOverheads) add(j *proto.Job) {
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
			"encode_sum": t.Encode, "transfer_sum": t.Transfer, "decode_sum": t.Decode, "combine": t.Combine, "save": t.Save} {
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
	emit(map[string]any{"bench": "pass_overhead_ms", "trace_medians_ms": phases, "what": "k-means Lloyd pass less its slowest worker's compute, median",
		"shards": po.shards, "workers": workers, "passes": len(po.overhead),
		"pass_overhead_ms": round(median(po.overhead), 2), "pass_overhead_min_ms": round(minOf(po.overhead), 2),
		"pass_overhead_max_ms":         round(maxOf(po.overhead), 2),
		"commit_to_commit_overhead_ms": round(median(po.cycle), 2), "raft_commit_ms": round(median(po.commit), 2),
		"slowest_compute_ms": round(median(po.compute), 2), "target": "<= 3"})
}
