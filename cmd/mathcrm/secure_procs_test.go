package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/testutil"
)

// startAs starts a server process in a role (its credentials from the
// environment, as a unit file or a Kubernetes Secret gives them) and waits
// for its log to match ready.
func startAs(t *testing.T, a as, ready string, args ...string) *role {
	t.Helper()
	r := &role{cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+a.url, "MATHCRM_CA="+a.ca, "MATHCRM_CREDS="+a.creds)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done; r.done <- nil })
	re := regexp.MustCompile(ready)
	testutil.WaitFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if m := re.FindStringSubmatch(r.log.String()); m != nil {
			if len(m) > 1 {
				r.url = m[1]
			}
			return nil
		}
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("mathcrm %s exited (%v): %s", strings.Join(args, " "), err, r.log.String())
		default:
		}
		return fmt.Errorf("mathcrm %s did not start: %s", strings.Join(args, " "), r.log.String())
	})
	return r
}

// distributionNATS runs the nats-server binary of the system (Debian's is
// 2.9) on dir's nats.conf and returns its URL.
func distributionNATS(t *testing.T, dir string) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server on PATH (apt-get install nats-server); the embedded server ran the same configuration")
	}
	ports := t.TempDir()
	r := &role{cmd: exec.Command(bin, "-c", filepath.Join(dir, secrets.FileConf), "--ports_file_dir", ports), log: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.done })
	var url string
	testutil.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		files, _ := filepath.Glob(filepath.Join(ports, "*.ports"))
		if len(files) == 1 {
			var p struct {
				Nats []string `json:"nats"`
			}
			if b, err := os.ReadFile(files[0]); err == nil && json.Unmarshal(b, &p) == nil && len(p.Nats) > 0 {
				url = p.Nats[0]
				return nil
			}
		}
		return fmt.Errorf("%s wrote no ports file: %s", bin, r.log.String())
	})
	return url
}

// TestSecureProcesses runs a secured cluster of separate processes — NATS
// on the generated configuration (mathcrm nats --config, and the
// distribution's nats-server), two coordinators over mutual-TLS raft and
// a worker, each in its role — and an analyst's import and training on it.
func TestSecureProcesses(t *testing.T) {
	for _, server := range []string{"embedded", "distribution"} {
		t.Run(server, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "secrets")
			out, err := exec.Command(bin, "secrets", "init", dir, "--listen", "127.0.0.1", "--port", "-1",
				"--store-dir", filepath.Join(t.TempDir(), "js"), "--worker", "w7").CombinedOutput()
			if err != nil {
				t.Fatalf("secrets init: %v\n%s", err, out)
			}
			var url string
			if server == "embedded" {
				n := startAs(t, as{}, `mathcrm nats: (tls://\S+)`, "nats", "--config", filepath.Join(dir, secrets.FileConf))
				url = n.url
			} else {
				url = distributionNATS(t, dir)
			}
			coord := roleEnv(url, dir, secrets.RoleCoordinator)
			secretsAll := secretValues(t, dir)
			c1 := startAs(t, coord, `coordinator c1: raft (\S+),`, "coordinator", "--id", "c1", "--raft-addr", "127.0.0.1:0",
				"--data-dir", filepath.Join(t.TempDir(), "c1"), "--bootstrap", "--raft-heartbeat-timeout", "300ms", "--raft-election-timeout", "300ms",
				"--max-active-jobs", "admin=0")
			c2 := startAs(t, coord, `coordinator c2: raft`, "coordinator", "--id", "c2", "--raft-addr", "127.0.0.1:0",
				"--data-dir", filepath.Join(t.TempDir(), "c2"), "--join", c1.url, "--max-active-jobs", "admin=0")
			w1 := startAs(t, roleEnv(url, dir, secrets.RoleWorker), `worker w1:`, "worker", "--id", "w1")
			// A worker's own credential names its id.
			w7 := startAs(t, roleEnv(url, dir, secrets.WorkerRole("w7")), `worker w7:`, "worker")
			if _, errs, code := roleEnv(url, dir, secrets.WorkerRole("w7")).run(t, "worker", "--id", "w8"); code == 0 || !strings.Contains(errs, "--id w8: the credentials are worker w7's, good for its steps only") {
				t.Fatalf("worker w8 on w7's credential: exit %d: %s", code, errs)
			}
			admin := roleEnv(url, dir, secrets.RoleAdmin)
			testutil.WaitFor(t, 20*time.Second, 100*time.Millisecond, func() error {
				var st struct {
					Voters []struct {
						ID     string  `json:"id"`
						State  string  `json:"state"`
						Commit *uint64 `json:"commit_index"`
					} `json:"voters"`
					Workers []struct {
						ID string `json:"id"`
					} `json:"workers"`
				}
				out, errs, code := admin.run(t, "cluster", "status", "--output", "json", "--timeout", "5s")
				if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
					return fmt.Errorf("cluster status: exit %d: %s%s", code, out, errs)
				}
				if len(st.Voters) != 2 || len(st.Workers) != 2 {
					return fmt.Errorf("cluster status: %s", out)
				}
				// c2 follows: raft's entries reached it over mutual TLS.
				for _, v := range st.Voters {
					if v.ID == "c2" && (v.State != "Follower" || v.Commit == nil || *v.Commit == 0) {
						return fmt.Errorf("c2 has not caught up: %s", out)
					}
				}
				return nil
			})
			analyst := roleEnv(url, dir, secrets.RoleAnalyst)
			telco := "../../testdata/telco/Telco-Customer-Churn.csv"
			if out, errs, code := analyst.run(t, "dataset", "import", "telco", telco, "--key", "customerID", "--columns", "tenure,MonthlyCharges", "--shards", "4"); code != 0 {
				t.Fatalf("import: %s%s", out, errs)
			}
			if out, errs, code := analyst.run(t, "train", "kmeans", "--dataset", "telco", "--k", "3", "--max-iter", "3", "--wait"); code != 0 || !strings.Contains(out+errs, "succeeded") {
				t.Fatalf("train: exit %d: %s%s", code, out, errs)
			}
			if _, errs, code := analyst.run(t, "cluster", "remove-voter", "c2"); code == 0 || !strings.Contains(errs, `Publish to "mathcrm.api.analyst.cluster.remove-voter"`) {
				t.Fatalf("an analyst removed a voter: exit %d: %s", code, errs)
			}
			// The admin's bound of active jobs is 0 on these coordinators:
			// its submit is refused, by role; the analyst's was not.
			if _, errs, code := admin.run(t, "train", "kmeans", "--dataset", "telco", "--k", "3", "--max-iter", "3"); code == 0 || !strings.Contains(errs, "role admin may not have jobs (its bound of active jobs is 0; coordinator --max-active-jobs)") {
				t.Fatalf("the admin's submit past its bound: exit %d: %s", code, errs)
			}
			// A coordinator started on another role's credentials stops at once.
			_, errs, code := roleEnv(url, dir, secrets.RoleAnalyst).run(t, "coordinator", "--id", "c3", "--raft-addr", "127.0.0.1:0", "--data-dir", t.TempDir())
			if code == 0 || !strings.Contains(errs, "are analyst's credentials; a coordinator needs the coordinator's (coordinator.nk)") {
				t.Fatalf("a coordinator on the analyst's credentials: exit %d: %s", code, errs)
			}
			if _, errs, code := roleEnv(url, dir, secrets.RoleViewer).run(t, "worker", "--id", "w9"); code == 0 || !strings.Contains(errs, "a worker needs the worker's") {
				t.Fatalf("a worker on the viewer's credentials: exit %d: %s", code, errs)
			}
			for _, r := range []*role{c1, c2, w1, w7} {
				noSecret(t, "the log of mathcrm "+strings.Join(r.cmd.Args[1:], " "), r.log.String(), secretsAll)
			}
		})
	}
}
