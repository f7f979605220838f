package secrets

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// testConfig is DefaultConfig on a random port with a store in the test's
// temporary directory.
func testConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1"
	cfg.Port = -1
	cfg.StoreDir = filepath.Join(t.TempDir(), "jetstream")
	cfg.Workers = []string{"w1"}
	return cfg
}

func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	if err := Init(dir, testConfig(t), false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", path)
	}
	return p
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInitFilesAndModes(t *testing.T) {
	dir := initDir(t)
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s is mode %04o, want 0700", dir, st.Mode().Perm())
	}
	want := append(testConfig(t).generationFiles(), FileConf, FileTokens, FileManifest, FileJetStreamKey)
	if !slices.Contains(want, CredsFile(WorkerRole("w1"))) {
		t.Fatalf("no credential for worker w1 among %v", want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d files in %s, want %d", len(entries), dir, len(want))
	}
	for _, name := range want {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is mode %04o, want 0600", name, st.Mode().Perm())
		}
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generation != 1 || m.Previous != nil {
		t.Errorf("manifest %+v, want generation 1 and no rotation", m)
	}
}

func TestCertificateChains(t *testing.T) {
	dir := initDir(t)
	roots := pool(t, filepath.Join(dir, FileCA))
	verify := func(file, host string, usage x509.ExtKeyUsage) error {
		c := readCert(t, filepath.Join(dir, file))
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if err := verify(FileNATSCert, host, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("NATS server certificate for %s: %v", host, err)
		}
		if err := verify(CertFile(RoleCoordinator), host, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("coordinator server certificate for %s: %v", host, err)
		}
	}
	if err := verify(FileNATSCert, "nats.example.com", x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("NATS server certificate verified for a host it was not issued for")
	}
	for _, r := range Roles {
		if err := verify(CertFile(r), "", x509.ExtKeyUsageClientAuth); err != nil {
			t.Errorf("%s client certificate: %v", r, err)
		}
		if r != RoleCoordinator {
			if err := verify(CertFile(r), "localhost", x509.ExtKeyUsageServerAuth); err == nil {
				t.Errorf("%s client certificate verified as a server certificate", r)
			}
		}
	}
	// A certificate from another directory's CA is not trusted here.
	other := initDir(t)
	c := readCert(t, filepath.Join(other, CertFile(RoleAdmin)))
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a certificate of another CA verified")
	}
}

func TestNKeysSignAndVerify(t *testing.T) {
	dir := initDir(t)
	seen := map[string]string{}
	for _, r := range append(Roles, WorkerRole("w1")) {
		b, err := os.ReadFile(filepath.Join(dir, CredsFile(r)))
		if err != nil {
			t.Fatal(err)
		}
		kp, err := nkeys.ParseDecoratedNKey(b)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !nkeys.IsValidPublicUserKey(pub) {
			t.Errorf("%s: %s is not a user key", r, pub)
		}
		if other, dup := seen[pub]; dup {
			t.Errorf("%s and %s share a key", r, other)
		}
		seen[pub] = r
		nonce := []byte("nonce of " + r)
		sig, err := kp.Sign(nonce)
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := nkeys.FromPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(nonce, sig); err != nil {
			t.Errorf("%s: signature does not verify: %v", r, err)
		}
		if err := verifier.Verify([]byte("another nonce"), sig); err == nil {
			t.Errorf("%s: signature verifies for another nonce", r)
		}
		conf, err := os.ReadFile(filepath.Join(dir, FileConf))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(conf, []byte(pub)) {
			t.Errorf("%s's public key is not in %s", r, FileConf)
		}
		if bytes.Contains(conf, bytes.TrimSpace(b)) {
			t.Errorf("%s's seed is in %s", r, FileConf)
		}
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := initDir(t)
	before, _ := os.ReadFile(filepath.Join(dir, FileCA))
	err := Init(dir, testConfig(t), false, time.Now())
	want := "secrets: already exist: " + filepath.Join(dir, FileCA) + " is there; pass --force to replace every secret in " + dir
	if !errors.Is(err, ErrExists) || err.Error() != want {
		t.Fatalf("second init: %v, want %q", err, want)
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileCA))
	if !bytes.Equal(before, after) {
		t.Fatal("a refused init changed the CA")
	}
	// One leftover file is enough to refuse.
	lone := filepath.Join(t.TempDir(), "s")
	if err := os.Mkdir(lone, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lone, CredsFile(RoleViewer)), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Init(lone, testConfig(t), false, time.Now()); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), CredsFile(RoleViewer)) {
		t.Fatalf("init over a lone viewer.nk: %v", err)
	}
	cfg := testConfig(t)
	cfg.Workers = []string{"w2"}
	if err := Init(dir, cfg, true, time.Now()); err != nil {
		t.Fatalf("forced init: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CredsFile(WorkerRole("w1")))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("worker w1's credential survived a forced init without it: %v", err)
	}
	after, _ = os.ReadFile(filepath.Join(dir, FileCA))
	if bytes.Equal(before, after) {
		t.Fatal("a forced init kept the old CA")
	}
}

func TestInitRefusesSharedDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := Init(dir, testConfig(t), false, time.Now())
	want := "secrets: directory readable by others: " + dir + " is mode 0755; make it private first (chmod 700 " + dir + ")"
	if !errors.Is(err, ErrUnsafeDir) || err.Error() != want {
		t.Fatalf("init: %v, want %q", err, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused init wrote %d files", len(entries))
	}
}

func TestInitRefusesUnquotableDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `a"b`)
	err := Init(dir, testConfig(t), false, time.Now())
	want := "secrets: invalid configuration: " + dir + " cannot stand in a configuration file; pass --mount"
	if !errors.Is(err, ErrInvalid) || err.Error() != want {
		t.Fatalf("init: %v, want %q", err, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused init created %s", dir)
	}
	cfg := testConfig(t)
	cfg.Mount = "/etc/mathcrm/secrets"
	if err := Init(dir, cfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, FileConf))
	if !strings.Contains(string(conf), `ca_file: "/etc/mathcrm/secrets/ca.crt"`) {
		t.Fatalf("%s does not read the CA from the mount:\n%s", FileConf, conf)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Hosts = nil }, "--host needs at least one name or address"},
		{func(c *Config) { c.Hosts = []string{"bad host"} }, `--host "bad host" is neither a DNS name, a wildcard (*.domain) nor an IP address`},
		{func(c *Config) { c.NATSHosts = []string{"-x.example"} }, `--nats-host "-x.example" is neither a DNS name, a wildcard (*.domain) nor an IP address`},
		{func(c *Config) { c.Hosts = []string{"*.svc"} }, `--host "*.svc" is neither a DNS name, a wildcard (*.domain) nor an IP address`},
		{func(c *Config) { c.Hosts = []string{"a.*.svc.local"} }, `--host "a.*.svc.local" is neither a DNS name, a wildcard (*.domain) nor an IP address`},
		{func(c *Config) { c.Listen = "" }, `--listen "" is neither a host name nor an IP address`},
		{func(c *Config) { c.Port = 0 }, "--port 0 is out of range 1..65535"},
		{func(c *Config) { c.Port = 70000 }, "--port 70000 is out of range 1..65535"},
		{func(c *Config) { c.StoreDir = `a"b` }, `--store-dir "a\"b" must be a non-empty path without quotes, backslashes or line breaks`},
		{func(c *Config) { c.Mount = "relative" }, `--mount "relative" must be an absolute path without quotes, backslashes or line breaks`},
		{func(c *Config) { c.Valid = time.Minute }, "--valid 1m0s is out of range 1h..87600h0m0s"},
		{func(c *Config) { c.Workers = []string{"w.1"} }, `--worker "w.1" must be 1 to 64 letters, digits, '-' or '_'`},
		{func(c *Config) { c.Workers = []string{"w1", "w1"} }, `--worker "w1" is given twice`},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrInvalid) || err.Error() != "secrets: invalid configuration: "+tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
	wild := DefaultConfig()
	wild.Hosts = []string{"*.coordinator.mathcrm.svc", "10.0.0.5"}
	if err := wild.Validate(); err != nil {
		t.Errorf("a wildcard host: %v", err)
	}
}

func TestRotateAndFinishFiles(t *testing.T) {
	dir := initDir(t)
	oldCA, _ := os.ReadFile(filepath.Join(dir, FileCA))
	oldSeed, _ := os.ReadFile(filepath.Join(dir, CredsFile(RoleWorker)))
	if err := Rotate(dir, 24*time.Hour, t0); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generation != 2 || m.Previous == nil || m.Previous.Generation != 1 || !m.Previous.Until.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("manifest after rotate: %+v", m)
	}
	prev := filepath.Join(dir, DirPrevious)
	if st, err := os.Stat(prev); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("previous/: %v %v", st, err)
	}
	moved, _ := os.ReadFile(filepath.Join(prev, CredsFile(RoleWorker)))
	if !bytes.Equal(moved, oldSeed) {
		t.Fatal("the old worker seed is not kept in previous/")
	}
	bundle, _ := os.ReadFile(filepath.Join(dir, FileCA))
	if !bytes.HasSuffix(bundle, oldCA) || bytes.Equal(bundle, oldCA) {
		t.Fatal("the trust bundle does not hold the new CA followed by the old")
	}
	// Both generations' certificates verify against the bundle.
	roots := pool(t, filepath.Join(dir, FileCA))
	for _, p := range []string{filepath.Join(dir, CertFile(RoleViewer)), filepath.Join(prev, CertFile(RoleViewer))} {
		if _, err := readCert(t, p).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s against the bundle: %v", p, err)
		}
	}
	err = Rotate(dir, time.Hour, t0)
	want := "secrets: rotation in progress: generation 1 is accepted until 2026-12-02T09:00:00Z; run mathcrm secrets rotate --finish " + dir + " first"
	if !errors.Is(err, ErrRotating) || err.Error() != want {
		t.Fatalf("second rotate: %v, want %q", err, want)
	}
	err = Finish(dir, false, t0.Add(time.Hour))
	want = "secrets: rotation in progress: generation 1 stays accepted until 2026-12-02T09:00:00Z; pass --force to drop it now"
	if !errors.Is(err, ErrRotating) || err.Error() != want {
		t.Fatalf("early finish: %v, want %q", err, want)
	}
	if err := Finish(dir, false, t0.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prev); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("previous/ is still there: %v", err)
	}
	roots = pool(t, filepath.Join(dir, FileCA))
	if _, err := readCert(t, filepath.Join(dir, CertFile(RoleViewer))).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("new certificate after finish: %v", err)
	}
	err = Finish(dir, false, t0.Add(26*time.Hour))
	want = "secrets: no rotation in progress: " + dir + " holds generation 2 only"
	if !errors.Is(err, ErrNotRotating) || err.Error() != want {
		t.Fatalf("second finish: %v, want %q", err, want)
	}
	if err := Rotate(dir, time.Second, t0); err == nil || err.Error() != "secrets: invalid configuration: --overlap 1s is below the minimum of 1m" {
		t.Fatalf("short overlap: %v", err)
	}
	missing := t.TempDir()
	err = Rotate(missing, time.Hour, t0)
	want = "secrets: not initialised: " + filepath.Join(missing, FileManifest) + " is missing; run mathcrm secrets init " + missing + " first"
	if !errors.Is(err, ErrNotInitialised) || err.Error() != want {
		t.Fatalf("rotate of an empty dir: %v, want %q", err, want)
	}
}
