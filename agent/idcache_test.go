package agent

import (
	"crypto/rand"
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestIDCacheConvertsBothWaysAndStaysBounded(t *testing.T) {
	var c idCache
	var ids []peer.ID
	for range 3 {
		ids = append(ids, newPeerID(t))
	}
	for _, p := range ids {
		n := c.node(p)
		if n != membership.NodeID(p.String()) {
			t.Fatalf("node(%s) = %s", p, n)
		}
		back, err := c.peer(n)
		if err != nil || back != p {
			t.Fatalf("peer(%s) = %s, %v; want %s", n, back, err, p)
		}
	}
	if _, err := c.peer("not-a-peer-id"); err == nil {
		t.Fatal("an invalid node ID converted")
	}
	if len(c.toPeer) != len(ids) {
		t.Fatalf("cache holds %d entries, want %d (an invalid ID must not be kept)", len(c.toPeer), len(ids))
	}
	for i := range maxIDCache + 10 {
		c.put(peer.ID(rune(i)), membership.NodeID(rune(i)))
	}
	if len(c.toNode) > maxIDCache || len(c.toPeer) > maxIDCache {
		t.Fatalf("cache grew to %d/%d entries, bound %d", len(c.toNode), len(c.toPeer), maxIDCache)
	}
}

// A peer ID in another text form (CIDv1, which peer.Decode also accepts),
// as a peer may put in a message, is refused and leaves the cache alone:
// cached, it replaced the peer's canonical name, and every message from
// that peer was credited to a node no core knew.
func TestIDCacheRefusesNonCanonicalIDs(t *testing.T) {
	p := newPeerID(t)
	var c idCache
	c.node(p)
	alias := membership.NodeID(peer.ToCid(p).String())
	if _, err := c.peer(alias); err == nil {
		t.Fatalf("the CIDv1 form %s was accepted", alias)
	}
	if n := c.node(p); n != membership.NodeID(p.String()) {
		t.Fatalf("messages from %s are credited to %q", p, n)
	}
	if q, err := c.peer(membership.NodeID(p.String())); err != nil || q != p {
		t.Fatalf("the canonical form: %v %v", q, err)
	}
}

// newPeerID is a fresh peer ID (Ed25519).
func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
