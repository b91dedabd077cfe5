package plumtree

import (
	"fmt"
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// Broadcast sends payload to every node. The payload is copied. The node
// delivers it to itself at once (a Delivered event with Hops 0), pushes it
// to its eager peers and announces it to its lazy peers at the next Tick.
func (c *Core) Broadcast(now time.Duration, payload []byte) (MessageID, error) {
	if len(payload) > c.cfg.MaxPayload {
		return MessageID{}, fmt.Errorf("plumtree: payload of %d bytes exceeds Config.MaxPayload %d", len(payload), c.cfg.MaxPayload)
	}
	c.seq++
	id := MessageID{Origin: c.self, Seq: c.seq}
	payload = slices.Clone(payload)
	c.stats.Broadcasts++
	c.deliver(now, id, payload, 0, "", nil, false)
	c.trees.setParent(id, c.self) // the root is always connected to its tree
	c.push(id, 1, payload, nil)
	return id, nil
}

// deliver caches a new message and hands it up.
func (c *Core) deliver(now time.Duration, id MessageID, payload []byte, hops int, parent membership.NodeID, grafted []membership.NodeID, repaired bool) *received {
	r := &received{payload: payload, hops: hops, parent: parent, at: now, grafted: grafted}
	c.stats.CacheEvicted += uint64(c.cache.add(id, r))
	c.stats.Delivered++
	c.Emit(Delivered{ID: id, Origin: id.Origin, Payload: payload, Hops: hops, Repaired: repaired})
	return r
}

// push sends the message to origin's eager peers and queues an IHAVE for
// its lazy peers, skipping the peers known to have it (the sender and the
// announcers). hops is what the receivers will see.
func (c *Core) push(id MessageID, hops int, payload []byte, skip []membership.NodeID) {
	if hops > c.cfg.MaxHops {
		return
	}
	tree := c.trees.get(id.Origin)
	var env *pb.Envelope
	var ann *pb.Announcement
	for _, p := range c.peers {
		if slices.Contains(skip, p) {
			continue
		}
		if tree.isLazy(p) {
			if ann == nil {
				ann = &pb.Announcement{Id: id.wire(), Hops: uint32(hops - 1)}
			}
			c.queueIHave(p, ann)
			continue
		}
		if env == nil {
			env = &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{Id: id.wire(), Hops: uint32(hops), Payload: payload}}}
		}
		c.Send(p, env)
		c.stats.GossipSent++
	}
}

func (c *Core) queueIHave(p membership.NodeID, a *pb.Announcement) {
	q := c.lazyQ[p]
	if len(q) >= c.cfg.MaxLazyQueue {
		c.stats.LazyDropped++
		return
	}
	c.lazyQ[p] = append(q, a)
}

// flushLazy sends each neighbour one IHAVE with up to MaxIHaveBatch of its
// queued announcements, in neighbour order; the rest wait for the next tick.
func (c *Core) flushLazy() {
	for _, p := range c.peers {
		q := c.lazyQ[p]
		if len(q) == 0 {
			continue
		}
		n := min(len(q), c.cfg.MaxIHaveBatch)
		batch := slices.Clone(q[:n])
		if n == len(q) {
			delete(c.lazyQ, p)
		} else {
			c.lazyQ[p] = slices.Clone(q[n:])
		}
		c.Send(p, &pb.Envelope{Body: &pb.Envelope_Ihave{Ihave: &pb.IHave{Entries: batch}}})
		c.stats.IHaveSent++
		c.stats.IHaveEntries += uint64(n)
	}
}

// SetSeq makes the node's next broadcast use sequence number seq+1. A
// restarted node must call it before broadcasting with a value above any it
// used before (the agent uses the wall clock in microseconds), or its new
// messages would look older than the ones its peers remember and be
// dropped as already delivered. It never moves the sequence backwards.
func (c *Core) SetSeq(seq uint64) {
	if seq > c.seq {
		c.seq = seq
	}
}
