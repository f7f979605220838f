package proto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAPIAccessCoversEveryVerb reads this package's source and checks that
// every "noun.verb" constant named API… has an access class, so a new verb
// cannot ship without deciding who may call it.
// It checks Buckets the same way.
func TestAPIAccessCoversEveryVerb(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	verbs, buckets := map[string]string{}, map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				switch {
				case strings.HasPrefix(name.Name, "Bucket"):
					buckets[s] = name.Name
				case name.Name == "APIPrefix" || name.Name == "APIQueue":
				case strings.HasPrefix(name.Name, "API"):
					verbs[s] = name.Name
				}
			}
			return true
		})
	}
	if len(verbs) < 20 {
		t.Fatalf("found only %d API verbs in the source; the scan is broken", len(verbs))
	}
	for v, name := range verbs {
		if _, ok := APIAccess[v]; !ok {
			t.Errorf("API verb %s (%q) has no entry in APIAccess", name, v)
		}
	}
	for v, a := range APIAccess {
		if _, ok := verbs[v]; !ok {
			t.Errorf("APIAccess lists %q, which no API constant defines", v)
		}
		if a < AccessRead || a > AccessAdmin {
			t.Errorf("APIAccess[%q] = %d, not a known class", v, a)
		}
	}
	listed := map[string]bool{}
	for _, b := range Buckets {
		listed[b] = true
	}
	for b, name := range buckets {
		if !listed[b] {
			t.Errorf("bucket %s (%q) is missing from Buckets", name, b)
		}
	}
	if len(listed) != len(buckets) {
		t.Errorf("Buckets lists %d buckets, the source defines %d", len(listed), len(buckets))
	}
}

func TestVerbsUpTo(t *testing.T) {
	read := VerbsUpTo(AccessRead)
	for _, v := range read {
		if APIAccess[v] != AccessRead {
			t.Errorf("VerbsUpTo(read) includes %q of class %s", v, APIAccess[v])
		}
	}
	if got, want := len(VerbsUpTo(AccessAdmin)), len(APIAccess); got != want {
		t.Errorf("VerbsUpTo(admin) = %d verbs, want all %d", got, want)
	}
}
