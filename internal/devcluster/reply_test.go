package devcluster_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// TestReplySubjectIsNoCall: NATS checks what a client publishes, not the
// reply subject it names, and a coordinator answers with its own rights. A
// viewer that asks to show a dataset with the reply going to the admin's
// delete subject must not have the coordinator delete it; nor may a reply
// be sent to any other subject that is not an inbox.
func TestReplySubjectIsNoCall(t *testing.T) {
	dir := initSecrets(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: t.TempDir(), Workers: 0, NATSListen: "127.0.0.1:0", Logger: testLogger(t), Secrets: dir,
		Coordinator: func(cfg *coordinator.Config) { cfg.FastRaft = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	admin := dialRole(t, c, dir, secrets.RoleAdmin)
	csv := filepath.Join(t.TempDir(), "v.csv")
	if err := os.WriteFile(csv, []byte("customer_id,tenure\nA,1\nB,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	importCSV(t, admin, "victim", csv, 1)

	viewer := connectAs(t, c, dir, secrets.RoleViewer)
	body, _ := json.Marshal(proto.Named{Name: "victim"})
	req, _ := json.Marshal(proto.Request{V: proto.Version, Body: body})
	for _, reply := range []string{
		proto.APISubject(secrets.RoleAdmin, proto.APIDatasetDelete),
		proto.APIPrefix + proto.APIDatasetDelete,
	} {
		if err := viewer.PublishRequest(proto.APISubject(secrets.RoleViewer, proto.APIDatasetShow), reply, req); err != nil {
			t.Fatal(err)
		}
	}
	if err := viewer.Flush(); err != nil {
		t.Fatal(err)
	}
	// The calls are served concurrently: watch for a while that the dataset
	// stays, and that the viewer's own calls are still answered.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		var ds proto.Dataset
		if err := admin.Call(ctx, proto.APIDatasetShow, proto.Named{Name: "victim"}, &ds); err != nil {
			t.Fatalf("a viewer's dataset.show with the reply sent to a delete subject: the dataset is gone: %v", err)
		}
	}
	m, err := viewer.Request(proto.APISubject(secrets.RoleViewer, proto.APIDatasetShow), req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp proto.Response
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error != "" {
		t.Fatalf("the viewer's own dataset.show: %v %q", err, resp.Error)
	}
}
