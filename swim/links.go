package swim

import (
	"github.com/hearsay-mesh/hearsay/membership"
)

// Links are the members the driver holds an open connection to anyway
// (the agent: HyParView's active view). Gossip rounds and indirect probes
// go to them first, and to random members only when there are too few:
// on libp2p every new target costs a dial, a noise handshake and identify,
// and gossiping each update to 3 random members every 200 ms made every
// one of 200 freshly joined agents dial about 15 new members a second, a
// storm of handshakes that held both cores of the machine for over a
// minute, long enough for probes to time out and members to accuse each
// other (docs/swim-bench.md, "The formation storm"). memberlist gossips
// over UDP, where a random target costs nothing. Without links (the
// simulator's SWIM alone) every pick is random, as in the paper.

// LinkUp records that the driver has an open link to node.
func (c *Core) LinkUp(node membership.NodeID) {
	if node == c.self.ID || !node.Valid() {
		return
	}
	c.links.Add(node)
}

// LinkDown records that the link to node is gone.
func (c *Core) LinkDown(node membership.NodeID) {
	c.links.Remove(node)
}

// pickLinkedFirst returns up to k distinct members that satisfy ok,
// chosen at random among the linked ones first and, when those are fewer
// than k, completed at random from the others: with Config.DialInterval,
// from the members reached before (dials.go) first.
func (c *Core) pickLinkedFirst(k int, ok func(membership.NodeID) bool) []membership.NodeID {
	var out []membership.NodeID
	if len(c.links) > 0 {
		out = c.pickFrom(c.links, k, ok)
	}
	if len(out) == k {
		return out
	}
	tiered := c.cfg.DialInterval > 0
	if tiered {
		out = append(out, c.pickMembers(k-len(out), func(id membership.NodeID) bool {
			return !c.links.Has(id) && c.reached(id) && ok(id)
		})...)
		if len(out) == k {
			return out
		}
	}
	// Whatever qualified in the tiers above was taken already.
	return append(out, c.pickMembers(k-len(out), func(id membership.NodeID) bool {
		return !c.links.Has(id) && !(tiered && c.reached(id)) && ok(id)
	})...)
}

// pickFrom returns up to k random distinct ids of from that satisfy ok and
// are members.
func (c *Core) pickFrom(from []membership.NodeID, k int, ok func(membership.NodeID) bool) []membership.NodeID {
	var cands []membership.NodeID
	for _, id := range from {
		if _, member := c.members[id]; member && ok(id) {
			cands = append(cands, id)
		}
	}
	k = min(k, len(cands))
	for i := 0; i < k; i++ {
		j := i + c.rng.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return cands[:k]
}
