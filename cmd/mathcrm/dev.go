package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/spf13/cobra"
)

func newDev() *cobra.Command {
	var cfg devcluster.Config
	var httpListen string
	cmd := &cobra.Command{
		Use:   "dev --data-dir DIR [--workers N] [--nats-listen HOST:PORT] [--http-listen HOST:PORT] [--secrets DIR]",
		Short: "Run a whole cluster in one process: NATS with JetStream, a raft coordinator, N workers",
		Long: `dev runs an embedded nats-server (JetStream stored in DIR), one raft coordinator
(durable log and snapshots in DIR) and N workers in one process, over real NATS
on loopback. Stop it with Ctrl-C or SIGTERM (a second one ends it at once);
start it again on the same DIR and every dataset, job and model is still there.
It prints the NATS URL for the client commands and writes it to DIR/nats.url.
One process at a time holds DIR: a second dev on it fails at once, naming the
first.
With --secrets (a directory mathcrm secrets init wrote) NATS runs the
generated nats.conf (TLS, a user per role), the coordinator and workers
connect in their roles, raft runs over mutual TLS and the HTTP listener
serves HTTPS to a token or client certificate; it prints what a client
command needs (MATHCRM_CA, MATHCRM_CREDS for the analyst role).`,
		Example: `  mathcrm dev --data-dir /tmp/mathcrm --workers 4
  export MATHCRM_NATS_URL=nats://127.0.0.1:4222
  mathcrm dataset list
  mathcrm secrets init /tmp/mathcrm-secrets && mathcrm dev --data-dir /tmp/mathcrm --secrets /tmp/mathcrm-secrets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.DataDir == "" {
				return fmt.Errorf("--data-dir is required")
			}
			if cfg.Workers < 1 {
				return fmt.Errorf("--workers must be at least 1")
			}
			if cfg.DrainTimeout <= 0 {
				return fmt.Errorf("--drain-timeout must be positive, not %v", cfg.DrainTimeout)
			}
			// Signals count from the start: one during startup stops the
			// start instead of being swallowed until it is done.
			ctx, stop := signalCtx()
			defer stop()
			var ln net.Listener
			if httpListen != "" {
				var err error
				if cfg.Secrets != "" {
					// The tokens before anything starts: a missing file
					// fails at once.
					if _, err := secrets.ReadTokens(filepath.Join(cfg.Secrets, secrets.FileTokens)); err != nil {
						return fmt.Errorf("dev: --secrets: %w", err)
					}
				}
				if ln, err = listenHTTP("dev", httpListen); err != nil {
					return err
				}
				defer ln.Close()
			}
			cfg.Logger = logger()
			c, err := devcluster.Start(ctx, cfg)
			if err != nil {
				if ctx.Err() != nil {
					fmt.Println("mathcrm dev: stopped while starting")
					return nil
				}
				return err
			}
			_ = os.WriteFile(filepath.Join(cfg.DataDir, "nats.url"), []byte(c.URL+"\n"), 0o644)
			var hs *httpServer
			if ln != nil {
				var auth *console.Auth
				if cfg.Secrets != "" {
					if auth, err = httpAuth(c.Creds(), filepath.Join(cfg.Secrets, secrets.FileTokens)); err != nil {
						c.Close()
						return err
					}
				}
				if hs, err = serveHTTP(ln, c.Coord, c.URL, c.Creds(), auth); err != nil {
					c.Close()
					return err
				}
				defer hs.Close()
			}
			fmt.Printf("mathcrm dev: NATS %s, coordinator %s (raft %s), %d workers, data in %s\n",
				c.URL, "dev", c.Coord.RaftAddr(), cfg.Workers, cfg.DataDir)
			if hs != nil {
				fmt.Printf("mathcrm dev: HTTP %s (console /, /healthz, /readyz, /v1/status)\n", hs.URL())
			}
			fmt.Printf("export MATHCRM_NATS_URL=%s\n", c.URL)
			if cfg.Secrets != "" {
				abs, _ := filepath.Abs(cfg.Secrets)
				fmt.Printf("export %s=%s\n", creds.EnvCA, filepath.Join(abs, secrets.FileCA))
				fmt.Printf("export %s=%s\n", creds.EnvCreds, filepath.Join(abs, secrets.CredsFile(secrets.RoleAnalyst)))
			}
			<-ctx.Done()
			stop() // a second signal ends the process at once
			fmt.Println("mathcrm dev: stopping")
			// The workers drain within DrainTimeout; the coordinator and NATS
			// then need moments, so a stuck close still ends the process.
			return stopWithin("dev", cfg.DrainTimeout+5*time.Second, c.Close)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "", "directory for NATS JetStream and raft data (required)")
	f.IntVar(&cfg.Workers, "workers", 2, "number of workers")
	f.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:4222", "NATS listen address; port 0 picks a free one")
	f.StringVar(&httpListen, "http-listen", "", "HTTP listen address for health and status (off when empty); HTTPS with --secrets")
	f.StringVar(&cfg.Secrets, "secrets", "", "a directory mathcrm secrets init wrote: TLS everywhere, and every process in its role")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", 10*time.Second, "how long the workers may finish their steps on Ctrl-C or SIGTERM")
	return cmd
}
