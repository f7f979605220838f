package coordinator

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// backupFSM is a state with a dataset, a succeeded job and its model, a
// running job with a committed pass, and a score set.
func backupFSM(t *testing.T) *FSM {
	t.Helper()
	f := NewFSM()
	commitDataset(t, f, "c")
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 1}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-1", Time: t0})
	model := proto.BlobRef{Bucket: proto.BucketModels, Object: "models/job-1-model", Size: 7, SHA256: "aa"}
	if r := apply(t, f, msgJobFinish, entryJobFinish{ID: "job-1", State: proto.JobSucceeded, Model: &model, Kind: "kmeans", Time: t0,
		ModelRefs: []proto.BlobRef{{Bucket: proto.BucketShards, Object: "factors/job-1/0", Size: 3, SHA256: "bb"}}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 1, RequestID: "r2"}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-2", Time: t0})
	if r := apply(t, f, msgJobPass, entryJobPass{ID: "job-2", Record: proto.PassRecord{Pass: 1},
		StateRef: proto.BlobRef{Bucket: proto.BucketModels, Object: "jobs/job-2/state-1", Size: 5, SHA256: "cc"}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "score", Dataset: "c", DatasetVersion: 1, RequestID: "r3"}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: "job-3", Time: t0})
	if r := apply(t, f, msgJobFinish, entryJobFinish{ID: "job-3", State: proto.JobSucceeded, Time: t0,
		Scores: &proto.ScoreSet{Name: "seg", Shards: []proto.ShardRef{{Object: "scores/seg/job-3/shard-0", Size: 9, SHA256: "dd"}}}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	return f
}

// TestStateBlobsAreTheReferencedOnes holds the backup's blob list to the
// collector's view: a blob one keeps and the other does not would be lost.
func TestStateBlobsAreTheReferencedOnes(t *testing.T) {
	f := backupFSM(t)
	_, st, err := f.stateBytes()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]bool{}
	for _, b := range proto.Buckets {
		got[b] = map[string]bool{}
	}
	for _, r := range stateBlobs(st) {
		got[r.Bucket][r.Object] = true
	}
	want := f.Referenced()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("backup blobs %v, referenced %v", got, want)
	}
	if n := len(got[proto.BucketShards]) + len(got[proto.BucketModels]); n != 6 {
		t.Fatalf("%d blobs, want 6 (2 dataset shards, a factor shard, a model, a running job's state, a score shard)", n)
	}
}

func TestRestoreEntry(t *testing.T) {
	src := backupFSM(t)
	state, st, err := src.stateBytes()
	if err != nil {
		t.Fatal(err)
	}
	b := proto.Backup{Format: proto.BackupFormat, Proto: proto.Version, State: state, Blobs: stateBlobs(st)}
	data, _ := json.Marshal(b)
	if _, _, err := decodeBackup(data); err != nil {
		t.Fatal(err)
	}

	dst := NewFSM()
	apply(t, dst, msgWorkerSeen, entryWorkerSeen{ID: "w-new", Time: t0})
	var notified []string
	dst.notify = func(id string) { notified = append(notified, id) }
	if r := apply(t, dst, msgRestore, entryRestore{State: state, Time: t0}); r.Err != nil {
		t.Fatal(r.Err)
	}
	if !reflect.DeepEqual(dst.Referenced(), src.Referenced()) || !reflect.DeepEqual(dst.Jobs(), src.Jobs()) ||
		!reflect.DeepEqual(dst.Datasets(), src.Datasets()) || !reflect.DeepEqual(dst.ScoreSets(), src.ScoreSets()) {
		t.Fatal("the restored state differs")
	}
	if _, ok := dst.st.Workers["w-new"]; !ok {
		t.Fatal("the restore dropped the workers this cluster has seen")
	}
	if !reflect.DeepEqual(notified, []string{"job-2"}) {
		t.Fatalf("notified %v, want the running job-2 so the leader resumes it", notified)
	}
	// The counters go on from the backup's: the next job is job-4.
	if r := apply(t, dst, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c"}, Time: t0}); r.ID != "job-4" {
		t.Fatalf("next job %q, want job-4", r.ID)
	}
	// A second restore, into a cluster that holds something, is refused.
	if r := apply(t, dst, msgRestore, entryRestore{State: state, Time: t0}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("restore into a non-empty cluster: %v", r.Err)
	}
}

func TestDecodeBackupRefuses(t *testing.T) {
	state, st, err := backupFSM(t).stateBytes()
	if err != nil {
		t.Fatal(err)
	}
	good := proto.Backup{Format: proto.BackupFormat, Proto: proto.Version, State: state, Blobs: stateBlobs(st)}
	for _, tc := range []struct {
		name string
		edit func(*proto.Backup)
		want string
	}{
		{"format", func(b *proto.Backup) { b.Format = 9 }, "format 9"},
		{"protocol", func(b *proto.Backup) { b.Proto = 99 }, "protocol version 99"},
		{"missing blob", func(b *proto.Backup) { b.Blobs = b.Blobs[1:] }, "names 6 blobs, the manifest lists 5"},
		{"other blob", func(b *proto.Backup) {
			b.Blobs = append([]proto.BlobRef(nil), b.Blobs...)
			b.Blobs[2].Object = "x"
		}, "blob 2"},
		{"state", func(b *proto.Backup) { b.State = json.RawMessage(`{"jobs": 3}`) }, "state"},
	} {
		b := good
		tc.edit(&b)
		data, _ := json.Marshal(b)
		_, _, err := decodeBackup(data)
		if !errors.Is(err, ErrBackup) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBackup naming %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := decodeBackup([]byte(`{"format":1,"extra":2}`)); !errors.Is(err, ErrBackup) {
		t.Errorf("unknown field: %v", err)
	}
}

// FuzzRestoreEntry applies a restore of arbitrary bytes to an empty state:
// it is refused or applied, and every read then works.
func FuzzRestoreEntry(f *testing.F) {
	state, _, err := backupFSMForFuzz().stateBytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(state))
	f.Add([]byte(`{"jobs":{"job-x":{"id":"job-x"}}}`))
	f.Add([]byte(`{"scores":{"s":[null]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsm := NewFSM()
		b, err := encodeEntry(msgRestore, entryRestore{State: json.RawMessage(`null`)})
		if err != nil {
			t.Fatal(err)
		}
		if json.Valid(data) {
			b, _ = encodeEntry(msgRestore, entryRestore{State: data})
		}
		apply(t, fsm, msgType(b[0]), json.RawMessage(b[1:]))
		fsm.Datasets()
		fsm.Jobs()
		fsm.ScoreSets()
		fsm.Referenced()
		_, st, err := fsm.stateBytes()
		if err != nil {
			t.Fatal(err)
		}
		stateBlobs(st)
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
		_, _, _ = decodeBackup(data)
	})
}

// backupFSMForFuzz is backupFSM without a testing.T.
func backupFSMForFuzz() *FSM {
	f := NewFSM()
	for _, e := range []struct {
		t msgType
		v any
	}{
		{msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: proto.DatasetCommit{Name: "c", Kind: "features", Key: "id", Rows: 1,
			Shards: []proto.ShardRef{{Index: 0, Object: "c/0", Rows: 1}}}}},
		{msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: "c", DatasetVersion: 1}, Time: t0}},
		{msgScheduleCreate, json.RawMessage(`{}`)},
	} {
		b, _ := encodeEntry(e.t, e.v)
		f.Apply(&raft.Log{Type: raft.LogCommand, Data: b})
	}
	return f
}
