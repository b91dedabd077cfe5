package agent

import (
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxIDCache bounds idCache: past it the cache starts over (a node talks
// to its views' members, tens to a few hundred peers).
const maxIDCache = 4096

// idCache remembers the conversions between libp2p peer IDs and membership
// IDs (their base58 text) on the loop: every inbound message needs one and
// every send the other, and the base58 codec was 6% of an agent's CPU under
// `bench broadcast` load. Used only on the loop goroutine.
type idCache struct {
	toNode map[peer.ID]membership.NodeID
	toPeer map[membership.NodeID]peer.ID
}

// node is nodeID(p), cached.
func (c *idCache) node(p peer.ID) membership.NodeID {
	if n, ok := c.toNode[p]; ok {
		return n
	}
	n := nodeID(p)
	c.put(p, n)
	return n
}

// peer is peerID(id), cached; an invalid ID is not remembered. An ID in
// another text form of a peer ID (peer.Decode also takes the CIDv1 form)
// is refused: cached, it would replace the peer's canonical name, and
// every message from that peer would then be credited to a node no core
// knows.
func (c *idCache) peer(id membership.NodeID) (peer.ID, error) {
	if p, ok := c.toPeer[id]; ok {
		return p, nil
	}
	p, err := peerID(id)
	if err != nil {
		return "", err
	}
	if nodeID(p) != id {
		return "", fmt.Errorf("agent: node ID %q is not in canonical form (%s)", id, nodeID(p))
	}
	c.put(p, id)
	return p, nil
}

func (c *idCache) put(p peer.ID, n membership.NodeID) {
	if c.toNode == nil || len(c.toNode) >= maxIDCache {
		c.toNode = make(map[peer.ID]membership.NodeID)
		c.toPeer = make(map[membership.NodeID]peer.ID)
	}
	c.toNode[p] = n
	c.toPeer[n] = p
}
