package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileTokens lists the SHA-256 of every accepted HTTP bearer token and its
// role; the HTTP listener reads it, so it holds no token itself.
const FileTokens = "tokens.json"

// TokenFile names a role's HTTP bearer token.
func TokenFile(role string) string { return role + ".token" }

// TokenRoles are the roles that get an HTTP bearer token: people and the
// tools acting for them (a browser, curl, a Prometheus scraper), not the
// cluster's own processes.
var TokenRoles = []string{RoleAdmin, RoleAnalyst, RoleViewer}

// newToken is 32 random bytes, URL-safe base64.
func newToken() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("secrets: token: %w", err)
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b)), nil
}

// tokenHashes is FileTokens's content.
type tokenHashes struct {
	Version int          `json:"version"`
	Tokens  []tokenEntry `json:"tokens"`
}

type tokenEntry struct {
	Role       string `json:"role"`
	Generation int    `json:"generation"`
	SHA256     string `json:"sha256"`
}

// renderTokens lists the hashes of the tokens of every accepted generation.
func renderTokens(dir string, m Manifest) ([]byte, error) {
	out := tokenHashes{Version: 1}
	gens := []struct {
		dir string
		gen int
	}{{dir, m.Generation}}
	if m.Previous != nil {
		gens = append(gens, struct {
			dir string
			gen int
		}{filepath.Join(dir, DirPrevious), m.Previous.Generation})
	}
	for _, g := range gens {
		for _, r := range TokenRoles {
			b, err := os.ReadFile(filepath.Join(g.dir, TokenFile(r)))
			if errors.Is(err, os.ErrNotExist) {
				continue // a set made before tokens existed
			}
			if err != nil {
				return nil, fmt.Errorf("secrets: %w", err)
			}
			sum := sha256.Sum256([]byte(strings.TrimSpace(string(b))))
			out.Tokens = append(out.Tokens, tokenEntry{Role: r, Generation: g.gen, SHA256: hex.EncodeToString(sum[:])})
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("secrets: tokens: %w", err)
	}
	return append(b, '\n'), nil
}

// Tokens maps the SHA-256 of each accepted HTTP bearer token to its role.
type Tokens map[[sha256.Size]byte]string

// ReadTokens reads a FileTokens file.
func ReadTokens(path string) (Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: HTTP tokens: %w", err)
	}
	var th tokenHashes
	if err := json.Unmarshal(b, &th); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	if th.Version != 1 {
		return nil, fmt.Errorf("%w: %s has version %d, this mathcrm reads version 1", ErrInvalid, path, th.Version)
	}
	out := Tokens{}
	for i, e := range th.Tokens {
		h, err := hex.DecodeString(e.SHA256)
		if err != nil || len(h) != sha256.Size || !isRole(e.Role) {
			return nil, fmt.Errorf("%w: %s: entry %d is not a role and a SHA-256", ErrInvalid, path, i+1)
		}
		out[[sha256.Size]byte(h)] = e.Role
	}
	return out, nil
}

// Role returns the role of token, comparing in constant time.
func (ts Tokens) Role(token string) (string, bool) {
	sum := sha256.Sum256([]byte(token))
	role, found := "", false
	for h, r := range ts {
		if subtle.ConstantTimeCompare(h[:], sum[:]) == 1 {
			role, found = r, true
		}
	}
	return role, found
}

func isRole(r string) bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return strings.HasPrefix(r, RoleWorker+"-") && workerID.MatchString(strings.TrimPrefix(r, RoleWorker+"-"))
}

// certPrefix starts the common name of every role's certificate.
const certPrefix = "mathcrm-"

// RoleOf is the role a certificate issued by Init or Rotate was made for;
// the caller has verified it against the trust bundle.
func RoleOf(c *x509.Certificate) (string, bool) {
	r, ok := strings.CutPrefix(c.Subject.CommonName, certPrefix)
	if !ok || !isRole(r) {
		return "", false
	}
	return r, true
}
