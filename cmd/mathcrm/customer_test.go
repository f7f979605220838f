package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/nats-io/nats.go"
)

func writeLines(t *testing.T, dir, name string, lines []string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exportKeys runs an export and returns the first field of every row.
func exportKeys(t *testing.T, url string, args ...string) []string {
	t.Helper()
	out, errs, code := run(t, url, args...)
	if code != 0 {
		t.Fatalf("mathcrm %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range recs[1:] {
		keys = append(keys, r[0])
	}
	return keys
}

// TestCLICustomerErase erases customers with the real binary against
// mathcrm dev: they are gone from every export of every version of every
// dataset (features, transactions, interactions) and score set, every blob
// the cluster refers to lacks them (the replaced ones, unreferenced, wait for
// garbage collection), and the model trained on them is listed for
// retraining.
func TestCLICustomerErase(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url

	// Validation comes first: nothing to erase is an error, exit 1.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"customer", "erase"}, "error: client: no customer keys to erase: pass KEY... or --from-file F\n"},
		{[]string{"customer", "erase", "--from-file", writeLines(t, dir, "blank.txt", []string{"", "  "})},
			"error: client: no customer keys to erase: " + filepath.Join(dir, "blank.txt") + " holds none\n"},
		{[]string{"customer", "erase", "--from-file", filepath.Join(dir, "missing.txt")},
			"error: client: reading keys: open " + filepath.Join(dir, "missing.txt") + ": no such file or directory\n"},
		{[]string{"customer", "erase", "a", " "}, "error: client: bad customer key: key 2 (\" \") is blank or not valid UTF-8\n"},
	} {
		out, errs, code := run(t, url, tc.args...)
		if code != 1 || errs != tc.want || out != "" {
			t.Errorf("mathcrm %q: exit %d, stdout %q, stderr %q; want exit 1, %q", tc.args, code, out, errs, tc.want)
		}
	}

	var feat, txns, ratings []string
	for i := range 80 {
		feat = append(feat, fmt.Sprintf("cust-%03d,%d,%d.5,%s", i, 20+i%40, i*3, []string{"basic", "pro"}[i%2]))
		for j := range 3 {
			txns = append(txns, fmt.Sprintf("cust-%03d,2025-04-%02d,%d,inv-%d", i, 1+(i+j)%28, (i+j)%11-2, 3*i+j))
			ratings = append(ratings, fmt.Sprintf("cust-%03d,item-%d,%d", i, (i*7+j)%25, 1+(i+j)%5))
		}
	}
	fpath := writeLines(t, dir, "f.csv", append([]string{"id,age,spend,plan"}, feat...))
	for _, shards := range []string{"4", "3"} {
		runJSON(t, url, &proto.Dataset{}, "dataset", "import", "feat", fpath, "--key", "id", "--categorical", "plan", "--shards", shards)
	}
	runJSON(t, url, &proto.Dataset{}, "dataset", "import", "tx", writeLines(t, dir, "t.csv", append([]string{"cust,ts,amount,invoice"}, txns...)),
		"--kind", "transactions", "--key", "cust", "--time", "ts", "--amount", "amount", "--invoice", "invoice", "--shards", "4")
	runJSON(t, url, &proto.Dataset{}, "dataset", "import", "rt", writeLines(t, dir, "r.csv", append([]string{"user,item,r"}, ratings...)),
		"--kind", "interactions", "--user", "user", "--item", "item", "--value", "r", "--shards", "3")
	var trained struct {
		Model string `json:"model"`
	}
	runJSON(t, url, &trained, "train", "kmeans", "--dataset", "feat", "--k", "3", "--columns", "age,spend", "--wait")
	for range 3 {
		runJSON(t, url, &struct{}{}, "score", "--model", trained.Model, "--dataset", "feat", "--as", "seg", "--wait")
	}
	// A deleted version is not live: the erasure passes it by.
	if _, errs, code := run(t, url, "scores", "delete", "seg", "--version", "1"); code != 0 {
		t.Fatalf("scores delete: exit %d: %s", code, errs)
	}

	erased := []string{"cust-011", "cust-064", "cust-003"}
	keyFile := writeLines(t, dir, "keys.txt", []string{"cust-064", "", "  cust-003  ", "nobody"})
	var rep proto.EraseReport
	runJSON(t, url, &rep, "customer", "erase", "cust-011", "--from-file", keyFile)
	if rep.Keys != 4 || rep.Found != 3 || !slices.Equal(rep.NotFound, []string{"nobody"}) {
		t.Fatalf("report: %+v", rep)
	}
	touched := map[string]proto.EraseTouched{}
	for _, tv := range rep.Touched {
		touched[tv.Dataset+tv.Scores+"@"+strconv.Itoa(tv.Version)] = tv
	}
	for what, rows := range map[string]int64{"feat@1": 3, "feat@2": 3, "tx@1": 9, "rt@1": 9, "seg@2": 3, "seg@3": 3} {
		if touched[what].Rows != rows || touched[what].Shards == 0 {
			t.Errorf("%s: %+v, want %d rows removed", what, touched[what], rows)
		}
	}
	if len(rep.Touched) != 6 || len(rep.Retrain) != 1 || rep.Retrain[0].Model != trained.Model || rep.Retrain[0].Dataset != "feat" {
		t.Fatalf("touched %+v, retrain %+v", rep.Touched, rep.Retrain)
	}
	out, _, code := run(t, url, "model", "show", trained.Model)
	if code != 0 || !strings.Contains(out, "retrain: customers were erased from feat version 2 at ") {
		t.Fatalf("model show does not say to retrain (exit %d):\n%s", code, out)
	}

	referenced := map[string]bool{}
	exports := [][]string{{"scores", "export", "seg", "--version", "2"}, {"scores", "export", "seg", "--version", "3"}}
	for name, versions := range map[string]int{"feat": 2, "tx": 1, "rt": 1} {
		for n := 1; n <= versions; n++ {
			var v proto.DatasetVersion
			runJSON(t, url, &v, "dataset", "show", name, "--version", strconv.Itoa(n))
			exports = append(exports, []string{"dataset", "export", name, "--version", strconv.Itoa(n)})
			for _, s := range append(v.Shards, v.ItemShards...) {
				referenced[s.Object] = true
			}
			if v.Rows != map[string]int64{"feat": 77, "tx": 231, "rt": 231}[name] {
				t.Errorf("%s@%d holds %d rows", name, v.Version, v.Rows)
			}
		}
	}
	for v := 2; v <= 3; v++ {
		var ss proto.ScoreSet
		runJSON(t, url, &ss, "scores", "show", "seg", "--version", strconv.Itoa(v))
		if ss.Rows != 77 || ss.Scored != 77 || ss.Summary.Moments.Count != 77 {
			t.Errorf("seg@%d: %d rows, %d scored, moments of %d", v, ss.Rows, ss.Scored, ss.Summary.Moments.Count)
		}
		for _, s := range ss.Shards {
			referenced[s.Object] = true
		}
	}
	for _, args := range exports {
		keys := exportKeys(t, url, args...)
		if len(keys) != 77 && len(keys) != 231 {
			t.Errorf("mathcrm %s: %d rows", strings.Join(args, " "), len(keys))
		}
		for _, k := range erased {
			if slices.Contains(keys, k) {
				t.Errorf("mathcrm %s still exports %s", strings.Join(args, " "), k)
			}
		}
	}

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var stale int
	for bucket, objs := range testutil.StoredObjects(t, nc) {
		for name, b := range objs {
			holds := false
			for _, k := range erased {
				holds = holds || testutil.HoldsKey(t, b, k)
			}
			switch {
			case bucket == proto.BucketModels && holds:
				t.Errorf("model blob %s holds an erased customer", name)
			case bucket == proto.BucketShards && referenced[name] && holds:
				t.Errorf("referenced shard %s holds an erased customer", name)
			case bucket == proto.BucketShards && !referenced[name]:
				stale++ // a replaced shard, for the garbage collection
			}
		}
	}
	if stale == 0 {
		t.Fatal("no shard was replaced")
	}
}
