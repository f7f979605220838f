package proto

import "time"

// Step timing headers a worker sets on its reply, in nanoseconds: how long
// the step waited for one of the worker's slots, ran the algorithm, and
// encoded its partial.
const (
	HeaderQueueNs   = "Mathcrm-Queue-Ns"
	HeaderComputeNs = "Mathcrm-Compute-Ns"
	HeaderEncodeNs  = "Mathcrm-Encode-Ns"
	// HeaderHeldNs is how long the worker held the step: from its
	// message's arrival to the reply's sending, by the worker's clock. The
	// round trip less it is the step's time on the way, by no one clock.
	HeaderHeldNs = "Mathcrm-Held-Ns"
)

// StepTiming is where one step's time went: on the worker (queue,
// compute, encode), the whole round trip and the leader's decoding.
type StepTiming struct {
	Worker                 string
	Queue, Compute, Encode float64
	RoundTrip, Decode      float64
	// Held is HeaderHeldNs, 0 from a worker of an earlier build; At is
	// when the reply reached the leader, by its clock.
	Held  float64
	At    time.Time
	Bytes int64
}

// PassTrace is where one pass's time went, in seconds. The worker phases
// (queue, compute, encode) are sums over the pass's steps, as the workers
// measured them; transfer is the steps' round trips less the workers' time;
// decode, combine and save are the leader's.
type PassTrace struct {
	// Total is the pass from its start until its state is encoded: the
	// pass's own time; storing the state and the raft entry that commits it
	// overlap the next pass.
	Total float64 `json:"total"`
	// Dispatch is from the start of the pass until its first step went
	// out: the leader's work before any worker's.
	Dispatch float64 `json:"dispatch"`
	Queue    float64 `json:"queue"`
	Compute  float64 `json:"compute"`
	Encode   float64 `json:"encode"`
	Transfer float64 `json:"transfer"`
	Decode   float64 `json:"decode"`
	// Combine is the algorithm absorbing the partials, in shard order.
	Combine float64 `json:"combine"`
	// Save is encoding the state. Store is writing it to the object store,
	// which, like the raft commit, runs while the next pass computes.
	Save  float64 `json:"save"`
	Store float64 `json:"store,omitempty"`
	// CommitPrev is the raft commit of the pass before (a pass's record
	// cannot hold its own commit's time).
	CommitPrev float64 `json:"commit_prev"`
	// SlowestCompute is the largest compute time of one worker, its
	// steps' compute divided by the steps it ran at once; Overhead is
	// Total less SlowestCompute: what the pass costs beyond its arithmetic.
	SlowestCompute float64 `json:"slowest_compute"`
	Overhead       float64 `json:"overhead"`
	// Where the overhead went, from the last partial to arrive: Transit
	// is its round trip less the time its worker held it (the batch's way
	// to the worker and the partial's way back); WorkerWait is that
	// worker's hold, plus how long after the pass's first step its batch
	// went out, less the slowest compute (starting, waiting for a core,
	// encoding and sending; negative when another worker computed longer
	// and finished first); Tail is from its arrival to the pass's end
	// (decoding it, combining, saving). Dispatch + Transit + WorkerWait +
	// Tail is the overhead.
	Transit      float64 `json:"transit,omitempty"`
	WorkerWait   float64 `json:"worker_wait,omitempty"`
	Tail         float64 `json:"tail,omitempty"`
	Steps        int     `json:"steps"`
	PartialBytes int64   `json:"partial_bytes"`
}
