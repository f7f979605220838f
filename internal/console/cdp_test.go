package console_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cdp drives a headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on its fd 3, answers and events on
// its fd 4, each message a JSON object ended by a NUL byte).
type cdp struct {
	cmd     *exec.Cmd
	in      *os.File
	session string

	mu      sync.Mutex
	next    int
	waiting map[int]chan cdpMsg
	errors  []string // console errors and uncaught exceptions
	done    chan struct{}
}

type cdpMsg struct {
	ID        int                       `json:"id,omitempty"`
	Method    string                    `json:"method,omitempty"`
	Params    json.RawMessage           `json:"params,omitempty"`
	Result    json.RawMessage           `json:"result,omitempty"`
	Error     *struct{ Message string } `json:"error,omitempty"`
	SessionID string                    `json:"sessionId,omitempty"`
}

func startCDP(t *testing.T, bin string) *cdp {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	profile := browserProfile(t)
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--remote-debugging-pipe", "--user-data-dir="+profile, "about:blank")
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	c := &cdp{cmd: cmd, in: inW, waiting: map[int]chan cdpMsg{}, done: make(chan struct{})}
	go c.read(outR)
	t.Cleanup(func() {
		// Browser.close lets Chromium end its own helper processes; the
		// kill of its process group is for a browser that does not answer.
		b, _ := json.Marshal(map[string]any{"id": 1 << 30, "method": "Browser.close"})
		_, _ = inW.Write(append(b, 0))
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		inW.Close()
		outR.Close()
		<-c.done
	})
	var target struct{ TargetID string }
	c.call(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	c.call(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	c.session = att.SessionID
	c.call(t, c.session, "Runtime.enable", nil, nil)
	c.call(t, c.session, "Page.enable", nil, nil)
	c.call(t, c.session, "Network.enable", nil, nil)
	return c
}

func (c *cdp) read(r *os.File) {
	defer close(c.done)
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMsg
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		c.mu.Lock()
		switch {
		case m.ID != 0:
			if ch := c.waiting[m.ID]; ch != nil {
				ch <- m
				delete(c.waiting, m.ID)
			}
		case m.Method == "Runtime.exceptionThrown":
			c.errors = append(c.errors, "exception: "+string(m.Params))
		case m.Method == "Network.loadingFailed":
			var p struct {
				Canceled  bool
				ErrorText string
			}
			if json.Unmarshal(m.Params, &p) == nil && !p.Canceled {
				c.errors = append(c.errors, "failed request: "+p.ErrorText)
			}
		case m.Method == "Network.responseReceived":
			var p struct {
				Response struct {
					URL    string
					Status int
				}
			}
			if json.Unmarshal(m.Params, &p) == nil && p.Response.Status >= 400 {
				c.errors = append(c.errors, fmt.Sprintf("%s answered %d", p.Response.URL, p.Response.Status))
			}
		case m.Method == "Runtime.consoleAPICalled":
			var p struct{ Type string }
			if json.Unmarshal(m.Params, &p) == nil && p.Type == "error" {
				c.errors = append(c.errors, "console error: "+string(m.Params))
			}
		}
		c.mu.Unlock()
	}
}

// call sends one command and decodes its result into out.
func (c *cdp) call(t *testing.T, session, method string, params, out any) {
	t.Helper()
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMsg, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if params == nil {
		b, _ = json.Marshal(map[string]any{"id": id, "method": method, "sessionId": session})
	}
	if session == "" {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		delete(m, "sessionId")
		b, _ = json.Marshal(m)
	}
	if _, err := c.in.Write(append(b, 0)); err != nil {
		t.Fatalf("devtools %s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("devtools %s: %s", method, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				t.Fatalf("devtools %s: %v", method, err)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("devtools %s: no answer", method)
	}
}

// navigate loads url and waits for its load event to have fired.
func (c *cdp) navigate(t *testing.T, url string) {
	t.Helper()
	c.call(t, c.session, "Page.navigate", map[string]any{"url": url}, nil)
	deadline := time.Now().Add(30 * time.Second)
	for c.eval(t, "document.readyState") != "complete" || c.eval(t, "location.href") != url {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not load", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eval evaluates a JavaScript expression in the page and returns its
// value as text.
func (c *cdp) eval(t *testing.T, expr string) string {
	t.Helper()
	var res struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	c.call(t, c.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	return fmt.Sprint(res.Result.Value)
}

// screenshot writes a PNG of the whole page, 1200 pixels wide, to path.
func (c *cdp) screenshot(t *testing.T, path string) {
	t.Helper()
	var h float64
	if _, err := fmt.Sscan(c.eval(t, "document.documentElement.scrollHeight"), &h); err != nil || h < 1 {
		t.Fatalf("page height: %v", err)
	}
	var res struct {
		Data []byte `json:"data"` // base64 in the JSON
	}
	c.call(t, c.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": 1200, "height": h, "scale": 1}}, &res)
	if !bytes.HasPrefix(res.Data, []byte("\x89PNG")) {
		t.Fatalf("screenshot of %d bytes is no PNG", len(res.Data))
	}
	if err := os.WriteFile(path, res.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// reset forgets the errors seen so far.
func (c *cdp) reset() {
	c.mu.Lock()
	c.errors = nil
	c.mu.Unlock()
}

// consoleErrors returns the console errors and exceptions seen so far.
func (c *cdp) consoleErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errors...)
}

// browserProfile is a fresh Chromium profile directory, removed once the
// test's browsers are gone (a helper process may still be writing to it
// for a moment after the browser exits).
func browserProfile(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mathcrm-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	return dir
}
