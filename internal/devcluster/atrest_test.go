package devcluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// TestRaftHoldsNoCustomerRows imports customers with distinctive keys and
// values, trains, scores and erases one of them, and then reads every byte
// of the raft directory (the bolt log and the snapshots). No customer key
// and no row value is there; what is (docs/security.md, "At rest") is
// exactly: each numeric column's minimum and maximum, the names of the
// categories of a categorical column, and the ids of the items a top-N
// score set recommends most.
func TestRaftHoldsNoCustomerRows(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "cluster")
	c := startCluster(t, data, 2)
	cl := dial(t, c)
	ctx := context.Background()

	const n = 300
	spend := func(i int) float64 { return 1000 + float64(i) + 0.123457 }
	var feat, inter bytes.Buffer
	feat.WriteString("customer_id,spend,tier\n")
	inter.WriteString("user,item,value\n")
	for i := range n {
		tier := []string{"TIER-ZQX-GOLD", "TIER-ZQX-SILVER"}[i%2]
		fmt.Fprintf(&feat, "ZQXK-%05d,%.6f,%s\n", i, spend(i), tier)
		for j := range 4 {
			fmt.Fprintf(&inter, "ZQXU-%05d,ZQXI-%03d,%d\n", i, (i*7+j*13)%40, 1+(i+j)%5)
		}
	}
	fp, ip := filepath.Join(dir, "customers.csv"), filepath.Join(dir, "ratings.csv")
	if err := os.WriteFile(fp, feat.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ip, inter.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Import(ctx, "customers", fp, client.ImportOptions{Kind: proto.KindFeatures,
		Options: partition.Options{Key: "customer_id", Columns: []string{"spend"}, Categorical: []string{"tier"}, Shards: 4, TempDir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	importInteractions(t, cl, "ratings", ip, 4)
	km := waitJob(t, cl, submit(t, cl, proto.JobSpec{Algo: "kmeans", Dataset: "customers", Seed: 1,
		Params: proto.MustJSON(kmeans.Params{K: 2, Columns: []string{"spend", "tier"}, Standardize: true, MaxIter: 5})}))
	als := waitJob(t, cl, submit(t, cl, proto.JobSpec{Algo: "als", Dataset: "ratings", Seed: 1,
		Params: proto.MustJSON(alsjob.Params{Rank: 2, Lambda: 0.1, Iterations: 2})}))
	waitJob(t, cl, submit(t, cl, proto.JobSpec{Algo: "score", Dataset: "customers", Params: proto.MustJSON(proto.ScoreSpec{Model: km.Model, As: "seg"})}))
	waitJob(t, cl, submit(t, cl, proto.JobSpec{Algo: "score", Dataset: "ratings", Params: proto.MustJSON(proto.ScoreSpec{Model: als.Model, As: "top", Top: new(3)})}))
	if _, err := cl.Erase(ctx, []string{"ZQXK-00007", "ZQXU-00007"}, nil); err != nil {
		t.Fatal(err)
	}
	var top proto.ScoreSet
	if err := cl.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: "top"}, &top); err != nil {
		t.Fatal(err)
	}
	recommended := map[string]bool{}
	for _, it := range top.Summary.Items {
		recommended[it.Item] = true
	}

	// A snapshot taken after the erasure, so both the log and a snapshot
	// hold everything above.
	if err := c.Coord.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(data, "raft", "snapshots")
	testutil.WaitFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		states, _ := filepath.Glob(filepath.Join(snaps, "*", "state.bin"))
		for _, s := range states {
			if b, err := os.ReadFile(s); err == nil && bytes.Contains(b, []byte(`"erasure"`)) && bytes.Contains(b, []byte(`"top"`)) {
				return nil
			}
		}
		return errors.New("no snapshot holds the erasure yet")
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	var raw [][]byte
	var names []string
	err := filepath.WalkDir(filepath.Join(data, "raft"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		raw, names = append(raw, b), append(names, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := bytes.Join(raw, []byte{0})
	if !bytes.Contains(all, []byte(`"customers"`)) || len(names) < 3 {
		t.Fatalf("the scan read %v and found not even the dataset's name: it reads the wrong place", names)
	}
	// Customer keys: never, erased or not (the erasure log keeps a salted hash).
	if m := regexp.MustCompile(`ZQX[KU]-\d{5}`).Find(all); m != nil {
		t.Errorf("a customer key is in the raft directory: %s", m)
	}
	// Row values: only a column's minimum and maximum.
	min, max := strconv.FormatFloat(spend(0), 'f', -1, 64), strconv.FormatFloat(spend(n-1), 'f', -1, 64)
	for i := range n {
		v := strconv.FormatFloat(spend(i), 'f', -1, 64)
		switch found := bytes.Contains(all, []byte(v)); {
		case v == min || v == max:
			if !found {
				t.Errorf("the minimum or maximum %s is not in the column statistics; update docs/security.md", v)
			}
		case found:
			t.Errorf("the spend of row %d (%s) is in the raft directory", i, v)
		}
	}
	// Category names: yes, as the column's levels.
	for _, level := range []string{"TIER-ZQX-GOLD", "TIER-ZQX-SILVER"} {
		if !bytes.Contains(all, []byte(level)) {
			t.Errorf("category %s is not in the column statistics; update docs/security.md", level)
		}
	}
	// Item ids: only the most recommended ones of the top-N summary.
	var items []string
	for _, m := range regexp.MustCompile(`ZQXI-\d{3}`).FindAll(all, -1) {
		if !recommended[string(m)] {
			items = append(items, string(m))
		}
	}
	sort.Strings(items)
	if len(items) > 0 || len(recommended) == 0 {
		t.Errorf("item ids outside the score summary %v: %v", recommended, items)
	}
}
