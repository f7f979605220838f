package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCLIImportFlags runs dataset import's reading flags end to end
// against mathcrm dev: a typo in a numeric column stops the import wherever
// it is, --on-bad-value skip|missing counts it instead (the count is kept
// with the version), ignored text columns are listed, --key @row numbers
// rows stably, and --no-header --names with --delimiter '::' reads a
// MovieLens ratings.dat.
func TestCLIImportFlags(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	// Data row 4 (line 5) has a typo; no id column.
	plans := write("plans.csv", "plan,charges,visits\n"+
		"gold,10,1\nsilver,20,2\ngold,30,\nbronze,12O,4\ngold,50,5\nsilver,60,6\ngold,70,7\ngold,80,8\n")

	out, errs, code := run(t, url, "dataset", "import", "p", plans, "--key", "@row")
	if code != 1 {
		t.Errorf("typo: exit %d, want 1", code)
	}
	check("typo: stderr", errs, "error: "+plans+`:5: column "charges": partition: value is not a number: "12O"`+"\n")
	check("typo: stdout", out, "")

	out, errs, code = run(t, url, "dataset", "import", "p", plans, "--key", "@row", "--on-bad-value", "skip", "--shards", "4")
	if code != 0 {
		t.Fatalf("skip: exit %d: %s", code, errs)
	}
	check("skip: stdout", out, "imported p version 1: 7 rows, 4 shards, key row, columns charges,visits\n"+
		"ignored text columns: plan (name them in --categorical to import them)\n"+
		"skipped 1 rows with a value that is not a number (charges 1)\n")

	out, errs, code = run(t, url, "dataset", "import", "p", plans, "--key", "@row", "--on-bad-value", "missing", "--shards", "4")
	if code != 0 {
		t.Fatalf("missing: exit %d: %s", code, errs)
	}
	check("missing: stdout", out, "imported p version 2: 8 rows, 4 shards, key row, columns charges,visits\n"+
		"ignored text columns: plan (name them in --categorical to import them)\n"+
		"stored 1 values that are not numbers as missing (charges 1)\n")

	// Counts are kept with the version; @row gives the same shards again.
	type version struct {
		Columns []struct {
			Name    string `json:"name"`
			Count   int64  `json:"count"`
			Missing int64  `json:"missing"`
			Invalid int64  `json:"invalid"`
		} `json:"columns"`
		Shards []struct {
			SHA256 string `json:"sha256"`
		} `json:"shards"`
	}
	out, _, _ = run(t, url, "dataset", "show", "p", "--version", "2")
	if !strings.HasSuffix(out, "\nvalues that were not numbers at import (rows skipped or values missing): charges 1\n") {
		t.Errorf("dataset show: %s", out)
	}
	var v1, v2, v3 version
	runJSON(t, url, &v2, "dataset", "show", "p", "--version", "2")
	if c := v2.Columns[0]; c.Name != "charges" || c.Count != 7 || c.Missing != 1 || c.Invalid != 1 {
		t.Errorf("version 2 charges: %+v", c)
	}
	runJSON(t, url, &v1, "dataset", "show", "p", "--version", "1")
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "p", plans, "--key", "@row", "--on-bad-value", "skip", "--shards", "4")
	runJSON(t, url, &v3, "dataset", "show", "p", "--version", "3")
	if len(v1.Shards) != 4 || !slices.Equal(v1.Shards, v3.Shards) {
		t.Errorf("re-import with --key @row: shards %v, then %v", v1.Shards, v3.Shards)
	}
	if imp["skipped_rows"] != float64(1) || !slices.Equal(imp["ignored"].([]any), []any{"plan"}) {
		t.Errorf("import --output json: %v", imp)
	}

	// MovieLens ratings.dat: no header, "::" between fields.
	dat := write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n2::3408::x::978299000\n")
	args := []string{"dataset", "import", "ml", dat, "--kind", "interactions", "--no-header", "--delimiter", "::",
		"--user", "user", "--item", "item", "--value", "rating", "--shards", "2"}
	out, errs, code = run(t, url, append(args, "--names", "user,item,rating,ts", "--on-bad-value", "skip")...)
	if code != 0 {
		t.Fatalf("ratings.dat: exit %d: %s", code, errs)
	}
	check("ratings.dat: stdout", out, "imported ml version 1: 3 interactions of 2 users × 2 items, 2 shards by user and by item\n"+
		"skipped 1 rows with a value that is not a number (rating 1)\n")
	_, errs, _ = run(t, url, append(args, "--names", "user,item,rating")...)
	check("names count", errs, "error: "+dat+":1: partition: malformed CSV: record has 4 fields, 3 names given\n")

	// --delimiter '\t' is a tab, not a backslash and a t.
	tabs := write("tabs.txt", "a\t1\nb\t2\n")
	out, _, _ = run(t, url, "dataset", "import", "tabs", tabs, "--no-header", "--names", "id,v", "--key", "id", "--delimiter", `\t`, "--shards", "1")
	check("tabs: stdout", out, "imported tabs version 1: 2 rows, 1 shards, key id, columns v\n")

	// Flag errors, before anything is read.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "@row", "--no-header"}, "error: --no-header needs --names with one name per field\n"},
		{[]string{"--key", "@row", "--names", "a,b"}, "error: --names is for a file without a header row: add --no-header\n"},
		{[]string{"--key", "@row", "--no-header", "--names", "a,b,a"}, "error: --names: \"a\" is given twice (names 1 and 3)\n"},
		{[]string{"--key", "@row", "--no-header", "--names", "a,,b"}, "error: --names: name 2 is empty\n"},
		{[]string{"--key", "@row", "--on-bad-value", "drop"}, "error: --on-bad-value \"drop\" is not stop, skip or missing\n"},
		{[]string{"--kind", "interactions", "--user", "u", "--item", "i", "--on-bad-value", "missing"},
			"error: --on-bad-value missing is for --kind features: interactions have no missing values; use skip\n"},
		{[]string{"--kind", "transactions", "--key", "@row", "--time", "t", "--amount", "a"},
			"error: --key @row numbers rows: only --kind features can use it\n"},
	} {
		_, errs, code := run(t, url, append([]string{"dataset", "import", "x", plans}, tc.args...)...)
		if code != 1 || errs != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	dev.stop(t)
}
