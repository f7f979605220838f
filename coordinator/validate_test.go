package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/internal/proto"
)

func TestCheckParamsAtTheLeader(t *testing.T) {
	for _, c := range []struct {
		spec proto.JobSpec
		want string
	}{
		{proto.JobSpec{Algo: "kmeans", Dataset: "r", Params: proto.MustJSON(kmeans.Params{K: 0, MaxIter: 5})},
			"coordinator: invalid request: kmeans.k 0 is out of range: must be an integer from 1 to 10000"},
		{proto.JobSpec{Algo: "kmeans", Dataset: "a b", Params: proto.MustJSON(kmeans.Params{K: 2, MaxIter: 5})},
			`coordinator: invalid request: dataset name "a b" (letters, digits, _ . -)`},
	} {
		err := checkParams(&c.spec)
		if !errors.Is(err, ErrInvalid) || err.Error() != c.want {
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

func features(name, key string, cols ...string) proto.DatasetCommit {
	dc := proto.DatasetCommit{Name: name, Kind: proto.KindFeatures, Key: key, Rows: 1,
		Shards: []proto.ShardRef{{Index: 0, Object: name + "/0", Rows: 1}}}
	for _, c := range cols {
		dc.Columns = append(dc.Columns, proto.ColumnStats{Name: c})
	}
	return dc
}

func TestWritingAnotherSchemaNeedsReplace(t *testing.T) {
	f := NewFSM()
	if r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: features("telco", "customerID", "tenure", "MonthlyCharges")}); r.Err != nil {
		t.Fatal(r.Err)
	}
	c := &Coordinator{fsm: f}
	same := features("telco", "customerID", "MonthlyCharges", "tenure")
	if err := c.checkWrite(&same, "--replace"); err != nil {
		t.Fatalf("same schema: %v", err)
	}
	other := features("telco", "customer", "recency_days", "frequency")
	err := c.checkWrite(&other, "--replace")
	want := `coordinator: conflict: dataset "telco" holds features keyed by "customerID" with columns tenure, MonthlyCharges; ` +
		`this version would hold features keyed by "customer" with columns recency_days, frequency: --replace replaces it with a new version anyway`
	if !errors.Is(err, ErrConflict) || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	other.Replace = true
	if err := c.checkWrite(&other, "--replace"); err != nil {
		t.Fatalf("with replace: %v", err)
	}
	// Another kind, replaced: the dataset takes the new kind from its new version on.
	tx := proto.DatasetCommit{Name: "telco", Kind: proto.KindTransactions, Key: "c", Rows: 1, Replace: true,
		Transactions: &proto.TransactionsInfo{Key: "c", Time: "t", Amount: "a"}, Shards: []proto.ShardRef{{Index: 0, Object: "x", Rows: 1}}}
	if r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: tx}); r.Err != nil || r.ID != "2" {
		t.Fatalf("replace with another kind: %+v", r)
	}
	if ds, _ := f.Dataset("telco"); ds.Kind != proto.KindTransactions {
		t.Fatalf("kind after replace: %s", ds.Kind)
	}
	tx.Replace, tx.Kind, tx.Transactions = false, proto.KindFeatures, nil
	if r := apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: tx}); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("another kind without replace was applied: %+v", r)
	}
}

func TestDatasetCheckBeforeTheFileIsRead(t *testing.T) {
	f := NewFSM()
	apply(t, f, msgDatasetCommit, entryDatasetCommit{Time: t0, DatasetCommit: features("telco", "customerID", "tenure", "MonthlyCharges")})
	c := &Coordinator{fsm: f}
	for _, tc := range []struct {
		check proto.DatasetCheck
		want  string
	}{
		{proto.DatasetCheck{Name: "telco", Kind: "features", Key: "customerID"}, ""},
		{proto.DatasetCheck{Name: "telco", Kind: "features", Key: "customerID", Columns: []string{"MonthlyCharges", "tenure"}}, ""},
		{proto.DatasetCheck{Name: "new", Kind: "interactions", Key: "user"}, ""},
		{proto.DatasetCheck{Name: "telco", Kind: "transactions", Key: "customerID", Replace: true}, ""},
		{proto.DatasetCheck{Name: "tel co", Kind: "features"}, `coordinator: invalid request: dataset name "tel co" (letters, digits, _ . -)`},
		{proto.DatasetCheck{Name: "telco", Kind: "graph"}, `coordinator: invalid request: dataset kind "graph" is not supported (features, interactions, transactions)`},
		{proto.DatasetCheck{Name: "telco", Kind: "transactions", Key: "customerID"},
			`coordinator: conflict: dataset "telco" exists and it is a features dataset, this import is transactions: --replace replaces it with a new version anyway`},
		{proto.DatasetCheck{Name: "telco", Kind: "features", Key: "id"},
			`coordinator: conflict: dataset "telco" exists and its key is "customerID", this import's is "id": --replace replaces it with a new version anyway`},
		{proto.DatasetCheck{Name: "telco", Kind: "features", Key: "customerID", Columns: []string{"tenure"}},
			`coordinator: conflict: dataset "telco" exists and its columns are tenure, MonthlyCharges, this import's are tenure: --replace replaces it with a new version anyway`},
	} {
		b, _ := json.Marshal(tc.check)
		_, err := c.apiDatasetCheck(context.Background(), b)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("%+v: got %v\nwant %s", tc.check, err, tc.want)
		}
	}
}

func TestPassFailsAtOnceOnARefusedStep(t *testing.T) {
	sends := 0
	r := &passRun{job: "job-1", pass: 1, shards: 4, live: func() []Member { return []Member{{ID: "w1"}, {ID: "w2"}} },
		send: func(ctx context.Context, worker string, shard, attempt int, sent func()) (*proto.Partial, error) {
			sent()
			if shard == 3 {
				sends++
				return nil, fmt.Errorf("%w: worker: shard 3: logistic: target not 0 or 1: row 0: target 60", ErrStepRefused)
			}
			<-ctx.Done() // the other shards are still running when shard 3 fails
			return nil, ctx.Err()
		},
		spec: defaultSpeculation, wait: time.Second, backoff: time.Millisecond, log: testLog(t)}
	_, _, err := r.run(context.Background())
	want := "coordinator: step failed for good: worker: shard 3: logistic: target not 0 or 1: row 0: target 60"
	if !errors.Is(err, ErrStepRefused) || err.Error() != want || sends != 1 {
		t.Fatalf("after %d sends: %v\nwant %s", sends, err, want)
	}
	if !permanentFailure(err) || permanentFailure(fmt.Errorf("%w: shard 3 after 6 attempts", ErrStepFailed)) {
		t.Fatal("a refused step is permanent, a step failing on every attempt is not")
	}
}

func TestSchedulerFailsAtOnceOnAPermanentFailure(t *testing.T) {
	// Refused at submit: the dataset no longer has the model's columns.
	f := scheduleFSM(t, hourly("s")) // 2 retries
	clock := &schedClock{t: w0}
	refused := fmt.Errorf(`%w: model model-1 needs column "tenure", which dataset c version 1 does not have as a numeric column (it has id)`, ErrInvalid)
	startScheduler(t, &schedHost{fsm: f, reject: map[string]error{"score": refused}}, clock)
	run := waitRun(t, f, "s", w0, ended)
	want := `attempt 1: score: coordinator: invalid request: model model-1 needs column "tenure", which dataset c version 1 does not have as a numeric column (it has id)`
	if run.State != proto.JobFailed || run.Attempt != 1 || run.Reason != want {
		t.Fatalf("run: %+v\nwant reason %s", run, want)
	}

	// The job failed for good on the workers.
	g := scheduleFSM(t, hourly("s"))
	startScheduler(t, &schedHost{fsm: g}, clock)
	j := waitJob(t, g, "s", w0, 1)
	apply(t, g, msgJobStart, entryJobStart{ID: j.ID, Time: t0})
	apply(t, g, msgJobFinish, entryJobFinish{ID: j.ID, State: proto.JobFailed, Permanent: true, Time: t0,
		Reason: "coordinator: step failed for good: worker: column missing: the scored dataset has no column \"tenure\""})
	run = waitRun(t, g, "s", w0, ended)
	want = "attempt 1: score: job " + j.ID + ` failed (not retried): coordinator: step failed for good: worker: column missing: the scored dataset has no column "tenure"`
	if run.State != proto.JobFailed || run.Attempt != 1 || run.Reason != want {
		t.Fatalf("run: %+v\nwant reason %s", run, want)
	}
}
