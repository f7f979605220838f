package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// TestSecureLeaderKilledMidJob kills the raft leader of a secured cluster
// of processes mid-job: a new leader, reached over mutual-TLS raft, ends
// the job with the undisturbed run's model, and the killed coordinator
// restarts and rejoins.
func TestSecureLeaderKilledMidJob(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	if out, err := exec.Command(bin, "secrets", "init", dir, "--listen", "127.0.0.1", "--port", "-1",
		"--store-dir", filepath.Join(t.TempDir(), "js")).CombinedOutput(); err != nil {
		t.Fatalf("secrets init: %v\n%s", err, out)
	}
	url := startAs(t, as{}, `mathcrm nats: (tls://\S+)`, "nats", "--config", filepath.Join(dir, secrets.FileConf)).url
	coord := roleEnv(url, dir, secrets.RoleCoordinator)
	fast := []string{"--raft-heartbeat-timeout", "300ms", "--raft-election-timeout", "300ms"}
	dataDirs := map[string]string{}
	coords := map[string]*role{}
	start := func(id string, first bool) {
		t.Helper()
		addr := "127.0.0.1:0"
		if dataDirs[id] == "" {
			dataDirs[id] = filepath.Join(t.TempDir(), id)
		} else {
			addr = coords[id].url // a voter keeps its address
		}
		args := append([]string{"coordinator", "--id", id, "--raft-addr", addr, "--data-dir", dataDirs[id]}, fast...)
		if first {
			args = append(args, "--bootstrap")
		} else if id != "c1" {
			args = append(args, "--join", coords["c1"].url)
		}
		coords[id] = startAs(t, coord, `coordinator `+id+`: raft (\S+),`, args...)
	}
	start("c1", true)
	start("c2", false)
	start("c3", false)
	for _, id := range []string{"w1", "w2"} {
		startAs(t, roleEnv(url, dir, secrets.RoleWorker), `worker `+id+`:`, "worker", "--id", id)
	}
	admin, analyst := roleEnv(url, dir, secrets.RoleAdmin), roleEnv(url, dir, secrets.RoleAnalyst)
	type status struct {
		Leader string `json:"leader"`
		Voters []struct {
			ID        string  `json:"id"`
			Reachable bool    `json:"reachable"`
			State     string  `json:"state"`
			Commit    *uint64 `json:"commit_index"`
		} `json:"voters"`
		Workers []struct{} `json:"workers"`
	}
	healthy := func(voters int) string {
		t.Helper()
		var leader string
		testutil.WaitFor(t, 20*time.Second, 100*time.Millisecond, func() error {
			var st status
			out, errs, code := admin.run(t, "cluster", "status", "--output", "json", "--timeout", "5s")
			if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
				return fmt.Errorf("cluster status: exit %d: %s%s", code, out, errs)
			}
			// Every voter up, and caught up: raft's entries reach each
			// over mutual TLS.
			up, commits := 0, map[uint64]bool{}
			for _, v := range st.Voters {
				if v.Reachable && (v.State == "Leader" || v.State == "Follower") && v.Commit != nil {
					up++
					commits[*v.Commit] = true
				}
			}
			if len(commits) > 1 {
				return fmt.Errorf("the voters' commit indexes differ: %s", out)
			}
			if st.Leader == "" || up != voters || len(st.Workers) != 2 {
				return fmt.Errorf("not %d voters up with a leader and 2 workers: %s", voters, out)
			}
			leader = st.Leader
			return nil
		})
		return leader
	}
	healthy(3)

	csv := filepath.Join(t.TempDir(), "customers.csv")
	testutil.GenCustomers(t, csv, 40000, 5)
	if out, errs, code := analyst.run(t, "dataset", "import", "customers", csv, "--key", "customer_id", "--columns", "tenure,monthly,total", "--shards", "16"); code != 0 {
		t.Fatalf("import: %s%s", out, errs)
	}
	train := []string{"train", "kmeans", "--dataset", "customers", "--k", "4", "--standardize", "--seed", "11", "--max-iter", "40", "--tol", "0"}
	type jobJSON struct {
		Job   string `json:"job"`
		ID    string `json:"id"`
		Model string `json:"model"`
		State string `json:"state"`
		Pass  int    `json:"pass"`
	}
	run := func(a as, v any, args ...string) {
		t.Helper()
		out, errs, code := a.run(t, append(args, "--output", "json")...)
		if code != 0 || json.Unmarshal([]byte(out), v) != nil {
			t.Fatalf("mathcrm %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
		}
	}
	var calm jobJSON
	run(analyst, &calm, append(train, "--wait")...)
	if calm.State != "succeeded" {
		t.Fatalf("undisturbed run: %+v", calm)
	}

	var sub jobJSON
	run(analyst, &sub, train...)
	id := sub.Job + sub.ID
	var before jobJSON
	testutil.WaitFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		run(analyst, &before, "job", "status", id)
		if before.Pass < 4 {
			return fmt.Errorf("job %s at pass %d", id, before.Pass)
		}
		return nil
	})
	if before.State == "succeeded" {
		t.Fatal("the job ended before the leader was killed; make it longer")
	}
	var st status
	run(admin, &st, "cluster", "status")
	old := st.Leader
	if err := coords[old].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILL leader %s at pass %d", old, before.Pass)
	var after jobJSON
	testutil.WaitFor(t, 25*time.Second, 100*time.Millisecond, func() error {
		run(analyst, &after, "job", "status", id, "--timeout", "5s")
		if after.State != "succeeded" {
			return fmt.Errorf("job %s %s at pass %d", id, after.State, after.Pass)
		}
		return nil
	})
	var a, b json.RawMessage
	run(analyst, &a, "model", "export", calm.Model, "--format", "json")
	run(analyst, &b, "model", "export", after.Model, "--format", "json")
	strip := func(m json.RawMessage) string {
		var v map[string]any
		_ = json.Unmarshal(m, &v)
		out, _ := json.Marshal(map[string]any{"centroids": v["centroids"], "inertia": v["inertia"], "sizes": v["sizes"]})
		return string(out)
	}
	if strip(a) != strip(b) || !strings.Contains(strip(a), "centroids\":[[") {
		t.Fatalf("the model after the failover differs:\n%s\n%s", strip(a), strip(b))
	}
	// The killed coordinator restarts on its data and rejoins over TLS.
	start(old, false)
	healthy(3)
}
