package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// FileJetStreamKey holds the JetStream encryption key as a configuration
// fragment that nats.conf includes, so the key is neither on a command line
// nor in nats.conf itself.
const FileJetStreamKey = "jetstream-key.conf"

// jetStreamCipher is the cipher nats-server encrypts JetStream's files with.
const jetStreamCipher = "chachapoly"

// jetStreamKeyLine is the one line FileJetStreamKey holds.
var jetStreamKeyLine = regexp.MustCompile(`^key: "[A-Za-z0-9_-]{43}"\n$`)

// jetStreamConf returns nats.conf's jetstream block: storage in storeDir,
// every stream encrypted with the key in dir's FileJetStreamKey, which it
// makes when dir has none. The key is made once and never replaced —
// neither by a forced init nor by a rotation — since the data already
// stored can only be read with it.
func jetStreamConf(dir, storeDir string) (string, error) {
	if err := ensureJetStreamKey(dir); err != nil {
		return "", err
	}
	// nats-server resolves an include against the including file's
	// directory: the fragment must stay beside nats.conf.
	return fmt.Sprintf("\njetstream {\n  store_dir: %q\n  cipher: %s\n  include %q\n}\n",
		storeDir, jetStreamCipher, FileJetStreamKey), nil
}

// ensureJetStreamKey makes dir's JetStream key, mode 0600, unless dir holds
// a well-formed one already.
func ensureJetStreamKey(dir string) error {
	p := filepath.Join(dir, FileJetStreamKey)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if !jetStreamKeyLine.Match(b) {
			return fmt.Errorf("%w: %s is not a key this command wrote; restore it from a backup (without it the JetStream data cannot be read)", ErrInvalid, p)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("secrets: %w", err)
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("secrets: JetStream key: %w", err)
	}
	line := fmt.Sprintf("key: %q\n", base64.RawURLEncoding.EncodeToString(key[:]))
	return writeFile(p, []byte(line))
}
