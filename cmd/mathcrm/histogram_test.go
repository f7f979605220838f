package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mathcrm/mathcrm/algo/histogram"
)

// The worked example of docs/architecture.md, end to end: the histogram the
// cluster counts equals a direct count of the file, with 1 and 3 workers,
// and model show prints it through the registry's describe hook.
func TestHistogramEndToEnd(t *testing.T) {
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	f, err := os.Open(telco)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(recs[0], "TotalCharges")
	lo, hi := math.Inf(1), math.Inf(-1)
	var vals []float64
	missing := int64(0)
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(strings.TrimSpace(r[col]), 64)
		if err != nil {
			missing++
			continue
		}
		vals = append(vals, v)
		lo, hi = min(lo, v), max(hi, v)
	}
	want := make([]int64, 12)
	for _, v := range vals {
		want[histogram.Bin(v, lo, hi, 12)]++
	}

	var first []int64
	for _, workers := range []string{"1", "3"} {
		dev := startDev(t, filepath.Join(t.TempDir(), "cluster"), "--workers", workers)
		out, errs, code := run(t, dev.url, "dataset", "import", "telco", telco, "--kind", "features", "--key", "customerID",
			"--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "8")
		if code != 0 {
			t.Fatalf("import: %s%s", out, errs)
		}
		var job struct {
			Model string `json:"model"`
			State string `json:"state"`
		}
		runJSON(t, dev.url, &job, "train", "histogram", "--dataset", "telco", "--column", "TotalCharges", "--bins", "12", "--wait")
		if job.State != "succeeded" {
			t.Fatalf("%s workers: job %+v", workers, job)
		}
		var h histogram.Histogram
		runJSON(t, dev.url, &h, "model", "export", job.Model)
		if !slices.Equal(h.Counts, want) || h.Missing != missing || h.Min != lo || h.Max != hi {
			t.Fatalf("%s workers: %v missing %d [%v, %v], want %v missing %d [%v, %v]", workers, h.Counts, h.Missing, h.Min, h.Max,
				want, missing, lo, hi)
		}
		if first != nil && !slices.Equal(first, h.Counts) {
			t.Fatalf("1 and 3 workers differ: %v %v", first, h.Counts)
		}
		first = h.Counts
		show, errs, code := run(t, dev.url, "model", "show", job.Model)
		if code != 0 || !strings.Contains(show, "histogram of TotalCharges, 12 bins") || !strings.Contains(show, "missing") {
			t.Fatalf("model show: %d %s%s", code, show, errs)
		}
		_, errs, code = run(t, dev.url, "train", "histogram", "--dataset", "telco", "--column", "TotalCharges", "--bins", "0")
		if code == 0 || !strings.Contains(errs, "--bins 0 is out of range: must be an integer from 1 to 10000") {
			t.Fatalf("--bins 0: exit %d, %s", code, errs)
		}
		dev.stop(t)
	}
}
