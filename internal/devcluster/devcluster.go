// Package devcluster runs a whole mathcrm cluster in one process: an embedded
// nats-server with JetStream, one raft coordinator and N workers, each with
// its own NATS connection, over real NATS on loopback — the same code paths
// as a cluster of separate processes.
package devcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/inuse"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
)

// Config configures a dev cluster.
type Config struct {
	DataDir    string
	Workers    int
	NATSListen string // HOST:PORT, port 0 picks one
	// DrainTimeout bounds how long Close lets the workers finish their
	// steps (default 10s).
	DrainTimeout time.Duration
	// Secrets is a directory mathcrm secrets init wrote: NATS runs its
	// nats.conf (TLS, one user per role), the coordinator and workers
	// connect with their roles' credentials and raft runs over mutual TLS.
	// Empty runs everything open, on loopback.
	Secrets string
	// Coordinator and Worker adjust the component configurations.
	Coordinator func(*coordinator.Config)
	Worker      func(*worker.Config)
	Logger      *slog.Logger
}

// Cluster is a running dev cluster.
type Cluster struct {
	URL   string
	Coord *coordinator.Coordinator
	cfg   Config
	ns    *natsembed.Server
	lock  *inuse.Lock
	coord *creds.Set // nil without Secrets
	work  *creds.Set
	nc    *nats.Conn
	store *store.Store

	mu      sync.Mutex
	workers []*devWorker
	next    int
}

type devWorker struct {
	w  *worker.Worker
	nc *nats.Conn
}

// Start starts NATS, the coordinator and the workers in cfg.DataDir.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NATSListen == "" {
		cfg.NATSListen = "127.0.0.1:4222"
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	var coord, work *creds.Set
	nopts := natsembed.Options{Listen: cfg.NATSListen, StoreDir: filepath.Join(cfg.DataDir, "nats"), Name: "mathcrm-dev"}
	if cfg.Secrets != "" {
		if _, err := secrets.ReadManifest(cfg.Secrets); err != nil {
			return nil, fmt.Errorf("dev: --secrets: %w", err)
		}
		var err error
		if coord, err = creds.Load(creds.Secrets(cfg.Secrets, secrets.RoleCoordinator)); err != nil {
			return nil, fmt.Errorf("dev: %w", err)
		}
		if work, err = creds.Load(creds.Secrets(cfg.Secrets, secrets.RoleWorker)); err != nil {
			return nil, fmt.Errorf("dev: %w", err)
		}
		nopts.ConfigFile = filepath.Join(cfg.Secrets, secrets.FileConf)
	}
	// The whole directory first: a second dev on it is told who has it
	// before it touches NATS or raft data.
	lock, err := inuse.LockDir("dev: data directory", cfg.DataDir)
	if err != nil {
		return nil, err
	}
	ns, err := natsembed.Start(nopts)
	if err != nil {
		lock.Close()
		return nil, err
	}
	c := &Cluster{cfg: cfg, ns: ns, lock: lock, URL: ns.ClientURL(), coord: coord, work: work}
	if err := c.start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	var err error
	if c.nc, err = c.coord.Connect(c.URL, nats.Name("mathcrm-dev-coordinator")); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if c.store, err = store.Open(ctx, c.nc, 1); err != nil {
		return err
	}
	ccfg := coordinator.DefaultConfig()
	ccfg.ID, ccfg.DataDir, ccfg.Bootstrap, ccfg.Logger = "dev", c.cfg.DataDir, true, c.cfg.Logger
	ccfg.RaftAddr = raftAddr(c.cfg.DataDir)
	if c.coord != nil {
		if ccfg.RaftServerTLS, ccfg.RaftClientTLS, err = c.coord.Mutual(secrets.RoleCoordinator); err != nil {
			return fmt.Errorf("dev: %w", err)
		}
	}
	if c.cfg.Coordinator != nil {
		c.cfg.Coordinator(&ccfg)
	}
	if c.Coord, err = coordinator.New(ccfg, c.nc, c.store); err != nil {
		return err
	}
	// A single voter keeps its address across restarts, so keep the port.
	_ = os.WriteFile(filepath.Join(c.cfg.DataDir, "raft-addr"), []byte(c.Coord.RaftAddr()), 0o644)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Coord.WaitLeader(wctx); err != nil {
		return err
	}
	for i := 0; i < c.cfg.Workers; i++ {
		if _, err := c.AddWorker(ctx); err != nil {
			return err
		}
	}
	return nil
}

func raftAddr(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, "raft-addr")); err == nil {
		if a := strings.TrimSpace(string(b)); a != "" {
			return a
		}
	}
	return "127.0.0.1:0"
}

// Creds are the coordinator's loaded credentials, nil without Secrets.
func (c *Cluster) Creds() *creds.Set { return c.coord }

// AddWorker starts one more worker with its own NATS connection.
func (c *Cluster) AddWorker(ctx context.Context) (string, error) {
	c.mu.Lock()
	c.next++
	id := fmt.Sprintf("dev-w%d", c.next)
	c.mu.Unlock()
	nc, err := c.work.Connect(c.URL, nats.Name("mathcrm-dev-"+id))
	if err != nil {
		return "", fmt.Errorf("dev: %w", err)
	}
	st, err := store.Open(ctx, nc, 1)
	if err != nil {
		nc.Close()
		return "", err
	}
	wcfg := worker.DefaultConfig()
	wcfg.ID, wcfg.Logger = id, c.cfg.Logger
	wcfg.Capacity = max(1, wcfg.Capacity/max(1, c.cfg.Workers))
	if c.cfg.Worker != nil {
		c.cfg.Worker(&wcfg)
	}
	w, err := worker.New(wcfg, nc, st)
	if err != nil {
		nc.Close()
		return "", err
	}
	c.mu.Lock()
	c.workers = append(c.workers, &devWorker{w: w, nc: nc})
	c.mu.Unlock()
	return id, nil
}

// KillWorker drops a worker's connection without a goodbye, as a crash would.
func (c *Cluster) KillWorker(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, dw := range c.workers {
		if dw.w.ID() == id {
			dw.nc.Close()
			dw.w.Close()
			c.workers = append(c.workers[:i], c.workers[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("dev: no worker %q", id)
}

// Workers lists the worker ids.
func (c *Cluster) Workers() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.workers))
	for i, dw := range c.workers {
		out[i] = dw.w.ID()
	}
	return out
}

// Close drains the workers and stops everything; state stays in DataDir.
func (c *Cluster) Close() error {
	c.mu.Lock()
	ws := c.workers
	c.workers = nil
	c.mu.Unlock()
	// The workers drain side by side, all within one DrainTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, dw := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = dw.w.Drain(ctx)
			dw.nc.Close()
		}()
	}
	wg.Wait()
	var errs []error
	if c.Coord != nil {
		errs = append(errs, c.Coord.Close())
	}
	if c.nc != nil {
		c.nc.Close()
	}
	if c.ns != nil {
		c.ns.Shutdown()
	}
	errs = append(errs, c.lock.Close())
	return errors.Join(errs...)
}
