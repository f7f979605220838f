package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// copyDir copies the files of src into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestRotateOnALiveServer rotates the secrets of a running nats-server and
// reloads it: during the overlap connections already open stay up and both
// generations connect; after the finish only the new one does.
func TestRotateOnALiveServer(t *testing.T) {
	dir := initDir(t)
	s := startServer(t, dir)
	url := s.ClientURL()
	coord := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	respond(t, coord, proto.APIPrefix+">")
	list := api(RoleViewer, proto.APIDatasetList)
	open := mustDial(t, url, roleCreds(dir, RoleViewer))
	open.request(t, list)

	if err := Rotate(dir, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	gen1 := copyDir(t, filepath.Join(dir, DirPrevious))
	if err := s.Reload(); err != nil {
		t.Fatalf("reload during the overlap: %v", err)
	}
	open.request(t, list)
	for _, c := range []struct {
		name string
		c    creds
	}{{"generation 1", roleCreds(gen1, RoleViewer)}, {"generation 2", roleCreds(dir, RoleViewer)}} {
		nc, err := dial(url, c.c)
		if err != nil {
			t.Fatalf("%s during the overlap: %v", c.name, err)
		}
		nc.request(t, list)
		nc.denied(t, api(RoleViewer, proto.APIJobSubmit))
		nc.Close()
	}
	// A process on generation 2 may run beside the coordinator still on 1.
	mustDial(t, url, roleCreds(dir, RoleAnalyst)).request(t, api(RoleAnalyst, proto.APIJobSubmit))

	if err := Finish(dir, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("reload after the finish: %v", err)
	}
	coord2 := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	respond(t, coord2, proto.APIPrefix+">")
	mustDial(t, url, roleCreds(dir, RoleViewer)).request(t, list)

	oldCert := roleCreds(gen1, RoleViewer)
	mixed := roleCreds(dir, RoleViewer)
	mixed.seed = oldCert.seed
	for _, tc := range []struct {
		name string
		c    creds
		want string
	}{
		{"generation 1", oldCert, "certificate signed by unknown authority"},
		{"generation 1 certificate", creds{ca: mixed.ca, cert: oldCert.cert, key: oldCert.key, seed: roleCreds(dir, RoleViewer).seed}, "tls"},
		{"generation 1 nkey", mixed, "authorization violation"},
	} {
		nc, err := dial(url, tc.c)
		if err == nil {
			nc.Close()
			t.Fatalf("%s connected after the finish", tc.name)
		}
		if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
			t.Fatalf("%s after the finish: %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	// The server drops connections whose nkey it no longer accepts.
	deadline := time.Now().Add(5 * time.Second)
	for !open.IsClosed() {
		if time.Now().After(deadline) {
			t.Fatal("a generation 1 connection is still open after the finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
