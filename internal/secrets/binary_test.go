package secrets

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
)

// TestDistributionNATSServer runs the nats-server binary a distribution
// ships (Debian's is 2.9) on the generated configuration, when one is
// installed: the configuration must not depend on the embedded version.
func TestDistributionNATSServer(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server binary on PATH (apt-get install nats-server); the embedded server tests still ran")
	}
	dir := initDir(t)
	ports := t.TempDir()
	cmd := exec.Command(bin, "-c", filepath.Join(dir, FileConf), "--ports_file_dir", ports)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		select {
		case err := <-exited:
			t.Fatalf("%s exited: %v\n%s", bin, err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s wrote no ports file", bin)
		}
		files, _ := filepath.Glob(filepath.Join(ports, "*.ports"))
		if len(files) == 1 {
			var p struct {
				Nats []string `json:"nats"`
			}
			if b, err := os.ReadFile(files[0]); err == nil && json.Unmarshal(b, &p) == nil && len(p.Nats) > 0 {
				url = p.Nats[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	t.Logf("%s at %s", strings.TrimSpace(string(out)), url)

	coord := mustDial(t, url, roleCreds(dir, RoleCoordinator))
	respond(t, coord, proto.APIPrefix+">")
	v := mustDial(t, url, roleCreds(dir, RoleViewer))
	v.request(t, api(RoleViewer, proto.APIDatasetList))
	v.denied(t, api(RoleViewer, proto.APIJobSubmit))
	v.denied(t, api(RoleAnalyst, proto.APIJobSubmit))
	inboxRefused(t, v, roleCreds(dir, RoleAnalyst), url)
	w := mustDial(t, url, roleCreds(dir, RoleWorker))
	w.denied(t, api(RoleWorker, proto.APIJobSubmit))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := store.Open(ctx, coord.Conn, 1)
	if err != nil {
		t.Fatalf("coordinator opens the object store: %v", err)
	}
	ref, err := cs.Put(ctx, proto.BucketShards, "ds/1/shard-0", []byte("rows"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := store.Open(ctx, w.Conn, 1)
	if err != nil {
		t.Fatalf("worker opens the object store: %v", err)
	}
	if b, err := ws.Get(ctx, ref); err != nil || string(b) != "rows" {
		t.Fatalf("worker reads a shard: %q %v", b, err)
	}
	if _, err := ws.Put(ctx, proto.BucketModels, "jobs/j1/partial", []byte("p")); err != nil {
		t.Fatalf("worker writes its output: %v", err)
	}
	if _, err := dial(url, creds{ca: filepath.Join(dir, FileCA), cert: filepath.Join(dir, CertFile(RoleAdmin)), key: filepath.Join(dir, KeyFile(RoleAdmin))}); err == nil {
		t.Fatal("connected without an nkey")
	}
}
