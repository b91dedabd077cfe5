package plumtree

import (
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// NeighborUp adds a neighbour (the overlay's NeighborUp event). It starts
// eager in every tree, as in the paper, except with Config.LazyNewLinks:
// then it starts lazy in every tree that has carried traffic (see
// split.startLazy): a replacement link costs an IHAVE, not a duplicate
// payload, and is grafted when a message goes missing.
// Adding a present neighbour, or self, does nothing.
func (c *Core) NeighborUp(now time.Duration, node membership.Node) {
	p := node.ID
	if !p.Valid() || p == c.self {
		return
	}
	i, ok := slices.BinarySearch(c.peers, p)
	if ok {
		return
	}
	c.peers = slices.Insert(c.peers, i, p)
	c.trees.removePeer(p) // no stale lazy mark survives a reconnection
	if c.cfg.LazyNewLinks {
		c.stats.LazyNewLinks += c.trees.newLink(p, c.self, c.peers)
	}
	c.announceRecent(now, p)
	c.scheduleCatchUp(now, p)
}

// catchUp is a neighbour that came up at up, to be told MaxTreeLag later
// of the messages delivered in the CatchUpSpan before up.
type catchUp struct {
	peer membership.NodeID
	up   time.Duration
}

// scheduleCatchUp remembers to tell the new neighbour p of the messages
// delivered in the last CatchUpSpan, if there are any. Until this node
// listed p, p may have listed it already: p then sent its own traffic
// here, but nothing this node delivered went to p. If that link was the
// only one between two parts of the overlay, those messages would never
// reach p's part; announcing them repairs it (p grafts what it lacks).
func (c *Core) scheduleCatchUp(now time.Duration, p membership.NodeID) {
	if c.cfg.CatchUpSpan <= 0 || c.cache.head >= len(c.cache.order) {
		return
	}
	if r := c.cache.get(c.cache.order[len(c.cache.order)-1]); r == nil || now-r.at > c.cfg.CatchUpSpan {
		return // nothing delivered in the span
	}
	c.catchUps = append(c.catchUps, catchUp{peer: p, up: now})
}

// catchUp queues, for each neighbour that came up at least MaxTreeLag
// ago, IHAVEs of the messages delivered in the CatchUpSpan before it came
// up (newest first, at most MaxIHaveBatch; sent oldest first), except
// those it sent us. The wait lets the tree's copies still on their way
// arrive, so the neighbour grafts only the messages that did not cross.
// Later messages went to it by push or IHAVE already.
func (c *Core) catchUp(now time.Duration) {
	n := 0
	for _, cu := range c.catchUps {
		if now-cu.up < c.cfg.MaxTreeLag {
			break // in order of coming up: the rest are younger
		}
		n++
		var anns []*pb.Announcement
		for i := len(c.cache.order) - 1; i >= c.cache.head && len(anns) < c.cfg.MaxIHaveBatch; i-- {
			id := c.cache.order[i]
			r := c.cache.get(id)
			if r == nil || r.at >= cu.up {
				continue
			}
			if cu.up-r.at > c.cfg.CatchUpSpan {
				break
			}
			if r.parent == cu.peer || id.Origin == cu.peer {
				continue // it has it
			}
			anns = append(anns, &pb.Announcement{Id: id.wire(), Hops: uint32(r.hops)})
		}
		for i := len(anns) - 1; i >= 0; i-- {
			c.queueIHave(cu.peer, anns[i])
		}
		c.stats.CatchUpAnnounced += uint64(len(anns))
	}
	c.catchUps = slices.Delete(c.catchUps, 0, n)
}

// announceRecent queues IHAVEs for the messages delivered in the last
// Config.AnnounceRecent but at least MaxTreeLag ago (newer ones may still
// reach it by the tree; announcing them made the neighbour graft messages
// in flight), newest first, at most MaxIHaveBatch, to a new neighbour: a node that just joined, or whose links were replaced, may
// have been cut off while they went by, and nothing else would tell it;
// it grafts the ones it lacks. A neighbour that has them only reads one
// IHAVE.
func (c *Core) announceRecent(now time.Duration, p membership.NodeID) {
	if c.cfg.AnnounceRecent <= 0 {
		return
	}
	var anns []*pb.Announcement
	for i := len(c.cache.order) - 1; i >= c.cache.head && len(anns) < c.cfg.MaxIHaveBatch; i-- {
		id := c.cache.order[i]
		r := c.cache.get(id)
		if r == nil {
			continue
		}
		if now-r.at > c.cfg.AnnounceRecent {
			break
		}
		if now-r.at < c.cfg.MaxTreeLag {
			continue // may still be on its way to the neighbour by the tree
		}
		anns = append(anns, &pb.Announcement{Id: id.wire(), Hops: uint32(r.hops)})
	}
	for i := len(anns) - 1; i >= 0; i-- { // oldest first, as they were delivered
		c.queueIHave(p, anns[i])
	}
	c.stats.RecentAnnounced += uint64(len(anns))
}

// NeighborDown removes a neighbour (the overlay's NeighborDown event): no
// more pushes or IHAVEs go to it, its queued IHAVEs are dropped, and a
// message it announced is grafted from another announcer.
func (c *Core) NeighborDown(_ time.Duration, node membership.Node) { c.removePeer(node.ID) }

// PeerDown implements membership.Core: the link failed, so the peer is no
// longer a neighbour (the overlay will report its replacement).
func (c *Core) PeerDown(_ time.Duration, peer membership.NodeID) { c.removePeer(peer) }

func (c *Core) removePeer(p membership.NodeID) {
	i, ok := slices.BinarySearch(c.peers, p)
	if !ok {
		return
	}
	c.peers = slices.Delete(c.peers, i, i+1)
	c.trees.removePeer(p)
	if q := c.lazyQ[p]; len(q) > 0 {
		c.stats.LazyDropped += uint64(len(q))
	}
	delete(c.lazyQ, p)
	delete(c.rtts, p)
	c.catchUps = slices.DeleteFunc(c.catchUps, func(cu catchUp) bool { return cu.peer == p })
}
