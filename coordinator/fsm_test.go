package coordinator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

var t0 = time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)

func apply(t *testing.T, f *FSM, typ msgType, v any) applyResult {
	t.Helper()
	b, err := encodeEntry(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := f.Apply(&raft.Log{Type: raft.LogCommand, Data: b}).(applyResult)
	return res
}

func commitDataset(t *testing.T, f *FSM, name string) {
	t.Helper()
	r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: proto.DatasetCommit{
		Name: name, Kind: "features", Key: "id", Rows: 3,
		Shards: []proto.ShardRef{{Index: 0, Object: name + "/0", Rows: 1}, {Index: 1, Object: name + "/1", Rows: 2}},
	}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
}

func TestFSMJobLifecycle(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "c")
	commitDataset(t, f, "c")
	ds, err := f.Dataset("c")
	if err != nil || len(ds.Versions) != 2 || ds.Versions[1].Version != 2 {
		t.Fatalf("versions: %+v, %v", ds, err)
	}
	r := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 2}, Time: t0})
	if r.Err != nil || r.ID != "job-1" {
		t.Fatalf("submit: %+v", r)
	}
	if r := apply(t, f, msgJobPass, entryJobPass{ID: "job-1", Record: proto.PassRecord{Pass: 1}}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("a pass of a queued job was accepted: %v", r.Err)
	}
	apply(t, f, msgJobStart, entryJobStart{ID: "job-1", Time: t0})
	for pass := 1; pass <= 3; pass++ {
		r := apply(t, f, msgJobPass, entryJobPass{ID: "job-1", Record: proto.PassRecord{Pass: pass, Iteration: pass, Objective: float64(10 - pass)},
			StateRef: proto.BlobRef{Bucket: proto.BucketModels, Object: "s"}})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// A replayed or skipped pass is refused: passes commit once, in order.
	for _, pass := range []int{2, 3, 5} {
		if r := apply(t, f, msgJobPass, entryJobPass{ID: "job-1", Record: proto.PassRecord{Pass: pass}}); !errors.Is(r.Err, ErrConflict) {
			t.Fatalf("pass %d after 3 accepted: %v", pass, r.Err)
		}
	}
	r = apply(t, f, msgJobFinish, entryJobFinish{ID: "job-1", State: proto.JobSucceeded, Kind: "kmeans",
		Model: &proto.BlobRef{Bucket: proto.BucketModels, Object: "models/job-1"}, Time: t0.Add(time.Minute)})
	if r.Err != nil || r.ID != "model-1" {
		t.Fatalf("finish: %+v", r)
	}
	j, _ := f.Job("job-1")
	if j.State != proto.JobSucceeded || j.Model != "model-1" || len(j.History) != 3 || j.Iteration != 3 {
		t.Fatalf("job: %+v", j)
	}
	if r := apply(t, f, msgJobCancel, entryJobCancel{ID: "job-1"}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("cancelling a finished job: %v", r.Err)
	}
	refs := f.Referenced()
	// The ended job's last state is no longer needed: the model holds what is.
	if !refs[proto.BucketShards]["c/1"] || !refs[proto.BucketModels]["models/job-1"] || refs[proto.BucketModels]["s"] {
		t.Fatalf("referenced: %v", refs)
	}
}

func TestFSMSnapshotRestore(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "a")
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "a", DatasetVersion: 1}, Time: t0})
	apply(t, f, msgJobCancel, entryJobCancel{ID: "job-1", Time: t0})
	apply(t, f, msgWorkerSeen, entryWorkerSeen{ID: "w1", Host: "h", Time: t0})
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	g := NewFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	j, err := g.Job("job-1")
	if err != nil || j.State != proto.JobCancelled {
		t.Fatalf("restored job: %+v, %v", j, err)
	}
	// Counters survive: the next job does not reuse an id.
	if r := apply(t, g, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Dataset: "a"}, Time: t0}); r.ID != "job-2" {
		t.Fatalf("next id after restore: %q", r.ID)
	}
	if len(g.st.Workers) != 1 {
		t.Fatalf("workers after restore: %v", g.st.Workers)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte("{not json")))); err == nil {
		t.Fatal("a corrupt snapshot restored")
	}
}

func TestFSMUnknownEntries(t *testing.T) {
	f := NewFSM()
	ignorable := append([]byte{byte(99 | ignoreUnknownFlag)}, "{}"...)
	if r, _ := f.Apply(&raft.Log{Type: raft.LogCommand, Data: ignorable}).(applyResult); r.Err != nil {
		t.Fatalf("ignorable unknown entry: %v", r.Err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown, non-ignorable entry was applied silently")
		}
	}()
	f.Apply(&raft.Log{Type: raft.LogCommand, Data: append([]byte{99}, "{}"...)})
}

func TestFSMBadPayload(t *testing.T) {
	f := NewFSM()
	r, _ := f.Apply(&raft.Log{Type: raft.LogCommand, Data: append([]byte{byte(msgJobSubmit)}, "{"...)}).(applyResult)
	if r.Err == nil {
		t.Fatal("a malformed entry was applied")
	}
}

func FuzzFSMApply(f *testing.F) {
	b, _ := encodeEntry(msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Dataset: "a"}})
	f.Add(b)
	b, _ = encodeEntry(msgJobPass, entryJobPass{ID: "job-1", Record: proto.PassRecord{Pass: 1}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if typ := msgType(data[0]) &^ ignoreUnknownFlag; typ == 0 || typ > msgWorkerSeen {
			return // unknown types stop the node by design
		}
		fsm := NewFSM()
		commitDataset(t, fsm, "a")
		fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}

type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

func TestFSMIdempotentWrites(t *testing.T) {
	f := NewFSM()
	dc := entryDatasetCommit{Time: t0, DatasetCommit: proto.DatasetCommit{Name: "d", Kind: "features", ImportID: "imp-1",
		Shards: []proto.ShardRef{{Index: 0, Object: "o"}}}}
	first := apply(t, f, msgDatasetCommit, dc)
	again := apply(t, f, msgDatasetCommit, dc)
	if first.Err != nil || again.Err != nil || first.ID != again.ID {
		t.Fatalf("retried import commit: %+v then %+v", first, again)
	}
	if ds, _ := f.Dataset("d"); len(ds.Versions) != 1 {
		t.Fatalf("a retried commit made %d versions", len(ds.Versions))
	}
	sub := entryJobSubmit{Spec: proto.JobSpec{RequestID: "r-1", Dataset: "d"}, Time: t0}
	a, b := apply(t, f, msgJobSubmit, sub), apply(t, f, msgJobSubmit, sub)
	if a.ID != "job-1" || b.ID != "job-1" || len(f.Jobs()) != 1 {
		t.Fatalf("retried submit: %+v %+v, %d jobs", a, b, len(f.Jobs()))
	}
	for i := 0; i < 2; i++ {
		if r := apply(t, f, msgJobCancel, entryJobCancel{ID: "job-1", Time: t0}); r.Err != nil {
			t.Fatalf("cancel %d: %v", i, r.Err)
		}
	}
}

// TestUnfinishedJobsAndJobState: the scheduler's view of the jobs, read
// without copying them, lists the jobs not ended in submission order (job-10
// after job-9) and each job's state.
func TestUnfinishedJobsAndJobState(t *testing.T) {
	f := NewFSM()
	for i := 0; i < 11; i++ {
		apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 1,
			RequestID: fmt.Sprintf("r%d", i)}, Time: t0})
	}
	apply(t, f, msgJobFinish, entryJobFinish{ID: "job-2", State: proto.JobCancelled, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-3", Time: t0})
	want := "[job-1 job-3 job-4 job-5 job-6 job-7 job-8 job-9 job-10 job-11]"
	if got := fmt.Sprint(f.UnfinishedJobs()); got != want {
		t.Fatalf("unfinished jobs %s, want %s", got, want)
	}
	for id, want := range map[string]string{"job-2": proto.JobCancelled, "job-3": proto.JobRunning, "job-4": proto.JobQueued} {
		if got, err := f.JobState(id); err != nil || got != want {
			t.Fatalf("%s: state %q (%v), want %q", id, got, err, want)
		}
	}
	if _, err := f.JobState("job-99"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a job not known: %v", err)
	}
}
