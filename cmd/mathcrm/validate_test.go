package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIRefusesBadParametersBeforeSending runs the CLI against an address
// where nothing listens: every error below comes from the CLI itself, before
// it dials, reads a file or sends anything.
func TestCLIRefusesBadParametersBeforeSending(t *testing.T) {
	const nowhere = "nats://127.0.0.1:1"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "als", "--dataset", "r", "--rank", "0"}, "--rank 0 is out of range: must be an integer from 1 to 512"},
		{[]string{"train", "als", "--dataset", "r", "--rank", "-1"}, "--rank -1 is out of range: must be an integer from 1 to 512"},
		{[]string{"train", "als", "--dataset", "r", "--lambda", "-1"}, "--lambda -1 is out of range: must be a finite number greater than 0"},
		{[]string{"train", "als", "--dataset", "r", "--implicit", "--alpha", "0"}, "--alpha 0 is out of range: must be a finite number greater than 0"},
		{[]string{"train", "kmeans", "--dataset", "d", "--k", "3", "--max-iter", "0"}, "--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{[]string{"train", "kmeans", "--dataset", "d", "--k", "0"}, "--k 0 is out of range: must be an integer from 1 to 10000"},
		{[]string{"train", "kmeans", "--dataset", "d"}, "--k is required: the number of segments, 1 to 10000"},
		{[]string{"train", "kmeans", "--dataset", "d", "--k", "3", "--tol", "-0.1"},
			"--tol -0.1 is out of range: must be a finite number of at least 0 (0: run max-iter iterations)"},
		{[]string{"train", "logistic", "--dataset", "d", "--target", "y", "--c", "0"}, "--c 0 is out of range: must be a finite number greater than 0"},
		{[]string{"train", "logistic", "--dataset", "d", "--target", "y", "--max-iter", "0"}, "--max-iter 0 is out of range: must be an integer from 1 to 100000"},
		{[]string{"train", "logistic", "--dataset", "d", "--target", "y", "--holdout", "1"}, "--holdout 1 is out of range: must be at least 0 and less than 1"},
		{[]string{"train", "linear", "--dataset", "d", "--target", "y", "--l2", "-1"}, "--l2 -1 is out of range: must be a finite number of at least 0"},
		{[]string{"score", "--model", "m", "--dataset", "d", "--top", "0"}, "--top 0 is out of range: must be an integer from 1 to 1000"},
		{[]string{"features", "rfm", "--dataset", "tx", "--as", "my features"},
			`--as "my features" is not a valid name: letters, digits, _ . - (at most 128, starting with a letter or digit)`},
		{[]string{"dataset", "import", "d", "no-such-file.csv", "--key", "id", "--shards", "0"}, "--shards 0 is out of range: must be an integer from 1 to 4096"},
		{[]string{"dataset", "import", "d", "no-such-file.csv", "--key", "id", "--shards", "5000"}, "--shards 5000 is out of range: must be an integer from 1 to 4096"},
		{[]string{"dataset", "import", "a/b", "no-such-file.csv", "--key", "id"},
			`dataset name "a/b" is not a valid name: letters, digits, _ . - (at most 128, starting with a letter or digit)`},
		{[]string{"schedule", "create", "s", "--cron", "0 2 * * *", "--model", "m", "--dataset", "d", "--retries", "-1"},
			"--retries -1 is out of range: must be an integer from 0 to 20"},
	} {
		_, errs, code := run(t, nowhere, c.args...)
		if code != 1 || errs != "error: "+c.want+"\n" {
			t.Errorf("mathcrm %s: exit %d, stderr %q\nwant exit 1, %q", strings.Join(c.args, " "), code, errs, "error: "+c.want)
		}
	}
}

// TestCLIDatasetAndColumnChecks runs the checks the leader makes before a
// job or a dataset version exists.
func TestCLIDatasetAndColumnChecks(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url
	var cust, other, tx, huge strings.Builder
	cust.WriteString("customerID,tenure,monthly,churn,Contract\n")
	other.WriteString("customerID,tenure\n")
	tx.WriteString("customer,time,amount\n")
	huge.WriteString("id,x,y\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&cust, "c%d,%d,%d.5,%d,%s\n", i, i%13, 20+i%7, i%3/2, []string{"monthly", "yearly"}[i%2])
		fmt.Fprintf(&other, "c%d,%d\n", i, i%5)
		fmt.Fprintf(&tx, "c%d,2024-01-%02d,%d\n", i%10, 1+i%28, 5+i)
		fmt.Fprintf(&huge, "h%d,%de200,%d\n", i, 1+i%9, i%4)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	custCSV, otherCSV, txCSV := write("cust.csv", cust.String()), write("other.csv", other.String()), write("tx.csv", tx.String())
	hugeCSV := write("huge.csv", huge.String())
	mustRun := func(args ...string) string {
		t.Helper()
		out, errs, code := run(t, url, args...)
		if code != 0 {
			t.Fatalf("mathcrm %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		_, errs, code := run(t, url, args...)
		if code != 1 || errs != "error: "+want+"\n" {
			t.Errorf("mathcrm %s: exit %d, stderr %q\nwant exit 1, %q", strings.Join(args, " "), code, errs, "error: "+want)
		}
	}
	mustRun("dataset", "import", "cust", custCSV, "--key", "customerID", "--categorical", "Contract", "--shards", "3")
	mustRun("dataset", "import", "other", otherCSV, "--key", "customerID", "--shards", "3")
	mustRun("dataset", "import", "tx", txCSV, "--kind", "transactions", "--key", "customer", "--time", "time", "--amount", "amount", "--shards", "2")

	// A target that is not 0/1 is refused before the job exists.
	refused(`coordinator: invalid request: logistic target "tenure" must hold only 0 and 1, but its values range from 0 to 12 (or name one value of a categorical column, e.g. --target Contract=yearly)`,
		"train", "logistic", "--dataset", "cust", "--target", "tenure")
	// A model for the scoring checks below.
	mustRun("train", "kmeans", "--dataset", "cust", "--k", "2", "--columns", "tenure,monthly", "--max-iter", "3", "--wait")

	// Scoring a dataset that lacks a column the model reads.
	refused(`coordinator: invalid request: model model-1 needs column "monthly", which dataset other version 1 does not have as a numeric column (it has tenure)`,
		"score", "--model", "model-1", "--dataset", "other")

	// Another kind into an existing name is refused before the file is read
	// (the file does not even exist).
	refused(`coordinator: conflict: dataset "cust" exists and it is a features dataset, this import is transactions: --replace replaces it with a new version anyway`,
		"dataset", "import", "cust", filepath.Join(dir, "missing.csv"), "--kind", "transactions", "--key", "customer", "--time", "time", "--amount", "amount")
	refused(`coordinator: conflict: dataset "cust" exists and its columns are tenure, monthly, churn, Contract, this import's are tenure: --replace replaces it with a new version anyway`,
		"dataset", "import", "cust", filepath.Join(dir, "missing.csv"), "--key", "customerID", "--columns", "tenure")

	// RFM features into a dataset of another schema need --replace.
	refused(`coordinator: conflict: dataset "cust" holds features keyed by "customerID" with columns tenure, monthly, churn, Contract (categorical); `+
		`this version would hold features keyed by "customer" with columns recency_days, frequency, monetary_sum, monetary_mean, tenure_days, r_score, f_score, m_score, segment (categorical): --replace replaces it with a new version anyway`,
		"features", "rfm", "--dataset", "tx", "--as", "cust")
	mustRun("features", "rfm", "--dataset", "tx", "--as", "cust", "--replace", "--wait")
	out := mustRun("dataset", "show", "cust")
	if !strings.Contains(out, "recency_days") {
		t.Fatalf("cust after features rfm --replace:\n%s", out)
	}

	// A step that fails on the data fails the job at once with the worker's
	// message (x² overflows), without six attempts on other workers.
	mustRun("dataset", "import", "huge", hugeCSV, "--key", "id", "--shards", "2")
	start := time.Now()
	out, errs, code := run(t, url, "train", "linear", "--dataset", "huge", "--target", "y", "--wait")
	if code != 3 || !strings.HasPrefix(out, "job job-3 failed: coordinator: step failed for good: worker: shard ") ||
		!strings.Contains(out, "gram task: the shard's rows contain NaN or ±Inf, or a sum overflowed") || time.Since(start) > 20*time.Second {
		t.Fatalf("overflowing job: exit %d after %v: %q %q", code, time.Since(start), out, errs)
	}
	var job struct {
		State     string `json:"state"`
		Permanent bool   `json:"permanent"`
		History   []struct {
			Retries int `json:"retries"`
		} `json:"history"`
	}
	runJSON(t, url, &job, "job", "status", "job-3")
	if job.State != "failed" || !job.Permanent || len(job.History) != 0 {
		t.Fatalf("overflowing job: %+v", job)
	}
}
