package hyparview

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// failedNode is a node whose link or request failed, remembered so that
// it can be probed once per shuffle cycle until FailedTTL.
type failedNode struct {
	e  entry
	at time.Duration
}

// PeerDown tells the core that the link to peer failed (the paper's TCP
// failure detector). An active neighbour is removed (NeighborDown, Failed)
// and replaced from the passive view; a pending request moves on to the
// next candidate; a passive entry is dropped. The node is remembered as
// failed. If it was the first hop of this cycle's shuffle, the shuffle is
// resent through another active neighbour.
func (h *HyParView) PeerDown(now time.Duration, peer membership.NodeID) {
	if h.left || peer == h.self.ID || !peer.Valid() {
		return
	}
	h.start(now)
	var e entry
	known := false
	wasActive := false
	if i := h.active.index(peer); i >= 0 {
		h.stats.Failures++
		e, known, wasActive = h.dropActive(i, true), true, true
	}
	if pi := h.pendingIndex(peer); pi >= 0 {
		e, known = h.takePending(pi).e, true
		h.stats.RequestFailures++
	}
	if pe, ok := h.passive.remove(peer); ok {
		e, known = pe, true
	}
	h.forgetReserve(peer)
	h.forgetAsked(peer)
	if !known {
		for _, c := range h.contacts {
			if c.node.ID == peer {
				e, known = c, true
			}
		}
	}
	if known {
		h.rememberFailed(now, e)
	}
	if wasActive {
		h.retryShuffle(now, peer)
	}
	h.repair(now)
}

// Evict is PeerDown on a verdict from above (SWIM declared peer dead or
// left) rather than from the link: if peer is an active neighbour it is
// also sent DISCONNECT first. A member declared dead by mistake is still
// running and still holds us in its active view; without the DISCONNECT
// that link stays one-sided (plumtree would push into it) until its
// shuffle reaches us. To a peer really gone the DISCONNECT just fails.
func (h *HyParView) Evict(now time.Duration, peer membership.NodeID) {
	if h.left || peer == h.self.ID || !peer.Valid() {
		return
	}
	if h.active.has(peer) {
		h.disconnect(peer)
	}
	h.PeerDown(now, peer)
}

// repair keeps the active view full: while there are free slots not
// covered by a request in flight, it asks a passive node that was not
// asked this cycle (those that asked us for room first), with high
// priority if the node has no neighbour at all. An isolated node with
// nothing left to ask retries JOIN through its contacts.
func (h *HyParView) repair(now time.Duration) {
	if h.left {
		return
	}
	high := h.active.empty()
	if !high && now < h.repairPause {
		return
	}
	for h.active.len()+len(h.pending) < h.cfg.ActiveSize {
		i := h.candidate(now)
		if i < 0 {
			break
		}
		e := h.passive.removeAt(i)
		h.request(now, e, high)
	}
	h.repairFromReserve(now, high)
	if h.active.empty() && len(h.pending) == 0 {
		if !h.joining {
			h.joining = true
			h.joinBackoff = 0
			h.joinAt = now
		}
		h.retryJoin(now)
	}
}

// candidate picks the passive node to ask next, or -1.
func (h *HyParView) candidate(now time.Duration) int {
	eligible, room := 0, 0
	for i := range h.passive.e {
		e := &h.passive.e[i]
		if e.wasTried && now-e.tried < h.cfg.ShuffleInterval {
			continue
		}
		eligible++
		if e.wantsRoom {
			room++
		}
	}
	if eligible == 0 {
		return -1
	}
	wantRoom := room > 0
	r := h.rng.IntN(eligible)
	if wantRoom {
		r = h.rng.IntN(room)
	}
	for i := range h.passive.e {
		e := &h.passive.e[i]
		if e.wasTried && now-e.tried < h.cfg.ShuffleInterval {
			continue
		}
		if wantRoom && !e.wantsRoom {
			continue
		}
		if r == 0 {
			return i
		}
		r--
	}
	return -1
}

// request sends NEIGHBOR to e and tracks it until the reply, a PeerDown or
// NeighborTimeout.
func (h *HyParView) request(now time.Duration, e entry, high bool) {
	h.stats.Requests++
	h.pending = append(h.pending, pendingReq{e: e, deadline: now + h.cfg.NeighborTimeout, high: high})
	h.asked(now, e.node.ID, false)
	h.send(e.node.ID, h.neighborRequest(high))
}

// expirePending gives up on requests past their deadline; the node goes
// back into the passive view, marked as asked.
func (h *HyParView) expirePending(now time.Duration) {
	for i := 0; i < len(h.pending); {
		if h.pending[i].deadline > now {
			i++
			continue
		}
		p := h.takePending(i)
		h.stats.TimedOut++
		p.e.tried, p.e.wasTried = now, true
		h.addPassive(p.e)
	}
}

func (h *HyParView) pendingIndex(id membership.NodeID) int {
	return h.pendingHash(idHash(string(id)), string(id))
}

// pendingHash is pendingIndex for an ID whose idHash is hs.
func (h *HyParView) pendingHash(hs uint64, id string) int {
	for i := range h.pending {
		if h.pending[i].e.hash == hs && string(h.pending[i].e.node.ID) == id {
			return i
		}
	}
	return -1
}

func (h *HyParView) isPending(id membership.NodeID) bool { return h.pendingIndex(id) >= 0 }

// takePending removes pending request i, keeping the others' order.
func (h *HyParView) takePending(i int) pendingReq {
	p := h.pending[i]
	copy(h.pending[i:], h.pending[i+1:])
	h.pending[len(h.pending)-1] = pendingReq{}
	h.pending = h.pending[:len(h.pending)-1]
	return p
}

func (h *HyParView) removePending(id membership.NodeID) {
	if i := h.pendingIndex(id); i >= 0 {
		h.takePending(i)
	}
}

// markTried stamps a passive entry as asked now.
func (h *HyParView) markTried(id membership.NodeID, now time.Duration) {
	if i := h.passive.index(id); i >= 0 {
		h.passive.e[i].tried, h.passive.e[i].wasTried = now, true
		h.passive.e[i].wantsRoom = false
	}
}

// rememberFailed records a failed node (once; the first failure time
// counts, so FailedTTL bounds how long it is probed). A full memory
// forgets its oldest entry.
func (h *HyParView) rememberFailed(now time.Duration, e entry) {
	if h.cfg.FailedSize == 0 || h.failedIndex(e.node.ID) >= 0 {
		return
	}
	if len(h.failed) >= h.cfg.FailedSize {
		copy(h.failed, h.failed[1:])
		h.failed = h.failed[:len(h.failed)-1]
	}
	e.wasTried, e.wantsRoom = false, false
	if len(h.failed) == 0 {
		// A new wave of failures (the memory was empty): its heal gets a
		// draw of its own. The draw was once per FailedTTL, so a second
		// partition within FailedTTL of the first heal found every node
		// had drawn, and the two sides never linked again.
		h.healDrawn = false
	}
	h.failed = append(h.failed, failedNode{e: e, at: now})
}

func (h *HyParView) failedIndex(id membership.NodeID) int {
	return h.failedHash(idHash(string(id)), string(id))
}

// failedHash is failedIndex for an ID whose idHash is hs.
func (h *HyParView) failedHash(hs uint64, id string) int {
	for i := range h.failed {
		if h.failed[i].e.hash == hs && string(h.failed[i].e.node.ID) == id {
			return i
		}
	}
	return -1
}

// forgetFailed drops id from the failed memory: it was heard from.
func (h *HyParView) forgetFailed(id membership.NodeID) {
	if i := h.failedIndex(id); i >= 0 {
		copy(h.failed[i:], h.failed[i+1:])
		h.failed[len(h.failed)-1] = failedNode{}
		h.failed = h.failed[:len(h.failed)-1]
	}
}

// expireFailed forgets failed nodes older than FailedTTL.
func (h *HyParView) expireFailed(now time.Duration) {
	k := 0
	for k < len(h.failed) && now-h.failed[k].at >= h.cfg.FailedTTL {
		k++
	}
	if k > 0 {
		n := copy(h.failed, h.failed[k:])
		for i := n; i < len(h.failed); i++ {
			h.failed[i] = failedNode{}
		}
		h.failed = h.failed[:n]
	}
}

// probeFailed sends, once per shuffle cycle, a shuffle with TTL 0 to one
// random remembered failed node. If it is reachable again it answers with
// a ShuffleReply (see onShuffleReply); if not, the transport reports
// PeerDown and nothing changes.
func (h *HyParView) probeFailed(now time.Duration) {
	if len(h.failed) == 0 {
		return
	}
	f := h.failed[h.rng.IntN(len(h.failed))]
	h.stats.Probes++
	nodes := h.sampleForShuffle(f.e.node.ID)
	h.send(f.e.node.ID, shuffleMsg(h.selfRec, 0, nodes, h.shuffleNonce(now)))
}

// Failed returns the remembered failed nodes, oldest first.
func (h *HyParView) Failed() []membership.Node {
	out := make([]membership.Node, len(h.failed))
	for i := range h.failed {
		out[i] = h.failed[i].e.node.Clone()
	}
	return out
}

// maxRepairWaitShuffles caps the low-priority repair pause at this many
// ShuffleIntervals.
const maxRepairWaitShuffles = 8

// refused notes a refused low-priority request. After ActiveSize
// refusals in a row the node stops asking for a while (a ShuffleInterval,
// doubling up to maxRepairWaitShuffles of them): its peers' views are
// full, and without the pause a node with one free slot asked its whole
// passive view and reserve every ShuffleInterval, about ten requests a
// second, forever. An accepted request or a new link ends the back-off.
func (h *HyParView) refused(now time.Duration) {
	h.refusals++
	if h.refusals < h.cfg.ActiveSize {
		return
	}
	h.refusals = 0
	if h.repairWait == 0 {
		h.repairWait = h.cfg.ShuffleInterval
	}
	h.repairPause = now + h.repairWait
	h.repairWait = min(2*h.repairWait, maxRepairWaitShuffles*h.cfg.ShuffleInterval)
}

// resetRepairBackoff ends the repair back-off: the active view changed
// (a link made, or one lost and to be replaced at once).
func (h *HyParView) resetRepairBackoff() {
	h.refusals, h.repairPause, h.repairWait = 0, 0, 0
}
