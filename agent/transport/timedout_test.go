package transport_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// A dial that gets no answer within its timeout (a listener that accepts
// and never speaks: a starved or hung process) reports PeerDown with
// TimedOut true; a refused one (nothing listening) with TimedOut false,
// and so does a peer with one refusing and one silent address (another
// interface, a stale address): the refusal is evidence, the agent passes
// it to SWIM. The host's per-address dial timeout (300 ms) ends before the
// sender's (2 s), as in the defaults (10 s and 12 s), so the swarm reports
// every address's error.
func TestPeerDownTimedOutOnlyForUnansweredDials(t *testing.T) {
	hc := transport.TestHostConfig(t.TempDir())
	hc.DialTimeout = 300 * time.Millisecond
	h, err := transport.NewHost(hc, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.DialTimeout = 2 * time.Second
	tr, err := transport.New(h, cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	tr.Register(protoA, newBytes)
	t.Cleanup(func() { tr.Close(); h.Close() })
	a := &node{h: h, tr: tr, logs: &syncBuffer{}}

	silent, _ := silentListener(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	for _, tc := range []struct {
		name    string
		ports   []int
		timeout bool
	}{
		{"unanswered", []int{silent}, true},
		{"refused", []int{refusing}, false},
		{"refused and unanswered", []int{refusing, silent}, false},
	} {
		to := newNode(t, testConfig()).h.ID()
		var addrs []ma.Multiaddr
		for _, p := range tc.ports {
			addrs = append(addrs, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", p)))
		}
		a.tr.AddAddrs(peer.AddrInfo{ID: to, Addrs: addrs}, peerstore.PermanentAddrTTL)
		if err := a.tr.Send(to, protoA, msg("hello")); err != nil {
			t.Fatal(err)
		}
		d := waitEvent(t, a, "PeerDown("+tc.name+")", isDown(to)).(transport.PeerDown)
		if d.TimedOut() != tc.timeout {
			t.Errorf("%s: TimedOut() = %v, want %v (reason %v)", tc.name, d.TimedOut(), tc.timeout, d.Reason)
		}
	}
}
