package secrets

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Rotate makes a new generation of every certificate and credential. The
// current one moves to previous/ and stays accepted for overlap: the trust
// bundle holds both CAs, the server accepts both generations' nkeys and
// keeps its old certificate until Finish.
func Rotate(dir string, overlap time.Duration, now time.Time) error {
	if overlap < time.Minute {
		return fmt.Errorf("%w: --overlap %s is below the minimum of 1m", ErrInvalid, overlap)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if m.Previous != nil {
		return fmt.Errorf("%w: generation %d is accepted until %s; run mathcrm secrets rotate --finish %s first",
			ErrRotating, m.Previous.Generation, m.Previous.Until.UTC().Format(time.RFC3339), dir)
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	for _, name := range m.Config.generationFiles() {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil && !optional(name, err) {
			return fmt.Errorf("%w: %s: %v", ErrNotInitialised, filepath.Join(dir, name), err)
		}
	}
	files, err := generate(m.Config, now)
	if err != nil {
		return err
	}
	oldCA, err := os.ReadFile(filepath.Join(dir, FileCA))
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	files[FileCA] = append(files[FileCA], oldCA...)
	st, err := stage(dir, m.Config, files)
	if err != nil {
		return err
	}
	prev := filepath.Join(dir, DirPrevious)
	if err := os.RemoveAll(prev); err != nil {
		return fmt.Errorf("secrets: remove %s: %w", prev, err)
	}
	if err := os.Mkdir(prev, 0o700); err != nil {
		return fmt.Errorf("secrets: create %s: %w", prev, err)
	}
	for _, name := range m.Config.generationFiles() {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(prev, name)); err != nil && !optional(name, err) {
			return fmt.Errorf("secrets: keep %s: %w", filepath.Join(dir, name), err)
		}
	}
	if err := install(st, dir, m.Config); err != nil {
		return err
	}
	m.Previous = &Overlap{Generation: m.Generation, Until: now.Add(overlap).UTC()}
	m.Generation++
	m.Created = now.UTC()
	return m.commit(dir)
}

// Finish ends a rotation: the previous generation's CA, certificates and
// nkeys stop being accepted and the server presents its new certificate.
// Before the overlap has run out it refuses unless force is set.
func Finish(dir string, force bool, now time.Time) error {
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if m.Previous == nil {
		return fmt.Errorf("%w: %s holds generation %d only", ErrNotRotating, dir, m.Generation)
	}
	if now.Before(m.Previous.Until) && !force {
		return fmt.Errorf("%w: generation %d stays accepted until %s; pass --force to drop it now",
			ErrRotating, m.Previous.Generation, m.Previous.Until.UTC().Format(time.RFC3339))
	}
	caPath := filepath.Join(dir, FileCA)
	bundle, err := os.ReadFile(caPath)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	// The current CA is always the bundle's first certificate.
	block, _ := pem.Decode(bundle)
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("%w: %s holds no certificate", ErrInvalid, caPath)
	}
	m.Previous = nil
	if err := writeFile(caPath, pem.EncodeToMemory(block)); err != nil {
		return err
	}
	if err := m.commit(dir); err != nil {
		return err
	}
	prev := filepath.Join(dir, DirPrevious)
	if err := os.RemoveAll(prev); err != nil {
		return fmt.Errorf("secrets: remove %s: %w", prev, err)
	}
	return nil
}

// optional reports whether a missing file may be missing: the HTTP tokens
// of a set made before they existed; the rotation makes them.
func optional(name string, err error) bool {
	return errors.Is(err, os.ErrNotExist) && strings.HasSuffix(name, ".token")
}
