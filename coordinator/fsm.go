package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// msgType numbers the raft log entries. Append only; never reuse a number.
type msgType uint8

const (
	msgDatasetCommit msgType = 1
	msgJobSubmit     msgType = 2
	msgJobStart      msgType = 3
	msgJobPass       msgType = 4
	msgJobFinish     msgType = 5
	msgJobCancel     msgType = 6
	msgWorkerSeen    msgType = 7

	// Schedules (schedule_fsm.go).
	msgScheduleCreate  msgType = 8
	msgScheduleDelete  msgType = 9
	msgSchedulePause   msgType = 10
	msgScheduleStart   msgType = 11
	msgScheduleSkip    msgType = 12
	msgScheduleRetry   msgType = 13
	msgScheduleAttempt msgType = 14
	msgScheduleFinish  msgType = 15

	// Deletion and retention (lifecycle_fsm.go).
	msgDatasetDelete msgType = 16
	msgScoresDelete  msgType = 17
	msgModelDelete   msgType = 18
	msgJobDelete     msgType = 19
	msgRetain        msgType = 20
	msgRetentionDrop msgType = 21
)

// ignoreUnknownFlag marks an entry an older node may skip if it does not
// know its type; entries without it stop such a node loudly.
const ignoreUnknownFlag msgType = 128

var (
	// ErrNotFound reports an unknown dataset, job or model.
	ErrNotFound = errors.New("coordinator: not found")
	// ErrConflict reports a write that does not fit the current state.
	ErrConflict = errors.New("coordinator: conflict")
	// ErrUnknownEntry reports a log entry of a type this build does not know.
	ErrUnknownEntry = errors.New("coordinator: unknown log entry type")
)

// encodeEntry frames a log entry: one type byte, then a JSON payload.
func encodeEntry(t msgType, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{byte(t)}, b...), nil
}

type entryDatasetCommit struct {
	proto.DatasetCommit
	Time time.Time `json:"time"`
}

type entryJobSubmit struct {
	Spec proto.JobSpec `json:"spec"`
	// Role is the role of the client that submitted it, "" for a
	// schedule's run.
	Role string    `json:"role,omitempty"`
	Time time.Time `json:"time"`
}

type entryJobStart struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

type entryJobPass struct {
	ID       string           `json:"id"`
	Record   proto.PassRecord `json:"record"`
	StateRef proto.BlobRef    `json:"state_ref"`
	// Refs are the further blobs the state refers to.
	Refs []proto.BlobRef `json:"refs,omitempty"`
}

type entryJobFinish struct {
	ID     string         `json:"id"`
	State  string         `json:"state"`
	Reason string         `json:"reason,omitempty"`
	Model  *proto.BlobRef `json:"model,omitempty"`
	Kind   string         `json:"kind,omitempty"`
	// ModelRefs are the further blobs the model is made of.
	ModelRefs []proto.BlobRef `json:"model_refs,omitempty"`
	// Output is the dataset version a succeeded job creates instead of a
	// model; it becomes visible in this same entry.
	Output *proto.DatasetCommit `json:"output,omitempty"`
	// Scores is the score set version a succeeded scoring job creates.
	Scores *proto.ScoreSet `json:"scores,omitempty"`
	Time   time.Time       `json:"time"`
	// Permanent marks a failure that running the job again cannot change.
	Permanent bool `json:"permanent,omitempty"`
}

type entryJobCancel struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}

type entryWorkerSeen struct {
	ID   string    `json:"id"`
	Host string    `json:"host"`
	Time time.Time `json:"time"`
}

// state is everything the FSM holds. It is what a snapshot persists.
type state struct {
	Datasets map[string]*proto.Dataset `json:"datasets"`
	Jobs     map[string]*proto.Job     `json:"jobs"`
	Models   map[string]*proto.Model   `json:"models"`
	// Scores holds every version of every score set, oldest first.
	Scores  map[string][]*proto.ScoreSet `json:"scores,omitempty"`
	Workers map[string]WorkerSeen        `json:"workers"`
	// Requests maps a submit's request id to the job it created.
	Requests map[string]string `json:"requests"`
	// Imports maps an import id to the dataset version it created.
	Imports map[string]string `json:"imports"`
	NextJob int               `json:"next_job"`
	NextMdl int               `json:"next_model"`

	// Schedules holds every schedule and its history, by name.
	Schedules    map[string]*proto.Schedule `json:"schedules,omitempty"`
	NextSchedule int                        `json:"next_schedule,omitempty"`

	// Erasure is the erasure salt and log (erase_fsm.go).
	Erasure erasureState `json:"erasure,omitzero"`
	// Life holds retention settings and what deletions must remember.
	Life *lifeState `json:"lifecycle,omitempty"`
}

// WorkerSeen records a worker the cluster has ever seen.
type WorkerSeen struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	FirstSeen time.Time `json:"first_seen"`
}

func newState() *state {
	return &state{
		Datasets: map[string]*proto.Dataset{},
		Jobs:     map[string]*proto.Job{},
		Models:   map[string]*proto.Model{},
		Scores:   map[string][]*proto.ScoreSet{},
		Workers:  map[string]WorkerSeen{},
		Requests: map[string]string{},
		Imports:  map[string]string{},
		NextJob:  1,
		NextMdl:  1,

		Schedules:    map[string]*proto.Schedule{},
		NextSchedule: 1,
	}
}

// FSM is the coordinator's replicated state machine. Apply is deterministic:
// times and identifiers come from the entries or from counters in the state.
type FSM struct {
	mu sync.RWMutex
	st *state
	// notify, if set, is told about changed jobs after Apply; it must not block.
	notify func(jobID string)
	// notices are further jobs an entry changed, told to notify after Apply.
	notices []string
}

// NewFSM returns an empty FSM.
func NewFSM() *FSM { return &FSM{st: newState()} }

// applyResult is what Apply returns through raft's ApplyFuture.Response.
type applyResult struct {
	ID  string
	Err error
	// Out is what an entry reports beyond an id (a deletion's report).
	Out any
}

// Apply applies one log entry.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return applyResult{}
	}
	t, buf := msgType(l.Data[0]), l.Data[1:]
	f.mu.Lock()
	res, job := f.dispatch(t&^ignoreUnknownFlag, t&ignoreUnknownFlag != 0, buf)
	notify, more := f.notify, f.notices
	f.notices = nil
	f.mu.Unlock()
	if notify != nil {
		if job != "" {
			notify(job)
		}
		for _, id := range more {
			notify(id)
		}
	}
	return res
}

func (f *FSM) dispatch(t msgType, ignorable bool, buf []byte) (applyResult, string) {
	switch t {
	case msgDatasetCommit:
		return f.applyDatasetCommit(buf), ""
	case msgJobSubmit:
		r := f.applyJobSubmit(buf)
		return r, r.ID
	case msgJobStart:
		return f.applyJobStart(buf)
	case msgJobPass:
		return f.applyJobPass(buf)
	case msgJobFinish:
		return f.applyJobFinish(buf)
	case msgJobCancel:
		return f.applyJobCancel(buf)
	case msgWorkerSeen:
		return f.applyWorkerSeen(buf), ""
	case msgScheduleCreate, msgScheduleDelete, msgSchedulePause, msgScheduleStart,
		msgScheduleSkip, msgScheduleRetry, msgScheduleAttempt, msgScheduleFinish:
		return f.dispatchSchedule(t, buf), ""
	case msgEraseSalt, msgEraseDataset, msgEraseScores, msgEraseRecord:
		return f.dispatchErase(t, buf), ""
	case msgDatasetDelete, msgScoresDelete, msgModelDelete, msgJobDelete, msgRetain, msgRetentionDrop:
		return f.dispatchLifecycle(t, buf), ""
	case msgRestore:
		return f.applyRestore(buf), "" // backup.go
	}
	if ignorable {
		return applyResult{}, ""
	}
	// A node that cannot apply an entry must not carry on with a divergent state.
	panic(fmt.Sprintf("%v: %d; upgrade this coordinator", ErrUnknownEntry, t))
}

func decode[T any](buf []byte) (T, error) {
	var v T
	err := json.Unmarshal(buf, &v)
	if err != nil {
		err = fmt.Errorf("coordinator: bad log entry: %w", err)
	}
	return v, err
}

func (f *FSM) applyDatasetCommit(buf []byte) applyResult {
	e, err := decode[entryDatasetCommit](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if e.ImportID != "" {
		if v, ok := f.st.Imports[e.ImportID]; ok {
			return applyResult{ID: v} // a retried commit of the same import
		}
	}
	v, err := f.addVersion(e.DatasetCommit, e.Time)
	if err != nil {
		return applyResult{Err: err}
	}
	if e.ImportID != "" {
		f.st.Imports[e.ImportID] = strconv.Itoa(v.Version)
	}
	return applyResult{ID: strconv.Itoa(v.Version)}
}

// addVersion appends a new version to a dataset, creating the dataset when
// it is new.
func (f *FSM) addVersion(e proto.DatasetCommit, at time.Time) (*proto.DatasetVersion, error) {
	ds := f.st.Datasets[e.Name]
	if ds == nil {
		ds = &proto.Dataset{Name: e.Name, Kind: e.Kind}
		f.st.Datasets[e.Name] = ds
	} else if ds.Kind != e.Kind && !e.Replace {
		return nil, fmt.Errorf("%w: dataset %q is of kind %s, not %s", ErrConflict, e.Name, ds.Kind, e.Kind)
	}
	ds.Kind = e.Kind
	v := proto.DatasetVersion{
		Version: f.nextVersion(f.life().DatasetSeq, e.Name, ds.VersionNumbers()), Created: at, Source: e.Source, Rows: e.Rows,
		Key: e.Key, Columns: e.Columns, Shards: e.Shards, ItemShards: e.ItemShards,
		Interactions: e.Interactions, Transactions: e.Transactions,
	}
	ds.Versions = append(ds.Versions, v)
	return &ds.Versions[len(ds.Versions)-1], nil
}

func (f *FSM) applyJobSubmit(buf []byte) applyResult {
	e, err := decode[entryJobSubmit](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if r := e.Spec.RequestID; r != "" {
		if id, ok := f.st.Requests[r]; ok {
			return applyResult{ID: id} // a retried submit
		}
	}
	id := "job-" + strconv.Itoa(f.st.NextJob)
	f.st.NextJob++
	f.st.Jobs[id] = &proto.Job{ID: id, Spec: e.Spec, Role: e.Role, State: proto.JobQueued, Created: e.Time}
	if r := e.Spec.RequestID; r != "" {
		f.st.Requests[r] = id
	}
	return applyResult{ID: id}
}

func (f *FSM) job(id string) (*proto.Job, error) {
	j := f.st.Jobs[id]
	if j == nil {
		return nil, fmt.Errorf("%w: job %s", ErrNotFound, id)
	}
	return j, nil
}

func (f *FSM) applyJobStart(buf []byte) (applyResult, string) {
	e, err := decode[entryJobStart](buf)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	j, err := f.job(e.ID)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	if j.State != proto.JobQueued {
		return applyResult{Err: fmt.Errorf("%w: job %s is %s", ErrConflict, e.ID, j.State)}, ""
	}
	j.State, j.Started = proto.JobRunning, e.Time
	return applyResult{ID: e.ID}, e.ID
}

// applyJobPass commits one pass. A pass is accepted once, in order, and only
// for a running job, so a deposed leader's late commit cannot rewind a job.
func (f *FSM) applyJobPass(buf []byte) (applyResult, string) {
	e, err := decode[entryJobPass](buf)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	j, err := f.job(e.ID)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	if j.State != proto.JobRunning {
		return applyResult{Err: fmt.Errorf("%w: job %s is %s", ErrConflict, e.ID, j.State)}, e.ID
	}
	if e.Record.Pass != j.Pass+1 {
		return applyResult{Err: fmt.Errorf("%w: job %s pass %d after %d", ErrConflict, e.ID, e.Record.Pass, j.Pass)}, ""
	}
	j.Pass, j.Iteration, j.Objective = e.Record.Pass, e.Record.Iteration, e.Record.Objective
	j.StateRef, j.Refs = e.StateRef, e.Refs
	j.History = append(j.History, e.Record)
	return applyResult{ID: e.ID}, e.ID
}

func (f *FSM) applyJobFinish(buf []byte) (applyResult, string) {
	e, err := decode[entryJobFinish](buf)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	j, err := f.job(e.ID)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	if j.Terminal() {
		return applyResult{Err: fmt.Errorf("%w: job %s is already %s", ErrConflict, e.ID, j.State)}, ""
	}
	switch e.State {
	case proto.JobSucceeded:
		switch {
		case e.Scores != nil:
			ss := *e.Scores
			ss.Version = f.nextVersion(f.life().ScoresSeq, ss.Name, scoreVersions(f.st.Scores[ss.Name]))
			ss.Job, ss.Created = j.ID, e.Time
			f.st.Scores[ss.Name] = append(f.st.Scores[ss.Name], &ss)
			j.Output = ss.Name + ":" + strconv.Itoa(ss.Version)
		case e.Output != nil:
			v, err := f.addVersion(*e.Output, e.Time)
			if err != nil {
				return applyResult{Err: err}, ""
			}
			j.Output = e.Output.Name + ":" + strconv.Itoa(v.Version)
		case e.Model != nil:
			mid := "model-" + strconv.Itoa(f.st.NextMdl)
			f.st.NextMdl++
			f.st.Models[mid] = &proto.Model{ID: mid, Job: j.ID, Kind: e.Kind, Created: e.Time, Blob: *e.Model, Refs: e.ModelRefs}
			j.Model = mid
		default:
			return applyResult{Err: fmt.Errorf("%w: job %s succeeded without a model", ErrConflict, e.ID)}, ""
		}
	case proto.JobFailed, proto.JobCancelled:
	default:
		return applyResult{Err: fmt.Errorf("%w: job %s cannot finish as %q", ErrConflict, e.ID, e.State)}, ""
	}
	j.State, j.Reason, j.Finished = e.State, e.Reason, e.Time
	j.Permanent = e.Permanent
	j.Refs = nil // a succeeded model holds its own refs
	if j.Output != "" {
		return applyResult{ID: j.Output}, e.ID
	}
	return applyResult{ID: j.Model}, e.ID
}

func (f *FSM) applyJobCancel(buf []byte) (applyResult, string) {
	e, err := decode[entryJobCancel](buf)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	j, err := f.job(e.ID)
	if err != nil {
		return applyResult{Err: err}, ""
	}
	if j.State == proto.JobCancelled {
		return applyResult{ID: e.ID}, "" // cancelling twice is cancelling once
	}
	if j.Terminal() {
		return applyResult{Err: fmt.Errorf("%w: job %s is already %s", ErrConflict, e.ID, j.State)}, ""
	}
	j.State, j.Reason, j.Finished = proto.JobCancelled, "cancelled by user", e.Time
	j.Refs = nil
	return applyResult{ID: e.ID}, e.ID
}

func (f *FSM) applyWorkerSeen(buf []byte) applyResult {
	e, err := decode[entryWorkerSeen](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if _, ok := f.st.Workers[e.ID]; !ok {
		f.st.Workers[e.ID] = WorkerSeen{ID: e.ID, Host: e.Host, FirstSeen: e.Time}
	}
	return applyResult{ID: e.ID}
}

// Reads. Each returns a deep copy, so callers never race with Apply.

func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the state is always marshalable
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// Dataset returns a dataset by name.
func (f *FSM) Dataset(name string) (*proto.Dataset, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	ds := f.st.Datasets[name]
	if ds == nil {
		return nil, fmt.Errorf("%w: dataset %q", ErrNotFound, name)
	}
	return f.sizedDataset(clone(ds)), nil
}

// Datasets lists datasets by name.
func (f *FSM) Datasets() []*proto.Dataset {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*proto.Dataset, 0, len(f.st.Datasets))
	for _, ds := range f.st.Datasets {
		out = append(out, f.sizedDataset(clone(ds)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Job returns a job by id.
func (f *FSM) Job(id string) (*proto.Job, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, err := f.job(id)
	if err != nil {
		return nil, err
	}
	return clone(j), nil
}

// Jobs lists jobs in submission order.
func (f *FSM) Jobs() []*proto.Job {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*proto.Job, 0, len(f.st.Jobs))
	for _, j := range f.st.Jobs {
		out = append(out, clone(j))
	}
	sort.Slice(out, func(i, j int) bool { return jobNum(out[i].ID) < jobNum(out[j].ID) })
	return out
}

// JobState returns a job's state, without copying the job.
func (f *FSM) JobState(id string) (string, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, err := f.job(id)
	if err != nil {
		return "", err
	}
	return j.State, nil
}

// UnfinishedJobs lists the ids of the jobs that have not ended, in
// submission order, without copying the jobs: the scheduler reads it after
// every committed pass, and a copy of every job, history and all, would cost
// the leader more with every job it ever ran.
func (f *FSM) UnfinishedJobs() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for id, j := range f.st.Jobs {
		if !j.Terminal() {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(a, b int) bool { return jobNum(out[a]) < jobNum(out[b]) })
	return out
}

// JobStates counts the jobs in each state, without copying them.
func (f *FSM) JobStates() map[string]int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := map[string]int{}
	for _, j := range f.st.Jobs {
		out[j.State]++
	}
	return out
}

func jobNum(id string) int {
	n, _ := strconv.Atoi(id[len("job-"):])
	return n
}

// Model returns a model by id.
func (f *FSM) Model(id string) (*proto.Model, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m := f.st.Models[id]
	if m == nil {
		return nil, fmt.Errorf("%w: model %s", ErrNotFound, id)
	}
	m = clone(m)
	m.Bytes = m.Size()
	return m, nil
}

// ScoreSets lists the latest version of every score set, by name.
func (f *FSM) ScoreSets() []*proto.ScoreSet {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*proto.ScoreSet, 0, len(f.st.Scores))
	for _, vs := range f.st.Scores {
		out = append(out, f.sizedScores(clone(vs[len(vs)-1])))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ScoreSet returns one version of a score set; version 0 is the latest.
func (f *FSM) ScoreSet(name string, version int) (*proto.ScoreSet, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	vs := f.st.Scores[name]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: score set %s", ErrNotFound, name)
	}
	ss := vs[len(vs)-1]
	if version != 0 {
		if ss = scoreVersion(vs, version); ss == nil {
			return nil, fmt.Errorf("%w: score set %s has no version %d (it has %s)", ErrNotFound, name, version, proto.VersionList(scoreVersions(vs)))
		}
	}
	return f.sizedScores(clone(ss)), nil
}

// Referenced returns every object name the state refers to, by bucket. An
// ended job refers to nothing: what its model or output needs, they name.
func (f *FSM) Referenced() map[string]map[string]bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := map[string]map[string]bool{}
	for _, b := range proto.Buckets {
		out[b] = map[string]bool{}
	}
	for _, ds := range f.st.Datasets {
		for _, v := range ds.Versions {
			for _, s := range v.Shards {
				out[proto.BucketShards][s.Object] = true
			}
			for _, s := range v.ItemShards {
				out[proto.BucketShards][s.Object] = true
			}
		}
	}
	for _, j := range f.st.Jobs {
		if j.StateRef.Object != "" && !j.Terminal() {
			out[j.StateRef.Bucket][j.StateRef.Object] = true
		}
		for _, r := range j.Refs {
			out[r.Bucket][r.Object] = true
		}
	}
	for _, vs := range f.st.Scores {
		for _, ss := range vs {
			for _, sh := range ss.Shards {
				out[proto.BucketShards][sh.Object] = true
			}
		}
	}
	for _, m := range f.st.Models {
		out[m.Blob.Bucket][m.Blob.Object] = true
		for _, r := range m.Refs {
			out[r.Bucket][r.Object] = true
		}
	}
	return out
}

// Snapshot captures the state; Persist does the I/O.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := json.Marshal(f.st)
	if err != nil {
		return nil, err
	}
	return &snapshot{data: b}, nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st := newState()
	if err := json.NewDecoder(rc).Decode(st); err != nil {
		return fmt.Errorf("coordinator: restore snapshot: %w", err)
	}
	if st.Requests == nil {
		st.Requests = map[string]string{}
	}
	if st.Imports == nil {
		st.Imports = map[string]string{}
	}
	if st.Schedules == nil {
		st.Schedules = map[string]*proto.Schedule{}
	}
	if st.Scores == nil {
		st.Scores = map[string][]*proto.ScoreSet{}
	}
	f.mu.Lock()
	f.st = st
	f.mu.Unlock()
	return nil
}

type snapshot struct{ data []byte }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() {}
