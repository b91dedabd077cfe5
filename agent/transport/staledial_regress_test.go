package transport_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// a's dial to b hangs on a stale address while b connects to a. When a's
// dial times out, a opens its stream on b's connection and delivers: it
// reported PeerDown(b), b being connected, and no PeerUp(b) followed, so
// the owner took a live neighbour for failed.
func TestStaleDialUsesThePeersConnection(t *testing.T) {
	cfg := testConfig()
	cfg.DialTimeout = 2 * time.Second
	a, b := newNode(t, cfg), newNode(t, testConfig())
	port, dialing := silentListener(t)
	stale := ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port))
	a.tr.AddAddrs(peer.AddrInfo{ID: b.h.ID(), Addrs: []ma.Multiaddr{stale}}, peerstore.PermanentAddrTTL)
	if err := a.tr.Send(b.h.ID(), protoA, msg("to b")); err != nil {
		t.Fatal(err)
	}
	<-dialing // a's dial hangs on the stale address
	b.learn(a.h)
	if err := b.tr.Send(a.h.ID(), protoA, msg("to a")); err != nil {
		t.Fatal(err)
	}
	recv(t, a)
	waitEvent(t, a, "PeerUp(b)", isUp(b.h.ID()))
	if in := recv(t, b); in.From != a.h.ID() {
		t.Fatalf("b received from %s", in.From)
	}
	for {
		select {
		case ev := <-a.tr.Events():
			if d, ok := ev.(transport.PeerDown); ok && d.Peer == b.h.ID() {
				t.Fatalf("PeerDown(b) while b is connected: %v", d.Reason)
			}
		default:
			return
		}
	}
}
