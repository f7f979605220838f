package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/proto"
)

// workerCacheBytes is the bench's workers' shard cache budget, large
// enough for every block's data.
const workerCacheBytes = 8 << 30

// workerProcs are worker processes of the benchmark cluster, so that each
// worker's peak resident memory can be read on its own.
type workerProcs struct {
	cmds []*exec.Cmd
}

// startWorkers starts n `mathcrm worker` processes against url and waits
// until the leader sees them.
func startWorkers(ctx context.Context, cl *client.Client, bin, url string, n int, cacheBytes int64) (*workerProcs, error) {
	wp := &workerProcs{}
	for i := range n {
		cmd := exec.Command(bin, "worker", "--nats", url, "--id", fmt.Sprintf("bench-w%d", i),
			"--cache-bytes", strconv.FormatInt(cacheBytes, 10))
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			wp.stop()
			return nil, err
		}
		wp.cmds = append(wp.cmds, cmd)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var st proto.ClusterStatus
		if err := cl.Call(ctx, proto.APIClusterStatus, nil, &st); err == nil && len(st.Workers) >= n {
			return wp, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	wp.stop()
	return nil, fmt.Errorf("the %d worker processes did not join", n)
}

func (wp *workerProcs) stop() {
	for _, c := range wp.cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range wp.cmds {
		_ = c.Wait()
	}
}

// resetPeaks starts a new peak resident memory measurement in every worker
// (Linux: writing 5 to clear_refs resets VmHWM).
func (wp *workerProcs) resetPeaks() {
	if wp == nil {
		return
	}
	for _, c := range wp.cmds {
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.Process.Pid), []byte("5"), 0)
	}
}

// peaks returns each worker's peak resident memory since the last reset, MiB.
func (wp *workerProcs) peaks() []float64 {
	if wp == nil {
		return nil
	}
	out := make([]float64, 0, len(wp.cmds))
	for _, c := range wp.cmds {
		out = append(out, procPeakRSS(c.Process.Pid))
	}
	return out
}

func procPeakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return round(kb/1024, 1)
		}
	}
	return 0
}
