package coordinator

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
)

func TestJobOfBlob(t *testing.T) {
	for name, want := range map[string]string{
		"jobs/job-3/state-000002-a1b2c3d4e5f6":                    "job-3",
		"jobs/job-12/factors/users-000004-0007-a1b2c3":            "job-12",
		"models/job-7-a1b2c3d4e5f6":                               "job-7",
		"scores/seg/job-41/shard-0003-a1b2c3.parquet":             "job-41",
		"datasets/rfm/job-5/shard-0000-a1b2c3.parquet":            "job-5",
		"datasets/b1/83f05565a3adf373b4ac2a30/shard-0002.parquet": "",
		"datasets/job-x/abc/shard-0000.parquet":                   "",
		"models/jobless":                                          "",
		"job-":                                                    "",
	} {
		if got := jobOfBlob(name); got != want {
			t.Errorf("jobOfBlob(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestReferencedAfterAJobEnds: a running job keeps its last state and the
// blobs it names; once it ends, only what its model names stays.
func TestReferencedAfterAJobEnds(t *testing.T) {
	f := NewFSM()
	commitDataset(t, f, "r")
	for _, end := range []string{proto.JobSucceeded, proto.JobFailed, proto.JobCancelled} {
		r := apply(t, f, msgJobSubmit, entryJobSubmit{Spec: proto.JobSpec{Algo: "als", Dataset: "r", DatasetVersion: 1}, Time: t0})
		id := r.ID
		apply(t, f, msgJobStart, entryJobStart{ID: id, Time: t0})
		state := proto.BlobRef{Bucket: proto.BucketModels, Object: "jobs/" + id + "/state-000001"}
		factor := func(i int) proto.BlobRef {
			return proto.BlobRef{Bucket: proto.BucketModels, Object: fmt.Sprintf("jobs/%s/factors/%d", id, i)}
		}
		if r := apply(t, f, msgJobPass, entryJobPass{ID: id, Record: proto.PassRecord{Pass: 1}, StateRef: state,
			Refs: []proto.BlobRef{factor(1), factor(2)}}); r.Err != nil {
			t.Fatal(r.Err)
		}
		if refs := f.Referenced()[proto.BucketModels]; !refs[state.Object] || !refs[factor(1).Object] || !refs[factor(2).Object] {
			t.Fatalf("a running job's state and factors are not referenced: %v", refs)
		}
		model := proto.BlobRef{Bucket: proto.BucketModels, Object: "models/" + id + "-1"}
		switch end {
		case proto.JobSucceeded:
			r = apply(t, f, msgJobFinish, entryJobFinish{ID: id, State: end, Model: &model, Kind: "als", ModelRefs: []proto.BlobRef{factor(2)}, Time: t0})
		case proto.JobFailed:
			r = apply(t, f, msgJobFinish, entryJobFinish{ID: id, State: end, Reason: "boom", Time: t0})
		default:
			r = apply(t, f, msgJobCancel, entryJobCancel{ID: id, Time: t0})
		}
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		var got []string
		for name := range f.Referenced()[proto.BucketModels] {
			if jobOfBlob(name) == id {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		var want []string
		if end == proto.JobSucceeded {
			want = []string{factor(2).Object, model.Object}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s job: referenced %v, want %v", end, got, want)
		}
		if f.unendedJobs()[id] {
			t.Fatalf("%s job counted as running", end)
		}
	}
}
