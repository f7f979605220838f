package coordinator

import (
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
)

// TestAPICaller reads the role from a request's subject, as the NATS
// configuration lets each role publish it, and never mistakes a verb's noun
// for a role.
func TestAPICaller(t *testing.T) {
	for verb := range proto.APIAccess {
		if noun, _, _ := strings.Cut(verb, "."); apiRoles[noun] {
			t.Fatalf("verb %s starts with a role's name", verb)
		}
		for _, role := range []string{secrets.RoleAdmin, secrets.RoleAnalyst, secrets.RoleViewer, secrets.RoleCoordinator} {
			r, v := apiCaller(strings.TrimPrefix(proto.APISubject(role, verb), proto.APIPrefix))
			if r != role || v != verb {
				t.Fatalf("%s: role %q verb %q", proto.APISubject(role, verb), r, v)
			}
		}
		if r, v := apiCaller(verb); r != secrets.RoleAdmin || v != verb {
			t.Fatalf("%s without a role: role %q verb %q", verb, r, v)
		}
	}
	// A worker never calls the API: its token is not a role's, and the
	// verb it names is none.
	if r, v := apiCaller("worker.job.submit"); r != secrets.RoleAdmin || proto.APIAccess[v] != 0 {
		t.Fatalf("worker.job.submit: role %q verb %q", r, v)
	}
}

func TestParseActiveJobs(t *testing.T) {
	m := DefaultActiveJobs()
	if err := ParseActiveJobs("analyst=3, viewer=0", m); err != nil {
		t.Fatal(err)
	}
	if m[secrets.RoleAnalyst] != 3 || m[secrets.RoleAdmin] != DefaultActiveJobs()[secrets.RoleAdmin] {
		t.Fatalf("%v", m)
	}
	for in, want := range map[string]string{
		"analyst":       "not role=N",
		"analyst=-1":    "0 or more",
		"analyst=x":     "whole number",
		"worker=2":      `no role "worker"`,
		"analyst=1,x=2": `no role "x"`,
	} {
		before := DefaultActiveJobs()
		err := ParseActiveJobs(in, before)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
		if before[secrets.RoleAnalyst] != DefaultActiveJobs()[secrets.RoleAnalyst] {
			t.Errorf("%q: a refused value changed the bounds", in)
		}
	}
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ActiveJobs = map[string]int{"worker": 1, secrets.RoleAnalyst: -2}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `no role "worker"`) || !strings.Contains(err.Error(), "ActiveJobs of analyst is -2") {
		t.Fatalf("Validate: %v", err)
	}
}
