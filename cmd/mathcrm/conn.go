package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mathcrm/mathcrm/internal/client"
	"github.com/mathcrm/mathcrm/internal/console"
	"github.com/mathcrm/mathcrm/internal/creds"
	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/spf13/cobra"
)

// credFlags are the credential files every command may be given; each
// falls back to its environment variable. Flags take paths only: a
// secret's value never stands on a command line.
var credFlags creds.Files

const envHTTPTokens = "MATHCRM_HTTP_TOKENS"

var httpTokens string

func addCredFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&credFlags.Creds, "creds", "", "the role's nkey seed file, e.g. DIR/analyst.nk from mathcrm secrets init (env "+creds.EnvCreds+")")
	pf.StringVar(&credFlags.CA, "ca", "", "trust bundle the servers are verified against (default ca.crt beside --creds; env "+creds.EnvCA+")")
	pf.StringVar(&credFlags.Cert, "tls-cert", "", "client certificate (default <role>.crt beside --creds; env "+creds.EnvCert+")")
	pf.StringVar(&credFlags.Key, "tls-key", "", "client certificate's key (default <role>.key beside --creds; env "+creds.EnvKey+")")
}

var (
	credsOnce sync.Once
	credsSet  *creds.Set
	credsErr  error
)

// loadCreds loads the process's credentials once.
func loadCreds() (*creds.Set, error) {
	credsOnce.Do(func() { credsSet, credsErr = creds.Load(credFlags.FromEnv()) })
	return credsSet, credsErr
}

// dial connects a client command to the cluster with its credentials.
func dial() (*client.Client, error) {
	s, err := loadCreds()
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(g.natsURL, s.NATS()...)
	if err != nil {
		return nil, s.Explain(err)
	}
	return c, nil
}

// needRole refuses credentials made for another role than a process's.
func needRole(s *creds.Set, role string) error {
	if s == nil || s.Certificate() == nil {
		return nil
	}
	got := s.Role()
	if got == role || role == secrets.RoleWorker && strings.HasPrefix(got, secrets.RoleWorker+"-") {
		return nil
	}
	return fmt.Errorf("--creds %s and --tls-cert %s are %s's credentials; a %s needs the %s's (%s)",
		s.Files().Creds, s.Files().Cert, dash(got), role, role, secrets.CredsFile(role))
}

// httpAuth is the authentication of a coordinator's HTTP listener: nil
// without credentials (the listener is plain HTTP, for a dev cluster on
// loopback), else the tokens of --http-tokens (default tokens.json beside
// --creds) and client certificates of the cluster's CA.
func httpAuth(s *creds.Set, tokensFile string) (*console.Auth, error) {
	if s == nil {
		return nil, nil
	}
	if tokensFile == "" {
		tokensFile = os.Getenv(envHTTPTokens)
	}
	if tokensFile == "" && s.Files().Creds != "" {
		tokensFile = filepath.Join(filepath.Dir(s.Files().Creds), secrets.FileTokens)
	}
	if tokensFile == "" {
		return nil, fmt.Errorf("the HTTP listener needs --http-tokens (%s): the %s mathcrm secrets init wrote", envHTTPTokens, secrets.FileTokens)
	}
	ts, err := newTokenFile(tokensFile)
	if err != nil {
		return nil, fmt.Errorf("--http-tokens: %w", err)
	}
	return &console.Auth{
		Token: ts.Role,
		Cert: func(chain []*x509.Certificate) (string, bool) {
			role, err := s.VerifyPeer(chain, x509.ExtKeyUsageClientAuth)
			return role, err == nil
		},
		Open: []string{"/healthz", "/readyz"},
	}, nil
}

// tokenFile is a tokens.json read again when it changes, so that a
// rotation's start and finish reach a running listener.
type tokenFile struct {
	path string
	mu   sync.Mutex
	mod  time.Time
	size int64
	ts   secrets.Tokens
}

func newTokenFile(path string) (*tokenFile, error) {
	f := &tokenFile{path: path}
	return f, f.reload()
}

func (f *tokenFile) reload() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("secrets: HTTP tokens: %w", err)
	}
	if st.ModTime().Equal(f.mod) && st.Size() == f.size && f.ts != nil {
		return nil
	}
	ts, err := secrets.ReadTokens(f.path)
	if err != nil {
		return err
	}
	f.ts, f.mod, f.size = ts, st.ModTime(), st.Size()
	return nil
}

// Role is the role of token by the file as it is now; a file that cannot
// be read keeps the tokens read last.
func (f *tokenFile) Role(token string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.reload(); err != nil {
		logger().Warn("HTTP tokens not reloaded", "file", f.path, "err", err)
	}
	return f.ts.Role(token)
}
