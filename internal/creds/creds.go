// Package creds loads the credentials one mathcrm process connects with — a
// trust bundle, a client certificate and its key, an nkey seed — once, at
// start, from files named by flags or the environment, and turns them into
// NATS connection options and TLS configurations.
//
// Guarantees: a secret is read from a file, never taken from a flag's value
// (a seed pasted where a path belongs is refused without being echoed); no
// error or log line carries a file's content; the nkey seed is read once,
// so a rotation that replaces the file cannot change it mid-connection.
package creds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mathcrm/mathcrm/internal/secrets"
	"github.com/nats-io/nkeys"
)

// ErrInvalid reports credentials that cannot be used.
var ErrInvalid = errors.New("creds: invalid credentials")

// Environment variables that name the files when the flags are not given.
const (
	EnvCA    = "MATHCRM_CA"
	EnvCreds = "MATHCRM_CREDS"
	EnvCert  = "MATHCRM_TLS_CERT"
	EnvKey   = "MATHCRM_TLS_KEY"
)

// Files names the files of one process's credentials. Every field is a
// path; empty fields are derived from Creds where its directory holds
// what `mathcrm secrets init` writes.
type Files struct {
	// CA is the trust bundle the servers' certificates are verified
	// against (--ca); default ca.crt beside Creds.
	CA string
	// Creds is the role's nkey seed file, <role>.nk (--creds).
	Creds string
	// Cert and Key are the client certificate and its key (--tls-cert,
	// --tls-key); default <role>.crt and <role>.key beside Creds.
	Cert, Key string
}

// FromEnv fills the empty fields of f from the environment.
func (f Files) FromEnv() Files {
	for _, e := range []struct {
		v   *string
		env string
	}{{&f.CA, EnvCA}, {&f.Creds, EnvCreds}, {&f.Cert, EnvCert}, {&f.Key, EnvKey}} {
		if *e.v == "" {
			*e.v = os.Getenv(e.env)
		}
	}
	return f
}

// IsZero reports whether no credential is named: the process connects
// without TLS or authentication, as to `mathcrm dev` on loopback.
func (f Files) IsZero() bool { return f == Files{} }

// Secrets is f for role in a directory `mathcrm secrets init` wrote.
func Secrets(dir, role string) Files {
	return Files{
		CA:    filepath.Join(dir, secrets.FileCA),
		Creds: filepath.Join(dir, secrets.CredsFile(role)),
		Cert:  filepath.Join(dir, secrets.CertFile(role)),
		Key:   filepath.Join(dir, secrets.KeyFile(role)),
	}
}

// withDefaults derives the empty paths from Creds.
func (f Files) withDefaults() Files {
	if f.Creds == "" {
		return f
	}
	dir := filepath.Dir(f.Creds)
	role := strings.TrimSuffix(filepath.Base(f.Creds), ".nk")
	if f.CA == "" {
		if p := filepath.Join(dir, secrets.FileCA); exists(p) {
			f.CA = p
		}
	}
	if f.Cert == "" && f.Key == "" {
		cert, key := filepath.Join(dir, secrets.CertFile(role)), filepath.Join(dir, secrets.KeyFile(role))
		if exists(cert) && exists(key) {
			f.Cert, f.Key = cert, key
		}
	}
	return f
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Set is a process's loaded credentials.
type Set struct {
	files Files
	roots *x509.CertPool
	cert  *tls.Certificate
	prev  *tls.Certificate // the previous generation's, during a rotation
	leaf  *x509.Certificate
	role  string
	kp    nkeys.KeyPair
	pub   string
}

// Load reads f's files. A zero f gives a nil Set, whose methods connect
// in the clear.
func Load(f Files) (*Set, error) {
	if f.IsZero() {
		return nil, nil
	}
	for _, e := range []struct{ flag, env, v string }{
		{"--ca", EnvCA, f.CA}, {"--creds", EnvCreds, f.Creds}, {"--tls-cert", EnvCert, f.Cert}, {"--tls-key", EnvKey, f.Key},
	} {
		if looksSecret(e.v) {
			return nil, fmt.Errorf("%w: %s (%s) holds a secret itself, not the path of a file: never put a secret on the command line or in the environment; name the file it is in",
				ErrInvalid, e.flag, e.env)
		}
	}
	f = f.withDefaults()
	if (f.Cert == "") != (f.Key == "") {
		return nil, fmt.Errorf("%w: --tls-cert (%s) and --tls-key (%s) go together", ErrInvalid, EnvCert, EnvKey)
	}
	s := &Set{files: f}
	if f.CA != "" {
		b, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("%w: --ca (%s): %v", ErrInvalid, EnvCA, err)
		}
		s.roots = x509.NewCertPool()
		if !s.roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%w: --ca %s holds no PEM certificate", ErrInvalid, f.CA)
		}
	}
	if f.Cert != "" {
		c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-cert %s and --tls-key %s: %v", ErrInvalid, f.Cert, f.Key, scrub(err))
		}
		s.cert, s.leaf = &c, c.Leaf
		if s.leaf == nil {
			if s.leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
				return nil, fmt.Errorf("%w: --tls-cert %s: %v", ErrInvalid, f.Cert, err)
			}
		}
		s.role, _ = secrets.RoleOf(s.leaf)
		// During a rotation the previous generation's certificate is the
		// one every peer still trusts: serve with it until --finish.
		pc, pk := filepath.Join(filepath.Dir(f.Cert), secrets.DirPrevious, filepath.Base(f.Cert)), filepath.Join(filepath.Dir(f.Key), secrets.DirPrevious, filepath.Base(f.Key))
		if exists(pc) && exists(pk) {
			prev, err := tls.LoadX509KeyPair(pc, pk)
			if err != nil {
				return nil, fmt.Errorf("%w: %s and %s: %v", ErrInvalid, pc, pk, scrub(err))
			}
			s.prev = &prev
		}
	}
	if f.Creds != "" {
		b, err := os.ReadFile(f.Creds)
		if err != nil {
			return nil, fmt.Errorf("%w: --creds (%s): %v", ErrInvalid, EnvCreds, err)
		}
		kp, err := nkeys.ParseDecoratedNKey(b)
		wipe(b)
		if err != nil {
			return nil, fmt.Errorf("%w: --creds %s holds no nkey seed", ErrInvalid, f.Creds)
		}
		pub, err := kp.PublicKey()
		if err != nil || !nkeys.IsValidPublicUserKey(pub) {
			return nil, fmt.Errorf("%w: --creds %s holds no user nkey seed", ErrInvalid, f.Creds)
		}
		s.kp, s.pub = kp, pub
		if s.role == "" {
			// Without a certificate, the seed file's name (<role>.nk) says
			// which inbox and API subjects to use; the server decides
			// what the nkey may do whatever the file is called.
			s.role = strings.TrimSuffix(filepath.Base(f.Creds), ".nk")
			if !secrets.IsRole(s.role) {
				s.role = ""
			}
		}
	}
	return s, nil
}

// looksSecret reports whether a flag's value is a secret rather than a
// path: an nkey seed or a PEM block.
func looksSecret(v string) bool {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "-----BEGIN") {
		return true
	}
	if len(v) >= 50 && strings.HasPrefix(v, "S") && !strings.ContainsAny(v, "/.") {
		if _, err := nkeys.FromSeed([]byte(v)); err == nil {
			return true
		}
	}
	return false
}

// scrub keeps only the first line of a key-loading error: crypto/tls
// errors name what failed, never the key, but be sure.
func scrub(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}

// Role is the role the certificate was made for, "" without one.
func (s *Set) Role() string {
	if s == nil {
		return ""
	}
	return s.role
}

// Files are the paths loaded, defaults filled in.
func (s *Set) Files() Files {
	if s == nil {
		return Files{}
	}
	return s.files
}

// Secure reports whether the set has a trust bundle, that is whether
// connections verify the server.
func (s *Set) Secure() bool { return s != nil && s.roots != nil }

// Roots is the trust bundle, nil without one.
func (s *Set) Roots() *x509.CertPool {
	if s == nil {
		return nil
	}
	return s.roots
}

// serving is the certificate a server or a mutual-TLS peer presents: the
// previous generation's while a rotation is in progress, which both the
// old and the new trust bundles verify, else the current one.
func (s *Set) serving() tls.Certificate {
	if s.prev != nil {
		return *s.prev
	}
	return *s.cert
}

// Certificate is the process's certificate, nil without one.
func (s *Set) Certificate() *tls.Certificate {
	if s == nil {
		return nil
	}
	return s.cert
}
