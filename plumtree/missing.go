package plumtree

import (
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// maxAnnouncers bounds how many announcers one missing message remembers.
const maxAnnouncers = 16

// missing is a message announced by IHAVE but not received yet.
type missing struct {
	announcers []announcer // in arrival order
	next       int         // the announcer the next GRAFT goes to
	grafts     []graftSent
	deadline   time.Duration
	first      time.Duration // when the first IHAVE for it arrived
}

type announcer struct {
	peer membership.NodeID
	hops int
}

type graftSent struct {
	peer membership.NodeID
	at   time.Duration
}

// timeout is how long to wait for an answer from peer: its RTO, scaled,
// jittered by up to 1/8, bounded by the Config.
func (c *Core) timeout(peer membership.NodeID, scale float64) time.Duration {
	return c.jitter(time.Duration(float64(c.rtts[peer].rto(c.cfg.InitialRTT)) * scale))
}

func (c *Core) jitter(d time.Duration) time.Duration {
	d += time.Duration(c.rng.Int64N(int64(d/8) + 1))
	return clamp(d, c.cfg.GraftTimeoutMin, c.cfg.GraftTimeoutMax)
}

// firstTimeout is how long the tree gets to deliver a message after the
// first IHAVE for it: IHaveWaitRTTs x the announcer's RTO, and at least
// the measured tree lag (mean plus four deviations, at most MaxTreeLag).
func (c *Core) firstTimeout(peer membership.NodeID) time.Duration {
	d := time.Duration(float64(c.rtts[peer].rto(c.cfg.InitialRTT)) * c.cfg.IHaveWaitRTTs)
	if c.lag.samples > 0 {
		d = max(d, min(c.lag.rto(0), c.cfg.MaxTreeLag))
	}
	return c.jitter(d)
}

// sampleLag records that the tree delivered a payload d after the first
// IHAVE for it. Samples come from normal traffic: a payload that arrives
// after its IHAVE (before any GRAFT), and the tree's copy that arrives
// after a GRAFT already fetched the message (the timer was too eager).
func (c *Core) sampleLag(d time.Duration) {
	c.lag.sample(d)
	c.stats.LagSamples++
}

// announced records that peer has id (received at hops); a stranger (not
// a neighbour) may start tracking a message only while the table is less
// than half full.
func (c *Core) announced(now time.Duration, id MessageID, peer membership.NodeID, hops int, stranger bool) {
	m := c.missing[id]
	if m == nil {
		if len(c.missing) >= c.cfg.MaxMissing || (stranger && len(c.missing) >= c.cfg.MaxMissing/2) {
			c.stats.MissingDropped++
			return
		}
		wait := c.firstTimeout(peer)
		if c.trees.peekOrShared(id.Origin).orphan {
			// Our parent in this tree went down: nothing is coming on the
			// tree, so graft at the next tick.
			wait = 0
		}
		m = &missing{deadline: now + wait, first: now}
		c.missing[id] = m
	}
	for _, a := range m.announcers {
		if a.peer == peer {
			return
		}
	}
	if len(m.announcers) < maxAnnouncers {
		m.announcers = append(m.announcers, announcer{peer, hops})
	}
}

// sampleRTT measures the round trip of a GRAFT answered by from, when only
// one GRAFT for the message went to from (Karn's rule).
func (c *Core) sampleRTT(now time.Duration, from membership.NodeID, m *missing) {
	var at time.Duration
	n := 0
	for _, g := range m.grafts {
		if g.peer == from {
			at = g.at
			n++
		}
	}
	if n != 1 || !c.isNeighbor(from) {
		return
	}
	r := c.rtts[from]
	if r == nil {
		r = &rtt{}
		c.rtts[from] = r
	}
	r.sample(now - at)
	c.stats.RTTSamples++
}

// fireTimers grafts every missing message whose timer expired from its next
// announcer that is still a neighbour, moving that link to eager; GRAFTs to
// one peer in one tick share a message.
func (c *Core) fireTimers(now time.Duration) {
	var due []MessageID
	for id, m := range c.missing { // collected, then sorted: map order never leaks
		if m.deadline <= now {
			due = append(due, id)
		}
	}
	if len(due) == 0 {
		return
	}
	slices.SortFunc(due, func(a, b MessageID) int {
		da, db := c.missing[a].deadline, c.missing[b].deadline
		switch {
		case da != db:
			return int(da - db)
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
	// Per peer, tree grafts and catch-up grafts (messages older than the
	// newest of a tree that is delivering here: filling a hole, the link
	// stays; see trees.catchUp).
	type batch struct {
		peer    membership.NodeID
		catchUp bool
	}
	out := map[batch][]MessageID{}
	var order []batch
	for _, id := range due {
		m := c.missing[id]
		if len(m.grafts) >= c.cfg.MaxGraftAttempts {
			delete(c.missing, id)
			c.stats.MissingGaveUp++
			continue
		}
		peer, ok := m.pick(c)
		if !ok {
			// Nobody left to ask: wait as long as allowed for a new announcer.
			m.grafts = append(m.grafts, graftSent{})
			m.deadline = now + c.cfg.GraftTimeoutMax
			continue
		}
		m.grafts = append(m.grafts, graftSent{peer: peer, at: now})
		m.deadline = now + c.timeout(peer, retryScale(len(m.grafts)))
		b := batch{peer, c.trees.catchUp(id, now, c.cfg.MaxTreeLag)}
		if c.isNeighbor(peer) && !b.catchUp {
			c.trees.setLazy(id.Origin, peer, false)
		}
		if _, seen := out[b]; !seen {
			order = append(order, b)
		}
		out[b] = append(out[b], id)
	}
	for _, b := range order {
		ids := out[b]
		for len(ids) > 0 {
			n := min(len(ids), c.cfg.MaxGraftBatch)
			g := &pb.Graft{Ids: make([]*pb.MessageID, n), CatchUp: b.catchUp}
			for i, id := range ids[:n] {
				g.Ids[i] = id.wire()
			}
			c.Send(b.peer, &pb.Envelope{Body: &pb.Envelope_Graft{Graft: g}})
			c.stats.GraftsSent++
			ids = ids[n:]
		}
	}
}

// retryScale is the backoff of the n-th GRAFT's timer (n >= 1): one
// timeout for the first, doubling for each further one (at most 32x, and
// GraftTimeoutMax bounds the result). A GRAFT that went unanswered most
// often means the answer is delayed (a loaded or paused peer, a full
// queue), not lost: asking again at once only adds load, and the fixed
// timeout used before spent all MaxGraftAttempts within about a second.
func retryScale(n int) float64 {
	return float64(uint(1) << min(max(n-1, 0), 5))
}

// pick chooses the next announcer that is still a neighbour, round robin;
// when none is left, a neighbour not asked yet; then an announcer that is
// not a neighbour, not asked yet.
func (m *missing) pick(c *Core) (membership.NodeID, bool) {
	for k := 0; k < len(m.announcers); k++ {
		a := m.announcers[(m.next+k)%len(m.announcers)]
		if c.isNeighbor(a.peer) {
			m.next = (m.next + k + 1) % len(m.announcers)
			return a.peer, true
		}
	}
	// Every announcer is gone (the overlay replaced those links). The
	// message reached this neighbourhood, so a neighbour that is still
	// here most likely holds it by now: ask one not asked yet, rather than
	// wait for an announcement that may never come and give the message up.
	for k := range c.peers {
		p := c.peers[(len(m.grafts)+k)%len(c.peers)]
		if !m.graftedTo(p) {
			return p, true
		}
	}
	// Last, an announcer that is not (or no longer) a neighbour: it holds
	// the message, and a GRAFT needs no overlay link to be answered.
	for k := 0; k < len(m.announcers); k++ {
		a := m.announcers[(m.next+k)%len(m.announcers)]
		if !m.graftedTo(a.peer) {
			m.next = (m.next + k + 1) % len(m.announcers)
			return a.peer, true
		}
	}
	return "", false
}

// graftedTo reports whether a GRAFT for the message went to peer.
func (m *missing) graftedTo(peer membership.NodeID) bool {
	for _, g := range m.grafts {
		if g.peer == peer {
			return true
		}
	}
	return false
}

// anyGraft reports whether a GRAFT for the message was sent.
func (m *missing) anyGraft() bool {
	for _, g := range m.grafts {
		if g.peer != "" {
			return true
		}
	}
	return false
}
