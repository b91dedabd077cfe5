package transport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// IdentityFile is the name of the private key file inside the data directory.
const IdentityFile = "identity.key"

// LoadOrCreateIdentity returns the node's Ed25519 private key from
// <dataDir>/identity.key, creating the directory (0700) and the file (0600)
// on first start. A file that exists but does not hold an Ed25519 key is an
// error: it is never replaced, because a new key means a new peer ID and
// every other node would see a stranger.
func LoadOrCreateIdentity(dataDir string, log *slog.Logger) (crypto.PrivKey, error) {
	path := filepath.Join(dataDir, IdentityFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseIdentity(path, data, log)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("transport: read identity %s: %w", path, err)
	}

	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("transport: create data dir %s: %w", dataDir, err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("transport: generate identity: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("transport: marshal identity: %w", err)
	}
	if err := writeFileAtomic(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("transport: write identity %s: %w", path, err)
	}
	log.Info("created node identity", "path", path)
	return key, nil
}

func parseIdentity(path string, data []byte, log *slog.Logger) (crypto.PrivKey, error) {
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("transport: identity %s is corrupt (left in place; move it away to start with a new peer ID): %w", path, err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("transport: identity %s holds a %s key, want Ed25519 (left in place)", path, key.Type())
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("identity file is readable by others", "path", path, "mode", st.Mode().Perm().String())
	}
	return key, nil
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it and renames it over path, so a crash never leaves a half key.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
