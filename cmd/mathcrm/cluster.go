package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/natsembed"
	"github.com/mathcrm/mathcrm/internal/proto"
	"github.com/spf13/cobra"
)

func newCluster() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Inspect the cluster and change its raft voters"}
	cmd.AddCommand(&cobra.Command{
		Use:     "status",
		Short:   "Show the leader, the voters (state, term, last contact) and the live workers",
		Example: "  mathcrm cluster status\n  mathcrm cluster status --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				var st proto.ClusterStatus
				if err := c.Call(ctx, proto.APIClusterStatus, nil, &st); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, clusterStatusJSON(&st))
				}
				printClusterStatus(&st)
				return nil
			})
		},
	})
	cmd.AddCommand(voterCmd("add-voter ID ADDR", "Add a coordinator as a raft voter", proto.APIAddVoter, 2,
		"  mathcrm cluster add-voter c4 10.0.0.4:7000"))
	cmd.AddCommand(voterCmd("remove-voter ID", "Remove a raft voter", proto.APIRemoveVoter, 1,
		"  mathcrm cluster remove-voter c3"))
	return cmd
}

func voterCmd(use, short, api string, nargs int, example string) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Example: example, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				v := proto.VoterChange{ID: args[0]}
				if nargs > 1 {
					v.Address = args[1]
				}
				var st proto.ClusterStatus
				if err := c.Call(ctx, api, v, &st); err != nil {
					return err
				}
				if jsonOut() {
					return printJSON(os.Stdout, clusterStatusJSON(&st))
				}
				printClusterStatus(&st)
				return nil
			})
		},
	}
}

// voterJSON is a voter as --output json prints it: raft reports its term
// and commit index as text, and JSON numbers are numbers.
type voterJSON struct {
	proto.Voter
	Term        *uint64 `json:"term,omitempty"`
	CommitIndex *uint64 `json:"commit_index,omitempty"`
}

func clusterStatusJSON(st *proto.ClusterStatus) any {
	num := func(s string) *uint64 {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return &n
		}
		return nil
	}
	voters := make([]voterJSON, len(st.Voters))
	for i, v := range st.Voters {
		voters[i] = voterJSON{Voter: v, Term: num(v.Term), CommitIndex: num(v.CommitIndex)}
	}
	return struct {
		Leader  string             `json:"leader"`
		Voters  []voterJSON        `json:"voters"`
		Workers []proto.WorkerInfo `json:"workers"`
	}{st.Leader, voters, st.Workers}
}

func printClusterStatus(st *proto.ClusterStatus) {
	fmt.Printf("leader %s\n\n", dash(st.Leader))
	tw := table(os.Stdout)
	fmt.Fprintln(tw, "VOTER\tADDRESS\tSTATE\tTERM\tCOMMIT\tLAST CONTACT")
	for _, v := range st.Voters {
		state, contact := v.State, fmt.Sprintf("%.2fs", v.LastContact)
		if !v.Reachable {
			state, contact = "unreachable", "-"
		}
		if v.Leader {
			contact = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Address, state, dash(v.Term), dash(v.CommitIndex), contact)
	}
	tw.Flush()
	fmt.Println()
	tw = table(os.Stdout)
	fmt.Fprintln(tw, "WORKER\tHOST\tPID\tCAPACITY\tKERNELS\tSHARDS CACHED\tCACHE BYTES\tHEARTBEAT AGE")
	for _, w := range st.Workers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%d\t%.1fs\n", w.ID, w.Host, w.PID, w.Capacity, dash(w.Kernels), w.Shards, w.CacheBytes, w.HeartbeatAge)
	}
	tw.Flush()
}

func newNATS() *cobra.Command {
	var listen, dir, conf string
	cmd := &cobra.Command{
		Use:   "nats --listen HOST:PORT --data-dir DIR | --config FILE",
		Short: "Run the embedded nats-server alone, with JetStream stored in DIR",
		Long: `nats runs the embedded nats-server with JetStream. With --config it runs a
nats-server configuration, such as the nats.conf mathcrm secrets init writes
(TLS with client certificates, one user per role); --listen and --data-dir,
when given, replace its host, port and store_dir.`,
		Example: `  mathcrm nats --listen 127.0.0.1:4222 --data-dir /var/lib/mathcrm/nats
  mathcrm nats --config /etc/mathcrm/secrets/nats.conf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := natsembed.Options{Name: "mathcrm-nats", ConfigFile: conf}
			if dir != "" {
				o.StoreDir = filepath.Join(dir, "jetstream")
			}
			if conf == "" || cmd.Flags().Changed("listen") {
				o.Listen = listen
			}
			if conf == "" && dir == "" {
				return fmt.Errorf("--data-dir or --config is required")
			}
			if conf != "" {
				if _, err := os.Stat(conf); err != nil {
					return fmt.Errorf("--config: %w", err)
				}
			}
			ctx, stop := signalCtx()
			defer stop()
			s, err := natsembed.Start(o)
			if err != nil {
				return err
			}
			fmt.Printf("mathcrm nats: %s (JetStream in %s)\n", s.ClientURL(), s.JetStreamConfig().StoreDir)
			<-ctx.Done()
			stop() // a second signal ends the process at once
			return stopWithin("nats", 10*time.Second, func() error { s.Shutdown(); return nil })
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4222", "listen address; port 0 picks a free one")
	cmd.Flags().StringVar(&dir, "data-dir", "", "directory for JetStream data (required without --config)")
	cmd.Flags().StringVar(&conf, "config", "", "nats-server configuration file, e.g. the nats.conf of mathcrm secrets init")
	return cmd
}
