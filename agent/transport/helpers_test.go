package transport_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	protoA  protocol.ID = "/hearsay/test-a/1.0.0"
	protoB  protocol.ID = "/hearsay/test-b/1.0.0"
	waitFor             = 15 * time.Second
)

func newBytes() proto.Message { return &wrapperspb.BytesValue{} }

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type node struct {
	h    host.Host
	tr   *transport.Transport
	logs *syncBuffer
}

func testConfig() transport.Config {
	c := transport.DefaultConfig()
	c.QueueLen = 10000
	c.DialTimeout = 5 * time.Second
	c.WriteTimeout = 5 * time.Second
	c.FlushTimeout = 5 * time.Second
	return c
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newHost(t *testing.T, dir string) host.Host {
	t.Helper()
	h, err := transport.NewHost(transport.TestHostConfig(dir), newLogger(io.Discard))
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	return h
}

// newNode starts a host and transport with protoA and protoB registered.
// Cleanup closes both (idempotent if the test already did).
func newNode(t *testing.T, cfg transport.Config) *node {
	t.Helper()
	h := newHost(t, t.TempDir())
	logs := &syncBuffer{}
	tr, err := transport.New(h, cfg, newLogger(logs))
	if err != nil {
		t.Fatalf("transport.New: %v", err)
	}
	tr.Register(protoA, newBytes)
	tr.Register(protoB, newBytes)
	t.Cleanup(func() {
		tr.Close()
		h.Close()
	})
	return &node{h: h, tr: tr, logs: logs}
}

// learn gives n the addresses of other.
func (n *node) learn(other host.Host) {
	n.tr.AddAddrs(peer.AddrInfo{ID: other.ID(), Addrs: other.Addrs()}, peerstore.PermanentAddrTTL)
}

func msg(s string) *wrapperspb.BytesValue { return &wrapperspb.BytesValue{Value: []byte(s)} }

// recv waits for the next inbound message.
func recv(t *testing.T, n *node) transport.Inbound {
	t.Helper()
	select {
	case in, ok := <-n.tr.Inbound():
		if !ok {
			t.Fatal("inbound channel closed")
		}
		return in
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for an inbound message; stats %+v\nlogs:\n%s", n.tr.Stats(), n.logs.String())
	}
	panic("unreachable")
}

// waitEvent waits for an event for which match returns true, skipping others.
func waitEvent(t *testing.T, n *node, what string, match func(transport.PeerEvent) bool) transport.PeerEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for {
		select {
		case ev, ok := <-n.tr.Events():
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isUp(p peer.ID) func(transport.PeerEvent) bool {
	return func(ev transport.PeerEvent) bool {
		u, ok := ev.(transport.PeerUp)
		return ok && u.Peer == p
	}
}

func isDown(p peer.ID) func(transport.PeerEvent) bool {
	return func(ev transport.PeerEvent) bool {
		d, ok := ev.(transport.PeerDown)
		return ok && d.Peer == p
	}
}

func payload(i int) string { return fmt.Sprintf("m-%06d", i) }

// silentListener accepts TCP connections on 127.0.0.1 and never speaks (a
// stale address, or a hung process): a libp2p dial to it hangs until its
// timeout. It returns the port and a channel that gets a value (without
// blocking) at each accepted connection.
func silentListener(t *testing.T) (port int, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan struct{}, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never speak
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, ch
}
