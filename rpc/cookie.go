package rpc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CookieFile is the name of the token file in the data directory.
const CookieFile = "rpc.cookie"

// SocketFile is the name of the unix socket in the data directory.
const SocketFile = "rpc.sock"

// AddrFile is the name of the file holding the RPC endpoint's address.
const AddrFile = "rpc.addr"

// WriteCookie creates a fresh random token in dir/rpc.cookie (mode 0600).
func WriteCookie(dir string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b[:])
	if err := writePrivate(filepath.Join(dir, CookieFile), tok); err != nil {
		return "", err
	}
	return tok, nil
}

// ReadCookie reads the token an agent wrote in dir.
func ReadCookie(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, CookieFile))
	if err != nil {
		return "", fmt.Errorf("rpc: read cookie (is an agent running with --data-dir %s?): %w", dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writePrivate(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
