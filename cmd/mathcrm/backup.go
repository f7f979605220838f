package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/describe"
	"github.com/spf13/cobra"
)

func newBackup() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write the cluster's state and every blob it names to one checksummed archive",
		Long: `backup asks the leader for its state (the datasets and their versions, jobs and
their history, models, score sets, schedules and their runs, retention and
erasure records: what a raft snapshot holds) and copies every blob that state
names from the object store — shards, model blobs, score shards, the states
of running jobs — into one tar file, each verified against its checksum and
listed in SHA256SUMS. The file appears whole or not at all.

Blobs deleted while the backup runs (a delete followed by a collection) fail
it, naming the blob; run it again. It needs the admin role.`,
		Example: `  mathcrm backup --out /var/backups/mathcrm-$(date +%F).tar
  mathcrm restore /var/backups/mathcrm-2026-12-07.tar     # into a new, empty cluster`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out FILE is required")
			}
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("--out %s exists; pass --force to replace it", out)
			}
			if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
				return fmt.Errorf("--out %s: directory %s does not exist", out, filepath.Dir(out))
			}
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := signalCtx() // a large backup takes longer than --timeout
			defer cancel()
			rep, err := c.Backup(ctx, out, backupSay)
			if err != nil {
				return err
			}
			return printBackup(rep, "wrote")
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "archive to write (a tar file)")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	return cmd
}

func newRestore() *cobra.Command {
	var verify bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Bring a new, empty cluster back to the state of a backup",
		Long: `restore reads the whole archive first and checks every checksum; a damaged or
truncated archive is refused, naming the entry, before anything is written.
The cluster must be empty (no datasets, jobs, models, score sets or
schedules) and may have any number of coordinators and workers. restore
stores every blob (skipping those already stored intact, so an interrupted
restore can run again) and the leader then commits the backup's state in one
raft entry, after checking every blob: the cluster holds either nothing or the
whole backup. Jobs that were running resume from their last committed pass.
It needs the admin role. --verify only checks the archive.`,
		Example: `  mathcrm restore /var/backups/mathcrm-2026-12-07.tar
  mathcrm restore --verify /var/backups/mathcrm-2026-12-07.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if verify {
				m, _, err := client.VerifyArchive(args[0])
				if err != nil {
					return err
				}
				return printBackup(&client.BackupReport{File: args[0], Index: m.Index, Counts: m.Counts}, "verified")
			}
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := signalCtx()
			defer cancel()
			rep, err := c.Restore(ctx, args[0], backupSay)
			if err != nil {
				return err
			}
			return printBackup(rep, "restored")
		},
	}
	cmd.Flags().BoolVar(&verify, "verify", false, "only check the archive; touch no cluster")
	return cmd
}

func backupSay(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func printBackup(rep *client.BackupReport, verb string) error {
	if jsonOut() {
		return printJSON(os.Stdout, rep)
	}
	n := rep.Counts
	fmt.Printf("%s %s: %d datasets (%d versions), %d models, %d score sets, %d jobs, %d schedules; %d blobs, %s\n",
		verb, rep.File, n.Datasets, n.Versions, n.Models, n.ScoreSets, n.Jobs, n.Schedules, n.Blobs, describe.Bytes(n.Bytes))
	return nil
}
