package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/testutil"
	"github.com/mathcrm/mathcrm/partition"
)

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// genCustomers writes n customers with three numeric columns and one
// categorical column, plan.
func genCustomers(t *testing.T, path string, n int) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 5))
	plans := []string{"basic", "plus", "pro"}
	var b strings.Builder
	b.WriteString("customer_id,tenure,monthly,total,plan\n")
	for i := range n {
		c := r.IntN(3)
		fmt.Fprintf(&b, "C%05d,%.0f,%.2f,%.2f,%s\n", i, float64(10+25*c)+r.NormFloat64()*3, float64(20+40*c)+r.NormFloat64()*5,
			float64(200+2000*c)+r.NormFloat64()*50, plans[c])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture is a dev cluster with a dataset "customers", a k-means model, a
// score set "segs" written with it and a schedule "nightly" that ran once,
// and the console over it.
type fixture struct {
	cl    *client.Client
	srv   *httptest.Server
	model *proto.ModelDetail
	ss    proto.ScoreSet
	rows  int64
	job   string
}

func start(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{DataDir: filepath.Join(dir, "cluster"), Workers: 2, NATSListen: "127.0.0.1:0", Logger: log,
		Coordinator: func(cfg *coordinator.Config) {
			cfg.RaftHeartbeatTimeout, cfg.RaftElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl, err := client.Dial(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	csv := filepath.Join(dir, "customers.csv")
	genCustomers(t, csv, 600)
	ds, err := cl.Import(ctx, "customers", csv, client.ImportOptions{Kind: proto.KindFeatures,
		Options: partition.Options{Key: "customer_id", Categorical: []string{"plan"}, Shards: 3, TempDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cl: cl, rows: ds.Latest().Rows}
	j := wait(t, cl, submit(t, cl, proto.JobSpec{Algo: "kmeans", Dataset: "customers", Seed: 1,
		Params: proto.MustJSON(kmeans.Params{K: 3, Columns: []string{"tenure", "monthly", "total"}, Standardize: true, Init: "kmeans||", MaxIter: 50, Tol: 1e-6})}))
	f.job = j.ID
	f.model = &proto.ModelDetail{}
	if err := cl.Call(ctx, proto.APIModelShow, proto.Named{Name: j.Model}, f.model); err != nil {
		t.Fatal(err)
	}
	wait(t, cl, submit(t, cl, proto.JobSpec{Algo: "score", Dataset: "customers", Params: proto.MustJSON(proto.ScoreSpec{Model: j.Model, As: "segs"})}))
	if err := cl.Call(ctx, proto.APIScoresShow, proto.NamedVersion{Name: "segs"}, &f.ss); err != nil {
		t.Fatal(err)
	}
	var info proto.ScheduleInfo
	if err := cl.Call(ctx, proto.APIScheduleCreate, proto.ScheduleSpec{Name: "nightly", Cron: "0 3 * * *", Model: j.Model, Dataset: "customers",
		CatchUp: proto.CatchUpSkip, Retries: 0, BackoffSeconds: 30}, &info); err != nil {
		t.Fatal(err)
	}
	if err := cl.Call(ctx, proto.APIScheduleRunNow, proto.RunNow{Name: "nightly", RequestID: client.NewRequestID()}, nil); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, time.Minute, 20*time.Millisecond, func() error {
		var s proto.ScheduleInfo
		if err := cl.Call(ctx, proto.APIScheduleShow, proto.Named{Name: "nightly"}, &s); err != nil {
			return err
		}
		if s.LastRun == nil || s.LastRun.State != proto.JobSucceeded {
			return fmt.Errorf("schedule nightly: last run %+v", s.LastRun)
		}
		return nil
	})
	con, err := console.New(console.NewClientSource(cl), log)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(con)
	t.Cleanup(f.srv.Close)
	return f
}

func submit(t *testing.T, cl *client.Client, spec proto.JobSpec) string {
	t.Helper()
	j, err := cl.Submit(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func wait(t *testing.T, cl *client.Client, id string) *proto.Job {
	t.Helper()
	var j proto.Job
	testutil.WaitFor(t, time.Minute, 20*time.Millisecond, func() error {
		if err := cl.Call(context.Background(), proto.APIJobStatus, proto.Named{Name: id}, &j); err != nil {
			return err
		}
		if !j.Terminal() {
			return fmt.Errorf("job %s is %s", id, j.State)
		}
		return nil
	})
	if j.State != proto.JobSucceeded {
		t.Fatalf("job %s %s: %s", id, j.State, j.Reason)
	}
	return &j
}

// get fetches a page as HTML or JSON and returns its status and body.
func get(t *testing.T, url string, json bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if json {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestConsole(t *testing.T) {
	f := start(t)
	km := testutil.Detail[kmeans.Segmentation](t, f.model)
	sizes := make([]string, len(km.Sizes))
	for i, s := range km.Sizes {
		sizes[i] = fmt.Sprintf("<td>%d</td>", s)
	}
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{`id="voters"`, `id="workers"`, "dev", "leader"}},
		{"/datasets", []string{`href="/datasets/customers"`, fmt.Sprint(f.rows)}},
		{"/datasets/customers", []string{"Dataset customers", fmt.Sprintf("<td>%d</td>", f.rows), "<td>tenure</td>", "categorical (3 levels)",
			"<rect class=\"bar\"", `<svg xmlns="http://www.w3.org/2000/svg" class="range"`}},
		{"/jobs", []string{`href="/jobs/` + f.job + `"`, "succeeded"}},
		{"/jobs/" + f.job, []string{"Job " + f.job, "Objective per committed pass", "<polyline", `id="passes"`}},
		{"/models", []string{`href="/models/` + f.model.Model.ID + `"`, "kmeans"}},
		{"/models/" + f.model.Model.ID, append([]string{"k-means, k=3", "Segment sizes", "Centroids (original units)", "plan=basic"}, sizes...)},
		{"/scores", []string{`href="/scores/segs"`}},
		{"/scores/segs", append([]string{"Score set segs version 1", "Segment sizes"}, sizes...)},
		{"/schedules", []string{`href="/schedules/nightly"`, "0 3 * * *"}},
		{"/schedules/nightly", []string{"Schedule nightly", `class="run succeeded"`, `id="runs"`, "manual"}},
	}
	for _, p := range pages {
		t.Run("html"+p.path, func(t *testing.T) {
			code, body := get(t, f.srv.URL+p.path, false)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", p.path, code, body)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: no %q in\n%s", p.path, w, body)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		var ds console.DatasetPage
		getJSON(t, f.srv.URL+"/datasets/customers", &ds)
		if ds.Name != "customers" || ds.Shown == nil || ds.Shown.Rows != f.rows || len(ds.Columns) != 4 || ds.Columns[3].LevelChart == nil {
			t.Fatalf("dataset page: %+v", ds)
		}
		var mp console.ModelPage
		getJSON(t, f.srv.URL+"/models/"+f.model.Model.ID, &mp)
		if mp.Model.ID != f.model.Model.ID || len(mp.Description.Charts) == 0 || len(mp.Description.Charts[0].Bars) != 3 {
			t.Fatalf("model page: %+v", mp)
		}
		for i, b := range mp.Description.Charts[0].Bars {
			if b.Value != float64(km.Sizes[i]) {
				t.Errorf("segment %d: bar %v, model size %d", i, b.Value, km.Sizes[i])
			}
		}
		var sp console.ScorePage
		getJSON(t, f.srv.URL+"/scores/segs", &sp)
		if sp.ScoreSet.Rows != f.ss.Rows || len(sp.Distribution.Rows) != 3 {
			t.Fatalf("score page: %+v", sp)
		}
		var cp console.ClusterPage
		getJSON(t, f.srv.URL+"/", &cp)
		if cp.Status.Leader == "" || len(cp.Status.Workers) != 2 {
			t.Fatalf("cluster page: %+v", cp.Status)
		}
		var jp console.JobPage
		getJSON(t, f.srv.URL+"/jobs/"+f.job, &jp)
		first := len(jp.Job.History)
		for i, h := range jp.Job.History {
			if h.Objective != 0 {
				first = i
				break
			}
		}
		pts := jp.Convergence.Series[0].Points
		if jp.Job.ID != f.job || len(pts) == 0 || len(pts) != len(jp.Job.History)-first || pts[0].X != float64(jp.Job.History[first].Pass) ||
			pts[len(pts)-1].Y != jp.Job.Objective {
			t.Fatalf("job page: %+v", jp)
		}
		var sc console.SchedulePage
		getJSON(t, f.srv.URL+"/schedules/nightly", &sc)
		if len(sc.Schedule.Runs) != 1 || sc.Schedule.Runs[0].State != proto.JobSucceeded {
			t.Fatalf("schedule page: %+v", sc.Schedule)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, c := range []struct{ path, msg string }{
			{"/datasets/nope", `coordinator: not found: dataset "nope"`},
			{"/models/nope", "coordinator: not found: model nope"},
			{"/jobs/nope", "coordinator: not found: job nope"},
			{"/scores/nope", "coordinator: not found: score set nope"},
			{"/schedules/nope", `coordinator: not found: schedule "nope"`},
			{"/jobs/nope/events", "coordinator: not found: job nope"},
			{"/nothing/here", "console: not found: no page at /nothing/here"},
			{"/datasets/customers?version=9", "console: not found: dataset customers has no version 9 (it has 1)"},
		} {
			code, body := get(t, f.srv.URL+c.path, true)
			var e struct {
				Status int    `json:"status"`
				Error  string `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("GET %s: %v in %q", c.path, err, body)
			}
			if code != http.StatusNotFound || e.Status != 404 || e.Error != c.msg {
				t.Errorf("GET %s: %d %q, want 404 %q", c.path, code, e.Error, c.msg)
			}
			code, body = get(t, f.srv.URL+c.path, false)
			if code != http.StatusNotFound || !strings.Contains(body, "404") {
				t.Errorf("GET %s as HTML: %d\n%s", c.path, code, body)
			}
		}
		code, body := get(t, f.srv.URL+"/scores/segs?version=2", true)
		if code != http.StatusNotFound || !strings.Contains(body, `"coordinator: not found: score set segs has no version 2 (it has 1)"`) {
			t.Errorf("missing score set version: %d %s", code, body)
		}
		code, body = get(t, f.srv.URL+"/scores/segs?version=1", false)
		if code != http.StatusOK || !strings.Contains(body, "Score set segs version 1") {
			t.Errorf("score set version 1: %d", code)
		}
		code, body = get(t, f.srv.URL+"/datasets/customers?version=x", true)
		if code != http.StatusBadRequest || !strings.Contains(body, `version \"x\" is not a positive whole number`) {
			t.Errorf("bad version: %d %s", code, body)
		}
	})

	t.Run("escaping", func(t *testing.T) {
		code, body := get(t, f.srv.URL+"/jobs/%3Cscript%3Ealert(1)%3C%2Fscript%3E", false)
		if code != http.StatusNotFound || strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("a name with markup: %d\n%s", code, body)
		}
	})

	t.Run("events", func(t *testing.T) { testEvents(t, f) })
	t.Run("browser", func(t *testing.T) { testBrowser(t, f) })
	t.Run("model kinds", func(t *testing.T) { testKindPages(t, f) })
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	code, body := get(t, url, true)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// testEvents streams a running job's events: its committed state first,
// then the leader's progress events (with shards done), then, once it is
// cancelled, the end.
func testEvents(t *testing.T, f *fixture) {
	id := submit(t, f.cl, proto.JobSpec{Algo: "kmeans", Dataset: "customers", Seed: 1,
		Params: proto.MustJSON(kmeans.Params{K: 3, Columns: []string{"tenure", "monthly", "total"}, Standardize: true, Init: "kmeans||", MaxIter: 100000, Tol: 0})})
	t.Cleanup(func() { _ = f.cl.Call(context.Background(), proto.APIJobCancel, proto.Named{Name: id}, nil) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/jobs/"+id+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() (string, proto.JobEvent) {
		t.Helper()
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var ev proto.JobEvent
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
					t.Fatal(err)
				}
				return name, ev
			}
		}
		t.Fatalf("event stream ended: %v", sc.Err())
		return "", proto.JobEvent{}
	}
	name, ev := next()
	if name != "progress" || ev.Job != id {
		t.Fatalf("first event %s %+v", name, ev)
	}
	// The leader's own events say how many shards of the pass are done.
	for ev.ShardsTotal == 0 {
		if name, ev = next(); name != "progress" || ev.Job != id || ev.State != proto.JobRunning {
			t.Fatalf("event %s %+v", name, ev)
		}
	}
	if ev.ShardsTotal != 3 || ev.Pass < 1 {
		t.Fatalf("relayed event %+v", ev)
	}
	t.Run("browser", func(t *testing.T) { testLiveProgress(t, f, id) })
	if err := f.cl.Call(ctx, proto.APIJobCancel, proto.Named{Name: id}, nil); err != nil {
		t.Fatal(err)
	}
	for name != "end" {
		name, ev = next()
	}
	if ev.State != proto.JobCancelled {
		t.Fatalf("end event %+v", ev)
	}
}
