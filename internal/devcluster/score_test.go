package devcluster_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/als"
	"github.com/mathcrm/mathcrm/algo/als/alsjob"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/algo/quantile"
	"github.com/mathcrm/mathcrm/algo/supervised"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/scoreset"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

// readCSV reads a CSV file into a header index and records.
func readCSV(t *testing.T, r *bytes.Reader) (map[string]int, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[h] = i
	}
	return idx, recs[1:]
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	if s == "" {
		return math.NaN()
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// exportScores exports a score set as CSV and as Parquet and checks that
// both hold the same rows, in the same order, the unscored ones (a missing
// input) with empty scores as many as the score set counts. It returns the
// scored rows and the unscored rows' keys.
func exportScores(t *testing.T, cl *client.Client, name string) (map[string]int, [][]string, []string) {
	t.Helper()
	var c, p bytes.Buffer
	nc, err := cl.ExportScores(context.Background(), name, 0, "csv", &c)
	if err != nil {
		t.Fatal(err)
	}
	np, err := cl.ExportScores(context.Background(), name, 0, "parquet", &p)
	if err != nil {
		t.Fatal(err)
	}
	if nc != np {
		t.Fatalf("csv export %d rows, parquet %d", nc, np)
	}
	idx, recs := readCSV(t, bytes.NewReader(c.Bytes()))
	var ss proto.ScoreSet
	if err := cl.Call(context.Background(), proto.APIScoresShow, proto.NamedVersion{Name: name}, &ss); err != nil {
		t.Fatal(err)
	}
	cols, _ := scoreset.Schema(ss.Kind)
	back, err := scoreset.Decode(p.Bytes(), ss.Key, cols)
	if err != nil {
		t.Fatal(err)
	}
	if back.AllRows() != len(recs) || int64(len(recs)) != ss.Rows+ss.Unscored || int64(nc) != ss.Rows+ss.Unscored ||
		int64(back.Rows()) != ss.Rows || int64(len(back.Unscored)) != ss.Unscored {
		t.Fatalf("parquet export %d rows (%d unscored), csv %d, score set %d and %d unscored", back.AllRows(), len(back.Unscored), len(recs), ss.Rows, ss.Unscored)
	}
	var scored [][]string
	var unscored []string
	for _, rec := range recs {
		if strings.Join(rec[1:], "") == "" {
			if u := len(unscored); back.Unscored[u] != rec[0] {
				t.Fatalf("unscored row %d: parquet key %q, csv %q", u, back.Unscored[u], rec[0])
			}
			unscored = append(unscored, rec[0])
			continue
		}
		i := len(scored)
		if back.Keys[i] != rec[0] {
			t.Fatalf("row %d: parquet key %q, csv %q", i, back.Keys[i], rec[0])
		}
		for j := range cols {
			if back.Cell(i, j) != rec[j+1] {
				t.Fatalf("row %d column %s: parquet %q, csv %q", i, cols[j].Name, back.Cell(i, j), rec[j+1])
			}
		}
		scored = append(scored, rec)
	}
	return idx, scored, unscored
}

// TestScoringMatchesRowByRow scores a k-means, a logistic and an ALS model
// over whole datasets with 1, 2 and 4 workers: every exported row equals
// scoring that row alone with the model (and, for deciles, the exact cuts
// of algo/quantile's reference); the exports are the same with every
// worker count, and CSV and Parquet exports read back equal.
func TestScoringMatchesRowByRow(t *testing.T) {
	dir := t.TempDir()
	customers := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, customers, 5000, 4)
	ratings := filepath.Join(dir, "ratings.csv")
	genRatings(t, ratings, 150, 60, 0.15, false, 8)
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"
	var first map[string][][]string
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importCSV(t, cl, "customers", customers, 8)
		_, err := cl.Import(context.Background(), "telco", telco, client.ImportOptions{Kind: "features", Options: partition.Options{
			Key: "customerID", Columns: []string{"tenure", "MonthlyCharges"}, Categorical: []string{"Contract", "Churn"},
			Shards: 6, TempDir: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		importInteractions(t, cl, "ratings", ratings, 6)
		km := waitJob(t, cl, submit(t, cl, testutil.KMeansSpec("customers", "kmeans||", 10)))
		lg := waitJob(t, cl, submit(t, cl, supervised.Spec(supervised.LogisticName, "telco", supervised.Params{
			Target: "Churn=Yes", Features: []string{"tenure", "MonthlyCharges", "Contract"}, C: new(1.0)})))
		ln := waitJob(t, cl, submit(t, cl, supervised.Spec(supervised.LinearName, "customers", supervised.Params{
			Target: "total", Features: []string{"tenure", "monthly"}})))
		al := waitJob(t, cl, submit(t, cl, alsSpec("ratings", 2, alsjob.Params{Rank: 3, Lambda: 0.1, Iterations: 4})))
		got := map[string][][]string{}
		unscored := map[string][]string{}
		for _, s := range []struct{ model, dataset, as string }{{km.Model, "customers", "segments"}, {lg.Model, "telco", "churn"},
			{al.Model, "ratings", "recs"}, {ln.Model, "customers", "value"}} {
			j := waitJob(t, cl, submit(t, cl, proto.JobSpec{Algo: "score", Dataset: s.dataset, Params: proto.MustJSON(proto.ScoreSpec{Model: s.model, As: s.as, Top: new(5)})}))
			if j.Output != s.as+":1" {
				t.Fatalf("scoring job output %q", j.Output)
			}
			_, recs, left := exportScores(t, cl, s.as)
			got[s.as], unscored[s.as] = recs, left
		}
		if first == nil {
			first = got
			checkKMeansScores(t, cl, km.Model, customers, got["segments"], unscored["segments"])
			for _, name := range []string{"churn", "recs", "value"} {
				if len(unscored[name]) != 0 {
					t.Fatalf("%s: unscored rows %v where no input is missing", name, unscored[name])
				}
			}
			checkLogisticScores(t, cl, lg.Model, telco, got["churn"])
			checkALSScores(t, cl, al.Model, ratings, got["recs"])
			checkLinearScores(t, cl, ln.Model, customers, got["value"])
		} else {
			for name, recs := range got {
				if !slices.EqualFunc(recs, first[name], slices.Equal) {
					t.Fatalf("%s scores with %d workers differ from 1 worker's", name, n)
				}
			}
		}
		c.Close()
	}
}

func modelDetail(t *testing.T, cl *client.Client, id string) *proto.ModelDetail {
	t.Helper()
	var d proto.ModelDetail
	if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func checkKMeansScores(t *testing.T, cl *client.Client, model, path string, recs [][]string, unscored []string) {
	t.Helper()
	m := testutil.Detail[kmeans.Segmentation](t, modelDetail(t, cl, model))
	k, d := len(m.TrainingCentroids), len(m.Columns)
	var c []float64
	for _, row := range m.TrainingCentroids {
		c = append(c, row...)
	}
	b, _ := os.ReadFile(path)
	idx, rows := readCSV(t, bytes.NewReader(b))
	byKey := map[string][]string{}
	for _, r := range recs {
		byKey[r[0]] = r
	}
	scored, left := 0, map[string]bool{}
	for _, k := range unscored {
		left[k] = true
	}
	for _, row := range rows {
		x := make([]float64, d)
		ok := true
		for j, col := range m.Columns {
			x[j] = num(t, row[idx[col]])
			ok = ok && !math.IsNaN(x[j])
			x[j] = (x[j] - m.Mean[j]) / m.Scale[j]
		}
		got, found := byKey[row[0]]
		if !ok {
			if found {
				t.Fatalf("customer %s has a missing value but was scored", row[0])
			}
			if !left[row[0]] {
				t.Fatalf("customer %s has a missing value but is not in the export as unscored", row[0])
			}
			delete(left, row[0])
			continue
		}
		seg, sq := kmeans.Nearest(c, k, d, x)
		if !found || got[1] != strconv.Itoa(seg) || num(t, got[2]) != math.Sqrt(sq) {
			t.Fatalf("customer %s: scored %v, want segment %d distance %v", row[0], got, seg, math.Sqrt(sq))
		}
		scored++
	}
	if scored != len(recs) || scored < 4000 || len(left) != 0 || len(unscored) == 0 {
		t.Fatalf("%d customers scored, %d rows; %d unscored, %d of them not in the dataset with a missing value", scored, len(recs), len(unscored), len(left))
	}
}

func checkLogisticScores(t *testing.T, cl *client.Client, model, path string, recs [][]string) {
	t.Helper()
	m := testutil.Detail[supervised.Model](t, modelDetail(t, cl, model))
	b, _ := os.ReadFile(path)
	idx, rows := readCSV(t, bytes.NewReader(b))
	byKey := map[string][]string{}
	for _, r := range recs {
		byKey[r[0]] = r
	}
	var probs []float64
	for _, row := range rows {
		x := make([]float64, len(m.Features))
		for j, f := range m.Features {
			if col, val, ok := cutEq(f); ok {
				if row[idx[col]] == val {
					x[j] = 1
				}
				continue
			}
			x[j] = num(t, row[idx[f]])
		}
		p := m.Logistic.Probability(x)
		got := byKey[row[0]]
		if got == nil || num(t, got[1]) != p {
			t.Fatalf("customer %s: scored %v, want probability %v", row[0], got, p)
		}
		probs = append(probs, p)
	}
	cuts, err := quantile.Reference(quantile.Config{Q: 10, Descending: true}, probs)
	if err != nil {
		t.Fatal(err)
	}
	perDecile := make([]int, 11)
	for _, r := range recs {
		want := quantile.Bucket(cuts[0], num(t, r[1]), true)
		if r[2] != strconv.Itoa(want) {
			t.Fatalf("customer %s: decile %s, want %d", r[0], r[2], want)
		}
		perDecile[want]++
	}
	t.Logf("logistic deciles: %v", perDecile[1:])
	if perDecile[1] < 600 || perDecile[1] > 800 {
		t.Fatalf("decile 1 holds %d of %d customers", perDecile[1], len(recs))
	}
}

func checkLinearScores(t *testing.T, cl *client.Client, model, path string, recs [][]string) {
	t.Helper()
	m := testutil.Detail[supervised.Model](t, modelDetail(t, cl, model))
	b, _ := os.ReadFile(path)
	idx, rows := readCSV(t, bytes.NewReader(b))
	byKey := map[string][]string{}
	for _, r := range recs {
		byKey[r[0]] = r
	}
	if len(recs) != len(rows) {
		t.Fatalf("%d predictions for %d customers (the target is not needed to score)", len(recs), len(rows))
	}
	for _, row := range rows {
		x := []float64{num(t, row[idx["tenure"]]), num(t, row[idx["monthly"]])}
		if got := byKey[row[0]]; got == nil || num(t, got[1]) != m.Linear.Predict(x) {
			t.Fatalf("customer %s: scored %v, want %v", row[0], got, m.Linear.Predict(x))
		}
	}
}

func cutEq(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func checkALSScores(t *testing.T, cl *client.Client, model, path string, recs [][]string) {
	t.Helper()
	m := testutil.Detail[alsjob.Factorization](t, modelDetail(t, cl, model))
	var users, items []*als.Factors
	for _, r := range m.Summary.Users {
		users = append(users, readFactors(t, cl, r))
	}
	for _, r := range m.Summary.Items {
		items = append(items, readFactors(t, cl, r))
	}
	sum := m.Summary
	mod, err := als.NewModel(&sum, users, items)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	_, rows := readCSV(t, bytes.NewReader(b))
	seen := map[string][]string{}
	for _, r := range rows {
		seen[r[0]] = append(seen[r[0]], r[1])
	}
	byUser := map[string][][]string{}
	for _, r := range recs {
		byUser[r[0]] = append(byUser[r[0]], r)
	}
	for user, has := range seen {
		slices.Sort(has)
		want := mod.Recommend(nil, user, slices.Compact(has), 5)
		got := byUser[user]
		if len(got) != len(want) {
			t.Fatalf("user %s: %d recommendations, want %d", user, len(got), len(want))
		}
		for i, w := range want {
			if got[i][1] != strconv.Itoa(i+1) || got[i][2] != w.ID || num(t, got[i][3]) != w.Score {
				t.Fatalf("user %s rank %d: %v, want %s %v", user, i+1, got[i], w.ID, w.Score)
			}
			if slices.Contains(has, w.ID) {
				t.Fatalf("user %s was recommended %s, which they have", user, w.ID)
			}
		}
	}
}

// TestScoringWorkerKilled kills one of three worker processes with SIGKILL
// while a scoring job runs: the score set equals an undisturbed run's.
func TestScoringWorkerKilled(t *testing.T) {
	dir := t.TempDir()
	customers := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, customers, 60000, 5)
	spec := supervised.Spec(supervised.LinearName, "customers", supervised.Params{Target: "total", Features: []string{"tenure", "monthly", "age"}})
	run := func(name string, kill bool) [][]string {
		c := startCluster(t, filepath.Join(dir, name), 0)
		defer c.Close()
		cl := dial(t, c)
		importCSV(t, cl, "customers", customers, 32)
		var procs []*exec.Cmd
		for i := range 3 {
			procs = append(procs, startWorkerProcess(t, c.URL, fmt.Sprintf("%s-w%d", name, i)))
		}
		waitWorkers(t, cl, 3)
		lin := waitJob(t, cl, submit(t, cl, spec))
		id := submit(t, cl, proto.JobSpec{Algo: "score", Dataset: "customers", Params: proto.MustJSON(proto.ScoreSpec{Model: lin.Model, As: "value"})})
		if kill {
			for {
				j := jobStatus(t, cl, id)
				if j.Terminal() {
					t.Fatalf("scoring ended (%s) before the worker was killed", j.State)
				}
				if j.Pass >= 1 {
					t.Logf("killing worker process %d at pass %d", procs[1].Process.Pid, j.Pass)
					if err := procs[1].Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		waitJob(t, cl, id)
		_, recs, _ := exportScores(t, cl, "value")
		return recs
	}
	calm, faulty := run("calm", false), run("faulty", true)
	if len(calm) < 59000 || !slices.EqualFunc(calm, faulty, slices.Equal) {
		t.Fatalf("%d rows undisturbed, %d after a worker was killed, or they differ", len(calm), len(faulty))
	}
}
