package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestTokensMapToRoles(t *testing.T) {
	dir := initDir(t)
	ts, err := ReadTokens(filepath.Join(dir, FileTokens))
	if err != nil {
		t.Fatal(err)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, FileTokens))
	for _, r := range TokenRoles {
		tok := readToken(t, filepath.Join(dir, TokenFile(r)))
		if len(tok) != 43 {
			t.Errorf("%s token is %d characters, want 43", r, len(tok))
		}
		if got, ok := ts.Role(tok); !ok || got != r {
			t.Errorf("token of %s maps to %q %v", r, got, ok)
		}
		if strings.Contains(string(conf), tok) {
			t.Errorf("%s holds the %s token itself", FileTokens, r)
		}
	}
	if _, ok := ts.Role(""); ok {
		t.Error("the empty token maps to a role")
	}
	if _, ok := ts.Role(readToken(t, filepath.Join(dir, CredsFile(RoleAdmin)))); ok {
		t.Error("an nkey seed maps to a role")
	}
	for _, r := range []string{RoleCoordinator, RoleWorker, RoleViewer, WorkerRole("w1")} {
		if got, ok := RoleOf(readCert(t, filepath.Join(dir, CertFile(r)))); !ok || got != r {
			t.Errorf("RoleOf(%s.crt) = %q %v", r, got, ok)
		}
	}
	if got, ok := RoleOf(readCert(t, filepath.Join(dir, FileNATSCert))); ok {
		t.Errorf("the NATS server certificate has role %q", got)
	}
}

func TestTokensAcrossRotation(t *testing.T) {
	dir := initDir(t)
	old := readToken(t, filepath.Join(dir, TokenFile(RoleViewer)))
	if err := Rotate(dir, time.Hour, t0); err != nil {
		t.Fatal(err)
	}
	cur := readToken(t, filepath.Join(dir, TokenFile(RoleViewer)))
	if cur == old {
		t.Fatal("rotate kept the viewer's token")
	}
	ts, err := ReadTokens(filepath.Join(dir, FileTokens))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{old, cur} {
		if r, ok := ts.Role(tok); !ok || r != RoleViewer {
			t.Fatalf("during the overlap a viewer token maps to %q %v", r, ok)
		}
	}
	if err := Finish(dir, true, t0); err != nil {
		t.Fatal(err)
	}
	if ts, err = ReadTokens(filepath.Join(dir, FileTokens)); err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.Role(old); ok {
		t.Fatal("the old generation's token is still accepted after --finish")
	}
	if r, ok := ts.Role(cur); !ok || r != RoleViewer {
		t.Fatalf("the new token maps to %q %v", r, ok)
	}
}
