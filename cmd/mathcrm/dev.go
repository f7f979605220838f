package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/mathcrm/mathcrm/internal/devcluster"
	"github.com/spf13/cobra"
)

func newDev() *cobra.Command {
	var cfg devcluster.Config
	var httpListen string
	cmd := &cobra.Command{
		Use:   "dev --data-dir DIR [--workers N] [--nats-listen HOST:PORT] [--http-listen HOST:PORT]",
		Short: "Run a whole cluster in one process: NATS with JetStream, a raft coordinator, N workers",
		Long: `dev runs an embedded nats-server (JetStream stored in DIR), one raft coordinator
(durable log and snapshots in DIR) and N workers in one process, over real NATS
on loopback. Stop it with Ctrl-C or SIGTERM (a second one ends it at once);
start it again on the same DIR and every dataset, job and model is still there.
It prints the NATS URL for the client commands and writes it to DIR/nats.url.
One process at a time holds DIR: a second dev on it fails at once, naming the
first.`,
		Example: `  mathcrm dev --data-dir /tmp/mathcrm --workers 4
  export MATHCRM_NATS_URL=nats://127.0.0.1:4222
  mathcrm dataset list`,
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
				if hs, err = serveHTTP(ln, c.Coord, c.URL); err != nil {
					c.Close()
					return err
				}
				defer hs.Close()
			}
			fmt.Printf("mathcrm dev: NATS %s, coordinator %s (raft %s), %d workers, data in %s\n",
				c.URL, "dev", c.Coord.RaftAddr(), cfg.Workers, cfg.DataDir)
			if hs != nil {
				fmt.Printf("mathcrm dev: HTTP http://%s (console /, /healthz, /readyz, /v1/status)\n", hs.Addr())
			}
			fmt.Printf("export MATHCRM_NATS_URL=%s\n", c.URL)
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
	f.StringVar(&httpListen, "http-listen", "", "HTTP listen address for health and status (off when empty)")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", 10*time.Second, "how long the workers may finish their steps on Ctrl-C or SIGTERM")
	return cmd
}
