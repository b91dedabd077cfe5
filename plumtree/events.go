package plumtree

import "github.com/hearsay-mesh/hearsay/membership"

// Delivered hands a broadcast to the layer above. Each message is
// delivered once per node, the origin included (with Hops 0). Payload is
// shared with the core's cache and other receivers: read it, never modify it.
type Delivered struct {
	membership.EventMarker
	ID      MessageID
	Origin  membership.NodeID
	Payload []byte
	// Hops is how many links the copy that delivered it crossed.
	Hops int
	// Repaired: the delivering copy answered this node's GRAFT (the
	// missing-message path), rather than arriving by push on the tree.
	Repaired bool
}
