package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// Backup and restore. A backup is the leader's state — the same bytes a
// raft snapshot persists — and every blob it names; the client copies the
// blobs. A restore is one raft entry that replaces an empty cluster's state
// with a backup's, committed after every blob it names is stored and
// verified, so a cluster holds either nothing or the whole backup.

// msgRestore replaces an empty state with a backup's (the number is from
// the range 40–45 kept for backup and restore).
const msgRestore msgType = 40

type entryRestore struct {
	State json.RawMessage `json:"state"`
	Time  time.Time       `json:"time"`
}

// backupPrefix is where the leader stores the manifests it takes.
const backupPrefix = "backups/"

func (c *Coordinator) backupHandlers() map[string]handler {
	return map[string]handler{
		proto.APIClusterBackup:  c.apiBackup,
		proto.APIClusterRestore: c.apiRestore,
	}
}

// apiBackup stores a manifest of the state as of now and says where. The
// state is read after a barrier, so it holds every write a client saw
// succeed before it asked.
func (c *Coordinator) apiBackup(ctx context.Context, _ json.RawMessage) (any, error) {
	if err := c.raft.Barrier(10 * time.Second).Error(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	state, st, err := c.fsm.stateBytes()
	if err != nil {
		return nil, err
	}
	b := proto.Backup{
		Format: proto.BackupFormat, Proto: proto.Version, Created: time.Now().UTC(),
		Index: c.raft.AppliedIndex(), State: state, Blobs: stateBlobs(st),
	}
	b.Counts = countState(st, b.Blobs)
	data, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	name := backupPrefix + strconv.FormatUint(b.Index, 10) + "-" + strconv.FormatInt(b.Created.UnixNano(), 36) + ".json"
	ref, err := c.store.Put(ctx, proto.BucketModels, name, data)
	if err != nil {
		return nil, err
	}
	c.log.Info("backup taken", "index", b.Index, "blobs", b.Counts.Blobs, "bytes", b.Counts.Bytes)
	return proto.BackupTaken{Manifest: ref, Index: b.Index, Counts: b.Counts}, nil
}

// apiRestore commits a backup's state into an empty cluster, once every
// blob the state names is stored with its checksum.
func (c *Coordinator) apiRestore(ctx context.Context, body json.RawMessage) (any, error) {
	req, err := parse[proto.RestoreRequest](body)
	if err != nil {
		return nil, err
	}
	if err := c.fsm.checkEmpty(); err != nil {
		return nil, err
	}
	if req.Check {
		return proto.Restored{}, nil
	}
	if req.Manifest.Object == "" {
		return nil, fmt.Errorf("%w: no manifest", ErrInvalid)
	}
	data, err := c.store.Get(ctx, req.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrInvalid, err)
	}
	b, st, err := decodeBackup(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	blobs := stateBlobs(st)
	c.blobMu.Lock() // no collection between the blobs' check and the commit (gc.go)
	defer c.blobMu.Unlock()
	if err := c.statNew(ctx, blobs); err != nil {
		return nil, fmt.Errorf("%w: %w (store every blob of the backup first)", ErrInvalid, err)
	}
	if _, err := c.apply(msgRestore, entryRestore{State: b.State, Time: time.Now().UTC()}); err != nil {
		return nil, err
	}
	out := proto.Restored{Counts: countState(st, blobs), Index: c.raft.AppliedIndex()}
	c.log.Info("backup restored", "taken_at_index", b.Index, "datasets", out.Counts.Datasets, "jobs", out.Counts.Jobs, "blobs", out.Counts.Blobs)
	return out, nil
}

// ErrBackup reports a backup manifest that cannot be restored.
var ErrBackup = errors.New("coordinator: bad backup")

// decodeBackup decodes and checks a backup's manifest: its format, its
// state, and that its blob list is exactly the blobs the state names.
func decodeBackup(data []byte) (*proto.Backup, *state, error) {
	var b proto.Backup
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, nil, fmt.Errorf("%w: manifest: %v", ErrBackup, err)
	}
	if b.Format != proto.BackupFormat {
		return nil, nil, fmt.Errorf("%w: manifest format %d, this build restores format %d", ErrBackup, b.Format, proto.BackupFormat)
	}
	if b.Proto != proto.Version {
		return nil, nil, fmt.Errorf("%w: taken by protocol version %d, this build speaks %d", ErrBackup, b.Proto, proto.Version)
	}
	st, err := decodeState(b.State)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBackup, err)
	}
	want := stateBlobs(st)
	if len(want) != len(b.Blobs) {
		return nil, nil, fmt.Errorf("%w: the state names %d blobs, the manifest lists %d", ErrBackup, len(want), len(b.Blobs))
	}
	for i := range want {
		if want[i] != b.Blobs[i] {
			return nil, nil, fmt.Errorf("%w: blob %d is %s/%s in the state, %s/%s in the manifest", ErrBackup, i,
				want[i].Bucket, want[i].Object, b.Blobs[i].Bucket, b.Blobs[i].Object)
		}
	}
	return &b, st, nil
}

// decodeState decodes a state as Snapshot wrote it.
func decodeState(data []byte) (*state, error) {
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	for _, m := range []*map[string]string{&st.Requests, &st.Imports} {
		if *m == nil {
			*m = map[string]string{}
		}
	}
	if st.Datasets == nil {
		st.Datasets = map[string]*proto.Dataset{}
	}
	if st.Jobs == nil {
		st.Jobs = map[string]*proto.Job{}
	}
	if st.Models == nil {
		st.Models = map[string]*proto.Model{}
	}
	if st.Scores == nil {
		st.Scores = map[string][]*proto.ScoreSet{}
	}
	if st.Schedules == nil {
		st.Schedules = map[string]*proto.Schedule{}
	}
	if st.Workers == nil {
		st.Workers = map[string]WorkerSeen{}
	}
	return st, st.check()
}

// check refuses a state the reads could not serve: missing entries, and
// keys that are not their entry's name.
func (st *state) check() error {
	for k, ds := range st.Datasets {
		if ds == nil || ds.Name != k {
			return fmt.Errorf("state: dataset %q is empty or named otherwise", k)
		}
	}
	for k, j := range st.Jobs {
		if j == nil || j.ID != k || !strings.HasPrefix(k, "job-") {
			return fmt.Errorf("state: job %q is empty or named otherwise", k)
		}
		if _, err := strconv.Atoi(k[len("job-"):]); err != nil {
			return fmt.Errorf("state: job %q is not numbered", k)
		}
	}
	for k, m := range st.Models {
		if m == nil || m.ID != k {
			return fmt.Errorf("state: model %q is empty or named otherwise", k)
		}
	}
	for k, vs := range st.Scores {
		if len(vs) == 0 || slices.Contains(vs, nil) {
			return fmt.Errorf("state: score set %q has an empty version", k)
		}
	}
	for k, s := range st.Schedules {
		if s == nil {
			return fmt.Errorf("state: schedule %q is empty", k)
		}
	}
	return nil
}

// stateBytes returns the state as a snapshot persists it, and a decoded
// copy to read without the lock.
func (f *FSM) stateBytes() (json.RawMessage, *state, error) {
	f.mu.RLock()
	b, err := json.Marshal(f.st)
	f.mu.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	st, err := decodeState(b)
	return b, st, err
}

// checkEmpty refuses a restore into a cluster that holds anything a
// restore would replace.
func (f *FSM) checkEmpty() error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.checkEmpty()
}

func (st *state) checkEmpty() error {
	if n := len(st.Datasets) + len(st.Jobs) + len(st.Models) + len(st.Scores) + len(st.Schedules); n > 0 {
		return fmt.Errorf("%w: the cluster holds %d datasets, %d jobs, %d models, %d score sets and %d schedules; "+
			"restore into a new cluster (empty data directories)", ErrConflict,
			len(st.Datasets), len(st.Jobs), len(st.Models), len(st.Scores), len(st.Schedules))
	}
	return nil
}

// applyRestore replaces an empty state with a backup's. The workers this
// cluster has seen stay: the backup's are another cluster's.
func (f *FSM) applyRestore(buf []byte) applyResult {
	e, err := decode[entryRestore](buf)
	if err != nil {
		return applyResult{Err: err}
	}
	if err := f.st.checkEmpty(); err != nil {
		return applyResult{Err: err}
	}
	st, err := decodeState(e.State)
	if err != nil {
		return applyResult{Err: fmt.Errorf("%w: %v", ErrBackup, err)}
	}
	st.Workers = f.st.Workers
	f.st = st
	for id, j := range st.Jobs {
		if !j.Terminal() {
			f.notices = append(f.notices, id) // the leader resumes them
		}
	}
	sort.Strings(f.notices)
	return applyResult{}
}

// stateBlobs lists every blob st names, each once, sorted by bucket and
// name: the blobs Referenced reports, with their sizes and checksums.
func stateBlobs(st *state) []proto.BlobRef {
	seen := map[proto.BlobRef]bool{}
	var out []proto.BlobRef
	add := func(r proto.BlobRef) {
		if r.Object != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	shards := func(refs []proto.ShardRef) {
		for _, s := range refs {
			add(proto.BlobRef{Bucket: proto.BucketShards, Object: s.Object, Size: s.Size, SHA256: s.SHA256})
		}
	}
	for _, ds := range st.Datasets {
		for _, v := range ds.Versions {
			shards(v.Shards)
			shards(v.ItemShards)
		}
	}
	for _, j := range st.Jobs {
		if !j.Terminal() {
			add(j.StateRef)
		}
		for _, r := range j.Refs {
			add(r)
		}
	}
	for _, vs := range st.Scores {
		for _, ss := range vs {
			shards(ss.Shards)
		}
	}
	for _, m := range st.Models {
		add(m.Blob)
		for _, r := range m.Refs {
			add(r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bucket != out[j].Bucket {
			return out[i].Bucket < out[j].Bucket
		}
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].SHA256 < out[j].SHA256
	})
	return out
}

func countState(st *state, blobs []proto.BlobRef) proto.BackupCounts {
	n := proto.BackupCounts{Datasets: len(st.Datasets), Models: len(st.Models), ScoreSets: len(st.Scores),
		Jobs: len(st.Jobs), Schedules: len(st.Schedules), Blobs: len(blobs)}
	for _, ds := range st.Datasets {
		n.Versions += len(ds.Versions)
	}
	for _, b := range blobs {
		n.Bytes += b.Size
	}
	return n
}
