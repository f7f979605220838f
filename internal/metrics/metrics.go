// Package metrics holds the Prometheus metrics of a mathcrm process —
// coordinators, workers, or both in `mathcrm dev` — in one registry,
// served at /metrics in the Prometheus text format. Metrics of a worker or
// a coordinator carry its id as a label, so one process may run several.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's registry: the metrics below, and Go's runtime
// and the process's.
var Registry = prometheus.NewRegistry()

// Buckets of the duration histograms, in seconds.
var (
	fastBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
	passBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
)

// The coordinator's metrics.
var (
	RaftApply = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "mathcrm_raft_apply_seconds", Help: "Time to commit and apply one raft entry on the leader.", Buckets: fastBuckets})
	PassSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mathcrm_pass_seconds", Help: "Duration of one committed pass of a job, by algorithm.", Buckets: passBuckets},
		[]string{"algo"})
	Steps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mathcrm_steps_total", Help: "Steps the leader sent, by outcome: sent, failed, retried, speculative."},
		[]string{"outcome"})
	PartialBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mathcrm_partial_bytes_total", Help: "Bytes of the partials the leader received."})
	ScheduleRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mathcrm_schedule_runs_total", Help: "Schedule runs that ended, by outcome."},
		[]string{"outcome"})
	LookupSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "mathcrm_lookup_seconds", Help: "Time to answer one customer lookup on a coordinator.", Buckets: fastBuckets})
)

// The worker's metrics.
var (
	CacheEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mathcrm_worker_cache_total", Help: "Shard cache lookups and evictions of a worker: hit, miss, eviction."},
		[]string{"worker", "event"})
	CacheBytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mathcrm_worker_cache_bytes", Help: "Bytes in a worker's shard cache."}, []string{"worker"})
	WorkerSteps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mathcrm_worker_steps_total", Help: "Steps a worker answered, by outcome: ok, transient, permanent."},
		[]string{"worker", "outcome"})
	WorkerStepSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "mathcrm_worker_step_seconds", Help: "Time a worker took for one step, by algorithm.", Buckets: passBuckets},
		[]string{"algo"})
	WorkerLookupSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "mathcrm_worker_lookup_seconds", Help: "Time a worker took to answer one lookup in a score shard.", Buckets: fastBuckets})
)

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		RaftApply, PassSeconds, Steps, PartialBytes, ScheduleRuns, LookupSeconds,
		CacheEvents, CacheBytes, WorkerSteps, WorkerStepSeconds, WorkerLookupSeconds)
}

// Handler serves the registry at /metrics.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}
