package creds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/nats-io/nats.go"
)

func secretsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	cfg := secrets.DefaultConfig()
	cfg.Listen, cfg.Port, cfg.StoreDir = "127.0.0.1", -1, filepath.Join(t.TempDir(), "js")
	if err := secrets.Init(dir, cfg, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestLoadDerivesFilesFromCreds(t *testing.T) {
	dir := secretsDir(t)
	s, err := Load(Files{Creds: filepath.Join(dir, "viewer.nk")})
	if err != nil {
		t.Fatal(err)
	}
	if want := Secrets(dir, secrets.RoleViewer); s.Files() != want {
		t.Fatalf("files %+v, want %+v", s.Files(), want)
	}
	if s.Role() != secrets.RoleViewer || !s.Secure() || s.Certificate() == nil {
		t.Fatalf("role %q secure %v", s.Role(), s.Secure())
	}
	if s, err := Load(Files{}); s != nil || err != nil || s.NATS() != nil || s.Role() != "" {
		t.Fatalf("no files: %v %v", s, err)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvCreds, "/env/viewer.nk")
	t.Setenv(EnvCA, "/env/ca.crt")
	f := Files{CA: "/flag/ca.crt"}.FromEnv()
	if f.CA != "/flag/ca.crt" || f.Creds != "/env/viewer.nk" {
		t.Fatalf("%+v: a flag must win over the environment, the environment fill the rest", f)
	}
}

// TestLoadRefusals: each bad input names the flag or file at fault, and no
// error carries a secret.
func TestLoadRefusals(t *testing.T) {
	dir := secretsDir(t)
	seed := read(t, filepath.Join(dir, "admin.nk"))
	key := read(t, filepath.Join(dir, "admin.key"))
	missing := filepath.Join(dir, "nobody.nk")
	for _, c := range []struct {
		name string
		f    Files
		want string
	}{
		{"a seed for a path", Files{Creds: seed}, "--creds (MATHCRM_CREDS) holds a secret itself"},
		{"a key for a path", Files{Creds: filepath.Join(dir, "admin.nk"), Key: key, Cert: filepath.Join(dir, "admin.crt")}, "--tls-key (MATHCRM_TLS_KEY) holds a secret itself"},
		{"a missing seed file", Files{Creds: missing, CA: filepath.Join(dir, "ca.crt")}, "--creds (MATHCRM_CREDS): open " + missing},
		{"a certificate without its key", Files{Cert: filepath.Join(dir, "admin.crt")}, "--tls-cert (MATHCRM_TLS_CERT) and --tls-key (MATHCRM_TLS_KEY) go together"},
		{"a key that is not the certificate's", Files{Cert: filepath.Join(dir, "admin.crt"), Key: filepath.Join(dir, "viewer.key")}, "--tls-cert " + filepath.Join(dir, "admin.crt") + " and --tls-key " + filepath.Join(dir, "viewer.key")},
		{"a certificate for a seed", Files{Creds: filepath.Join(dir, "admin.crt")}, "--creds " + filepath.Join(dir, "admin.crt") + " holds no nkey seed"},
		{"a seed for a trust bundle", Files{CA: filepath.Join(dir, "admin.nk")}, "--ca " + filepath.Join(dir, "admin.nk") + " holds no PEM certificate"},
	} {
		_, err := Load(c.f)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), seed) || strings.Contains(err.Error(), strings.Split(key, "\n")[1])) {
			t.Errorf("%s: the error holds a secret", c.name)
		}
	}
}

// TestConnectExplains connects to a real server on the generated
// configuration: the right credentials work, every wrong one is refused
// with an error that says which credential to look at.
func TestConnectExplains(t *testing.T) {
	dir, other := secretsDir(t), secretsDir(t)
	ns, err := natsembed.Start(natsembed.Options{ConfigFile: filepath.Join(dir, secrets.FileConf), StoreDir: filepath.Join(t.TempDir(), "js")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	url := ns.ClientURL()
	if !strings.HasPrefix(url, "tls://") {
		t.Fatalf("server URL %s", url)
	}
	load := func(f Files) *Set {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := load(Secrets(dir, secrets.RoleAnalyst))
	nc, err := good.Connect(url, nats.Timeout(3*time.Second))
	if err != nil {
		t.Fatalf("the analyst: %v", err)
	}
	if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("not TLS: %v", err)
	}
	nc.Close()
	for _, c := range []struct {
		name string
		s    *Set
		want string
	}{
		{"nothing", nil, "the server's certificate is of a private CA: set --ca (MATHCRM_CA)"},
		{"only the CA", load(Files{CA: good.Files().CA}), "the server wants a client certificate: set --creds (MATHCRM_CREDS)"},
		{"no nkey", load(Files{CA: good.Files().CA, Cert: good.Files().Cert, Key: good.Files().Key}), "the server wants credentials: set --creds (MATHCRM_CREDS)"},
		{"another cluster's nkey", load(Files{CA: good.Files().CA, Cert: good.Files().Cert, Key: good.Files().Key, Creds: filepath.Join(other, "admin.nk")}), "the server does not know the nkey in " + filepath.Join(other, "admin.nk")},
		{"another CA's certificate", load(Files{CA: good.Files().CA, Cert: filepath.Join(other, "admin.crt"), Key: filepath.Join(other, "admin.key"), Creds: good.Files().Creds}), "the server refused the client certificate " + filepath.Join(other, "admin.crt")},
		{"another cluster", load(Secrets(other, secrets.RoleAdmin)), "the server's certificate is not signed by a CA in --ca " + filepath.Join(other, "ca.crt")},
	} {
		nc, err := c.s.Connect(url, nats.Timeout(3*time.Second))
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A client with the cluster's CA refuses a server that offers no TLS.
	plain, err := natsembed.Start(natsembed.Options{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "plain")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Shutdown)
	if nc, err := good.Connect(plain.ClientURL(), nats.Timeout(3*time.Second)); err == nil {
		nc.Close()
		t.Error("connected to a server without TLS")
	} else if !strings.Contains(err.Error(), "is this the cluster's NATS, running its nats.conf?") {
		t.Errorf("a server without TLS: %v", err)
	}
}
