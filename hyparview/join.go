package hyparview

import (
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// Join sends JOIN to contact and remembers it: while the node has no
// neighbour and no passive node answers, it retries JOIN through its
// contacts, in turn, with exponential backoff. Joining through oneself is
// ignored.
func (h *HyParView) Join(now time.Duration, contact membership.Node) {
	h.left = false
	h.start(now)
	if contact.ID == h.self.ID || !contact.ID.Valid() {
		return
	}
	h.AddContact(contact)
	h.joining = h.active.empty()
	h.joinBackoff = h.cfg.JoinTimeout
	h.joinAt = now + h.joinBackoff
	h.stats.JoinsSent++
	h.send(contact.ID, joinMsg(h.selfRec))
}

// AddContact remembers contact for the retries of JOIN (see Join) without
// sending anything now: a node that joins through one member keeps the
// address it was first given as a fallback. Oneself is ignored.
func (h *HyParView) AddContact(contact membership.Node) {
	if contact.ID == h.self.ID || !contact.ID.Valid() {
		return
	}
	for i := range h.contacts {
		if h.contacts[i].node.ID == contact.ID {
			h.contacts[i] = entryOf(contact)
			return
		}
	}
	h.contacts = append(h.contacts, entryOf(contact))
}

// retryJoin sends JOIN to the next contact when the node is isolated and
// the backoff has run out.
func (h *HyParView) retryJoin(now time.Duration) {
	if len(h.contacts) == 0 || now < h.joinAt {
		return
	}
	c := h.contacts[h.nextContact%len(h.contacts)]
	h.nextContact++
	if h.joinBackoff < h.cfg.JoinTimeout {
		h.joinBackoff = h.cfg.JoinTimeout
	} else {
		h.joinBackoff *= 2
		if h.joinBackoff > h.cfg.JoinBackoffMax {
			h.joinBackoff = h.cfg.JoinBackoffMax
		}
	}
	h.joinAt = now + h.jitter(h.joinBackoff)
	h.stats.JoinsSent++
	h.send(c.node.ID, joinMsg(h.selfRec))
}

// onJoin: the contact takes the joiner into its active view and sends a
// FORWARDJOIN with TTL ARWL to every other active neighbour. It tells the
// joiner with a high-priority NEIGHBOR, which the joiner always accepts.
func (h *HyParView) onJoin(now time.Duration, from membership.NodeID, m *pb.Join) {
	h.stats.JoinsReceived++
	e := newEntry(m.Node)
	if h.cfg.SpliceJoins {
		// ActiveSize/2 walks from neighbours taken in a random order
		// (each walk may bring two links).
		walks := h.cfg.ActiveSize / 2
		for _, i := range h.rng.Perm(h.active.len()) {
			if walks == 0 {
				break
			}
			if id := h.active.e[i].node.ID; id != from {
				h.send(id, forwardJoinMsg(m.Node, h.cfg.ARWL))
				walks--
			}
		}
	} else {
		for i := 0; i < h.active.len(); i++ {
			if id := h.active.e[i].node.ID; id != from {
				h.send(id, forwardJoinMsg(m.Node, h.cfg.ARWL))
			}
		}
	}
	h.takeJoiner(now, e)
}

// takeJoiner puts a joiner into the active view and confirms it: with
// SpliceJoins and a full view by splicing it in (one neighbour handed
// over to it), otherwise as the paper does (addActive evicts if full).
func (h *HyParView) takeJoiner(now time.Duration, e entry) {
	id := e.node.ID
	if h.cfg.SpliceJoins && h.active.full() {
		if z := h.randomActiveExcept(id, id); z != "" {
			h.handOver(z, e.rec)
		}
	}
	h.addActive(now, e)
	h.confirm(now, id)
}

// onForwardJoin continues the joiner's random walk: the node where the TTL
// reaches 0, or that has only the sender as neighbour, takes the joiner
// into its active view; the node at TTL PRWL puts it in its passive view.
func (h *HyParView) onForwardJoin(now time.Duration, from membership.NodeID, m *pb.ForwardJoin) {
	h.stats.ForwardJoins++
	id := membership.NodeID(m.Node.Id)
	ttl := int(m.Ttl)
	if ttl == 0 || h.active.len() <= 1 {
		if !h.active.has(id) {
			h.takeJoiner(now, newEntry(m.Node))
		}
		return
	}
	if ttl == h.cfg.PRWL {
		h.addPassive(newEntry(m.Node))
	}
	next := h.randomActiveExcept(from, id)
	if next == "" {
		if !h.active.has(id) {
			h.addActive(now, newEntry(m.Node))
			h.confirm(now, id)
		}
		return
	}
	h.send(next, forwardJoinMsg(m.Node, ttl-1))
}

// confirm tells id, just taken into the active view, with a high-priority
// NEIGHBOR, which it always accepts.
func (h *HyParView) confirm(now time.Duration, id membership.NodeID) {
	h.asked(now, id, true)
	h.send(id, neighborMsg(h.selfRec, true))
}

// randomActiveExcept picks a random active neighbour other than a and b,
// or "" if there is none.
func (h *HyParView) randomActiveExcept(a, b membership.NodeID) membership.NodeID {
	ha, hb := idHash(string(a)), idHash(string(b))
	other := func(e *entry) bool {
		return !(e.hash == ha && e.node.ID == a) && !(e.hash == hb && e.node.ID == b)
	}
	c := 0
	for i := range h.active.e {
		if other(&h.active.e[i]) {
			c++
		}
	}
	if c == 0 {
		return ""
	}
	r := h.rng.IntN(c)
	for i := range h.active.e {
		if other(&h.active.e[i]) {
			if r == 0 {
				return h.active.e[i].node.ID
			}
			r--
		}
	}
	return ""
}
