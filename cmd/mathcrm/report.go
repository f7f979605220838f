package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/spf13/cobra"
)

func newReport() *cobra.Command {
	var model, out string
	cmd := &cobra.Command{
		Use:   "report --model M --out FILE.html",
		Short: "Write a model's page as one self-contained HTML file, for people without cluster access",
		Long: `report writes the console's page of a model — its figures, tables and charts —
as one HTML file with its style and charts (SVG) inline, no script and no link
to the cluster or the network: it opens anywhere, offline, and can be e-mailed.`,
		Example: `  mathcrm report --model model-1 --out segments.html`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := getModel(ctx, c, model)
				if err != nil {
					return err
				}
				b, err := console.Report(d, time.Now().UTC())
				if err != nil {
					return fmt.Errorf("model %s: %w", model, err)
				}
				if err := writeOut(out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
					return err
				}
				if out != "" && out != "-" {
					fmt.Fprintf(os.Stderr, "wrote %s (%d bytes)\n", out, len(b))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model id (required)")
	cmd.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}
