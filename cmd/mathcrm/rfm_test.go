package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rfmGrid is the documented standard map: a row per r_score, the segment
// per f_score 1..5.
var rfmGrid = map[int][5]string{
	5: {"New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"},
	4: {"Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"},
	3: {"About to sleep", "About to sleep", "Needs attention", "Loyal", "Loyal"},
	2: {"Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"},
	1: {"Lost", "Lost", "At risk", "At risk", "Can't lose them"},
}

// A bad segment map is refused by the CLI before it dials, naming the file,
// line and column.
func TestCLIRFMSegmentsFileRefused(t *testing.T) {
	const nowhere = "nats://127.0.0.1:1"
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "segment,r_min,r_max,f_min,f_max,m_min,m_max\n"
	for _, c := range []struct{ body, want string }{
		{head + "All,1,5,1,5,1,5\nBad,0,5,1,5,1,5\n", "rfm: %s:3: column 2 (r_min): 0 is not a score (1..5)"},
		{head + ",1,5,1,5,1,5\n", "rfm: %s:2: column 1 (segment): the name is empty"},
		{head + "Top,5,5,1,5,1,5\nRest,1,4,1,5,2,5\n", "rfm: %s: no rule covers r=1, f=1, m=1 (nor 19 other combinations); every combination of scores 1..5 needs a segment"},
		{"segment,r_min,r_max\n", `rfm: %s:1: no column "f_min" (want segment,r_min,r_max,f_min,f_max,m_min,m_max)`},
	} {
		p := write("bad.csv", c.body)
		args := []string{"features", "rfm", "--dataset", "tx", "--as", "f", "--segments", p}
		_, errs, code := run(t, nowhere, args...)
		if want := "error: " + fmt.Sprintf(c.want, p) + "\n"; code != 1 || errs != want {
			t.Errorf("%q: exit %d, stderr %q\nwant exit 1, %q", c.body, code, errs, want)
		}
	}
	missing := filepath.Join(dir, "none.csv")
	_, errs, code := run(t, nowhere, "features", "rfm", "--dataset", "tx", "--as", "f", "--segments", missing)
	if want := "error: --segments: open " + missing + ": no such file or directory\n"; code != 1 || errs != want {
		t.Errorf("missing file: exit %d, stderr %q, want %q", code, errs, want)
	}
}

// features rfm writes a segment per customer, the map applied to its
// scores: the standard map and a file's, exported by name, counted in the
// version's dictionary, and usable one-hot by a model.
func TestCLIRFMSegments(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	var tx strings.Builder
	tx.WriteString("customer,time,amount\n")
	for c := range 60 {
		for k := range 1 + c%7 {
			fmt.Fprintf(&tx, "c%02d,2024-%02d-%02d,%d\n", c, 1+(c*5+k*3)%12, 1+(c+k)%28, 5+(c*37+k*11)%200)
		}
	}
	txCSV := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(txCSV, []byte(tx.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, errs, code := run(t, url, args...)
		if code != 0 {
			t.Fatalf("mathcrm %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	mustRun("dataset", "import", "tx", txCSV, "--kind", "transactions", "--key", "customer", "--time", "time", "--amount", "amount", "--shards", "3")

	// check exports name and checks every customer's segment against
	// segment(r, f, m), and the version's dictionary and counts.
	check := func(name string, levels []string, segment func(r, f, m int) string) {
		t.Helper()
		path := filepath.Join(dir, name+".csv")
		mustRun("dataset", "export", name, "--format", "csv", "--out", path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "customer,recency_days,frequency,monetary_sum,monetary_mean,tenure_days,r_score,f_score,m_score,segment"; strings.Join(recs[0], ",") != want {
			t.Fatalf("header %q, want %q", recs[0], want)
		}
		counts := map[string]int64{}
		for _, r := range recs[1:] {
			var s [3]int
			for j := range s {
				if s[j], err = strconv.Atoi(r[6+j]); err != nil {
					t.Fatalf("%s: score %q", r[0], r[6+j])
				}
			}
			if want := segment(s[0], s[1], s[2]); r[9] != want {
				t.Errorf("%s: customer %s with scores %v: segment %q, want %q", name, r[0], s, r[9], want)
			}
			counts[r[9]]++
		}
		if len(recs) != 61 || len(counts) < 3 {
			t.Fatalf("%s: %d rows in %d segments", name, len(recs)-1, len(counts))
		}
		var show struct {
			Columns []struct {
				Name        string   `json:"name"`
				Count       int64    `json:"count"`
				Levels      []string `json:"levels"`
				LevelCounts []int64  `json:"level_counts"`
			} `json:"columns"`
		}
		runJSON(t, url, &show, "dataset", "show", name)
		seg := show.Columns[len(show.Columns)-1]
		if seg.Name != "segment" || !slices.Equal(seg.Levels, levels) || seg.Count != 60 {
			t.Fatalf("%s: segment column %+v, want levels %q", name, seg, levels)
		}
		for i, l := range seg.Levels {
			if seg.LevelCounts[i] != counts[l] {
				t.Errorf("%s: %s counted %d, the export has %d", name, l, seg.LevelCounts[i], counts[l])
			}
		}
	}

	mustRun("features", "rfm", "--dataset", "tx", "--as", "std", "--wait")
	check("std", []string{"Champions", "Loyal", "Potential loyalist", "New", "Promising", "Needs attention",
		"About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost"},
		func(r, f, _ int) string { return rfmGrid[r][f-1] })
	out := mustRun("dataset", "show", "std")
	if !strings.Contains(out, "segment") || !strings.Contains(out, "categorical: Champions ") {
		t.Errorf("dataset show:\n%s", out)
	}
	// A one-hot segment column is a model feature, and a model on the
	// scores names each centroid's standard segment.
	mustRun("train", "kmeans", "--dataset", "std", "--k", "3", "--columns", "r_score,f_score,m_score,segment=Champions", "--max-iter", "5", "--wait")
	var model struct {
		KMeans struct {
			Centroids [][]float64 `json:"centroids"`
		} `json:"kmeans"`
	}
	runJSON(t, url, &model, "model", "show", "model-1")
	wantRow := "rfm segment (standard map)"
	for _, c := range model.KMeans.Centroids {
		r, f := int(math.Round(c[0])), int(math.Round(c[1]))
		wantRow += "  " + rfmGrid[r][f-1]
	}
	out = mustRun("model", "show", "model-1")
	if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(wantRow), " ")) {
		t.Errorf("model show has no row %q:\n%s", wantRow, out)
	}

	// An overlapping map: the first match wins; a rule that never wins is
	// in the dictionary with no customer.
	own := filepath.Join(dir, "own.csv")
	if err := os.WriteFile(own, []byte("segment,r_min,r_max,f_min,f_max,m_min,m_max\n"+
		"Big spender,1,5,1,5,5,5\nActive,4,5,1,5,1,5\nOther,1,5,1,5,1,5\nNever,1,1,1,1,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun("features", "rfm", "--dataset", "tx", "--as", "own", "--segments", own, "--wait")
	check("own", []string{"Big spender", "Active", "Other", "Never"}, func(r, _, m int) string {
		switch {
		case m == 5:
			return "Big spender"
		case r >= 4:
			return "Active"
		}
		return "Other"
	})
	dev.stop(t)
}
