package membership

import (
	"fmt"
	"strings"
)

// NodeID identifies a node. In the agent it is the text form of a libp2p
// peer ID (peer.ID.String()); in the simulator a short synthetic name. It is
// always valid UTF-8. The zero value is not a valid ID.
type NodeID string

// Valid reports whether the ID is non-empty.
func (id NodeID) Valid() bool { return id != "" }

// Node is the record a core keeps about another node: who it is and how to
// reach it. Addrs are multiaddr strings (without the /p2p/ suffix); they are
// empty in the simulator, which needs none.
type Node struct {
	ID    NodeID
	Addrs []string
}

// String renders the node for logs.
func (n Node) String() string {
	if len(n.Addrs) == 0 {
		return fmt.Sprintf("%q", string(n.ID))
	}
	return fmt.Sprintf("%q@%s", string(n.ID), strings.Join(n.Addrs, ","))
}

// Clone returns a copy whose Addrs slice does not alias n's.
func (n Node) Clone() Node {
	if n.Addrs == nil {
		return n
	}
	c := n
	c.Addrs = append([]string(nil), n.Addrs...)
	return c
}
