package coordinator

import (
	"strconv"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/prometheus/client_golang/prometheus"
)

// collector reports a coordinator's raft state, its jobs by state and the
// workers it sees, read when /metrics is scraped.
type collector struct{ c *Coordinator }

var (
	descRaftState = prometheus.NewDesc("mathcrm_raft_state", "1 for the raft state this coordinator is in.",
		[]string{"coordinator", "state"}, nil)
	descRaftTerm = prometheus.NewDesc("mathcrm_raft_term", "The coordinator's raft term.",
		[]string{"coordinator"}, nil)
	descCommitIndex = prometheus.NewDesc("mathcrm_raft_commit_index", "The coordinator's raft commit index.",
		[]string{"coordinator"}, nil)
	descAppliedIndex = prometheus.NewDesc("mathcrm_raft_applied_index", "The coordinator's raft applied index.",
		[]string{"coordinator"}, nil)
	descJobs = prometheus.NewDesc("mathcrm_jobs", "Jobs by state, as this coordinator has applied them.",
		[]string{"coordinator", "state"}, nil)
	descWorkers = prometheus.NewDesc("mathcrm_workers_live", "Workers this coordinator sees alive.",
		[]string{"coordinator"}, nil)
)

func (k *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRaftState, descRaftTerm, descCommitIndex, descAppliedIndex, descJobs, descWorkers} {
		ch <- d
	}
}

func (k *collector) Collect(ch chan<- prometheus.Metric) {
	c, id := k.c, k.c.cfg.ID
	state := c.raft.State()
	for _, s := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		v := 0.0
		if s == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descRaftState, prometheus.GaugeValue, v, id, s.String())
	}
	st := c.raft.Stats()
	for _, m := range []struct {
		d   *prometheus.Desc
		key string
	}{{descRaftTerm, "term"}, {descCommitIndex, "commit_index"}, {descAppliedIndex, "applied_index"}} {
		if v, err := strconv.ParseFloat(st[m.key], 64); err == nil {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.GaugeValue, v, id)
		}
	}
	counts := c.fsm.JobStates()
	for _, s := range []string{proto.JobQueued, proto.JobRunning, proto.JobSucceeded, proto.JobFailed, proto.JobCancelled} {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(counts[s]), id, s)
	}
	ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(len(c.members.live())), id)
}
