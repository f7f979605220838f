package devcluster_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/testutil"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// TestCancelStopsAJob cancels a running job: it ends cancelled with no model,
// and no pass is committed after the cancel.
func TestCancelStopsAJob(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 20000, 12)
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, 16)
	id := submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 100000))
	deadline := time.Now().Add(time.Minute)
	for jobStatus(t, cl, id).Pass < 5 {
		if time.Now().After(deadline) {
			t.Fatal("job never got going")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var j proto.Job
	if err := cl.Call(context.Background(), proto.APIJobCancel, proto.Named{Name: id}, &j); err != nil {
		t.Fatal(err)
	}
	if j.State != proto.JobCancelled {
		t.Fatalf("after cancel: %s", j.State)
	}
	passes := j.Pass
	time.Sleep(300 * time.Millisecond) // a pass takes a few milliseconds here
	after := jobStatus(t, cl, id)
	if after.State != proto.JobCancelled || after.Model != "" || after.Pass != passes {
		t.Fatalf("cancelled job went on: state %s, model %q, pass %d -> %d", after.State, after.Model, passes, after.Pass)
	}
	// Cancelling again is harmless; a finished job cannot be cancelled.
	if err := cl.Call(context.Background(), proto.APIJobCancel, proto.Named{Name: id}, &j); err != nil {
		t.Fatalf("second cancel: %v", err)
	}
	done := waitJob(t, cl, submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 3)))
	if err := cl.Call(context.Background(), proto.APIJobCancel, proto.Named{Name: done.ID}, &j); err == nil {
		t.Fatal("a succeeded job was cancelled")
	}
}
