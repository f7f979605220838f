package coordinator

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// trainedModel runs a k-means job on name@1 through the FSM, started at
// start, and returns its model id.
func trainedModel(t *testing.T, f *FSM, name string, start time.Time) string {
	t.Helper()
	job := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "kmeans", Dataset: name, DatasetVersion: 1}, Time: start})
	apply(t, f, msgJobStart, entryJobStart{ID: job.ID, Time: start})
	r := apply(t, f, msgJobFinish, entryJobFinish{ID: job.ID, State: proto.JobSucceeded, Kind: "kmeans",
		Model: &proto.BlobRef{Bucket: proto.BucketModels, Object: "models/" + job.ID}, Time: start.Add(time.Minute)})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return r.ID
}

// scoreSet commits a score set of two shards through a scoring job.
func scoreSet(t *testing.T, f *FSM, name string) {
	t.Helper()
	job := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "score", Dataset: "c", DatasetVersion: 1}, Time: t0})
	apply(t, f, msgJobStart, entryJobStart{ID: job.ID, Time: t0})
	r := apply(t, f, msgJobFinish, entryJobFinish{ID: job.ID, State: proto.JobSucceeded, Time: t0, Scores: &proto.ScoreSet{
		Name: name, Kind: proto.ScoresSegments, Rows: 3, Scored: 3,
		Shards: []proto.ShardRef{{Index: 0, Object: "s/0", Rows: 1}, {Index: 1, Object: "s/1", Rows: 2}},
	}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
}

func TestFSMEraseSaltFirstWins(t *testing.T) {
	f := NewFSM()
	if r := apply(t, f, msgEraseSalt, entryEraseSalt{}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("an empty salt: %v", r.Err)
	}
	if r := apply(t, f, msgEraseSalt, entryEraseSalt{Salt: "aa"}); r.Err != nil || r.ID != "aa" {
		t.Fatalf("first salt: %+v", r)
	}
	if r := apply(t, f, msgEraseSalt, entryEraseSalt{Salt: "bb"}); r.Err != nil || r.ID != "aa" || f.EraseSalt() != "aa" {
		t.Fatalf("a second salt replaced the first: %+v, salt %q", r, f.EraseSalt())
	}
}

func TestFSMEraseDatasetSwapsShards(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "c")
	before := trainedModel(t, f, "c", t0)
	erasedAt := t0.Add(time.Hour)
	cols := []proto.ColumnStats{{Name: "x", Count: 2}}
	swap := entryEraseDataset{Time: erasedAt, EraseDataset: proto.EraseDataset{Dataset: "c", Version: 1, Rows: 2, Columns: cols,
		Shards: []proto.ShardSwap{{Old: "c/1", New: proto.ShardRef{Index: 1, Object: "c/1-erased", Rows: 1}}}}}

	bad := swap
	bad.Rows = 3
	if r := apply(t, f, msgEraseDataset, bad); !errors.Is(r.Err, ErrConflict) || !strings.Contains(r.Err.Error(), "shards hold 2 rows, erasure says 3") {
		t.Fatalf("rows that do not add up: %v", r.Err)
	}
	bad = swap
	bad.Transactions = &proto.TransactionsInfo{}
	if r := apply(t, f, msgEraseDataset, bad); !errors.Is(r.Err, ErrConflict) || r.Err.Error() != "coordinator: conflict: c@1 is a features dataset" {
		t.Fatalf("a description of another kind: %v", r.Err)
	}
	bad = swap
	bad.Dataset = "nope"
	if r := apply(t, f, msgEraseDataset, bad); !errors.Is(r.Err, ErrNotFound) {
		t.Fatalf("unknown dataset: %v", r.Err)
	}
	running := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "score", Dataset: "c", DatasetVersion: 1}, Time: t0})
	if r := apply(t, f, msgEraseDataset, swap); !errors.Is(r.Err, ErrConflict) ||
		r.Err.Error() != "coordinator: conflict: c@1 is read by job-2, which has not ended; wait for it or cancel it, then erase again" {
		t.Fatalf("a swap under a job: %v", r.Err)
	}
	apply(t, f, msgJobCancel, entryJobCancel{ID: running.ID, Time: t0})
	if f.Retrain(before) != nil {
		t.Fatal("a refused erasure marked a model for retraining")
	}

	if r := apply(t, f, msgEraseDataset, swap); r.Err != nil || r.ID != "c@1" {
		t.Fatalf("swap: %+v", r)
	}
	ds, _ := f.Dataset("c")
	v := ds.Versions[0]
	if v.Rows != 2 || v.Shards[1].Object != "c/1-erased" || v.Shards[0].Object != "c/0" || v.Columns[0].Count != 2 {
		t.Fatalf("version after the swap: %+v", v)
	}
	refs := f.Referenced()[proto.BucketShards]
	if refs["c/1"] || !refs["c/1-erased"] {
		t.Fatalf("referenced after the swap: %v", refs)
	}
	// A retried commit of the same swap is made once.
	if r := apply(t, f, msgEraseDataset, swap); r.Err != nil {
		t.Fatalf("a retried swap: %v", r.Err)
	}
	// A swap computed from the shard that is no longer there is refused.
	stale := swap
	stale.Shards = []proto.ShardSwap{{Old: "c/1", New: proto.ShardRef{Index: 1, Object: "c/1-other", Rows: 1}}}
	if r := apply(t, f, msgEraseDataset, stale); !errors.Is(r.Err, ErrConflict) ||
		r.Err.Error() != "coordinator: conflict: c@1 shard 1 is c/1-erased, not c/1 (changed since it was read)" {
		t.Fatalf("a stale swap: %v", r.Err)
	}

	rt := f.Retrain(before)
	if rt == nil || rt.Dataset != "c" || rt.Version != 1 || !rt.Erased.Equal(erasedAt) || rt.Kind != "kmeans" {
		t.Fatalf("model trained before the erasure: retrain %+v", rt)
	}
	after := trainedModel(t, f, "c", erasedAt.Add(time.Minute))
	if f.Retrain(after) != nil {
		t.Fatal("a model trained after the erasure is listed for retraining")
	}
	if rs := f.Retrains(); len(rs) != 1 || rs[0].Model != before {
		t.Fatalf("retrains: %+v", rs)
	}
}

func TestFSMEraseInteractionsBothLayouts(t *testing.T) {
	f := NewFSM()
	info := &proto.InteractionsInfo{User: "u", Item: "i", Users: 2, Items: 2}
	r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: proto.DatasetCommit{
		Name: "r", Kind: proto.KindInteractions, Key: "u", Rows: 4, Interactions: info,
		Shards:     []proto.ShardRef{{Index: 0, Object: "u0", Rows: 4}},
		ItemShards: []proto.ShardRef{{Index: 0, Object: "i0", Rows: 4}},
	}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	swap := entryEraseDataset{Time: t0, EraseDataset: proto.EraseDataset{Dataset: "r", Version: 1, Rows: 2,
		Interactions: &proto.InteractionsInfo{User: "u", Item: "i", Users: 1, Items: 2},
		Shards:       []proto.ShardSwap{{Old: "u0", New: proto.ShardRef{Object: "u0x", Rows: 2}}},
		ItemShards:   []proto.ShardSwap{{Old: "i0", New: proto.ShardRef{Object: "i0x", Rows: 3}}}}}
	if r := apply(t, f, msgEraseDataset, swap); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("layouts of different row counts: %v", r.Err)
	}
	swap.ItemShards[0].New.Rows = 2
	if r := apply(t, f, msgEraseDataset, swap); r.Err != nil {
		t.Fatal(r.Err)
	}
	ds, _ := f.Dataset("r")
	if v := ds.Versions[0]; v.ItemShards[0].Object != "i0x" || v.Interactions.Users != 1 || v.Rows != 2 {
		t.Fatalf("interactions after the swap: %+v", v)
	}
}

func TestFSMEraseScores(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "c")
	scoreSet(t, f, "seg")
	e := entryEraseScores{Time: t0, EraseScores: proto.EraseScores{Name: "seg", Version: 1, Rows: 2, Scored: 2,
		Summary: proto.ScoreSummary{Segments: []int64{2}},
		Shards:  []proto.ShardSwap{{Old: "s/1", New: proto.ShardRef{Index: 1, Object: "s/1x", Rows: 1}}}}}
	if r := apply(t, f, msgEraseScores, e); r.Err != nil || r.ID != "seg@1" {
		t.Fatalf("score swap: %+v", r)
	}
	ss, _ := f.ScoreSet("seg", 1)
	if ss.Rows != 2 || ss.Scored != 2 || ss.Shards[1].Object != "s/1x" || ss.Summary.Segments[0] != 2 {
		t.Fatalf("score set after the swap: %+v", ss)
	}
	e.Shards[0].New.Object = "s/1y"
	if r := apply(t, f, msgEraseScores, e); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("a stale score swap: %v", r.Err)
	}
	e.Version = 2
	if r := apply(t, f, msgEraseScores, e); !errors.Is(r.Err, ErrNotFound) || r.Err.Error() != "coordinator: not found: score set seg has no version 2" {
		t.Fatalf("a missing score set version: %v", r.Err)
	}
}

func TestFSMEraseRecordSurvivesSnapshot(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "c")
	model := trainedModel(t, f, "c", t0)
	apply(t, f, msgEraseSalt, entryEraseSalt{Salt: "salt"})
	h := keyHash("salt", "cust-7")
	if r := apply(t, f, msgEraseRecord, entryEraseRecord{Keys: []proto.ErasedKey{{Hash: "beef", Time: t0}}}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("a malformed hash: %v", r.Err)
	}
	if r := apply(t, f, msgEraseRecord, entryEraseRecord{Keys: []proto.ErasedKey{{Hash: h, Time: t0, Found: true}}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	apply(t, f, msgEraseDataset, entryEraseDataset{Time: t0.Add(time.Hour), EraseDataset: proto.EraseDataset{Dataset: "c", Version: 1, Rows: 2,
		Shards: []proto.ShardSwap{{Old: "c/1", New: proto.ShardRef{Index: 1, Object: "c/1x", Rows: 1}}}}})

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sink.Bytes(), []byte("cust-7")) {
		t.Fatal("the snapshot holds an erased key")
	}
	g := NewFSM()
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if g.EraseSalt() != "salt" {
		t.Fatalf("salt after restore: %q", g.EraseSalt())
	}
	if log := g.ErasureLog(); len(log) != 1 || log[0].Hash != h || !log[0].Found || !log[0].Time.Equal(t0) {
		t.Fatalf("erasure log after restore: %+v", log)
	}
	if e := g.Erased([]string{h, keyHash("salt", "other")}); len(e) != 1 || !e[h].Found {
		t.Fatalf("erased lookup after restore: %+v", e)
	}
	if rt := g.Retrain(model); rt == nil || rt.Dataset != "c" {
		t.Fatalf("retrain after restore: %+v", rt)
	}
	// The restored salt still wins over a new one.
	if r := apply(t, g, msgEraseSalt, entryEraseSalt{Salt: "new"}); r.ID != "salt" {
		t.Fatalf("salt replaced after restore: %+v", r)
	}
}

func TestKeyHashIsSaltedHMAC(t *testing.T) {
	// HMAC-SHA256 test vector 2 of RFC 4231.
	if got := keyHash("Jefe", "what do ya want for nothing?"); got != "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("keyHash: %s", got)
	}
	if keyHash("a", "k") == keyHash("b", "k") {
		t.Fatal("the hash does not depend on the salt")
	}
}

// FuzzEraseApply applies arbitrary erasure entries to a state with a
// dataset, a score set and a model: an error or a state that snapshots,
// never a panic.
func FuzzEraseApply(f *testing.F) {
	for _, e := range []struct {
		typ msgType
		v   any
	}{
		{msgEraseSalt, entryEraseSalt{Salt: "s"}},
		{msgEraseDataset, entryEraseDataset{EraseDataset: proto.EraseDataset{Dataset: "c", Version: 1, Rows: 2,
			Shards: []proto.ShardSwap{{Old: "c/1", New: proto.ShardRef{Index: 1, Object: "n", Rows: 1}}}}}},
		{msgEraseScores, entryEraseScores{EraseScores: proto.EraseScores{Name: "seg", Version: 1, Rows: 2,
			Shards: []proto.ShardSwap{{Old: "s/0", New: proto.ShardRef{Index: 0, Object: "n"}}}}}},
		{msgEraseRecord, entryEraseRecord{Keys: []proto.ErasedKey{{Hash: keyHash("s", "k")}}}},
	} {
		b, _ := encodeEntry(e.typ, e.v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if typ := msgType(data[0]) &^ ignoreUnknownFlag; typ < msgEraseSalt || typ > msgEraseRecord {
			return
		}
		fsm := NewFSM()
		commitDataset(t, fsm, "c")
		scoreSet(t, fsm, "seg")
		trainedModel(t, fsm, "c", t0)
		fsm.Apply(&raft.Log{Type: raft.LogCommand, Data: data})
		if _, err := fsm.Snapshot(); err != nil {
			t.Fatal(err)
		}
		fsm.Retrains()
	})
}

// TestFSMEraseFindsVersionsByNumber swaps a version after an older one was
// deleted: versions are found by number, and a deleted one is not found.
func TestFSMEraseFindsVersionsByNumber(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "c")
	commitDataset(t, f, "c")
	if r := apply(t, f, msgDatasetDelete, entryDelete{Delete: proto.Delete{Name: "c", Version: 1}, Time: t0}); r.Err != nil {
		t.Fatal(r.Err)
	}
	swap := entryEraseDataset{Time: t0, EraseDataset: proto.EraseDataset{Dataset: "c", Version: 2, Rows: 2,
		Shards: []proto.ShardSwap{{Old: "c/1", New: proto.ShardRef{Index: 1, Object: "c/1x", Rows: 1}}}}}
	if r := apply(t, f, msgEraseDataset, swap); r.Err != nil || r.ID != "c@2" {
		t.Fatalf("swap of version 2: %+v", r)
	}
	ds, _ := f.Dataset("c")
	if len(ds.Versions) != 1 || ds.Versions[0].Version != 2 || ds.Versions[0].Shards[1].Object != "c/1x" {
		t.Fatalf("dataset after the swap: %+v", ds.Versions)
	}
	swap.Version = 1
	if r := apply(t, f, msgEraseDataset, swap); !errors.Is(r.Err, ErrNotFound) || r.Err.Error() != "coordinator: not found: dataset c has no version 1" {
		t.Fatalf("swap of a deleted version: %v", r.Err)
	}
}
