package secrets

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
)

// TestDocsListEveryVerb checks docs/security.md's class table against
// proto.APIAccess, so the documented roles are the enforced ones.
func TestDocsListEveryVerb(t *testing.T) {
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([a-z-]+\\.[a-z-]+)`")
	for _, a := range []proto.Access{proto.AccessRead, proto.AccessAnalyze, proto.AccessAdmin} {
		var row string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "| "+a.String()+" |") {
				row = line
			}
		}
		if row == "" {
			t.Fatalf("docs/security.md has no row for class %s", a)
		}
		var documented, want []string
		for _, m := range code.FindAllStringSubmatch(row, -1) {
			documented = append(documented, m[1])
		}
		for v, c := range proto.APIAccess {
			if c == a {
				want = append(want, v)
			}
		}
		sort.Strings(documented)
		sort.Strings(want)
		if strings.Join(documented, " ") != strings.Join(want, " ") {
			t.Errorf("docs/security.md class %s lists %v, proto.APIAccess has %v", a, documented, want)
		}
	}
}
