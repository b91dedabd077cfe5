package plumtree

import (
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// onGossip: a payload arrived. New: deliver, forward on the tree, and make
// the sender eager. Duplicate: the sender's link is redundant, so prune it
// (unless we asked it for the message by GRAFT).
func (c *Core) onGossip(now time.Duration, from membership.NodeID, g gossipIn) {
	c.stats.GossipReceived++
	// A message still missing here was never delivered, even if its
	// origin's floor passed it (a later message of the origin was evicted
	// meanwhile: out of order under load): it is new.
	if c.cache.seen(g.id) && c.missing[g.id] == nil {
		c.stats.Duplicates++
		r := c.cache.get(g.id)
		if r == nil {
			c.stats.StaleDropped++
			return
		}
		if i := slices.Index(r.grafted, from); i >= 0 {
			r.grafted = slices.Delete(r.grafted, i, i+1)
			c.pruneLateAnswer(g.id, from)
			return
		}
		if r.viaGraft && r.hadIHave {
			// The tree's copy, after a GRAFT fetched the message: the
			// first timer was too eager by at least this much.
			c.sampleLag(now - r.announced)
			r.viaGraft = false
		}
		if c.trees.straggler(g.id, from) {
			c.stats.StaleDuplicates++ // no reason to prune the tree link
			return
		}
		if c.isNeighbor(from) {
			c.trees.setLazy(g.id.Origin, from, true)
		}
		// Even a non-neighbour is told: a link only one end holds (the
		// overlay's view may lag) would otherwise duplicate every message.
		c.sendPrune(from, g.id.Origin)
		return
	}
	m := c.missing[g.id]
	var grafted []membership.NodeID
	if m != nil {
		delete(c.missing, g.id)
		c.sampleRTT(now, from, m)
		for _, gr := range m.grafts {
			if gr.peer != "" && gr.peer != from && !slices.Contains(grafted, gr.peer) {
				grafted = append(grafted, gr.peer)
			}
		}
	}
	r := c.deliver(now, g.id, g.payload, g.hops, from, grafted, m != nil && m.graftedTo(from))
	if m != nil {
		r.announced, r.hadIHave = m.first, true
		r.viaGraft = m.graftedTo(from)
		if !r.viaGraft && !m.anyGraft() {
			c.sampleLag(now - m.first) // the tree delivered after its IHAVE
		}
	}
	skip := []membership.NodeID{from}
	if m != nil {
		for _, a := range m.announcers {
			skip = append(skip, a.peer) // they have it already
		}
	}
	// A straggler (older than the newest message of its origin's tree here)
	// is delivered and passed down the tree, but does not reshape it: the
	// peer that had it late is not the tree's path (taking it as parent
	// made links eager at both ends, and the next message crossed on them).
	if c.isNeighbor(from) {
		if !c.trees.older(g.id) {
			c.trees.setLazy(g.id.Origin, from, false)
			c.trees.setParent(g.id, from)
			if m != nil {
				c.optimizeOnDelivery(now, g.id, r, m)
			}
		}
		if m == nil || !m.graftedTo(from) {
			c.trees.pushedBy(g.id.Origin, now)
		}
	}
	c.push(g.id, g.hops+1, g.payload, skip)
}

// pruneLateAnswer handles the answer of peer from to a GRAFT for id that
// arrived after another copy (the tree's, or an earlier GRAFT's answer)
// had delivered it. The GRAFT made the link eager at both ends, but the
// message did not travel on it in either direction (it is not pushed back
// to an announcer), so nothing would prune it: the node was left with two
// upstream links, and the next message came down both and crossed on the
// repair link (a duplicate at each end). This is the paper's rule (a
// payload already delivered prunes its sender), applied to a GRAFT answer
// too, except when from is the tree's parent, or the message is a
// straggler (a catch-up GRAFT, which changed no link). 10,000 simulated
// nodes: cycle-2 RMR after 40/60/80% crashes 0.027/0.026/0.015 -> 0.019/
// 0.015/0.0025, churn RMR 0.019 -> 0.014 (docs/plumtree.md).
func (c *Core) pruneLateAnswer(id MessageID, from membership.NodeID) {
	if !c.isNeighbor(from) || c.trees.older(id) || c.trees.peekOrShared(id.Origin).parent == from {
		return
	}
	c.stats.LateAnswersPruned++
	c.trees.setLazy(id.Origin, from, true)
	c.sendPrune(from, id.Origin)
}

// optimizeOnDelivery is the paper's optimisation: an IHAVE that arrived
// before the payload named a path shorter by at least the threshold.
func (c *Core) optimizeOnDelivery(now time.Duration, id MessageID, r *received, m *missing) {
	best := -1
	for i, a := range m.announcers {
		if a.peer != r.parent && c.isNeighbor(a.peer) && (best < 0 || a.hops < m.announcers[best].hops) {
			best = i
		}
	}
	if best >= 0 {
		c.maybeSwap(now, id, r, m.announcers[best].peer, m.announcers[best].hops)
	}
}

// maybeSwap grafts peer (which received id at hops) and prunes r's parent
// when that shortens the path by at least the threshold.
func (c *Core) maybeSwap(now time.Duration, id MessageID, r *received, peer membership.NodeID, hops int) bool {
	t := c.cfg.OptimizationThreshold
	if t == 0 || r.parent == "" || r.parent == peer {
		return false
	}
	if c.swapped && now-c.lastSwap < c.cfg.OptimizationInterval {
		return false // cooling down: no evidence is gathered either
	}
	if !c.trees.evidence(id.Origin).confirm(id, peer, r.hops-(hops+1) >= t, c.cfg.OptimizationConfirm) {
		return false
	}
	c.stats.Optimizations++
	c.lastSwap, c.swapped = now, true
	c.trees.setLazy(id.Origin, peer, false)
	c.Send(peer, &pb.Envelope{Body: &pb.Envelope_Graft{Graft: &pb.Graft{Origins: [][]byte{[]byte(id.Origin)}}}})
	if c.isNeighbor(r.parent) {
		c.trees.setLazy(id.Origin, r.parent, true)
		c.sendPrune(r.parent, id.Origin)
	}
	r.parent, r.hops = peer, hops+1
	c.trees.swapParent(id.Origin, peer)
	return true
}

func (c *Core) sendPrune(to, origin membership.NodeID) {
	c.Send(to, &pb.Envelope{Body: &pb.Envelope_Prune{Prune: &pb.Prune{Origins: [][]byte{[]byte(origin)}}}})
	c.stats.PrunesSent++
}

// onIHave: a lazy peer announced messages. Unknown ones start (or extend) a
// missing-message timer; known ones may reveal a shorter path.
//
// An IHAVE from a peer that is not a neighbour still records the
// announcement (only a neighbour's may reshape the tree): the two ends of a
// new overlay link learn of it at different moments, and a node that just
// joined may hear of a message only from a peer it does not list yet. It is
// grafted from such a peer only when no neighbour is left to ask, and such
// announcements may fill at most half the missing-message table (a stranger
// sending IHAVEs of made-up IDs filled it all, and real neighbours'
// announcements were then dropped).
func (c *Core) onIHave(now time.Duration, from membership.NodeID, entries []announceIn) {
	neighbor := c.isNeighbor(from)
	for _, e := range entries {
		if c.cache.seen(e.id) {
			if !neighbor {
				continue
			}
			r := c.cache.get(e.id)
			// An announcement of an old message is no evidence about the
			// tree's current paths.
			if r != nil && !c.trees.older(e.id) && c.trees.get(e.id.Origin).isLazy(from) {
				c.maybeSwap(now, e.id, r, from, e.hops)
			}
			continue
		}
		c.announced(now, e.id, from, e.hops, !neighbor)
	}
}

// onGraft: a peer wants to be eager (again) and may want messages.
func (c *Core) onGraft(from membership.NodeID, g graftIn) {
	c.stats.GraftsReceived++
	if c.isNeighbor(from) && !g.catchUp {
		for _, o := range g.origins {
			c.trees.setLazy(o, from, false)
		}
		for _, id := range g.ids {
			c.trees.setLazy(id.Origin, from, false)
		}
	}
	for _, id := range g.ids {
		r := c.cache.get(id)
		if r == nil {
			c.stats.GraftMisses++
			continue
		}
		if r.hops+1 > c.cfg.MaxHops {
			continue
		}
		c.Send(from, &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{Id: id.wire(), Hops: uint32(r.hops + 1), Payload: r.payload}}})
		c.stats.GossipSent++
	}
}

// onPrune: a peer got our pushes twice; it only wants IHAVEs from us.
func (c *Core) onPrune(from membership.NodeID, origins []membership.NodeID) {
	c.stats.PrunesReceived++
	if !c.isNeighbor(from) {
		return
	}
	for _, o := range origins {
		c.trees.setLazy(o, from, true)
	}
}
