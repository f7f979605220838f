package coordinator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

var shardSeq int

// commitVersion commits a version of a features dataset whose two shards
// are named after the version, so versions share no blob.
func commitVersion(t *testing.T, f *FSM, name string) int {
	t.Helper()
	shardSeq++
	obj := fmt.Sprintf("%s/v%d", name, shardSeq)
	r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: proto.DatasetCommit{
		Name: name, Kind: "features", Key: "id", Rows: 3,
		Shards: []proto.ShardRef{{Index: 0, Object: obj + "/0", Rows: 1, Size: 100}, {Index: 1, Object: obj + "/1", Rows: 2, Size: 200}},
	}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var v int
	fmt.Sscan(r.ID, &v)
	return v
}

// submit queues a job and returns its id.
func submit(t *testing.T, f *FSM, spec proto.JobSpec) string {
	t.Helper()
	r := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: spec, Time: t0})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.ID
}

// trainModel runs a k-means job on a dataset version to a model.
func trainModel(t *testing.T, f *FSM, ds string, version int) (job, model string) {
	t.Helper()
	job = submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: ds, DatasetVersion: version, RequestID: "train-" + ds})
	apply(t, f, msgJobStart, entryJobStart{ID: job, Time: t0})
	r := apply(t, f, msgJobFinish, entryJobFinish{ID: job, State: proto.JobSucceeded, Kind: "kmeans",
		Model: &proto.BlobRef{Bucket: proto.BucketModels, Object: "models/" + job, Size: 1000}, Time: t0})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return job, r.ID
}

// scoreInto runs a scoring job to a new version of a score set.
func scoreInto(t *testing.T, f *FSM, name, model string) string {
	t.Helper()
	job := submit(t, f, proto.JobSpec{Algo: "score", Dataset: "telco", DatasetVersion: 1, Params: proto.MustJSON(proto.ScoreSpec{Model: model, As: name})})
	apply(t, f, msgJobStart, entryJobStart{ID: job, Time: t0})
	r := apply(t, f, msgJobFinish, entryJobFinish{ID: job, State: proto.JobSucceeded, Time: t0, Scores: &proto.ScoreSet{
		Name: name, Kind: proto.ScoresSegments, Model: model, Dataset: "telco", DatasetVersion: 1,
		Shards: []proto.ShardRef{{Index: 0, Object: "scores/" + job, Size: 50}}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.ID
}

func del(t *testing.T, f *FSM, typ msgType, d proto.Delete) (proto.Deleted, error) {
	t.Helper()
	r := apply(t, f, typ, entryDelete{Delete: d, Time: t0.Add(time.Hour)})
	out, _ := r.Out.(proto.Deleted)
	return out, r.Err
}

func wantErr(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	if !errors.Is(err, sentinel) || err.Error() != msg {
		t.Fatalf("error %v, want %q (%v)", err, msg, sentinel)
	}
}

func TestFSMDeleteDatasetVersion(t *testing.T) {
	f := NewFSM()
	for range 3 {
		commitVersion(t, f, "c")
	}
	v2 := f.st.Datasets["c"].Versions[1].Shards[0].Object
	out, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "c", Version: 2})
	if err != nil || out.What != "dataset" || !slices.Equal(out.Versions, []int{2}) || out.Bytes != 300 || out.Cancelled != nil {
		t.Fatalf("delete version 2: %+v, %v", out, err)
	}
	ds, _ := f.Dataset("c")
	if !slices.Equal(ds.VersionNumbers(), []int{1, 3}) || ds.Version(2) != nil || ds.Bytes != 600 || ds.Versions[1].Bytes != 300 {
		t.Fatalf("after delete: versions %v, %d bytes", ds.VersionNumbers(), ds.Bytes)
	}
	if f.Referenced()[proto.BucketShards][v2] {
		t.Fatalf("the deleted version's shard %s is still referenced", v2)
	}
	// Deleting the newest version does not free its number.
	if _, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "c", Version: 3}); err != nil {
		t.Fatal(err)
	}
	if v := commitVersion(t, f, "c"); v != 4 {
		t.Fatalf("the version after a deleted 3 is %d, want 4", v)
	}
	_, err = del(t, f, msgDatasetDelete, proto.Delete{Name: "c", Version: 9})
	wantErr(t, err, ErrNotFound, "coordinator: not found: dataset c has no version 9 (it has 1, 4)")
	// Deleting the last versions deletes the dataset; the numbers still go on.
	out, err = del(t, f, msgDatasetDelete, proto.Delete{Name: "c"})
	if err != nil || !slices.Equal(out.Versions, []int{1, 4}) {
		t.Fatalf("delete c: %+v, %v", out, err)
	}
	if _, err := f.Dataset("c"); !errors.Is(err, ErrNotFound) || len(f.Datasets()) != 0 || len(f.Referenced()[proto.BucketShards]) != 0 {
		t.Fatalf("dataset c after delete: %v, %d datasets, refs %v", err, len(f.Datasets()), f.Referenced())
	}
	if v := commitVersion(t, f, "c"); v != 5 {
		t.Fatalf("a dataset made again under a deleted one's name starts at %d, want 5", v)
	}
	_, err = del(t, f, msgDatasetDelete, proto.Delete{Name: "nope"})
	wantErr(t, err, ErrNotFound, `coordinator: not found: dataset "nope"`)
}

// usedFSM has a dataset telco (2 versions) with model-1 trained on version
// 1, a schedule nightly scoring telco with model-1 and a queued job on
// version 1.
func usedFSM(t *testing.T) *FSM {
	t.Helper()
	f := NewFSM()
	commitVersion(t, f, "telco")
	trainModel(t, f, "telco", 1) // job-1, model-1
	commitVersion(t, f, "telco")
	if r := apply(t, f, msgScheduleCreate, entryScheduleCreate{Time: t0, Spec: proto.ScheduleSpec{Name: "nightly", Cron: "0 2 * * *",
		Model: "model-1", Dataset: "telco", CatchUp: proto.CatchUpRunOnce}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: "telco", DatasetVersion: 1}) // job-2
	return f
}

func TestFSMDeleteRefusedWhileUsed(t *testing.T) {
	f := usedFSM(t)
	_, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "telco"})
	wantErr(t, err, ErrInUse, "coordinator: in use: dataset telco is used by schedule nightly and job job-2; use --force")
	// Version 1 is read by job-2; version 2, the latest, is what nightly's next run scores.
	_, err = del(t, f, msgDatasetDelete, proto.Delete{Name: "telco", Version: 1})
	wantErr(t, err, ErrInUse, "coordinator: in use: dataset telco version 1 is used by job job-2; use --force")
	_, err = del(t, f, msgDatasetDelete, proto.Delete{Name: "telco", Version: 2})
	wantErr(t, err, ErrInUse, "coordinator: in use: dataset telco version 2 is used by schedule nightly; use --force")
	score := submit(t, f, proto.JobSpec{Algo: "score", Dataset: "telco", DatasetVersion: 2, Params: proto.MustJSON(proto.ScoreSpec{Model: "model-1", As: "seg"})})
	_, err = del(t, f, msgModelDelete, proto.Delete{Name: "model-1"})
	wantErr(t, err, ErrInUse, "coordinator: in use: model model-1 is used by schedule nightly and job "+score+"; use --force")
	_, err = del(t, f, msgScoresDelete, proto.Delete{Name: "nope"})
	wantErr(t, err, ErrNotFound, "coordinator: not found: score set nope")
	_, err = del(t, f, msgJobDelete, proto.Delete{Name: "job-2"})
	wantErr(t, err, ErrInUse, "coordinator: in use: job job-2 is queued; cancel it or use --force")
	// Nothing was changed by the refusals.
	if ds, _ := f.Dataset("telco"); len(ds.Versions) != 2 || len(f.Jobs()) != 3 || f.st.Models["model-1"] == nil {
		t.Fatalf("a refused delete changed the state")
	}
	if errorCode(err) != "in_use" {
		t.Fatalf("error code %q", errorCode(err))
	}
}

func TestFSMForcedDelete(t *testing.T) {
	f := usedFSM(t)
	var told []string
	f.notify = func(id string) { told = append(told, id) }
	out, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "telco", Force: true})
	if err != nil || !slices.Equal(out.Cancelled, []string{"job-2"}) || !slices.Equal(out.Paused, []string{"nightly"}) ||
		!slices.Equal(out.Versions, []int{1, 2}) || out.Bytes != 600 {
		t.Fatalf("forced delete: %+v, %v", out, err)
	}
	j, _ := f.Job("job-2")
	if j.State != proto.JobCancelled || j.Reason != "dataset telco was deleted" || !j.Finished.Equal(t0.Add(time.Hour)) {
		t.Fatalf("job-2 after the forced delete: %s %q %v", j.State, j.Reason, j.Finished)
	}
	if !slices.Contains(told, "job-2") {
		t.Fatalf("the driver of job-2 was not told: %v", told)
	}
	if s, _ := f.Schedule("nightly"); !s.Paused {
		t.Fatal("nightly was not paused")
	}
	// The model stays: it no longer needs its dataset.
	if _, err := f.Model("model-1"); err != nil {
		t.Fatal(err)
	}
	out, err = del(t, f, msgModelDelete, proto.Delete{Name: "model-1", Force: true})
	if err != nil || out.Bytes != 1000 || !slices.Equal(out.Paused, []string{"nightly"}) || out.Cancelled != nil {
		t.Fatalf("forced model delete: %+v, %v", out, err)
	}
	if _, err := f.Model("model-1"); !errors.Is(err, ErrNotFound) || f.Referenced()[proto.BucketModels]["models/job-1"] {
		t.Fatalf("model-1 after delete: %v, refs %v", err, f.Referenced())
	}
}

func TestFSMDeleteJob(t *testing.T) {
	f := NewFSM()
	commitVersion(t, f, "telco")
	job, model := trainModel(t, f, "telco", 1)
	if _, err := del(t, f, msgJobDelete, proto.Delete{Name: job}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Job(job); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted job: %v", err)
	}
	// The model keeps what trained it: model list and retraining need it.
	ms := f.Models()
	if len(ms) != 1 || ms[0].ID != model || ms[0].Algo != "kmeans" || ms[0].Dataset != "telco" || ms[0].DatasetVersion != 1 || ms[0].Bytes != 1000 {
		t.Fatalf("models: %+v", ms)
	}
	spec, err := trainSpec(f, &proto.Schedule{ScheduleSpec: proto.ScheduleSpec{Model: model}})
	if err != nil || spec.Algo != "kmeans" || spec.Dataset != "telco" {
		t.Fatalf("train spec after the job was deleted: %+v, %v", spec, err)
	}
	// A retried submit of the deleted job's request makes a new job.
	if id := submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: "telco", DatasetVersion: 1, RequestID: "train-telco"}); id == job {
		t.Fatalf("a submit with a deleted job's request id answered %s", id)
	}
	// A running job is deleted with --force: its driver is told, its state blob freed.
	running := submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: "telco", DatasetVersion: 1})
	apply(t, f, msgJobStart, entryJobStart{ID: running, Time: t0})
	apply(t, f, msgJobPass, entryJobPass{ID: running, Record: proto.PassRecord{Pass: 1},
		StateRef: proto.BlobRef{Bucket: proto.BucketModels, Object: "state-x", Size: 7}})
	_, err = del(t, f, msgJobDelete, proto.Delete{Name: running})
	wantErr(t, err, ErrInUse, "coordinator: in use: job "+running+" is running; cancel it or use --force")
	var told []string
	f.notify = func(id string) { told = append(told, id) }
	out, err := del(t, f, msgJobDelete, proto.Delete{Name: running, Force: true})
	if err != nil || out.Bytes != 7 || !slices.Equal(told, []string{running}) || !slices.Equal(out.Cancelled, []string{running}) || f.Referenced()[proto.BucketModels]["state-x"] {
		t.Fatalf("forced job delete: %+v, %v, told %v", out, err, told)
	}
}

func TestFSMDeleteScores(t *testing.T) {
	f := NewFSM()
	commitVersion(t, f, "telco")
	_, model := trainModel(t, f, "telco", 1)
	for range 3 {
		scoreInto(t, f, "nightly", model)
	}
	apply(t, f, msgScheduleCreate, entryScheduleCreate{Time: t0, Spec: proto.ScheduleSpec{Name: "nightly", Cron: "0 2 * * *",
		Model: model, Dataset: "telco", CatchUp: proto.CatchUpRunOnce}})
	_, err := del(t, f, msgScoresDelete, proto.Delete{Name: "nightly"})
	wantErr(t, err, ErrInUse, "coordinator: in use: score set nightly is used by schedule nightly; use --force")
	// One version is never in use: nothing reads score sets in a job.
	out, err := del(t, f, msgScoresDelete, proto.Delete{Name: "nightly", Version: 3})
	if err != nil || out.Bytes != 50 || !slices.Equal(out.Versions, []int{3}) {
		t.Fatalf("delete nightly version 3: %+v, %v", out, err)
	}
	if ss, err := f.ScoreSet("nightly", 0); err != nil || ss.Version != 2 || ss.Bytes != 50 {
		t.Fatalf("latest after delete: %+v, %v", ss, err)
	}
	_, err = f.ScoreSet("nightly", 3)
	wantErr(t, err, ErrNotFound, "coordinator: not found: score set nightly has no version 3 (it has 1..2)")
	if got := scoreInto(t, f, "nightly", model); got != "nightly:4" {
		t.Fatalf("the version after a deleted 3 is %s", got)
	}
	out, err = del(t, f, msgScoresDelete, proto.Delete{Name: "nightly", Force: true})
	if err != nil || !slices.Equal(out.Versions, []int{1, 2, 4}) || !slices.Equal(out.Paused, []string{"nightly"}) {
		t.Fatalf("forced delete: %+v, %v", out, err)
	}
	if len(f.ScoreSets()) != 0 || len(f.Referenced()[proto.BucketShards]) != 2 {
		t.Fatalf("after delete: %d score sets, refs %v", len(f.ScoreSets()), f.Referenced())
	}
}

func TestFSMRetention(t *testing.T) {
	f := NewFSM()
	for range 4 {
		commitVersion(t, f, "telco")
	}
	// A running job reads version 1: retention keeps it until the job ends.
	job := submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: "telco", DatasetVersion: 1})
	r := apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "telco", Keep: 2}})
	out, _ := r.Out.(proto.Retained)
	if r.Err != nil || !slices.Equal(out.Dropped, []int{2}) || !slices.Equal(out.Pinned, []int{1}) || !slices.Equal(out.Versions, []int{1, 3, 4}) {
		t.Fatalf("retain 2: %+v, %v", out, r.Err)
	}
	if due := f.retentionDue(); len(due) != 0 {
		t.Fatalf("due while version 1 is in use: %+v", due)
	}
	apply(t, f, msgJobCancel, entryJobCancel{ID: job, Time: t0})
	commitVersion(t, f, "telco") // 5
	due := f.retentionDue()
	if len(due) != 1 || due[0].Kind != lifeDataset || !slices.Equal(due[0].Versions, []int{1, 3}) {
		t.Fatalf("due: %+v", due)
	}
	// A version a job started reading since the leader looked is kept.
	submit(t, f, proto.JobSpec{Algo: "kmeans", Dataset: "telco", DatasetVersion: 3})
	r = apply(t, f, msgRetentionDrop, due[0])
	if out, _ := r.Out.(proto.Retained); r.Err != nil || !slices.Equal(out.Dropped, []int{1}) || !slices.Equal(out.Versions, []int{3, 4, 5}) {
		t.Fatalf("drop: %+v, %v", out, r.Err)
	}
	if ds, _ := f.Dataset("telco"); ds.Keep != 2 {
		t.Fatalf("dataset keep %d", ds.Keep)
	}

	// A score set's count may be set before it exists.
	r = apply(t, f, msgRetain, entryRetain{Kind: lifeScores, Retain: proto.Retain{Name: "seg", Keep: 1}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	_, model := trainModel(t, f, "telco", 4)
	scoreInto(t, f, "seg", model)
	scoreInto(t, f, "seg", model)
	due = f.retentionDue()
	if len(due) != 1 || due[0].Kind != lifeScores || !slices.Equal(due[0].Versions, []int{1}) {
		t.Fatalf("score set due: %+v", due)
	}
	apply(t, f, msgRetentionDrop, due[0])
	if ss, _ := f.ScoreSet("seg", 0); ss.Version != 2 || ss.Keep != 1 || len(f.st.Scores["seg"]) != 1 {
		t.Fatalf("seg after retention: %+v", ss)
	}

	r = apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "nope", Keep: 1}})
	wantErr(t, r.Err, ErrNotFound, `coordinator: not found: dataset "nope"`)
	r = apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "telco", Keep: -1}})
	wantErr(t, r.Err, ErrInvalid, "coordinator: invalid request: keep -1 (0 to 100000; 0 keeps every version)")
	// Keep 0 keeps everything again.
	apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "telco", Keep: 0}})
	commitVersion(t, f, "telco")
	commitVersion(t, f, "telco")
	if due := f.retentionDue(); len(due) != 0 {
		t.Fatalf("due with keep 0: %+v", due)
	}
}

func TestFSMScheduleRunPinsVersion(t *testing.T) {
	f := usedFSM(t)
	apply(t, f, msgJobCancel, entryJobCancel{ID: "job-2", Time: t0})
	// nightly's run in progress scores version 1; version 2 is the latest.
	if r := apply(t, f, msgScheduleStart, entryScheduleStart{runRef: runRef{Name: "nightly", ScheduleID: "sched-1", ScheduledFor: t0},
		Trigger: proto.TriggerManual, DatasetVersion: 1, Model: "model-1", Time: t0}); r.Err != nil {
		t.Fatal(r.Err)
	}
	commitVersion(t, f, "telco") // 3
	_, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "telco", Version: 1})
	wantErr(t, err, ErrInUse, "coordinator: in use: dataset telco version 1 is used by schedule nightly; use --force")
	if _, err := del(t, f, msgDatasetDelete, proto.Delete{Name: "telco", Version: 2}); err != nil {
		t.Fatalf("version 2 is neither pinned nor the latest: %v", err)
	}
	r := apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "telco", Keep: 1}})
	if out, _ := r.Out.(proto.Retained); !slices.Equal(out.Pinned, []int{1}) || out.Dropped != nil {
		t.Fatalf("retain 1 while a run pins version 1: %+v", out)
	}
}

func TestFSMDeleteRetriedAndRestored(t *testing.T) {
	f := NewFSM()
	for range 3 {
		commitVersion(t, f, "c")
	}
	d := proto.Delete{Name: "c", Version: 3, RequestID: "req-1"}
	first, err1 := del(t, f, msgDatasetDelete, d)
	again, err2 := del(t, f, msgDatasetDelete, d)
	if err1 != nil || err2 != nil || !slices.Equal(first.Versions, again.Versions) || first.Bytes != again.Bytes {
		t.Fatalf("a retried delete: %+v %v, then %+v %v", first, err1, again, err2)
	}
	apply(t, f, msgRetain, entryRetain{Kind: lifeScores, Retain: proto.Retain{Name: "seg", Keep: 3}})
	apply(t, f, msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "c", Keep: 5}})

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
	if v := commitVersion(t, g, "c"); v != 4 {
		t.Fatalf("after restore the next version is %d, want 4", v)
	}
	if g.life().KeepScores["seg"] != 3 || g.life().KeepDatasets["c"] != 5 {
		t.Fatalf("retention after restore: %+v", g.life())
	}
	if again, err := del(t, g, msgDatasetDelete, d); err != nil || !slices.Equal(again.Versions, []int{3}) {
		t.Fatalf("a retried delete after restore: %+v, %v", again, err)
	}
}

func FuzzLifecycleApply(f *testing.F) {
	for _, e := range []struct {
		t msgType
		v any
	}{
		{msgDatasetDelete, entryDelete{Delete: proto.Delete{Name: "telco", Version: 1, Force: true}}},
		{msgScoresDelete, entryDelete{Delete: proto.Delete{Name: "nightly"}}},
		{msgModelDelete, entryDelete{Delete: proto.Delete{Name: "model-1", RequestID: "r"}}},
		{msgJobDelete, entryDelete{Delete: proto.Delete{Name: "job-2", Force: true}}},
		{msgRetain, entryRetain{Kind: lifeDataset, Retain: proto.Retain{Name: "telco", Keep: 1}}},
		{msgRetentionDrop, entryRetentionDrop{Kind: lifeDataset, Name: "telco", Versions: []int{1}}},
	} {
		b, _ := encodeEntry(e.t, e.v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if typ := msgType(data[0]) &^ ignoreUnknownFlag; typ < msgDatasetDelete || typ > msgRetentionDrop {
			return
		}
		fsm := usedFSM(t)
		fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		fsm.Datasets()
		fsm.ScoreSets()
		fsm.Models()
		fsm.retentionDue()
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}
