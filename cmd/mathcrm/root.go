package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// exitCode is an error that asks for a particular process exit code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

const (
	exitJobNotSucceeded exitCode = 3
)

type globals struct {
	natsURL string
	output  string
	timeout time.Duration
	verbose bool
}

var g globals

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mathcrm",
		Short: "Customer segments, recommendations, value and churn models on a cluster",
		Long: `mathcrm turns customer tables into the models an analytical CRM acts on.
It talks to a cluster over NATS: set --nats or MATHCRM_NATS_URL, and for a
secured cluster the role's credentials: --creds or MATHCRM_CREDS (the nkey
seed file from mathcrm secrets init) and --ca or MATHCRM_CA.

Start a whole cluster in one process with:
  mathcrm dev --data-dir /tmp/mathcrm`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "table" && g.output != "json" {
				return fmt.Errorf("--output must be table or json, not %q", g.output)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.natsURL, "nats", envOr("MATHCRM_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL of the cluster (env MATHCRM_NATS_URL)")
	pf.StringVarP(&g.output, "output", "o", envOr("MATHCRM_OUTPUT", "table"), "output format: table or json")
	pf.DurationVar(&g.timeout, "timeout", 2*time.Minute, "how long to wait for the cluster to answer")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "log more")
	addCredFlags(root)
	root.AddCommand(newDev(), newNATS(), newCoordinatorCmd(), newWorkerCmd(), newCluster(), newDataset(), newFeatures(), newTrain(), newJob(), newModel(), newRecommend(), newScore(), newScores(), newReport())
	root.AddCommand(newSimilar())
	root.AddCommand(newSchedule())
	root.AddCommand(newGC(), newCustomer())
	root.AddCommand(newSegments())
	root.AddCommand(newSecrets())
	root.AddCommand(newBackup(), newRestore())
	return root
}

func logger() *slog.Logger {
	level := slog.LevelWarn
	if g.verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// callCtx bounds one client command's wait for the cluster.
func callCtx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), g.timeout)
}

// signalCtx ends on SIGINT or SIGTERM.
func signalCtx() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func jsonOut() bool { return g.output == "json" }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// isTerminal reports whether f is a terminal (for progress bars).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
