package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/coordinator"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/mathcrm/mathcrm/internal/store"
	"github.com/mathcrm/mathcrm/worker"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
)

// connectRole connects a coordinator or worker process to NATS and the
// object store; a signal (ctx) ends the wait.
func connectRole(ctx context.Context, s *creds.Set, name string) (*nats.Conn, *store.Store, error) {
	nc, err := s.Connect(g.natsURL, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, nc, 1)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, st, nil
}

// stopWithin runs stop and waits at most d for it: a process asked to end
// ends, even when something it waits for does not answer.
func stopWithin(what string, d time.Duration, stop func() error) error {
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("%s: did not stop within %v; exiting anyway", what, d)
	}
}

// startInterrupted reports whether a start failed because a signal came.
func startInterrupted(ctx context.Context, role string) bool {
	if ctx.Err() == nil {
		return false
	}
	fmt.Printf("mathcrm %s: stopped while starting\n", role)
	return true
}

func newCoordinatorCmd() *cobra.Command {
	cfg := coordinator.DefaultConfig()
	var httpListen string
	var stopTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "coordinator --id ID --raft-addr HOST:PORT --data-dir DIR [--bootstrap | --join ADDR]",
		Short: "Run a coordinator (a raft voter that holds the cluster state and drives jobs)",
		Example: `  mathcrm coordinator --id c1 --raft-addr 10.0.0.1:7000 --data-dir /var/lib/mathcrm --nats nats://10.0.0.9:4222 --bootstrap
  mathcrm coordinator --id c2 --raft-addr 10.0.0.2:7000 --data-dir /var/lib/mathcrm --nats nats://10.0.0.9:4222 --join 10.0.0.1:7000
  # secured (mathcrm secrets init): raft over mutual TLS, HTTPS with tokens
  MATHCRM_CREDS=/etc/mathcrm/secrets/coordinator.nk mathcrm coordinator --id c1 --raft-addr 10.0.0.1:7000 \
      --data-dir /var/lib/mathcrm --nats tls://10.0.0.9:4222 --bootstrap --http-listen 10.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stopTimeout <= 0 {
				return fmt.Errorf("--stop-timeout must be positive, not %v", stopTimeout)
			}
			s, err := loadCreds()
			if err != nil {
				return err
			}
			if err := needRole(s, secrets.RoleCoordinator); err != nil {
				return err
			}
			var auth *console.Auth
			if s.Certificate() != nil {
				if cfg.RaftServerTLS, cfg.RaftClientTLS, err = s.Mutual(secrets.RoleCoordinator); err != nil {
					return err
				}
				if httpListen != "" {
					if auth, err = httpAuth(s, httpTokens); err != nil {
						return err
					}
				}
			}
			// A bad flag fails before NATS is waited for.
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signalCtx()
			defer stop()
			var ln net.Listener
			if httpListen != "" {
				if ln, err = listenHTTP("coordinator", httpListen); err != nil {
					return err
				}
				defer ln.Close()
			}
			nc, st, err := connectRole(ctx, s, "mathcrm-coordinator-"+cfg.ID)
			if err != nil {
				if startInterrupted(ctx, "coordinator") {
					return nil
				}
				return err
			}
			defer nc.Close()
			cfg.Logger = logger()
			c, err := coordinator.New(cfg, nc, st)
			if err != nil {
				return err
			}
			if ln != nil {
				hs, err := serveHTTP(ln, c, g.natsURL, s, auth)
				if err != nil {
					c.Close()
					return err
				}
				defer hs.Close()
			}
			fmt.Printf("mathcrm coordinator %s: raft %s, NATS %s\n", cfg.ID, c.RaftAddr(), g.natsURL)
			<-ctx.Done()
			stop() // a second signal ends the process at once
			return stopWithin("coordinator", stopTimeout, c.Close)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ID, "id", envOr("MATHCRM_COORDINATOR_ID", cfg.ID), "raft server id")
	f.StringVar(&cfg.RaftAddr, "raft-addr", cfg.RaftAddr, "raft TCP listen address")
	f.StringVar(&cfg.RaftAdvertise, "raft-advertise", envOr("MATHCRM_RAFT_ADVERTISE", ""), "address the other voters reach this one at, HOST:PORT, when not --raft-addr: a stable DNS name (a StatefulSet pod's), resolved at every dial; the coordinator certificate must name it")
	f.StringVar(&cfg.DataDir, "data-dir", "", "directory for the raft log and snapshots (required)")
	f.BoolVar(&cfg.Bootstrap, "bootstrap", false, "start a new cluster with this node as its first voter (ignored when state exists)")
	f.StringVar(&cfg.Join, "join", "", "join an existing cluster: ask its leader (over NATS) to add this node as a voter; ADDR is an existing voter's raft address")
	f.DurationVar(&cfg.RaftHeartbeatTimeout, "raft-heartbeat-timeout", 0, "raft heartbeat timeout (default 1s)")
	f.DurationVar(&cfg.RaftElectionTimeout, "raft-election-timeout", 0, "raft election timeout (default 1s)")
	f.DurationVar(&cfg.HeartbeatTTL, "heartbeat-ttl", cfg.HeartbeatTTL, "how long a silent worker counts as alive")
	f.DurationVar(&cfg.StepTimeout, "step-timeout", cfg.StepTimeout, "how long one step may take before it is sent elsewhere")
	f.DurationVar(&cfg.GCGrace, "gc-grace", cfg.GCGrace, "how old a blob nothing refers to must be before the leader collects it")
	f.StringVar(&httpListen, "http-listen", "", "HTTP listen address for health and status (off when empty); HTTPS with --creds")
	f.StringVar(&httpTokens, "http-tokens", "", "the HTTP bearer tokens' hashes (default tokens.json beside --creds; env "+envHTTPTokens+")")
	f.DurationVar(&stopTimeout, "stop-timeout", 30*time.Second, "how long the jobs this coordinator drives may take to stop on SIGTERM")
	f.Var(activeJobsFlag{cfg.ActiveJobs}, "max-active-jobs", "bound on each role's queued and running jobs, role=N,... over the defaults (a schedule's runs count for no role)")
	scheduleFlags(cmd, &cfg)
	return cmd
}

func newWorkerCmd() *cobra.Command {
	cfg := worker.DefaultConfig()
	var memLimit int64
	var drainTimeout time.Duration
	var httpListen string
	cmd := &cobra.Command{
		Use:   "worker [--id ID] [--capacity N] [--cache-bytes B] [--http-listen HOST:PORT]",
		Short: "Run a worker; SIGTERM drains it (finishes its steps, hands back its shards) and exits 0",
		Example: `  mathcrm worker --nats nats://10.0.0.9:4222 --capacity 8 --cache-bytes 8589934592
  MATHCRM_CREDS=/etc/mathcrm/secrets/worker.nk mathcrm worker --nats tls://10.0.0.9:4222
  mathcrm worker drain dev-w2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if drainTimeout <= 0 {
				return fmt.Errorf("--drain-timeout must be positive, not %v", drainTimeout)
			}
			s, err := loadCreds()
			if err != nil {
				return err
			}
			if err := needRole(s, secrets.RoleWorker); err != nil {
				return err
			}
			// A worker's own credential takes only its id's steps.
			if id, own := strings.CutPrefix(s.Role(), secrets.RoleWorker+"-"); own {
				if !cmd.Flags().Changed("id") && os.Getenv("MATHCRM_WORKER_ID") == "" {
					cfg.ID = id
				} else if cfg.ID != id {
					return fmt.Errorf("--id %s: the credentials are worker %s's, good for its steps only", cfg.ID, id)
				}
			}
			if httpListen != "" {
				ln, err := listenHTTP("worker", httpListen)
				if err != nil {
					return err
				}
				defer serveWorkerHTTP(ln).Close()
			}
			ctx, stop := signalCtx()
			defer stop()
			nc, st, err := connectRole(ctx, s, "mathcrm-worker-"+cfg.ID)
			if err != nil {
				if startInterrupted(ctx, "worker") {
					return nil
				}
				return err
			}
			defer nc.Close()
			cfg.Logger = logger()
			// A worker's live memory is its cache plus its steps in flight; a
			// soft limit just above that keeps the collector from letting
			// the heap grow to twice the cache.
			if os.Getenv("GOMEMLIMIT") == "" {
				if memLimit == 0 {
					memLimit = cfg.CacheBytes + 256<<20
				}
				debug.SetMemoryLimit(memLimit)
			}
			w, err := worker.New(cfg, nc, st)
			if err != nil {
				return err
			}
			fmt.Printf("mathcrm worker %s: capacity %d, cache %d bytes, NATS %s\n", cfg.ID, cfg.Capacity, cfg.CacheBytes, g.natsURL)
			select {
			case <-ctx.Done():
				stop() // a second signal ends the process at once
				dctx, dcancel := context.WithTimeout(context.Background(), drainTimeout)
				defer dcancel()
				if err := w.Drain(dctx); err != nil {
					return fmt.Errorf("worker %s: steps still running after --drain-timeout %v were abandoned: %w", cfg.ID, drainTimeout, err)
				}
				return nil
			case <-w.Drained():
				return nil
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ID, "id", envOr("MATHCRM_WORKER_ID", cfg.ID), "worker id (default host-pid)")
	f.IntVar(&cfg.Capacity, "capacity", cfg.Capacity, "steps run at once")
	f.Int64Var(&cfg.CacheBytes, "cache-bytes", cfg.CacheBytes, "shard cache budget in bytes")
	f.Int64Var(&memLimit, "memory-limit", 0, "soft limit of the process's Go memory in bytes (default the cache budget plus 256 MiB; GOMEMLIMIT wins)")
	f.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "heartbeat interval")
	f.DurationVar(&drainTimeout, "drain-timeout", 5*time.Minute, "how long the steps in flight may finish on SIGTERM before the worker exits anyway")
	f.StringVar(&httpListen, "http-listen", "", "HTTP listen address for /metrics and /healthz (off when empty)")
	cmd.AddCommand(&cobra.Command{
		Use:     "drain ID",
		Short:   "Ask a worker to finish its steps, give up its shards and exit",
		Example: "  mathcrm worker drain dev-w2",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := callCtx(cmd)
			defer cancel()
			msg, err := c.Request(ctx, proto.WorkerControlSubject(args[0]), []byte("drain"))
			if err != nil {
				return fmt.Errorf("worker %s: %w", args[0], err)
			}
			fmt.Fprintln(os.Stdout, string(msg.Data))
			return nil
		},
	})
	return cmd
}

// activeJobsFlag is --max-active-jobs: role=N pairs over the defaults.
type activeJobsFlag struct{ m map[string]int }

func (f activeJobsFlag) String() string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(f.m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", r, f.m[r]))
	}
	return strings.Join(parts, ",")
}

func (f activeJobsFlag) Set(s string) error { return coordinator.ParseActiveJobs(s, f.m) }
func (activeJobsFlag) Type() string         { return "role=N,..." }
