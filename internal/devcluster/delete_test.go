package devcluster_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// waitPasses waits until a job has committed n passes.
func waitPasses(t *testing.T, cl *client.Client, id string, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); jobStatus(t, cl, id).Pass < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("job %s never got going", id)
		}
	}
}

// TestForcedDeleteStopsJobs deletes, with --force, the dataset a running job
// reads and then a running job itself: the first job ends cancelled and
// commits no further pass, the second is gone, and neither the dataset's
// shards nor the job's state stay referenced.
func TestForcedDeleteStopsJobs(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 20000, 12)
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	ctx := context.Background()
	ds := importCSV(t, cl, "customers", csv, 16)
	shard := ds.Latest().Shards[0].Object

	id := submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 100000))
	waitPasses(t, cl, id, 3)
	var out proto.Deleted
	err := cl.Call(ctx, proto.APIDatasetDelete, proto.Delete{Name: "customers"}, &out)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != "in_use" || ae.Msg != "coordinator: in use: dataset customers is used by job "+id+"; use --force" {
		t.Fatalf("delete of a dataset a job reads: %v", err)
	}
	if err := cl.Call(ctx, proto.APIDatasetDelete, proto.Delete{Name: "customers", Force: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Cancelled, []string{id}) || !slices.Equal(out.Versions, []int{1}) || out.Bytes <= 0 {
		t.Fatalf("forced delete: %+v", out)
	}
	j := jobStatus(t, cl, id)
	if j.State != proto.JobCancelled || j.Reason != "dataset customers was deleted" {
		t.Fatalf("job after the forced delete: %s %q", j.State, j.Reason)
	}
	passes := j.Pass
	time.Sleep(300 * time.Millisecond) // a pass takes a few milliseconds here
	if after := jobStatus(t, cl, id); after.Pass != passes || after.Model != "" {
		t.Fatalf("the job went on after its dataset was deleted: pass %d -> %d, model %q", passes, after.Pass, after.Model)
	}
	if c.Coord.FSM().Referenced()[proto.BucketShards][shard] {
		t.Fatalf("shard %s of the deleted dataset is still referenced", shard)
	}

	// Imported again, the dataset goes on from version 2.
	if ds := importCSV(t, cl, "customers", csv, 16); ds.Latest().Version != 2 {
		t.Fatalf("imported again as version %d", ds.Latest().Version)
	}
	id = submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 100000))
	waitPasses(t, cl, id, 3)
	if err := cl.Call(ctx, proto.APIJobDelete, proto.Delete{Name: id, Force: true, RequestID: "del-1"}, &out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Cancelled, []string{id}) {
		t.Fatalf("forced job delete: %+v", out)
	}
	var j2 proto.Job
	if err := cl.Call(ctx, proto.APIJobStatus, proto.Named{Name: id}, &j2); !errors.As(err, &ae) || ae.Code != "not_found" {
		t.Fatalf("status of a deleted job: %v", err)
	}
	// Its states are no longer referenced, and no other job appeared.
	for obj := range c.Coord.FSM().Referenced()[proto.BucketModels] {
		if strings.HasPrefix(obj, "jobs/"+id+"/") {
			t.Fatalf("the deleted job's state %s is still referenced", obj)
		}
	}
	var jobs []proto.Job
	if err := cl.Call(ctx, proto.APIJobList, nil, &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("jobs after the delete: %d, %v", len(jobs), err)
	}
	// A retried delete answers as the first did.
	var again proto.Deleted
	if err := cl.Call(ctx, proto.APIJobDelete, proto.Delete{Name: id, Force: true, RequestID: "del-1"}, &again); err != nil || again.Name != id {
		t.Fatalf("retried delete: %+v, %v", again, err)
	}
	// The cluster goes on: a short job on the new version succeeds.
	if j := waitJob(t, cl, submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 3))); j.State != proto.JobSucceeded {
		t.Fatalf("a job after the deletes: %s %s", j.State, j.Reason)
	}
}
