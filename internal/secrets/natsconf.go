package secrets

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
)

// MaxPayload is the largest message the cluster's NATS server takes.
const MaxPayload = 8 << 20

// ResponseExpiry is how long after a worker received a lookup or a drain
// request it may answer it (once): a drain waits for the steps in flight,
// each of which may take the leader's step timeout (two minutes by
// default). A worker answers steps on its own reply subject instead
// (proto.WorkerReplySubject), with no expiry: a batch of steps may run
// for hours. An answer counted once lets the server forget the permission
// at once; an unanswered one when it expires.
const ResponseExpiry = time.Hour

// renderConf writes the NATS server configuration of dir's secrets: TLS
// with client certificates required, and one nkey user per role and
// accepted generation, each with its role's permissions.
func renderConf(dir string, m Manifest) ([]byte, error) {
	mount, err := mountOf(dir, m.Config)
	if err != nil {
		return nil, err
	}
	// During a rotation the server keeps its old certificate: clients that
	// have not switched trust only the old CA; switched ones trust both.
	certDir := mount
	if m.Previous != nil {
		certDir = filepath.Join(mount, DirPrevious)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# NATS server configuration of a mathcrm cluster, generation %d.\n", m.Generation)
	fmt.Fprintf(&b, "# Written by mathcrm secrets; regenerate it rather than edit it.\n")
	if m.Previous != nil {
		fmt.Fprintf(&b, "# Generation %d stays accepted until %s (mathcrm secrets rotate --finish).\n",
			m.Previous.Generation, m.Previous.Until.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\nhost: %q\nport: %d\n", m.Config.Listen, m.Config.Port)
	// The same limits as the embedded server's: a step's partial or a
	// shard's chunk fits one message, and a peer cut off by the network is
	// dropped within seconds.
	fmt.Fprintf(&b, "max_payload: %d\nping_interval: \"2s\"\nping_max: 3\n", MaxPayload)
	js, err := jetStreamConf(dir, m.Config.StoreDir) // atrest.go
	if err != nil {
		return nil, err
	}
	b.WriteString(js)
	fmt.Fprintf(&b, "\ntls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify: true\n  timeout: 2\n}\n",
		filepath.Join(certDir, FileNATSCert), filepath.Join(certDir, FileNATSKey), filepath.Join(mount, FileCA))
	b.WriteString("\nauthorization {\n")
	grants := Grants()
	for _, r := range Roles {
		fmt.Fprintf(&b, "  %s = %s\n", strings.ToUpper(r), permissions(grants[r], "  "))
	}
	b.WriteString("  users: [\n")
	type generation struct {
		dir string
		gen int
	}
	gens := []generation{{dir, m.Generation}}
	if m.Previous != nil {
		gens = append(gens, generation{filepath.Join(dir, DirPrevious), m.Previous.Generation})
	}
	for _, g := range gens {
		for _, r := range m.Config.roles() {
			pub, err := publicKey(filepath.Join(g.dir, CredsFile(r)))
			if err != nil {
				return nil, err
			}
			perms := "$" + strings.ToUpper(r)
			if !slices.Contains(Roles, r) {
				perms = permissions(WorkerGrant(strings.TrimPrefix(r, RoleWorker+"-")), "    ")
			}
			fmt.Fprintf(&b, "    # %s, generation %d\n    { nkey: %q, permissions: %s }\n", r, g.gen, pub, perms)
		}
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}

// permissions renders a grant as a configuration map.
func permissions(g Grant, indent string) string {
	var b strings.Builder
	b.WriteString("{\n")
	fmt.Fprintf(&b, "%s  publish: { allow: %s }\n", indent, list(g.Publish, indent+"  "))
	fmt.Fprintf(&b, "%s  subscribe: { allow: %s }\n", indent, list(g.Subscribe, indent+"  "))
	if g.Responses {
		fmt.Fprintf(&b, "%s  allow_responses: { max: 1, expires: %q }\n", indent, ResponseExpiry.String())
	}
	b.WriteString(indent + "}")
	return b.String()
}

// list renders subjects as a configuration array, one a line when there
// are more than a few.
// mountOf is where the NATS server reads dir's files from.
func mountOf(dir string, cfg Config) (string, error) {
	if cfg.Mount != "" {
		return cfg.Mount, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("secrets: %w", err)
	}
	if !confSafe(abs) {
		return "", fmt.Errorf("%w: %s cannot stand in a configuration file; pass --mount", ErrInvalid, abs)
	}
	return abs, nil
}

func list(subjects []string, indent string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) <= 4 {
		return "[" + strings.Join(q, ", ") + "]"
	}
	return "[\n" + indent + "  " + strings.Join(q, "\n"+indent+"  ") + "\n" + indent + "]"
}

// publicKey reads an nkey seed file and returns its user public key.
func publicKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secrets: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("%w: %s holds no user nkey seed", ErrInvalid, path)
	}
	return pub, nil
}
