package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/spf13/cobra"
)

func newSecrets() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Generate and rotate the cluster's CA, certificates, credentials and NATS configuration",
	}
	cmd.AddCommand(newSecretsInit(), newSecretsRotate(), newSecretsConf())
	return cmd
}

func newSecretsInit() *cobra.Command {
	cfg := secrets.DefaultConfig()
	var force bool
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Generate a CA, certificates, one credential per role and a NATS server configuration",
		Long: `Generate everything a secured cluster needs into DIR (created mode 0700; every
file mode 0600): a private CA, certificates for the NATS server and the
coordinators, and for each role (coordinator, worker, admin, analyst, viewer)
an nkey seed <role>.nk, a client certificate <role>.crt and its key <role>.key;
each --worker ID gets worker-ID.nk (.crt, .key), good for that worker's steps only.
admin, analyst and viewer also get an HTTP bearer token <role>.token, and
tokens.json holds the tokens' SHA-256 for the coordinators.
nats.conf is a nats-server configuration with TLS (client certificates
required) and each role's permissions. Existing secrets are never replaced
without --force.`,
		Example: `  mathcrm secrets init /etc/mathcrm/secrets --host coord-1.example.com --host 10.0.0.5 \
      --nats-host nats.example.com
  nats-server -c /etc/mathcrm/secrets/nats.conf`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			if err := secrets.Init(dir, cfg, force, time.Now()); err != nil {
				return err
			}
			return printSecrets(dir, "generated")
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.Hosts, "host", cfg.Hosts, "coordinator DNS name, wildcard (*.coordinator.mathcrm.svc: every pod of a headless service) or IP address for its raft and HTTP certificate (repeatable)")
	f.StringSliceVar(&cfg.NATSHosts, "nats-host", cfg.NATSHosts, "NATS server DNS name or IP address for its certificate (repeatable)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "address the NATS server listens on")
	f.IntVar(&cfg.Port, "port", cfg.Port, "NATS client port (-1: any free port)")
	f.StringVar(&cfg.StoreDir, "store-dir", cfg.StoreDir, "the NATS server's JetStream directory")
	f.StringVar(&cfg.Mount, "mount", "", "absolute path the NATS server reads DIR from (default DIR's own path)")
	f.DurationVar(&cfg.Valid, "valid", cfg.Valid, "how long the server and role certificates last")
	f.StringSliceVar(&cfg.Workers, "worker", nil, "a worker id that gets a credential of its own, worker-ID.nk, good for its steps only (repeatable)")
	f.BoolVar(&force, "force", false, "replace the secrets already in DIR")
	return cmd
}

func newSecretsRotate() *cobra.Command {
	var (
		overlap time.Duration
		finish  bool
		force   bool
	)
	cmd := &cobra.Command{
		Use:   "rotate DIR",
		Short: "Replace every certificate and credential, accepting the old ones for a while",
		Long: `Rotate makes a new generation of the CA, certificates and nkeys in DIR and
keeps the current one in DIR/previous. Until the rotation is finished, ca.crt
holds both CAs and nats.conf accepts both generations while the server keeps
its old certificate: reload nats-server (nats-server --signal reload), then
restart each process on the new files. After --overlap, or once every process
has restarted, run rotate --finish and reload again: only the new generation
is accepted.`,
		Example: `  mathcrm secrets rotate /etc/mathcrm/secrets --overlap 24h
  mathcrm secrets rotate /etc/mathcrm/secrets --finish`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if force && !finish {
				return fmt.Errorf("--force applies to --finish only")
			}
			if finish {
				if cmd.Flags().Changed("overlap") {
					return fmt.Errorf("--overlap applies to a rotation, not to --finish")
				}
				if err := secrets.Finish(dir, force, time.Now()); err != nil {
					return err
				}
				return printSecrets(dir, "finished the rotation of")
			}
			if err := secrets.Rotate(dir, overlap, time.Now()); err != nil {
				return err
			}
			return printSecrets(dir, "rotated")
		},
	}
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the previous generation stays accepted")
	cmd.Flags().BoolVar(&finish, "finish", false, "drop the previous generation")
	cmd.Flags().BoolVar(&force, "force", false, "with --finish: drop the previous generation before its overlap ends")
	return cmd
}

func newSecretsConf() *cobra.Command {
	return &cobra.Command{
		Use:   "conf DIR",
		Short: "Write nats.conf and tokens.json again from DIR's credentials, replacing no key",
		Long: `Conf renders DIR's NATS server configuration and HTTP token hashes again from
its manifest and the credentials already there. Run it after upgrading to a
release whose roles' permissions changed, then reload nats-server
(nats-server --signal reload) and restart every process on the new release.`,
		Example: `  mathcrm secrets conf /etc/mathcrm/secrets`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := secrets.Render(args[0]); err != nil {
				return err
			}
			return printSecrets(args[0], "wrote the configuration of")
		},
	}
}

// printSecrets says what DIR now holds and what to do with it.
func printSecrets(dir, did string) error {
	m, err := secrets.ReadManifest(dir)
	if err != nil {
		return err
	}
	if jsonOut() {
		return printJSON(os.Stdout, m)
	}
	fmt.Printf("%s secrets in %s, generation %d\n", did, dir, m.Generation)
	if m.Previous != nil {
		fmt.Printf("generation %d stays accepted until %s; then run: mathcrm secrets rotate --finish %s\n",
			m.Previous.Generation, m.Previous.Until.Local().Format(time.RFC3339), dir)
	}
	fmt.Printf("  %-15s trust bundle: every process's CA file\n", secrets.FileCA)
	fmt.Printf("  %-15s CA key: needed only to rotate; keep it off the servers\n", secrets.FileCAKey)
	fmt.Printf("  %-15s nats-server -c %s\n", secrets.FileConf, filepath.Join(dir, secrets.FileConf))
	fmt.Printf("  %-15s NATS server certificate and key (%s)\n", secrets.FileNATSCert, strings.Join(m.Config.NATSHosts, ", "))
	for _, r := range secrets.Roles {
		fmt.Printf("  %-15s %s's nkey seed, with %s and %s\n", secrets.CredsFile(r), r, secrets.CertFile(r), secrets.KeyFile(r))
	}
	fmt.Printf("  %-15s SHA-256 of the HTTP tokens: the coordinators' --http-tokens\n", secrets.FileTokens)
	for _, r := range secrets.TokenRoles {
		fmt.Printf("  %-15s %s's HTTP bearer token (console, status)\n", secrets.TokenFile(r), r)
	}
	for _, id := range m.Config.Workers {
		r := secrets.WorkerRole(id)
		fmt.Printf("  %-15s worker %s's own nkey seed, with %s and %s\n", secrets.CredsFile(r), id, secrets.CertFile(r), secrets.KeyFile(r))
	}
	return nil
}
