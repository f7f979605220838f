package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// initSecrets runs mathcrm secrets init into a new directory.
func initSecrets(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	cmd := exec.Command(bin, "secrets", "init", dir, "--store-dir", filepath.Join(t.TempDir(), "js"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secrets init: %v\n%s", err, out)
	}
	return dir
}

// secretValues are the secrets in dir: every nkey seed, token and private
// key (the base64 body of its PEM).
func secretValues(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.nk", "*.token", "*.key"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") {
					out = append(out, line)
				}
			}
		}
	}
	if len(out) < 15 {
		t.Fatalf("only %d secrets in %s", len(out), dir)
	}
	return out
}

// noSecret fails when text holds any of the secrets.
func noSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a secret", where)
			return
		}
	}
}

// as is a client command's environment: the cluster's URL and a role's
// files, by environment variable as a deployment would set them.
type as struct {
	url, ca, creds string
}

func roleEnv(url, dir, role string) as {
	return as{url: url, ca: filepath.Join(dir, secrets.FileCA), creds: filepath.Join(dir, secrets.CredsFile(role))}
}

// run runs the CLI with a's environment; the output is checked for
// secrets by the caller.
func (a as) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MATHCRM_NATS_URL="+a.url, "MATHCRM_CA="+a.ca, "MATHCRM_CREDS="+a.creds, "MATHCRM_TIMEOUT=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestSecureDevCluster runs mathcrm dev --secrets and every kind of
// client against it as separate processes: each role can do its work and
// no more, a client without the cluster's credentials cannot connect, and
// no secret shows in any output, the process's argv or its environment.
func TestSecureDevCluster(t *testing.T) {
	sdir, other := initSecrets(t), initSecrets(t)
	secretsAll := append(secretValues(t, sdir), secretValues(t, other)...)
	dev := startDev(t, filepath.Join(t.TempDir(), "cluster"), "--secrets", sdir, "--http-listen", "127.0.0.1:0")
	if !strings.HasPrefix(dev.url, "tls://") {
		t.Fatalf("dev --secrets serves %s, want a tls:// URL", dev.url)
	}
	var outputs []string
	check := func(a as, wantCode bool, want string, args ...string) string {
		t.Helper()
		out, errs, code := a.run(t, args...)
		outputs = append(outputs, out, errs)
		if (code == 0) != wantCode || !strings.Contains(out+errs, want) {
			t.Fatalf("mathcrm %s as %s: exit %d, want success %v and %q in:\n%s%s", strings.Join(args, " "), filepath.Base(a.creds), code, wantCode, want, out, errs)
		}
		return out + errs
	}
	viewer, analyst, admin, worker := roleEnv(dev.url, sdir, "viewer"), roleEnv(dev.url, sdir, "analyst"), roleEnv(dev.url, sdir, "admin"), roleEnv(dev.url, sdir, "worker")
	telco := "../../testdata/telco/Telco-Customer-Churn.csv"

	// Refused at the door, each saying which credential to look at.
	check(as{url: dev.url}, false, "set --ca (MATHCRM_CA)", "dataset", "list")
	check(as{url: dev.url, ca: viewer.ca}, false, "wants a client certificate: set --creds (MATHCRM_CREDS)", "dataset", "list")
	check(roleEnv(dev.url, other, "admin"), false, "not signed by a CA in --ca", "dataset", "list")
	foreign := as{url: dev.url, ca: viewer.ca, creds: filepath.Join(other, "admin.nk")}
	// Another CA's certificate beside another cluster's admin seed: the
	// server refuses the certificate first.
	check(foreign, false, "cannot reach NATS", "dataset", "list")

	// An analyst imports and trains, over TLS, with workers in their role.
	check(analyst, true, "telco", "dataset", "import", "telco", telco, "--key", "customerID", "--columns", "tenure,MonthlyCharges,TotalCharges", "--shards", "4")
	out := check(analyst, true, "succeeded", "train", "kmeans", "--dataset", "telco", "--k", "3", "--seed", "1", "--max-iter", "3", "--wait")
	job := regexp.MustCompile(`\bjob-[0-9]+`).FindString(out)
	if job == "" {
		t.Fatalf("train printed no job id: %s", out)
	}
	check(analyst, false, `Publish to "mathcrm.api.analyst.cluster.add-voter"`, "cluster", "add-voter", "c9", "127.0.0.1:1")
	check(analyst, false, `Publish to "mathcrm.api.analyst.cluster.remove-voter"`, "cluster", "remove-voter", "dev")
	check(analyst, false, `Publish to "mathcrm.api.analyst.dataset.delete"`, "dataset", "delete", "telco")

	// A viewer lists and looks up, and changes nothing.
	check(viewer, true, "telco", "dataset", "list")
	check(viewer, true, "telco", "dataset", "show", "telco")
	check(viewer, true, "kmeans", "job", "list")
	check(viewer, false, `Publish to "mathcrm.api.viewer.dataset.check"`, "dataset", "import", "t2", telco, "--key", "customerID", "--columns", "tenure")
	check(viewer, false, `Publish to "mathcrm.api.viewer.job.submit"`, "train", "kmeans", "--dataset", "telco", "--k", "3")
	check(viewer, false, `Publish to "mathcrm.api.viewer.job.cancel"`, "job", "cancel", "any")
	check(viewer, true, "succeeded", "job", "status", job)

	// A worker's credentials are good for steps and heartbeats only.
	check(worker, false, `Publish to "mathcrm.api.worker.dataset.list"`, "dataset", "list")
	check(worker, false, `Publish to "mathcrm.api.worker.job.submit"`, "train", "kmeans", "--dataset", "telco", "--k", "3")

	// Only an admin drains a worker.
	check(analyst, false, `Publish to "mathcrm.worker.dev-w3.control"`, "worker", "drain", "dev-w3")
	check(admin, true, "", "worker", "drain", "dev-w3")

	// An admin sees the cluster; nothing in it is a secret.
	status := check(admin, true, "dev-w1", "cluster", "status")
	noSecret(t, "cluster status", status, secretsAll)
	check(admin, true, "", "cluster", "status", "--output", "json")

	// A seed pasted where the file's path belongs is refused unseen.
	seed, _ := os.ReadFile(filepath.Join(sdir, "analyst.nk"))
	msg := check(as{url: dev.url, ca: viewer.ca}, false, "holds a secret itself", "dataset", "list", "--creds", strings.TrimSpace(string(seed)))
	noSecret(t, "the refusal of a pasted seed", msg, secretsAll)

	secureHTTP(t, dev, sdir, other, secretsAll)

	for i, o := range outputs {
		noSecret(t, fmt.Sprintf("client output %d", i), o, secretsAll)
	}
	noSecret(t, "mathcrm dev's log", dev.log.String(), secretsAll)
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", dev.cmd.Process.Pid, f))
		if err != nil {
			t.Fatal(err)
		}
		noSecret(t, "mathcrm dev's "+f, string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), secretsAll)
	}
	dev.stop(t)
	noSecret(t, "mathcrm dev's log", dev.log.String(), secretsAll)
}

// secureHTTP checks the HTTPS listener of a dev cluster run with sdir's
// secrets: health is open, the rest needs a role that may.
func secureHTTP(t *testing.T, dev *devProc, sdir, other string, secretsAll []string) {
	t.Helper()
	var base string
	testutil.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if m := regexp.MustCompile(`HTTP (https://\S+)`).FindStringSubmatch(dev.log.String()); m != nil {
			base = m[1]
			return nil
		}
		return errors.New("no HTTPS address printed")
	})
	caPEM, err := os.ReadFile(filepath.Join(sdir, secrets.FileCA))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	httpc := func(certDir, role string) *http.Client {
		tc := &tls.Config{RootCAs: roots}
		if certDir != "" {
			c, err := tls.LoadX509KeyPair(filepath.Join(certDir, secrets.CertFile(role)), filepath.Join(certDir, secrets.KeyFile(role)))
			if err != nil {
				t.Fatal(err)
			}
			// Sent whatever CAs the server names, as curl does.
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	}
	token := func(role string) string {
		b, err := os.ReadFile(filepath.Join(sdir, secrets.TokenFile(role)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	for _, c := range []struct {
		name, method, path, auth string
		client                   *http.Client
		want                     int
	}{
		{"health, no credential", "GET", "/healthz", "", httpc("", ""), 200},
		{"readiness, no credential", "GET", "/readyz", "", httpc("", ""), 200},
		{"console, no credential", "GET", "/", "", httpc("", ""), 401},
		{"status, no credential", "GET", "/v1/status", "", httpc("", ""), 401},
		{"console, a made-up token", "GET", "/", "Bearer " + strings.Repeat("A", 43), httpc("", ""), 401},
		{"console, another cluster's token", "GET", "/", "Bearer " + readTrim(t, filepath.Join(other, "admin.token")), httpc("", ""), 401},
		{"console, viewer token", "GET", "/datasets", "Bearer " + token("viewer"), httpc("", ""), 200},
		{"status, viewer token as a browser sends it", "GET", "/v1/status", "basic:" + token("viewer"), httpc("", ""), 200},
		{"a write, viewer token", "POST", "/datasets", "Bearer " + token("viewer"), httpc("", ""), 403},
		{"console, analyst certificate", "GET", "/jobs", "", httpc(sdir, "analyst"), 200},
		{"console, worker certificate", "GET", "/jobs", "", httpc(sdir, "worker"), 403},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		if a, ok := strings.CutPrefix(c.auth, "basic:"); ok {
			req.SetBasicAuth("viewer", a)
		} else if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %s %s answered %d, want %d: %s", c.name, c.method, c.path, resp.StatusCode, c.want, body)
		}
		noSecret(t, c.name+": the answer", string(body), secretsAll)
	}
	// A client certificate of another CA fails the handshake.
	if _, err := httpc(other, "admin").Get(base + "/"); err == nil || !strings.Contains(err.Error(), "tls: unknown certificate authority") {
		t.Errorf("another CA's certificate: %v, want a TLS refusal", err)
	}
	// A rotation reaches the running listener: both generations' tokens
	// during the overlap, only the new one after --finish.
	get := func(tok string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/datasets", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := httpc("", "").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	old := token("viewer")
	for _, args := range [][]string{{"rotate", sdir, "--overlap", "1h"}, {"rotate", sdir, "--finish", "--force"}} {
		if out, err := exec.Command(bin, append([]string{"secrets"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("secrets %v: %v\n%s", args, err, out)
		}
		wantOld := 200
		if args[len(args)-1] == "--force" {
			wantOld = 401
		}
		if got, gotNew := get(old), get(token("viewer")); got != wantOld || gotNew != 200 {
			t.Errorf("after secrets %v: the old token answered %d (want %d), the new %d", args, got, wantOld, gotNew)
		}
	}
	// Plain HTTP gets no page.
	plain := strings.Replace(base, "https://", "http://", 1)
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(plain + "/datasets"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served a page")
		}
	}
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
