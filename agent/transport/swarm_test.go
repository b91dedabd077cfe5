package transport_test

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestFiftyHostsOnLoopback checks that the resource manager admits 50+
// local peers: 55 spokes each send to one hub, which answers each of them.
func TestFiftyHostsOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 56 hosts")
	}
	const spokes = 55
	hub := newNode(t, testConfig())
	nodes := make([]*node, spokes)
	for i := range nodes {
		nodes[i] = newNode(t, testConfig())
		nodes[i].learn(hub.h)
		hub.learn(nodes[i].h)
		if err := nodes[i].tr.Send(hub.h.ID(), protoA, msg(payload(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[peer.ID]bool{}
	for range spokes {
		in := recv(t, hub)
		if seen[in.From] {
			t.Fatalf("duplicate message from %s", in.From)
		}
		seen[in.From] = true
		if err := hub.tr.Send(in.From, protoA, msg("ack")); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		if in := recv(t, n); in.From != hub.h.ID() {
			t.Fatalf("ack from %s, want hub", in.From)
		}
	}
	if got := len(hub.h.Network().Peers()); got != spokes {
		t.Errorf("hub connected to %d peers, want %d", got, spokes)
	}
}
