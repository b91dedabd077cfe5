package transport_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestIdentityPersistsAcrossRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // created on first start
	h1 := newHost(t, dir)
	id1 := h1.ID()
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, transport.IdentityFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("identity file mode %v, want 0600", perm)
	}
	h2 := newHost(t, dir)
	defer h2.Close()
	if h2.ID() != id1 {
		t.Fatalf("peer ID changed across restart: %s then %s", id1, h2.ID())
	}
	key, err := transport.LoadOrCreateIdentity(dir, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := peer.IDFromPrivateKey(key); id != id1 {
		t.Fatalf("LoadOrCreateIdentity gives %s, want %s", id, id1)
	}
}

func TestCorruptIdentityIsAnErrorAndKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, transport.IdentityFile)
	junk := []byte("not a key")
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := transport.NewHost(transport.TestHostConfig(dir), newLogger(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("NewHost with a corrupt key: err = %v, want a 'corrupt' error", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, junk) {
		t.Fatal("corrupt identity file was modified")
	}
}

func TestHostListensOnEveryTCPAddress(t *testing.T) {
	cfg := transport.TestHostConfig(t.TempDir())
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0"}
	h, err := transport.NewHost(cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if n := len(h.Network().ListenAddresses()); n != 2 {
		t.Fatalf("listening on %v, want 2 TCP addresses", h.Network().ListenAddresses())
	}
}

// A port in use, or a transport that is not built in, is an error naming
// the address, not a host that silently listens on less.
func TestHostListenErrors(t *testing.T) {
	cfg := transport.TestHostConfig(t.TempDir())
	h, err := transport.NewHost(cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	taken := h.Network().ListenAddresses()[0].String()

	cfg2 := transport.TestHostConfig(t.TempDir())
	cfg2.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", taken}
	if h2, err := transport.NewHost(cfg2, newLogger(io.Discard)); err == nil {
		h2.Close()
		t.Fatalf("NewHost listening on a taken port %s: no error", taken)
	} else if !strings.Contains(err.Error(), taken) {
		t.Errorf("taken port: err = %v, want it to name %s", err, taken)
	}

	cfg3 := transport.TestHostConfig(t.TempDir())
	cfg3.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
	if h3, err := transport.NewHost(cfg3, newLogger(io.Discard)); err == nil {
		h3.Close()
		t.Fatal("NewHost with a QUIC address: no error")
	} else if !strings.Contains(err.Error(), "not a TCP address") {
		t.Errorf("QUIC address: err = %v, want 'not a TCP address'", err)
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	c := transport.DefaultConfig()
	c.QueueLen = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "QueueLen") {
		t.Errorf("Validate() = %v, want it to name QueueLen", err)
	}
	h := transport.DefaultHostConfig("")
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "DataDir") {
		t.Errorf("HostConfig.Validate() = %v, want it to name DataDir", err)
	}
	if err := transport.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
	if err := transport.DefaultHostConfig("/tmp/x").Validate(); err != nil {
		t.Errorf("DefaultHostConfig invalid: %v", err)
	}
}
