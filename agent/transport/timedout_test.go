package transport_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// A dial that gets no answer within DialTimeout (a listener that accepts
// and never speaks: a starved or hung process) reports PeerDown with
// TimedOut true; a refused one (nothing listening) with TimedOut false.
// The agent passes only the latter to SWIM as evidence.
func TestPeerDownTimedOutOnlyForUnansweredDials(t *testing.T) {
	cfg := testConfig()
	cfg.DialTimeout = 500 * time.Millisecond
	a, b, c := newNode(t, cfg), newNode(t, testConfig()), newNode(t, testConfig())
	silent, _ := silentListener(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	for _, tc := range []struct {
		name    string
		to      peer.ID
		port    int
		timeout bool
	}{
		{"unanswered", b.h.ID(), silent, true},
		{"refused", c.h.ID(), refusing, false},
	} {
		addr := ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", tc.port))
		a.tr.AddAddrs(peer.AddrInfo{ID: tc.to, Addrs: []ma.Multiaddr{addr}}, peerstore.PermanentAddrTTL)
		if err := a.tr.Send(tc.to, protoA, msg("hello")); err != nil {
			t.Fatal(err)
		}
		d := waitEvent(t, a, "PeerDown("+tc.name+")", isDown(tc.to)).(transport.PeerDown)
		if d.TimedOut() != tc.timeout {
			t.Errorf("%s: TimedOut() = %v, want %v (reason %v)", tc.name, d.TimedOut(), tc.timeout, d.Reason)
		}
	}
}
