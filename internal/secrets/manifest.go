package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const manifestVersion = 1

// Manifest records what a secrets directory holds: its generation, the
// configuration it was made with, and a rotation's overlap window.
type Manifest struct {
	Version    int       `json:"version"`
	Generation int       `json:"generation"`
	Created    time.Time `json:"created"`
	Config     Config    `json:"config"`
	// Previous is the generation still accepted during a rotation.
	Previous *Overlap `json:"previous,omitempty"`
}

// Overlap is the previous generation and how long it stays accepted.
type Overlap struct {
	Generation int       `json:"generation"`
	Until      time.Time `json:"until"`
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (Manifest, error) {
	p := filepath.Join(dir, FileManifest)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w: %s is missing; run mathcrm secrets init %s first", ErrNotInitialised, p, dir)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("secrets: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrInvalid, p, err)
	}
	if m.Version != manifestVersion {
		return Manifest{}, fmt.Errorf("%w: %s has version %d, this mathcrm reads version %d", ErrInvalid, p, m.Version, manifestVersion)
	}
	if err := m.Config.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// commit renders the NATS configuration and the HTTP token hashes for m
// and writes them, then m.
func (m Manifest) commit(dir string) error {
	conf, err := renderConf(dir, m)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileConf), conf); err != nil {
		return err
	}
	tokens, err := renderTokens(dir, m)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileTokens), tokens); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("secrets: manifest: %w", err)
	}
	return writeFile(filepath.Join(dir, FileManifest), append(b, '\n'))
}

// Render writes dir's nats.conf and tokens.json again from its manifest and
// the credentials already there, replacing no key: after an upgrade whose
// roles' grants changed, the server's configuration is the new release's.
func Render(dir string) error {
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	return m.commit(dir)
}
