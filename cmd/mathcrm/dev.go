package main

import (
	"fmt"
	"os"
	"path/filepath"

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
on loopback. Stop it with Ctrl-C; start it again on the same DIR and every
dataset, job and model is still there. It prints the NATS URL for the client
commands and writes it to DIR/nats.url.`,
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
			ctx, cancel := signalCtx()
			defer cancel()
			cfg.Logger = logger()
			c, err := devcluster.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = os.WriteFile(filepath.Join(cfg.DataDir, "nats.url"), []byte(c.URL+"\n"), 0o644)
			var hs *httpServer
			if httpListen != "" {
				if hs, err = startHTTP(httpListen, c.Coord, c.URL); err != nil {
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
			fmt.Println("mathcrm dev: stopping")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "", "directory for NATS JetStream and raft data (required)")
	f.IntVar(&cfg.Workers, "workers", 2, "number of workers")
	f.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:4222", "NATS listen address; port 0 picks a free one")
	f.StringVar(&httpListen, "http-listen", "", "HTTP listen address for health and status (off when empty)")
	return cmd
}
