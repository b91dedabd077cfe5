package antientropy

import (
	"cmp"

	"github.com/hearsay-mesh/hearsay/membership"
)

// NodeID is a replica's identity; it is the membership layer's ID, so the
// same value names a member, a sync peer and the origin of a dot. crdt.NodeID
// converts with NodeID(string(id)).
type NodeID = membership.NodeID

// Dot names one write: the Counter-th write made at Node. Counters start at
// 1 and each node's writes use consecutive counters. crdt.Dot converts field
// by field.
type Dot struct {
	Node    NodeID
	Counter uint64
}

func compareDots(a, b Dot) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}
