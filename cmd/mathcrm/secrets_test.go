package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLISecrets runs secrets init, rotate and conf through the real binary:
// exit codes, the messages of refused runs and the JSON manifest.
func TestCLISecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	ok := func(args ...string) string {
		t.Helper()
		out, errs, code := run(t, "", args...)
		if code != 0 {
			t.Fatalf("mathcrm %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, errs, code := run(t, "", args...)
		if code != 1 || strings.TrimSpace(errs) != "error: "+want {
			t.Fatalf("mathcrm %s: exit %d, %q; want exit 1 and %q", strings.Join(args, " "), code, errs, want)
		}
	}
	fails("secrets: invalid configuration: --port 0 is out of range 1..65535", "secrets", "init", dir, "--port", "0")
	if out := ok("secrets", "init", dir, "--host", "coord-1.example.com,10.0.0.5", "--worker", "w1"); !strings.Contains(out, "generated secrets in "+dir+", generation 1") || !strings.Contains(out, "worker-w1.nk") {
		t.Fatalf("init printed %q", out)
	}
	fails("secrets: already exist: "+filepath.Join(dir, "ca.crt")+" is there; pass --force to replace every secret in "+dir, "secrets", "init", dir)
	fails("--force applies to --finish only", "secrets", "rotate", dir, "--force")
	ok("secrets", "rotate", dir, "--overlap", "2h")
	fails("--overlap applies to a rotation, not to --finish", "secrets", "rotate", dir, "--finish", "--overlap", "1h")
	_, errs, code := run(t, "", "secrets", "rotate", dir, "--finish")
	if code != 1 || !strings.Contains(errs, "generation 1 stays accepted until") {
		t.Fatalf("early finish: exit %d, %q", code, errs)
	}
	var m struct {
		Generation int
		Previous   *struct{ Generation int }
		Config     struct{ Hosts []string }
	}
	if err := json.Unmarshal([]byte(ok("secrets", "rotate", dir, "--finish", "--force", "-o", "json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Generation != 2 || m.Previous != nil || strings.Join(m.Config.Hosts, ",") != "coord-1.example.com,10.0.0.5" {
		t.Fatalf("manifest after finish: %+v", m)
	}
	// conf writes nats.conf again, as this release grants, keeping every key.
	conf := filepath.Join(dir, "nats.conf")
	seed, _ := os.ReadFile(filepath.Join(dir, "analyst.nk"))
	before, _ := os.ReadFile(conf)
	if err := os.WriteFile(conf, []byte("stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := ok("secrets", "conf", dir); !strings.Contains(out, "wrote the configuration of secrets in "+dir+", generation 2") {
		t.Fatalf("conf printed %q", out)
	}
	after, _ := os.ReadFile(conf)
	if !bytes.Equal(before, after) || !bytes.Contains(after, []byte(`"_INBOX.mathcrm.analyst.>"`)) {
		t.Fatalf("conf wrote:\n%s", after)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "analyst.nk")); !bytes.Equal(seed, again) {
		t.Fatal("conf replaced a key")
	}
	empty := t.TempDir()
	fails("secrets: not initialised: "+filepath.Join(empty, "manifest.json")+" is missing; run mathcrm secrets init "+empty+" first", "secrets", "conf", empty)
}
