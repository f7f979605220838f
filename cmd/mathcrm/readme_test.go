package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readmeCommands returns the `mathcrm dataset ...` commands of the README's
// code blocks, and the `mathcrm features ...` ones that make datasets, as words, with continuation lines joined and comments cut.
// They are found by pattern, not by line, so that the README may move them.
func readmeCommands(t *testing.T, readme string) [][]string {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	in, cont := false, ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in, cont = !in, ""
			continue
		}
		if !in {
			continue
		}
		line = cont + strings.TrimSpace(line)
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cont = ""
		if !strings.HasPrefix(line, "mathcrm dataset ") && !strings.HasPrefix(line, "mathcrm features ") {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			t.Fatalf("README: %q: %v", line, err)
		}
		cmds = append(cmds, words[1:])
	}
	return cmds
}

// shellWords splits a command line as sh would for the README's commands:
// single and double quotes, and a comment from a word starting with #.
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words, nil
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, strconv.ErrSyntax
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// TestREADMEDatasetCommands runs the README's dataset commands against a dev
// cluster: every file they name under testdata/ must exist and import, and
// every command must succeed. Imports of files that are not under testdata/
// (a user's own bank.csv.gz) are placeholders and are skipped. Imports run
// first, in the README's order, then the rest, with --output json where the
// command prints a document, whose numbers must be JSON numbers.
func TestREADMEDatasetCommands(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, filepath.Join(root, "README.md"))
	var imports, rest [][]string
	for _, c := range cmds {
		if len(c) > 2 && (c[1] == "import" || c[0] == "features") {
			imports = append(imports, c)
		} else {
			rest = append(rest, c)
		}
	}
	work := t.TempDir()
	dev := startDev(t, filepath.Join(work, "cluster"))
	ran := 0
	var outs []string
	for _, c := range append(imports, rest...) {
		args := append([]string(nil), c...)
		if args[0] == "dataset" && args[1] == "import" {
			file := args[3]
			if !strings.HasPrefix(file, "testdata/") {
				t.Logf("skipped (not a bundled file): mathcrm %s", strings.Join(c, " "))
				continue
			}
			if _, err := os.Stat(filepath.Join(root, file)); err != nil {
				t.Fatalf("README: mathcrm %s: %v", strings.Join(c, " "), err)
			}
			args[3] = filepath.Join(root, file)
		}
		for i, a := range args {
			if i > 0 && args[i-1] == "--out" {
				args[i] = filepath.Join(work, a)
				outs = append(outs, args[i])
			}
		}
		jsonDoc := args[1] != "export"
		if jsonDoc && !strings.Contains(strings.Join(args, " "), "--output json") {
			args = append(args, "--output", "json")
		}
		out, errs, code := run(t, dev.url, args...)
		if code != 0 {
			t.Fatalf("README: mathcrm %s: exit %d: %s", strings.Join(c, " "), code, errs)
		}
		if jsonDoc {
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("mathcrm %s: not JSON: %v\n%s", strings.Join(args, " "), err, out)
			}
			if path, s := numberAsString(doc, ""); path != "" {
				t.Fatalf("mathcrm %s: %s is the string %q, not a JSON number", strings.Join(args, " "), path, s)
			}
		}
		ran++
	}
	if ran < 8 {
		t.Fatalf("ran %d README dataset commands; the README has %d, did the pattern stop matching?", ran, len(cmds))
	}
	if len(outs) == 0 {
		t.Fatal("the README's dataset commands export nothing")
	}
	for _, f := range outs {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Fatalf("README export to %s wrote nothing: %v", filepath.Base(f), err)
		}
	}
	dev.stop(t)
}

// textFields hold text that may look like a number: names and keys.
var textFields = map[string]bool{"name": true, "key": true, "id": true, "user": true, "item": true, "values": true, "levels": true}

// numberAsString finds a string that reads as a number in a field that is
// not a name or a key, and returns its path.
func numberAsString(v any, path string) (string, string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if textFields[k] {
				continue
			}
			if p, s := numberAsString(e, path+"."+k); p != "" {
				return p, s
			}
		}
	case []any:
		for i, e := range x {
			if p, s := numberAsString(e, path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p, s
			}
		}
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return path, x
		}
	}
	return "", ""
}

func TestNumberAsString(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"name":"42","columns":[{"name":"7","rows":12,"mean":"1.5"}]}`), &doc)
	if p, s := numberAsString(doc, ""); p != ".columns[0].mean" || s != "1.5" {
		t.Fatalf("got %q %q, want .columns[0].mean 1.5", p, s)
	}
}
