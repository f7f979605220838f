package devcluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/testutil"

	"github.com/mathcrm/mathcrm/algo/feature"
	"github.com/mathcrm/mathcrm/algo/kmeans"
	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/partition"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

// TestMain doubles as a worker process: the fault tests start this test
// binary as real worker processes and kill them for real.
func TestMain(m *testing.M) {
	if url := os.Getenv("MATHCRM_TEST_WORKER_URL"); url != "" {
		runWorkerProcess(url, os.Getenv("MATHCRM_TEST_WORKER_ID"))
		return
	}
	os.Exit(m.Run())
}

func runWorkerProcess(url, id string) {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := store.Open(context.Background(), nc, 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg := worker.DefaultConfig()
	cfg.ID, cfg.Capacity, cfg.Heartbeat = id, 1, 100*time.Millisecond
	w, err := worker.New(cfg, nc, st)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	_ = w.Drain(context.Background())
	os.Exit(0)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startCluster(t *testing.T, dir string, workers int) *devcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := devcluster.Start(ctx, devcluster.Config{
		DataDir: dir, Workers: workers, NATSListen: "127.0.0.1:0", Logger: testLogger(t),
		Coordinator: func(cfg *coordinator.Config) {
			cfg.FastRaft, cfg.HeartbeatTTL, cfg.StepTimeout = true, time.Second, 30*time.Second
			// Snapshot often, so restarts restore from snapshots, not only the log.
			cfg.SnapshotThreshold, cfg.SnapshotInterval = 8, 100*time.Millisecond
		},
		Worker: func(cfg *worker.Config) { cfg.Heartbeat = 100 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dial(t *testing.T, c *devcluster.Cluster) *client.Client {
	t.Helper()
	cl, err := client.Dial(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func importCSV(t *testing.T, cl *client.Client, name, path string, shards int) *proto.Dataset {
	t.Helper()
	ds, err := cl.Import(context.Background(), name, path, client.ImportOptions{
		Kind: "features", Options: partition.Options{Key: "customer_id", Shards: shards, TempDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func submit(t *testing.T, cl *client.Client, spec proto.JobSpec) string {
	t.Helper()
	var j proto.Job
	if err := cl.Call(context.Background(), proto.APIJobSubmit, spec, &j); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func jobStatus(t *testing.T, cl *client.Client, id string) *proto.Job {
	t.Helper()
	var j proto.Job
	if err := cl.Call(context.Background(), proto.APIJobStatus, proto.Named{Name: id}, &j); err != nil {
		t.Fatal(err)
	}
	return &j
}

func waitJob(t *testing.T, cl *client.Client, id string) *proto.Job {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if j := jobStatus(t, cl, id); j.Terminal() {
			if j.State != proto.JobSucceeded {
				t.Fatalf("job %s %s: %s", id, j.State, j.Reason)
			}
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s did not end", id)
	return nil
}

func model(t *testing.T, cl *client.Client, id string) *kmeans.Segmentation {
	t.Helper()
	var d proto.ModelDetail
	if err := cl.Call(context.Background(), proto.APIModelShow, proto.Named{Name: id}, &d); err != nil {
		t.Fatal(err)
	}
	return testutil.Detail[kmeans.Segmentation](t, &d)
}

func train(t *testing.T, cl *client.Client, spec proto.JobSpec) (*proto.Job, *kmeans.Segmentation) {
	t.Helper()
	j := waitJob(t, cl, submit(t, cl, spec))
	return j, model(t, cl, j.Model)
}

// reference computes the model with algo's single-process reference on the
// same shards, prepared as a worker prepares them.
func reference(t *testing.T, csv string, shards int, ds *proto.DatasetVersion, spec proto.JobSpec) *kmeans.Model {
	t.Helper()
	res, err := partition.Split(context.Background(), csv, partition.Options{Key: "customer_id", Shards: shards, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	km, err := kmeans.ParamsOf(&spec)
	if err != nil {
		t.Fatal(err)
	}
	prep := proto.Prep{Columns: km.Columns}
	for _, c := range ds.Columns {
		prep.Profile = append(prep.Profile, c.Name)
	}
	for _, name := range km.Columns {
		for _, c := range ds.Columns {
			if c.Name == name {
				prep.Mean, prep.Scale = append(prep.Mean, c.Mean), append(prep.Scale, c.Std)
			}
		}
	}
	var xs, profs [][]float64
	for _, sf := range res.Shards {
		f, err := os.Open(sf.Path)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := partition.ReadShard(f, sf.Size)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		m, err := feature.BuildMatrix(sh, prep)
		if err != nil {
			t.Fatal(err)
		}
		xs, profs = append(xs, m.X), append(profs, m.Prof)
	}
	ref, err := kmeans.Reference(kmeans.Config{K: km.K, Init: km.Init, MaxIter: km.MaxIter, Tol: km.Tol, Seed: spec.Seed, NProfile: len(prep.Profile)},
		xs, len(km.Columns), profs, len(prep.Profile))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestDistributedKMeansMatchesReference(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 6000, 1)
	c := startCluster(t, filepath.Join(dir, "cluster"), 2)
	defer c.Close()
	cl := dial(t, c)
	ds := importCSV(t, cl, "customers", csv, 16)
	for _, init := range []string{"kmeans||", "random"} {
		spec := testutil.KMeansSpec("customers", init, 15)
		_, got := train(t, cl, spec)
		want := reference(t, csv, 16, ds.Latest(), spec)
		testutil.SameBits(t, init+" centroids", testutil.Flat(got.TrainingCentroids), want.Centroids)
		testutil.SameBits(t, init+" inertia", []float64{got.Inertia}, []float64{want.Inertia})
		if fmt.Sprint(got.Sizes) != fmt.Sprint(want.Sizes) {
			t.Fatalf("%s sizes %v, reference %v", init, got.Sizes, want.Sizes)
		}
		if got.Skipped == 0 {
			t.Fatalf("rows with a missing total were not counted as skipped")
		}
	}
}

func TestBitIdenticalAcrossWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 8000, 2)
	var first *kmeans.Segmentation
	for _, n := range []int{1, 2, 4} {
		c := startCluster(t, filepath.Join(dir, fmt.Sprintf("cluster-%d", n)), n)
		cl := dial(t, c)
		importCSV(t, cl, "customers", csv, 32)
		_, m := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 12))
		c.Close()
		if first == nil {
			first = m
			continue
		}
		testutil.SameKMeans(t, first, m)
	}
}

// startWorkerProcess starts this test binary as a worker process.
func startWorkerProcess(t *testing.T, url, id string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MATHCRM_TEST_WORKER_URL="+url, "MATHCRM_TEST_WORKER_ID="+id)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func waitWorkers(t *testing.T, cl *client.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var st proto.ClusterStatus
		if err := cl.Call(context.Background(), proto.APIClusterStatus, nil, &st); err == nil && len(st.Workers) == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("cluster never had %d workers", n)
}

func TestWorkerKilledMidJob(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 40000, 3)
	spec := testutil.KMeansSpec("customers", "kmeans||", 40)

	// The undisturbed run.
	c := startCluster(t, filepath.Join(dir, "calm"), 2)
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, 32)
	_, calm := train(t, cl, spec)
	c.Close()

	// The same job on three worker processes, one killed with SIGKILL mid-job.
	c = startCluster(t, filepath.Join(dir, "faulty"), 0)
	defer c.Close()
	cl = dial(t, c)
	importCSV(t, cl, "customers", csv, 32)
	procs := []*exec.Cmd{}
	for i := 0; i < 3; i++ {
		procs = append(procs, startWorkerProcess(t, c.URL, fmt.Sprintf("proc-w%d", i)))
	}
	waitWorkers(t, cl, 3)
	id := submit(t, cl, spec)
	for {
		j := jobStatus(t, cl, id)
		if j.Terminal() {
			t.Fatalf("job ended (%s) before the worker was killed; make it longer", j.State)
		}
		if j.Pass >= 8 {
			t.Logf("killing worker process %d at pass %d", procs[1].Process.Pid, j.Pass)
			if err := procs[1].Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	j := waitJob(t, cl, id)
	testutil.SameKMeans(t, calm, model(t, cl, j.Model))
	waitWorkers(t, cl, 2)
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "customers.csv")
	testutil.GenCustomers(t, csv, 3000, 4)
	data := filepath.Join(dir, "cluster")
	c := startCluster(t, data, 2)
	cl := dial(t, c)
	importCSV(t, cl, "customers", csv, 8)
	j, before := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 10))
	cl.Close()
	// Let raft take a snapshot of the state so far, then stop.
	deadline := time.Now().Add(10 * time.Second)
	for !hasSnapshot(data) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !hasSnapshot(data) {
		t.Fatal("raft never took a snapshot")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c = startCluster(t, data, 1)
	defer c.Close()
	cl = dial(t, c)
	var list []proto.Dataset
	if err := cl.Call(context.Background(), proto.APIDatasetList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "customers" || list[0].Latest().Rows != 3000 {
		t.Fatalf("datasets after restart: %+v", list)
	}
	again := jobStatus(t, cl, j.ID)
	if again.State != proto.JobSucceeded || again.Model != j.Model || len(again.History) != len(j.History) {
		t.Fatalf("job after restart: %+v", again)
	}
	testutil.SameKMeans(t, before, model(t, cl, j.Model))
	// The restarted cluster still trains on the old data, to the same model.
	_, m := train(t, cl, testutil.KMeansSpec("customers", "kmeans||", 10))
	testutil.SameKMeans(t, before, m)
}

func TestFailedImportLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	c := startCluster(t, filepath.Join(dir, "cluster"), 1)
	defer c.Close()
	cl := dial(t, c)
	cases := map[string]string{
		"not-numeric.csv": "customer_id,tenure\nA,1\nB,x\n",
		"duplicate.csv":   "customer_id,tenure\nA,1\nB,2\nA,3\n",
		"no-key.csv":      "id,tenure\nA,1\n",
		"empty.csv":       "",
		"ragged.csv":      "customer_id,tenure\nA,1\nB,2,3\n",
	}
	for name, body := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := cl.Import(context.Background(), "bad", path, client.ImportOptions{
			Kind: "features", Options: partition.Options{Key: "customer_id", Columns: []string{"tenure"}, Shards: 4, TempDir: dir},
		})
		if err == nil {
			t.Fatalf("%s imported", name)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	var list []proto.Dataset
	if err := cl.Call(context.Background(), proto.APIDatasetList, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("a failed import became visible: %+v", list)
	}
	nc, err := nats.Connect(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	st, err := store.Open(context.Background(), nc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if objs, err := st.List(context.Background(), proto.BucketShards); err != nil || len(objs) != 0 {
		t.Fatalf("failed imports left %d shard blobs (%v)", len(objs), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "mathcrm-import-") {
			t.Fatalf("temporary files left: %s", e.Name())
		}
	}
}

func hasSnapshot(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*", "state.bin"))
	return len(m) > 0
}
