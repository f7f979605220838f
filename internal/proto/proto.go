// Package proto holds the messages that travel over NATS between the CLI,
// coordinators and workers, and the subjects they travel on.
//
// Every message carries V, the protocol version; a receiver rejects a message
// of another version with ErrVersion so that a mixed-version cluster fails
// loudly instead of subtly.
package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Version is the protocol version spoken by this build.
const Version = 1

// ErrVersion is returned for a message from another protocol version.
var ErrVersion = errors.New("proto: protocol version mismatch")

// Subjects and buckets.
const (
	APIPrefix      = "mathcrm.api."
	APIQueue       = "mathcrm-coordinators"
	EventsJob      = "mathcrm.events.job."
	BucketShards   = "mathcrm-shards"
	BucketModels   = "mathcrm-models"
	HeaderError    = "Mathcrm-Error"
	HeaderErrorKey = "Mathcrm-Error-Code"
)

// API verbs, "<noun>.<verb>", called on APISubject(role, verb):
// "mathcrm.api.<role>.<noun>.<verb>".
const (
	APIDatasetCommit = "dataset.commit"
	APIDatasetList   = "dataset.list"
	APIDatasetShow   = "dataset.show"
	APIDatasetCheck  = "dataset.check"
	APIJobSubmit     = "job.submit"
	APIJobList       = "job.list"
	APIJobStatus     = "job.status"
	APIJobCancel     = "job.cancel"
	APIModelShow     = "model.show"
	APIClusterStatus = "cluster.status"
	APIAddVoter      = "cluster.add-voter"
	APIRemoveVoter   = "cluster.remove-voter"
	APIScoresList    = "scores.list"
	APIScoresShow    = "scores.show"
)

// CoordInfoSubject is where one coordinator answers with its own raft view.
func CoordInfoSubject(id string) string { return "mathcrm.coord." + id + ".info" }

// VoterChange asks the leader to add or remove a raft voter.
type VoterChange struct {
	ID      string `json:"id"`
	Address string `json:"address,omitempty"`
}

// CoordInfo is one coordinator's own view of raft.
type CoordInfo struct {
	ID          string  `json:"id"`
	State       string  `json:"state"`
	Term        string  `json:"term"`
	CommitIndex string  `json:"commit_index"`
	AppliedIdx  string  `json:"applied_index"`
	LastContact float64 `json:"last_contact_seconds"`
}

// WorkerStepSubject is where the leader sends one worker its steps.
func WorkerStepSubject(id string) string { return "mathcrm.worker." + id + ".step" }

// WorkerHelloSubject is where a worker announces itself when it starts,
// and WorkerByeSubject where it says goodbye. Like the heartbeat, each
// carries the worker's id, which the leader checks against the body's: a
// worker's own credential may publish under its id only.
func WorkerHelloSubject(id string) string { return "mathcrm.worker." + id + ".hello" }
func WorkerByeSubject(id string) string   { return "mathcrm.worker." + id + ".bye" }

// WorkerOf is the worker id in a subject of the form
// mathcrm.worker.<id>.<kind>, or "" when subject is not one.
func WorkerOf(subject string) string {
	rest, ok := strings.CutPrefix(subject, "mathcrm.worker.")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	return id
}

// WorkerHeartbeatSubject is where a worker reports that it is alive.
func WorkerHeartbeatSubject(id string) string { return "mathcrm.worker." + id + ".heartbeat" }

// WorkerReplySubject is where a worker answers a batch of steps: the
// leader subscribes to one under a fresh token for each batch it sends, and
// the worker's credential may publish under its own id only. A step's
// answer needs no NATS response permission, whose expiry would cut off the
// answers of a batch that runs long.
func WorkerReplySubject(id, token string) string { return "mathcrm.worker." + id + ".reply." + token }

// WorkerControlSubject is where a worker takes control requests (drain).
func WorkerControlSubject(id string) string { return "mathcrm.worker." + id + ".control" }

// JobEventSubject is where the leader publishes a job's progress.
func JobEventSubject(id string) string { return EventsJob + id }

// Hello announces a worker; it is also its heartbeat.
type Hello struct {
	V    int    `json:"v"`
	ID   string `json:"id"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Started is when the process started the worker: with Host and PID it
	// tells one incarnation of a worker id from the next (a restarted
	// process may get the same PID, in a container always).
	Started  time.Time `json:"started,omitzero"`
	Capacity int       `json:"capacity"`
	// CacheBytes is how much of its shard cache budget is in use.
	CacheBytes int64 `json:"cache_bytes"`
	// Shards are the shard objects it holds in its cache.
	Shards int `json:"shards"`
	// Steps counts the steps it has answered with a partial since it started.
	Steps int64 `json:"steps,omitempty"`
	// Draining says it is finishing its steps before leaving: it takes no new ones.
	Draining bool `json:"draining,omitempty"`
	// Kernels names the path its algorithms' hot loops take on its CPU
	// ("AVX-512", "AVX2", "portable").
	Kernels string `json:"kernels,omitempty"`
}

// Prep says how a worker turns a shard's columns into the training matrix.
type Prep struct {
	Columns []string `json:"columns"`
	// Mean and Scale standardise: x' = (x - Mean) / Scale. Empty means raw.
	Mean  []float64 `json:"mean,omitempty"`
	Scale []float64 `json:"scale,omitempty"`
	// Profile columns are returned in original units by profiling tasks.
	Profile []string `json:"profile,omitempty"`
	// Categories holds the dictionary of every categorical column that a
	// one-hot column "name=value" above refers to.
	Categories map[string][]string `json:"categories,omitempty"`
	// Target is the target column of a supervised model; rows where it is
	// missing are left out like rows with a missing feature.
	Target string `json:"target,omitempty"`
}

// ShardRef names one shard blob and how to verify it.
type ShardRef struct {
	Index  int    `json:"index"`
	Object string `json:"object"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
}

// Step asks a worker for one partial over one shard. On the wire the body is
// a StepBody, the same for every shard of a pass (so it is encoded once and a
// worker decodes it once per pass), and the shard and attempt travel in
// headers.
type Step struct {
	StepBody
	Attempt int
	Shard   ShardRef
}

// StepBody is the part of a step common to every shard of a pass.
type StepBody struct {
	V    int             `json:"v"`
	Job  string          `json:"job"`
	Pass int             `json:"pass"`
	Algo string          `json:"algo"`
	Prep Prep            `json:"prep"`
	Task json.RawMessage `json:"task"`
	// Wire is the payload form the leader reads besides MessagePack: 1 is
	// a result's binary form (job.Wirer), 0 (a leader of an earlier build)
	// MessagePack only.
	Wire int `json:"wire,omitempty"`
}

// WireVersion is the payload form this build's leaders read (StepBody.Wire).
const WireVersion = 1

// Step headers.
const (
	HeaderShard   = "Mathcrm-Shard"
	HeaderAttempt = "Mathcrm-Attempt"
	// HeaderShards turns a step into a batch: it holds a JSON array of
	// BatchShard, every shard of the pass the worker is asked for at once.
	// The worker runs them in the array's order, as many at once as its
	// capacity allows, and replies once per shard, each reply naming its
	// shard index in HeaderShardIndex (and its attempt in HeaderAttempt).
	HeaderShards     = "Mathcrm-Shards"
	HeaderShardIndex = "Mathcrm-Shard-Index"
)

// BatchShard is one shard of a batched step and the attempt it is.
type BatchShard struct {
	Shard   ShardRef `json:"shard"`
	Attempt int      `json:"attempt"`
}

// MaxBatch bounds the shards of one batched step (one answer each, on
// WorkerReplySubject), so a worker given more shards in one pass gets more
// than one batch.
const MaxBatch = 1024

// Request is the envelope of every API call.
type Request struct {
	V    int             `json:"v"`
	Body json.RawMessage `json:"body,omitempty"`
}

// Response is the envelope of every API answer.
type Response struct {
	V     int             `json:"v"`
	Error string          `json:"error,omitempty"`
	Code  string          `json:"code,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
}

// Check verifies a message's version.
func Check(v int) error {
	if v != Version {
		return fmt.Errorf("%w: got %d, this build speaks %d", ErrVersion, v, Version)
	}
	return nil
}

// ColumnStats describes one numeric column of a dataset version.
type ColumnStats struct {
	Name    string  `json:"name"`
	Count   int64   `json:"count"`
	Missing int64   `json:"missing"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Mean    float64 `json:"mean"`
	Std     float64 `json:"std"`
	// Invalid counts values that were not numbers, skipped or made missing
	// at import (--on-bad-value).
	Invalid int64 `json:"invalid,omitempty"`
	// Levels and LevelCounts describe a categorical column: its values in
	// code order and how many rows have each.
	Levels      []string `json:"levels,omitempty"`
	LevelCounts []int64  `json:"level_counts,omitempty"`
}

// Categorical reports whether the column holds categories.
func (c *ColumnStats) Categorical() bool { return c.Levels != nil }

// Dataset kinds.
const (
	KindFeatures     = "features"
	KindInteractions = "interactions"
	KindTransactions = "transactions"
)

// InteractionsInfo describes an interactions version: Shards holds its
// by-user layout and ItemShards its by-item layout.
type InteractionsInfo struct {
	User  string `json:"user"`
	Item  string `json:"item"`
	Value string `json:"value,omitempty"` // "" when every interaction counts 1
	Users int64  `json:"users"`
	Items int64  `json:"items"`
}

// TransactionsInfo describes a transactions version, sharded by customer.
type TransactionsInfo struct {
	Key     string `json:"key"`
	Time    string `json:"time"`
	Amount  string `json:"amount"` // the amount column, or "quantity*price"
	Invoice string `json:"invoice,omitempty"`
	// Item and ItemName are the item id and item name columns, "" when the
	// import kept none; Items counts distinct items and Named those with
	// a name. Quantity is the quantity column when the shards keep each
	// line's quantity (an import with an item and a quantity column).
	Item              string    `json:"item,omitempty"`
	ItemName          string    `json:"item_name,omitempty"`
	Quantity          string    `json:"quantity,omitempty"`
	Items             int64     `json:"items,omitempty"`
	Named             int64     `json:"named,omitempty"`
	Customers         int64     `json:"customers"`
	Returns           int64     `json:"returns"`
	SkippedMissingKey int64     `json:"skipped_missing_key"`
	First             time.Time `json:"first"`
	Last              time.Time `json:"last"`
}

// DatasetCommit makes an imported version visible.
type DatasetCommit struct {
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`
	Key          string            `json:"key"`
	Source       string            `json:"source"`
	Rows         int64             `json:"rows"`
	Columns      []ColumnStats     `json:"columns"`
	Shards       []ShardRef        `json:"shards"`
	ItemShards   []ShardRef        `json:"item_shards,omitempty"`
	Interactions *InteractionsInfo `json:"interactions,omitempty"`
	Transactions *TransactionsInfo `json:"transactions,omitempty"`
	ImportID     string            `json:"import_id"`
	// Replace allows a version of another kind or schema than the
	// dataset's latest.
	Replace bool `json:"replace,omitempty"`
}

// DatasetVersion is one immutable version of a dataset.
type DatasetVersion struct {
	Version int           `json:"version"`
	Created time.Time     `json:"created"`
	Source  string        `json:"source"`
	Rows    int64         `json:"rows"`
	Key     string        `json:"key"`
	Columns []ColumnStats `json:"columns"`
	Shards  []ShardRef    `json:"shards"`
	// ItemShards is the by-item layout of an interactions version.
	ItemShards   []ShardRef        `json:"item_shards,omitempty"`
	Interactions *InteractionsInfo `json:"interactions,omitempty"`
	Transactions *TransactionsInfo `json:"transactions,omitempty"`
	// Bytes is the size of the version's shards (filled in on reads).
	Bytes int64 `json:"bytes,omitempty"`
}

// Dataset is a named, versioned dataset.
type Dataset struct {
	Name     string           `json:"name"`
	Kind     string           `json:"kind"`
	Versions []DatasetVersion `json:"versions"`
	// Bytes is the size of every shard of every version, each counted
	// once; Keep is how many versions retention keeps (0: all). Both are
	// filled in on reads.
	Bytes int64 `json:"bytes,omitempty"`
	Keep  int   `json:"keep,omitempty"`
}

// Latest returns the newest version.
func (d *Dataset) Latest() *DatasetVersion {
	if len(d.Versions) == 0 {
		return nil
	}
	return &d.Versions[len(d.Versions)-1]
}

// Named asks for one thing by name or id.
type Named struct {
	Name string `json:"name"`
}

// NamedVersion asks for one version of a thing; 0 is the latest.
type NamedVersion struct {
	Name    string `json:"name"`
	Version int    `json:"version,omitempty"`
}

// JobSpec is what a user submits.
type JobSpec struct {
	// RequestID makes a submit idempotent: a retried submit with the same id
	// returns the job the first one created.
	RequestID      string `json:"request_id,omitempty"`
	Algo           string `json:"algo"`
	Dataset        string `json:"dataset"`
	DatasetVersion int    `json:"dataset_version"`
	Seed           uint64 `json:"seed"`
	// Params are the algorithm's parameters, in JSON under the
	// algorithm's name ({"algo":"X",...,"X":{...}}; MarshalJSON), in a blob's
	// MessagePack as "params"; the algorithm's package decodes them
	// (job.Params).
	Params json.RawMessage `json:"params,omitempty"`
	// Schedule and ScheduledFor name the schedule run that submitted the
	// job, if any.
	Schedule     string    `json:"schedule,omitempty"`
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
}

// Blob kinds of the model blobs.
const ()

// ScoreSpec is the part of a job spec that scores every row of a dataset
// version with a model into a new score set.
type ScoreSpec struct {
	Model string `json:"model"`
	// As names the score set; "" names it after the job.
	As string `json:"as,omitempty"`
	// Top is the number of items per row of a recommendations score set; nil (left
	// out) takes DefaultTop, which the leader fills in.
	Top *int `json:"top,omitempty"`
	// Horizon and DiscountRate are the horizon (in the model's time units)
	// and the monthly discount rate of a model that predicts values over
	// time; nil (left out) takes the model's defaults, which the leader
	// fills in.
	Horizon      *float64 `json:"horizon,omitempty"`
	DiscountRate *float64 `json:"discount_rate,omitempty"`
	// Items scores the model's items instead of the dataset's rows: every
	// item's Top nearest items (a model of items: ALS, basket), keyed by
	// item. The dataset then only decides the shard count.
	Items bool `json:"items,omitempty"`
}

// Score set kinds: what each row holds.
const (
	ScoresSegments        = "segments"        // key, segment, distance
	ScoresPredictions     = "predictions"     // key, prediction
	ScoresProbabilities   = "probabilities"   // key, probability, decile
	ScoresRecommendations = "recommendations" // key, rank, item, score
	ScoresValues          = "values"          // key, p_alive, expected_purchases, expected_spend, clv, value_tier
	ScoresNeighbours      = "neighbours"      // item, rank, neighbour, score
)

// ScoreSet is a committed score output: one shard per dataset shard, all
// visible at once when the job that wrote them succeeds.
type ScoreSet struct {
	Name           string   `json:"name"`
	Version        int      `json:"version"`
	Kind           string   `json:"kind"`
	Job            string   `json:"job"`
	Model          string   `json:"model"`
	Dataset        string   `json:"dataset"`
	DatasetVersion int      `json:"dataset_version"`
	Key            string   `json:"key"`
	Columns        []string `json:"columns"`
	Rows           int64    `json:"rows"`
	// Scored counts the dataset rows scored, Unscored those that could not
	// be (a missing feature): exports list them with empty scores, after
	// the scored rows of their shard.
	Scored   int64        `json:"scored"`
	Unscored int64        `json:"unscored"`
	Shards   []ShardRef   `json:"shards"`
	Summary  ScoreSummary `json:"summary"`
	Created  time.Time    `json:"created"`
	Schedule string       `json:"schedule,omitempty"`
	// Bytes is the size of the version's shards; Keep is how many versions
	// retention keeps (0: all). Both are filled in on reads.
	Bytes int64 `json:"bytes,omitempty"`
	Keep  int   `json:"keep,omitempty"`
}

// ScoreSummary describes a score set's distribution: the size of every
// segment, a histogram of predictions, the decile table of probabilities,
// or the most recommended items.
type ScoreSummary struct {
	Segments []int64     `json:"segments,omitempty"`
	Deciles  []Decile    `json:"deciles,omitempty"`
	Hist     *Histogram  `json:"histogram,omitempty"`
	Items    []ItemCount `json:"items,omitempty"`
	Moments  Moments     `json:"moments"`
	// Tiers is the value tier table and TopShare the share of the total
	// value the top customers hold (values score sets).
	Tiers    []ValueTier `json:"tiers,omitempty"`
	TopShare *TopShare   `json:"top_share,omitempty"`
}

// ValueTier is one row of a value tier table: its customers and their
// values' total and range.
type ValueTier struct {
	Tier string  `json:"tier"`
	Rows int64   `json:"rows"`
	Sum  float64 `json:"sum"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// TopShare is the share of the total value held by the Rows customers of
// highest value, the top Fraction of all.
type TopShare struct {
	Fraction float64 `json:"fraction"`
	Rows     int64   `json:"rows"`
	Share    float64 `json:"share"`
}

// Decile is one row of a decile table: decile 1 holds the highest
// probabilities.
type Decile struct {
	Decile int     `json:"decile"`
	Rows   int64   `json:"rows"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// Histogram counts values in equal-width bins over [Min, Max].
type Histogram struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Counts []int64 `json:"counts"`
}

// ItemCount is how often an item was recommended.
type ItemCount struct {
	Item  string `json:"item"`
	Count int64  `json:"count"`
}

// Job states.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// PassRecord is one committed pass of a job.
type PassRecord struct {
	Pass      int       `json:"pass"`
	Phase     string    `json:"phase"`
	Iteration int       `json:"iteration"`
	Objective float64   `json:"objective"`
	Shift     float64   `json:"shift"`
	Seconds   float64   `json:"seconds"`
	Retries   int       `json:"retries"`
	Committed time.Time `json:"committed"`
	Metrics   []Metric  `json:"metrics,omitempty"`
	// Trace is where the pass's time went.
	Trace *PassTrace `json:"trace,omitempty"`
}

// Job is a job and its state.
type Job struct {
	ID   string  `json:"id"`
	Spec JobSpec `json:"spec"`
	// Role is the role that submitted the job, "" for a schedule's run.
	Role      string    `json:"role,omitempty"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Created   time.Time `json:"created"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Pass      int       `json:"pass"`
	Iteration int       `json:"iteration"`
	Objective float64   `json:"objective"`
	StateRef  BlobRef   `json:"state_ref,omitzero"`
	// Refs are the blobs the committed state refers to besides StateRef
	// (factor shards).
	Refs  []BlobRef `json:"refs,omitempty"`
	Model string    `json:"model,omitempty"`
	// Output is the dataset version a job that writes a dataset created.
	Output  string       `json:"output,omitempty"`
	History []PassRecord `json:"history,omitempty"`
	// Permanent says a failed job cannot succeed if run again as it is
	// (bad data, schema, parameters), so a schedule does not retry it.
	Permanent bool `json:"permanent,omitempty"`
}

// Terminal reports whether the job has ended.
func (j *Job) Terminal() bool {
	return j.State == JobSucceeded || j.State == JobFailed || j.State == JobCancelled
}

// BlobRef names a blob in the object store and how to verify it.
type BlobRef struct {
	Bucket string `json:"bucket"`
	Object string `json:"object"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Model is a committed model.
type Model struct {
	ID      string    `json:"id"`
	Job     string    `json:"job"`
	Kind    string    `json:"kind"`
	Created time.Time `json:"created"`
	Blob    BlobRef   `json:"blob"`
	// Refs are further blobs the model is made of (factor shards).
	Refs []BlobRef `json:"refs,omitempty"`
	// Spec is the spec of the job that trained the model, kept here when
	// that job is deleted.
	Spec *JobSpec `json:"spec,omitempty"`
	// Bytes is the size of its blobs (filled in on reads).
	Bytes int64 `json:"bytes,omitempty"`
}

// ModelDetail answers model.show.
type ModelDetail struct {
	Model Model `json:"model"`
	// Detail is the model's exported form, on the wire under the model's
	// kind ({"model":{"kind":"X",...},"X":{...}}); the kind's package
	// decodes it.
	Detail json.RawMessage `json:"-"`
	// Retrain is set when customers were erased from the data the model
	// was trained on (erase.go).
	Retrain *Retrain `json:"retrain,omitempty"`
}

// JobEvent is published on the job's event subject after every pass.
type JobEvent struct {
	V           int     `json:"v"`
	Job         string  `json:"job"`
	Algo        string  `json:"algo,omitempty"`
	State       string  `json:"state"`
	Phase       string  `json:"phase"`
	Pass        int     `json:"pass"`
	Iteration   int     `json:"iteration"`
	MaxIter     int     `json:"max_iter"`
	Objective   float64 `json:"objective"`
	Shift       float64 `json:"shift"`
	ShardsDone  int     `json:"shards_done"`
	ShardsTotal int     `json:"shards_total"`
	ETASeconds  float64 `json:"eta_seconds"`
	Reason      string  `json:"reason,omitempty"`
	Model       string  `json:"model,omitempty"`
	Output      string  `json:"output,omitempty"`
	// Metrics are the algorithm's held-out metrics after the pass, if any.
	Metrics []Metric `json:"metrics,omitempty"`
}

// Metric is one named measurement.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// WorkerInfo describes a live worker.
type WorkerInfo struct {
	ID           string  `json:"id"`
	Host         string  `json:"host"`
	PID          int     `json:"pid"`
	Capacity     int     `json:"capacity"`
	HeartbeatAge float64 `json:"heartbeat_age_seconds"`
	Shards       int     `json:"shards"`
	CacheBytes   int64   `json:"cache_bytes"`
	Steps        int64   `json:"steps"`
	Draining     bool    `json:"draining,omitempty"`
	Kernels      string  `json:"kernels,omitempty"`
}

// ClusterStatus answers cluster.status.
type ClusterStatus struct {
	Leader  string       `json:"leader"`
	Voters  []Voter      `json:"voters"`
	Workers []WorkerInfo `json:"workers"`
}

// Voter is one raft voter.
type Voter struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Leader  bool   `json:"leader"`
	// State, term and indexes are the voter's own answer; Reachable is false
	// when it did not answer.
	Reachable   bool    `json:"reachable"`
	State       string  `json:"state,omitempty"`
	Term        string  `json:"term,omitempty"`
	CommitIndex string  `json:"commit_index,omitempty"`
	LastContact float64 `json:"last_contact_seconds"`
}

// Moments summarises one column of a shard: count, missing, range, mean
// and the sum of squared deviations (Welford), mergeable in shard order.
type Moments struct {
	Count   int64
	Missing int64
	Min     float64
	Max     float64
	Mean    float64
	M2      float64
}

// Add adds one value.
func (m *Moments) Add(x float64) {
	m.Count++
	d := x - m.Mean
	m.Mean += d / float64(m.Count)
	m.M2 += d * (x - m.Mean)
	m.Min, m.Max = min(m.Min, x), max(m.Max, x)
}

// Merge adds o's values (Chan et al.'s parallel update).
func (m *Moments) Merge(o Moments) {
	m.Missing += o.Missing
	if o.Count == 0 {
		return
	}
	if m.Count == 0 {
		missing := m.Missing
		*m = o
		m.Missing = missing
		return
	}
	n := m.Count + o.Count
	d := o.Mean - m.Mean
	m.Mean += d * float64(o.Count) / float64(n)
	m.M2 += o.M2 + d*d*float64(m.Count)*float64(o.Count)/float64(n)
	m.Count = n
	m.Min, m.Max = min(m.Min, o.Min), max(m.Max, o.Max)
}

// Stats turns merged moments into a column's statistics.
func (m Moments) Stats(name string) ColumnStats {
	cs := ColumnStats{Name: name, Count: m.Count, Missing: m.Missing}
	if m.Count > 0 {
		cs.Min, cs.Max, cs.Mean = m.Min, m.Max, m.Mean
	}
	if m.Count > 1 {
		cs.Std = math.Sqrt(max(m.M2, 0) / float64(m.Count)) // population std, as imports report it
	}
	return cs
}

// PartialKind is the blob kind of a worker's reply to a step.
const PartialKind = "partial"

// Partial is one shard's result for one pass.
type Partial struct {
	Job     string
	Pass    int
	Shard   int
	Rows    int64
	Skipped int64
	// Algo names the algorithm whose result Payload holds, in
	// MessagePack (job.Encode, job.Decode).
	Algo    string
	Payload []byte
	// Output is a shard the step wrote (a new dataset's or score set's
	// shard).
	Output *ShardRef
	// Timing is where the step's time went, filled in by the leader when
	// the partial arrives; it is never sent.
	Timing *StepTiming `json:"-"`
	// Decoded is Payload decoded by the leader as the partial arrived
	// (job.Predecoder), or nil; it is never sent.
	Decoded any `json:"-"`
	// WireOK says, on the worker, that the step's leader reads payloads
	// in binary form (StepBody.Wire); it is never sent.
	WireOK bool `json:"-"`
}

// ErrInvalid reports a request the leader cannot serve as asked (a spec
// that cannot run on its dataset, a bad name); it answers with it and
// changes nothing.
var ErrInvalid = errors.New("coordinator: invalid request")

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ValidName reports whether s can name a dataset, a score set or a
// schedule: letters, digits, _ . - (not first), at most 128.
func ValidName(s string) bool { return nameRE.MatchString(s) }
