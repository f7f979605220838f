package secrets

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
)

// TestJetStreamEncryptedAtRest runs a real nats-server on the generated
// configuration, stores a blob and checks that its bytes are nowhere in
// the JetStream directory, while they read back through the server.
func TestJetStreamEncryptedAtRest(t *testing.T) {
	dir := initDir(t)
	keyPath := filepath.Join(dir, FileJetStreamKey)
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("init made no JetStream key: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s is mode %04o, want 0600", keyPath, st.Mode().Perm())
	}
	key, _ := os.ReadFile(keyPath)
	conf, _ := os.ReadFile(filepath.Join(dir, FileConf))
	secret := strings.TrimSuffix(strings.TrimPrefix(string(key), `key: "`), "\"\n")
	if len(secret) != 43 || strings.Contains(string(conf), secret) {
		t.Fatalf("the key must be 43 characters and only in %s, not in nats.conf", FileJetStreamKey)
	}
	if !strings.Contains(string(conf), "cipher: chachapoly") || !strings.Contains(string(conf), `include "`+FileJetStreamKey+`"`) {
		t.Fatalf("nats.conf does not encrypt JetStream:\n%s", conf)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}

	s := startServer(t, dir)
	if o := s.JetStreamConfig(); o == nil {
		t.Fatal("JetStream is off")
	}
	nc := mustDial(t, s.ClientURL(), roleCreds(dir, RoleCoordinator))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bs, err := store.Open(ctx, nc.Conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	row := []byte("customer 7590-VHVEG-ATREST, Month-to-month, 29.85 — a row that must not be on disk in clear")
	ref, err := bs.Put(ctx, proto.BucketShards, "datasets/atrest/shard-0000", bytes.Repeat(row, 64))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := bs.Get(ctx, ref); err != nil || !bytes.Equal(b, bytes.Repeat(row, 64)) {
		t.Fatalf("read back: %v", err)
	}
	nc.Close()
	s.Shutdown()
	s.WaitForShutdown()

	files := 0
	err = filepath.WalkDir(m.Config.StoreDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, needle := range []string{"7590-VHVEG-ATREST", "datasets/atrest/shard-0000"} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s holds %q in clear", p, needle)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no JetStream files under %s: the scan saw nothing", m.Config.StoreDir)
	}
}

// TestJetStreamKeyKept checks that neither a rotation nor a forced init
// replaces the key (the stored data could not be read without it), and
// that a damaged key file is refused, naming it.
func TestJetStreamKeyKept(t *testing.T) {
	dir := initDir(t)
	keyPath := filepath.Join(dir, FileJetStreamKey)
	before, _ := os.ReadFile(keyPath)
	if err := Rotate(dir, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := Finish(dir, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Init(dir, m.Config, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(keyPath)
	if !bytes.Equal(before, after) {
		t.Fatal("the JetStream key changed")
	}
	if err := os.WriteFile(keyPath, []byte("key: oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = Rotate(dir, time.Hour, time.Now())
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), keyPath) {
		t.Fatalf("a damaged key: %v", err)
	}
}
