package devcluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/migrate"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

func importSegments(t *testing.T, cl *client.Client, name, path string, shards int) {
	t.Helper()
	_, err := cl.Import(context.Background(), name, path, client.ImportOptions{Kind: proto.KindFeatures,
		Options: partition.Options{Key: "customer_id", Shards: shards, Categorical: []string{"segment"}, TempDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSegmentsMigrate counts, with 1, 2 and 4 workers, how the customers
// of two snapshots moved between segments: the table equals the one
// counted here from the two files, new and gone customers in the last row
// and column; snapshots of different shard counts are refused.
func TestSegmentsMigrate(t *testing.T) {
	dir := t.TempDir()
	segs := []string{"Champions", "Loyal", "At risk", "Lost"}
	r := rand.New(rand.NewPCG(3, 4))
	var a, b strings.Builder
	a.WriteString("customer_id,segment,recency\n")
	b.WriteString("customer_id,recency,segment\n")
	type key struct{ from, to string }
	want := map[key]int64{}
	for c := range 3000 {
		s1, s2 := segs[r.IntN(3)], segs[r.IntN(4)] // the later snapshot has a segment the earlier lacks
		in1, in2 := r.IntN(10) > 0, r.IntN(10) > 0
		if in1 {
			fmt.Fprintf(&a, "c%d,%s,%d\n", c, s1, r.IntN(100))
		}
		if in2 {
			fmt.Fprintf(&b, "c%d,%d,%s\n", c, r.IntN(100), s2)
		}
		switch {
		case in1 && in2:
			want[key{s1, s2}]++
		case in1:
			want[key{s1, migrate.GoneLabel}]++
		case in2:
			want[key{migrate.NewLabel, s2}]++
		}
	}
	p1, p2 := filepath.Join(dir, "q3.csv"), filepath.Join(dir, "q4.csv")
	for _, f := range []struct {
		path string
		b    *strings.Builder
	}{{p1, &a}, {p2, &b}} {
		if err := os.WriteFile(f.path, []byte(f.b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importSegments(t, cl, "q3", p1, 8)
		importSegments(t, cl, "q4", p2, 8)
		j := waitJob(t, cl, submit(t, cl, migrate.Spec("q4", migrate.Params{From: "q3"})))
		var d proto.ModelDetail
		if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: j.Model}, &d); err != nil {
			t.Fatal(err)
		}
		m := testutil.Detail[migrate.Migration](t, &d)
		// The earlier snapshot's categories in its order, then the later one's new category.
		if len(m.Labels) != 4 || m.Labels[3] != "Lost" || !slices.Contains(m.Labels, "Champions") || m.FromVersion != 1 || m.ToVersion != 1 {
			t.Fatalf("%d workers: labels %q, versions %d → %d", n, m.Labels, m.FromVersion, m.ToVersion)
		}
		got := map[key]int64{}
		var stayed int64
		for i, row := range m.Counts {
			var tot int64
			for j, x := range row {
				tot += x
				if x > 0 {
					got[key{m.Rows[i], m.Columns[j]}] = x
				}
				if i == j && i < len(m.Labels) {
					stayed += x
				}
			}
			for j, x := range row {
				if tot > 0 && fmt.Sprintf("%.9f", m.RowPercent[i][j]) != fmt.Sprintf("%.9f", 100*float64(x)/float64(tot)) {
					t.Fatalf("row %s: %v%% of %d for %d", m.Rows[i], m.RowPercent[i][j], tot, x)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || stayed != m.Stayed || m.Customers != m.Stayed+m.Moved+m.New+m.Gone {
			t.Fatalf("%d workers: table %v (stayed %d of %+v), counted %v", n, got, stayed, m, want)
		}
		if n == 1 {
			importSegments(t, cl, "q4wide", p2, 16)
			var job proto.Job
			err := cl.Call(context.Background(), proto.APIJobSubmit, migrate.Spec("q4wide", migrate.Params{From: "q3"}), &job)
			if err == nil || !strings.Contains(err.Error(), "dataset q3 version 1 has 8 shards and q4wide version 1 has 16") {
				t.Fatalf("different shard counts: %v", err)
			}
			err = cl.Call(context.Background(), proto.APIJobSubmit, migrate.Spec("q4", migrate.Params{From: "q3", Column: "tier"}), &job)
			if err == nil || !strings.Contains(err.Error(), `has no column "tier"`) {
				t.Fatalf("missing column: %v", err)
			}
		}
		c.Close()
	}
}
