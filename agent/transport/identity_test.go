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
	ma "github.com/multiformats/go-multiaddr"
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

func TestHostListensOnTCPAndQUIC(t *testing.T) {
	cfg := transport.TestHostConfig(t.TempDir())
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	h, err := transport.NewHost(cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var tcp, quic bool
	for _, a := range h.Addrs() {
		if _, err := a.ValueForProtocol(ma.P_QUIC_V1); err == nil {
			quic = true
		} else if _, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			tcp = true
		}
	}
	if !tcp || !quic {
		t.Fatalf("listen addrs %v: tcp=%v quic=%v, want both", h.Addrs(), tcp, quic)
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
