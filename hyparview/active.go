package hyparview

import (
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// addActive puts e into the active view, dropping a random neighbour (with
// DISCONNECT, into the passive view) if the view is full. It removes e from
// every other list and emits NeighborUp. A node already active is left as
// is.
func (h *HyParView) addActive(now time.Duration, e entry) {
	id := e.node.ID
	if id == h.self.ID || h.active.has(id) {
		return
	}
	if h.active.full() {
		i := h.rng.IntN(h.active.len())
		victim := h.active.e[i]
		h.stats.Evictions++
		h.disconnect(victim.node.ID)
		h.dropActive(i, false)
		h.addPassive(victim)
	}
	h.passive.remove(id)
	h.removePending(id)
	h.forgetFailed(id)
	e.wasTried, e.wantsRoom = false, false
	h.active.add(e)
	h.joining = false
	h.joinBackoff = 0
	h.resetRepairBackoff()
	h.stats.NeighborUps++
	h.Emit(membership.NeighborUp{Node: e.node.Clone()})
}

// dropActive removes active entry i and emits NeighborDown.
func (h *HyParView) dropActive(i int, failed bool) entry {
	e := h.active.removeAt(i)
	h.resetRepairBackoff()
	h.stats.NeighborDowns++
	h.Emit(membership.NeighborDown{Node: e.node.Clone(), Failed: failed})
	return e
}

// addPassive puts e into the passive view unless it is self, active,
// already there, pending or remembered as failed; a full view drops a
// random entry.
func (h *HyParView) addPassive(e entry) {
	id := string(e.node.ID)
	if id == string(h.self.ID) || h.knownHash(e.hash, id) {
		return
	}
	if h.passive.full() {
		h.dropPassive(h.rng.IntN(h.passive.len()))
	}
	h.forgetReserve(e.node.ID)
	h.passive.add(e)
}

// knownHash reports whether the node id (with idHash hs) is in the active
// or passive view, has a request in flight or is remembered as failed.
func (h *HyParView) knownHash(hs uint64, id string) bool {
	return h.passive.indexHash(hs, id) >= 0 || h.active.indexHash(hs, id) >= 0 ||
		h.pendingHash(hs, id) >= 0 || h.failedHash(hs, id) >= 0
}

// known returns what we know of id from any list, or a bare record.
func (h *HyParView) known(id membership.NodeID) entry {
	if i := h.active.index(id); i >= 0 {
		return h.active.e[i]
	}
	for _, p := range h.pending {
		if p.e.node.ID == id {
			return p.e
		}
	}
	if i := h.passive.index(id); i >= 0 {
		return h.passive.e[i]
	}
	for _, f := range h.failed {
		if f.e.node.ID == id {
			return f.e
		}
	}
	for _, c := range h.contacts {
		if c.node.ID == id {
			return c
		}
	}
	return entryOf(membership.Node{ID: id})
}

// onNeighbor answers a NEIGHBOR request: a high-priority one is always
// accepted (evicting a random neighbour if full), a low-priority one only
// if there is room.
func (h *HyParView) onNeighbor(now time.Duration, from membership.NodeID, m *pb.Neighbor) {
	if h.active.has(from) {
		h.send(from, neighborReplyMsg(true))
		return
	}
	if m.HighPriority || !h.active.full() {
		h.stats.RequestsAccepted++
		h.addActive(now, newEntry(m.Node))
		h.send(from, neighborReplyMsg(true))
		return
	}
	if m.FreeSlots >= 2 && h.splice(now, from, m) {
		return
	}
	h.stats.RequestsRefused++
	hint := h.takeSeeker(now, from)
	if hint != nil {
		h.stats.HintsGiven++
	}
	h.send(from, refusalMsg(hint))
	h.addSeeker(now, m.Node)
	// The requester has a free slot: remember it as the first candidate
	// for ours.
	h.forgetFailed(from)
	if i := h.passive.index(from); i >= 0 {
		h.passive.e[i].wantsRoom = true
		return
	}
	if !h.isPending(from) {
		e := newEntry(m.Node)
		h.addPassive(e)
		if i := h.passive.index(from); i >= 0 {
			h.passive.e[i].wantsRoom = true
		}
	}
}

// splice lets a full node take in a requester that has two or more free
// slots without anyone losing a link: it hands one of its neighbours, Z,
// over to the requester (DISCONNECT to Z, then a FORWARDJOIN with TTL 0
// that makes Z link to the requester) and links to the requester itself.
// The requester gains two links, this node and Z keep full views. Without
// it, a node left with two or more free slots among full nodes stays
// short for ever, since full nodes refuse low-priority requests. Each
// splice removes two free slots from the overlay, so it cannot loop.
func (h *HyParView) splice(now time.Duration, from membership.NodeID, m *pb.Neighbor) bool {
	z := h.randomActiveExcept(from, from)
	if z == "" || h.active.len() < 2 {
		return false
	}
	h.handOver(z, m.Node)
	h.stats.RequestsAccepted++
	h.addActive(now, newEntry(m.Node))
	h.send(from, neighborReplyMsg(true))
	return true
}

// handOver drops active neighbour z and makes it link to n instead: a
// DISCONNECT, then a FORWARDJOIN for n with TTL 0, which z reads in that
// order (one stream), so it has the free slot n takes. z goes to the
// passive view. The caller links to n itself (splice, takeJoiner).
func (h *HyParView) handOver(z membership.NodeID, n *pb.Node) {
	ze := h.dropActive(h.active.index(z), false)
	h.disconnect(z)
	h.send(z, forwardJoinMsg(n, 0))
	h.addPassive(ze)
	h.stats.Splices++
}

// onNeighborReply settles a request we sent. An acceptance we no longer
// wait for (it timed out) still makes a link if we have room; otherwise we
// undo the peer's side with DISCONNECT, so views stay symmetric.
//
// The reply is first matched to the NEIGHBOR it answers (see
// askedNeighbor). The answer to a confirmation makes no link: the peer
// took us when it read the confirmation, and if we no longer hold it we
// have dropped it since, either with a DISCONNECT it read after the
// confirmation (it holds nothing) or on a PeerDown it did not see (it
// holds us: undo that with DISCONNECT). An acceptance that answers no
// NEIGHBOR we remember, from a node we do not hold and do not ask, is
// undone the same way. A reply to a NEIGHBOR followed by our DISCONNECT
// (we took the peer and dropped it again) is ignored: the peer has dropped
// us too by now.
func (h *HyParView) onNeighborReply(now time.Duration, from membership.NodeID, m *pb.NeighborReply) {
	answers := h.takeAsked(from)
	pi := h.pendingIndex(from)
	if answers == answersVoid {
		// We sent DISCONNECT after that NEIGHBOR, and the peer read it
		// after answering: whatever it said then no longer holds (and a
		// request of ours still pending gets its own answer).
		h.stats.StaleAccepts++
		return
	}
	if answers == answersConfirm || (answers == answersNothing && pi < 0) {
		if m.Accepted && !h.active.has(from) && pi < 0 {
			h.stats.StaleAccepts++
			h.disconnect(from)
		}
		if !m.Accepted {
			h.repair(now)
		}
		return
	}
	if !m.Accepted {
		if pi >= 0 {
			p := h.takePending(pi)
			h.stats.Rejected++
			p.e.tried, p.e.wasTried = now, true
			h.addPassive(p.e)
			h.markTried(from, now)
			// A named room seeker is a fresh lead: ask it rather than
			// count the refusal towards the repair back-off.
			if !h.takeHint(from, m.Hint) && !p.high {
				h.refused(now)
			}
		}
		h.repair(now)
		return
	}
	if h.active.has(from) {
		if pi >= 0 {
			h.takePending(pi)
		}
		return
	}
	var e entry
	high := false
	if pi >= 0 {
		p := h.takePending(pi)
		e, high = p.e, p.high
		h.stats.Accepted++
	} else {
		e = h.known(from)
	}
	if h.active.full() && !high {
		h.disconnect(from)
		h.addPassive(e)
		return
	}
	h.addActive(now, e)
}

// onDisconnect moves the peer from the active to the passive view (the
// paper), and starts looking for a replacement.
func (h *HyParView) onDisconnect(now time.Duration, from membership.NodeID) {
	i := h.active.index(from)
	if i < 0 {
		return
	}
	e := h.dropActive(i, false)
	h.addPassive(e)
	// Do not ask it back at once: it just chose to drop us.
	h.markTried(from, now)
	h.repair(now)
}

// Leave says DISCONNECT to every active neighbour and stops the core until
// the next Join.
func (h *HyParView) Leave(now time.Duration) {
	for h.active.len() > 0 {
		i := h.active.len() - 1
		h.disconnect(h.active.e[i].node.ID)
		e := h.dropActive(i, false)
		h.addPassive(e)
	}
	h.pending = h.pending[:0]
	h.askedList = h.askedList[:0]
	h.joining = false
	h.left = true
}
