package secrets

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
)

var (
	// ErrInvalid reports a configuration or flag that cannot work.
	ErrInvalid = errors.New("secrets: invalid configuration")
	// ErrExists reports secrets that are already there and would be replaced.
	ErrExists = errors.New("secrets: already exist")
	// ErrNotInitialised reports a directory without a manifest.
	ErrNotInitialised = errors.New("secrets: not initialised")
	// ErrRotating reports a rotation started and not finished yet.
	ErrRotating = errors.New("secrets: rotation in progress")
	// ErrNotRotating reports a finish without a rotation in progress.
	ErrNotRotating = errors.New("secrets: no rotation in progress")
	// ErrUnsafeDir reports a directory that others than its owner can read.
	ErrUnsafeDir = errors.New("secrets: directory readable by others")
)

// File names inside the secrets directory.
const (
	FileCA       = "ca.crt" // the trust bundle: every CA currently accepted
	FileCAKey    = "ca.key"
	FileNATSCert = "nats.crt"
	FileNATSKey  = "nats.key"
	FileConf     = "nats.conf"
	FileManifest = "manifest.json"
	DirPrevious  = "previous"
)

// CredsFile, CertFile and KeyFile name a role's nkey seed, client
// certificate and its key.
func CredsFile(role string) string { return role + ".nk" }
func CertFile(role string) string  { return role + ".crt" }
func KeyFile(role string) string   { return role + ".key" }

// roles are the credentials c makes: every role, then one per worker id.
func (c Config) roles() []string {
	out := append([]string(nil), Roles...)
	for _, id := range c.Workers {
		out = append(out, WorkerRole(id))
	}
	return out
}

// generationFiles are the files one generation of c consists of.
func (c Config) generationFiles() []string {
	out := []string{FileCA, FileCAKey, FileNATSCert, FileNATSKey}
	for _, r := range c.roles() {
		out = append(out, CredsFile(r), CertFile(r), KeyFile(r))
	}
	for _, r := range TokenRoles {
		out = append(out, TokenFile(r))
	}
	return out
}

// Config says what to generate.
type Config struct {
	// Hosts are the coordinators' DNS names and IP addresses (their raft
	// and HTTP certificate's names).
	Hosts []string `json:"hosts"`
	// NATSHosts are the NATS server's DNS names and IP addresses.
	NATSHosts []string `json:"nats_hosts"`
	// Listen is the address the NATS server listens on.
	Listen string `json:"listen"`
	// Port is the NATS client port; -1 picks a free one at start.
	Port int `json:"port"`
	// StoreDir is the NATS server's JetStream directory.
	StoreDir string `json:"store_dir"`
	// Mount is where the NATS server reads this directory's files from;
	// empty means the directory's own absolute path.
	Mount string `json:"mount,omitempty"`
	// Valid is how long a certificate issued to a server or role lasts.
	Valid time.Duration `json:"valid"`
	// Workers are worker ids that get a credential of their own.
	Workers []string `json:"workers,omitempty"`
}

// DefaultConfig is a cluster on one machine, reachable as localhost.
func DefaultConfig() Config {
	return Config{
		Hosts:     []string{"localhost", "127.0.0.1"},
		NATSHosts: []string{"localhost", "127.0.0.1"},
		Listen:    "0.0.0.0",
		Port:      4222,
		StoreDir:  "/var/lib/mathcrm/nats",
		Valid:     365 * 24 * time.Hour,
	}
}

// caValid is how long a CA lasts; rotation replaces it long before.
const caValid = 10 * 365 * 24 * time.Hour

// Validate says what is wrong with c.
func (c Config) Validate() error {
	for _, hs := range []struct {
		flag  string
		hosts []string
	}{{"--host", c.Hosts}, {"--nats-host", c.NATSHosts}} {
		if len(hs.hosts) == 0 {
			return fmt.Errorf("%w: %s needs at least one name or address", ErrInvalid, hs.flag)
		}
		for _, h := range hs.hosts {
			if !validHost(h) && !validWildcard(h) {
				return fmt.Errorf("%w: %s %q is neither a DNS name, a wildcard (*.domain) nor an IP address", ErrInvalid, hs.flag, h)
			}
		}
	}
	if net.ParseIP(c.Listen) == nil && !validHost(c.Listen) {
		return fmt.Errorf("%w: --listen %q is neither a host name nor an IP address", ErrInvalid, c.Listen)
	}
	if c.Port != -1 && (c.Port < 1 || c.Port > 65535) {
		return fmt.Errorf("%w: --port %d is out of range 1..65535", ErrInvalid, c.Port)
	}
	if c.StoreDir == "" || !confSafe(c.StoreDir) {
		return fmt.Errorf("%w: --store-dir %q must be a non-empty path without quotes, backslashes or line breaks", ErrInvalid, c.StoreDir)
	}
	if c.Mount != "" && (!filepath.IsAbs(c.Mount) || !confSafe(c.Mount)) {
		return fmt.Errorf("%w: --mount %q must be an absolute path without quotes, backslashes or line breaks", ErrInvalid, c.Mount)
	}
	if c.Valid < time.Hour || c.Valid > caValid {
		return fmt.Errorf("%w: --valid %s is out of range 1h..%s", ErrInvalid, c.Valid, caValid)
	}
	seen := map[string]bool{}
	for _, id := range c.Workers {
		if !workerID.MatchString(id) {
			return fmt.Errorf("%w: --worker %q must be 1 to 64 letters, digits, '-' or '_'", ErrInvalid, id)
		}
		if seen[id] {
			return fmt.Errorf("%w: --worker %q is given twice", ErrInvalid, id)
		}
		seen[id] = true
	}
	return nil
}

// workerID is a worker id that can stand as one subject token.
var workerID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// validWildcard reports whether h is a wildcard DNS name, *.domain with a
// domain of two labels or more: the certificate then names every host one
// label below it, as the pods of a StatefulSet behind a headless service
// (*.coordinator.mathcrm.svc).
func validWildcard(h string) bool {
	d, ok := strings.CutPrefix(h, "*.")
	return ok && strings.Contains(d, ".") && net.ParseIP(d) == nil && validHost(d)
}

// confSafe reports whether s can stand in a quoted configuration string.
func confSafe(s string) bool { return !strings.ContainsAny(s, "\"\\\n\r") }

// generate makes one generation's files in memory.
func generate(cfg Config, now time.Time) (map[string][]byte, error) {
	// A random tag keeps two CAs made in one second apart: TLS peers
	// pick certificates and chains by the issuer's name.
	tag := make([]byte, 4)
	if _, err := rand.Read(tag); err != nil {
		return nil, fmt.Errorf("secrets: ca name: %w", err)
	}
	ca, err := newAuthority(fmt.Sprintf("mathcrm CA %s %x", now.UTC().Format("2006-01-02T15:04:05Z"), tag), now, caValid)
	if err != nil {
		return nil, err
	}
	caKey, err := ca.keyPEM()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{FileCA: ca.certPEM(), FileCAKey: caKey}
	srv, err := ca.issue("mathcrm-nats", cfg.NATSHosts, false, now, cfg.Valid)
	if err != nil {
		return nil, err
	}
	files[FileNATSCert], files[FileNATSKey] = srv.certPEM, srv.keyPEM
	for _, r := range cfg.roles() {
		var hosts []string
		if r == RoleCoordinator {
			hosts = cfg.Hosts // raft and HTTP: it serves as well as connects
		}
		c, err := ca.issue(certPrefix+r, hosts, true, now, cfg.Valid)
		if err != nil {
			return nil, err
		}
		files[CertFile(r)], files[KeyFile(r)] = c.certPEM, c.keyPEM
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, fmt.Errorf("secrets: %s nkey: %w", r, err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, fmt.Errorf("secrets: %s nkey: %w", r, err)
		}
		files[CredsFile(r)] = append(seed, '\n')
	}
	for _, r := range TokenRoles {
		tok, err := newToken()
		if err != nil {
			return nil, err
		}
		files[TokenFile(r)] = append(tok, '\n')
	}
	return files, nil
}

// writeFile writes data to path mode 0600, whole or not at all.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("secrets: write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("secrets: write %s: %w", path, err)
	}
	return nil
}

// dirStaging is where a new generation is written whole before it
// replaces the current one.
const dirStaging = ".staging"

// stage writes one generation of cfg into dir's staging directory, so that
// a failure to write leaves the current generation untouched.
func stage(dir string, cfg Config, files map[string][]byte) (string, error) {
	st := filepath.Join(dir, dirStaging)
	if err := os.RemoveAll(st); err != nil {
		return "", fmt.Errorf("secrets: remove %s: %w", st, err)
	}
	if err := os.Mkdir(st, 0o700); err != nil {
		return "", fmt.Errorf("secrets: create %s: %w", st, err)
	}
	for _, name := range cfg.generationFiles() {
		if err := writeFile(filepath.Join(st, name), files[name]); err != nil {
			_ = os.RemoveAll(st)
			return "", err
		}
	}
	return st, nil
}

// install moves a staged generation into dir.
func install(st, dir string, cfg Config) error {
	for _, name := range cfg.generationFiles() {
		if err := os.Rename(filepath.Join(st, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("secrets: install %s: %w", filepath.Join(dir, name), err)
		}
	}
	if err := os.Remove(st); err != nil {
		return fmt.Errorf("secrets: remove %s: %w", st, err)
	}
	return nil
}

// ensureDir creates dir mode 0700, or checks that an existing one is
// private to its owner.
func ensureDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("secrets: create %s: %w", dir, err)
		}
		return os.Chmod(dir, 0o700)
	}
	if err != nil {
		return fmt.Errorf("secrets: %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrInvalid, dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s is mode %04o; make it private first (chmod 700 %s)", ErrUnsafeDir, dir, st.Mode().Perm(), dir)
	}
	return nil
}

// Init generates a fresh set of secrets in dir. Without force it refuses to
// replace any file a previous Init or Rotate wrote.
func Init(dir string, cfg Config, force bool, now time.Time) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := mountOf(dir, cfg); err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	if !force {
		for _, name := range append(cfg.generationFiles(), FileConf, FileTokens, FileManifest, DirPrevious) {
			p := filepath.Join(dir, name)
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%w: %s is there; pass --force to replace every secret in %s", ErrExists, p, dir)
			}
		}
	}
	files, err := generate(cfg, now)
	if err != nil {
		return err
	}
	st, err := stage(dir, cfg, files)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, DirPrevious)); err != nil {
		return fmt.Errorf("secrets: remove %s: %w", filepath.Join(dir, DirPrevious), err)
	}
	// A forced init drops the credentials of worker ids it no longer makes.
	if old, err := ReadManifest(dir); err == nil {
		for _, name := range old.Config.generationFiles() {
			if !slices.Contains(cfg.generationFiles(), name) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("secrets: remove %s: %w", filepath.Join(dir, name), err)
				}
			}
		}
	}
	if err := install(st, dir, cfg); err != nil {
		return err
	}
	m := Manifest{Version: manifestVersion, Generation: 1, Created: now.UTC(), Config: cfg}
	return m.commit(dir)
}
