package antientropy

import "slices"

// Links are the members the driver holds an open connection to anyway
// (the agent: HyParView's active view; LinkUp, LinkDown). With
// Config.RandomSyncEvery above 1, the periodic sessions go to a random
// link, and every RandomSyncEvery-th one to a random member. A session
// with a random member costs a new connection on libp2p (a dial, a Noise
// handshake, identify) most of the time: at about one session a second
// per node while 200 agents formed a cluster, anti-entropy made 2,867 of
// the 12,269 connections the agents set up in their first minute
// (docs/swim-bench.md, "First contacts"). The active view is a connected
// random graph, so sessions over it reach every replica's dots; the
// random ones keep healing an overlay that split. Without links (the
// simulator's anti-entropy alone) every session is with a random member.

// LinkUp records that the driver has an open link to node.
func (c *Core) LinkUp(node NodeID) {
	if node == c.self || !node.Valid() {
		return
	}
	c.links.Add(node)
}

// LinkDown records that the link to node is gone.
func (c *Core) LinkDown(node NodeID) {
	c.links.Remove(node)
}

// pickPartner returns the peer of the next periodic session, or "" if
// there is none without a running session: a random link that is a
// member, but every RandomSyncEvery-th session (or when no link is free)
// a random member; with LinkedSyncs and no link that is a member, ""
// except on those random turns.
func (c *Core) pickPartner() NodeID {
	c.periodic++
	free := func(p NodeID) bool { _, busy := c.out[p]; return !busy }
	if c.cfg.RandomSyncEvery > 1 && c.periodic%uint64(c.cfg.RandomSyncEvery) != 0 {
		var cands []NodeID
		linked := false
		for _, l := range c.links {
			if _, member := slices.BinarySearch(c.members, l); member {
				linked = true
				if free(l) {
					cands = append(cands, l)
				}
			}
		}
		if len(cands) > 0 {
			return cands[c.rng.IntN(len(cands))]
		}
		if c.cfg.LinkedSyncs && !linked {
			return "" // no link yet: wait for one, or for the random turn
		}
	}
	if len(c.members) == 0 {
		return ""
	}
	for try := 0; try < 4; try++ {
		if p := c.members[c.rng.IntN(len(c.members))]; free(p) {
			return p
		}
	}
	return ""
}
