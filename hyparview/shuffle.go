package hyparview

import (
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// shuffle starts one shuffle: the node's record, ShuffleActive active and
// ShufflePassive passive nodes, on a random walk of ShuffleTTL hops that
// starts at a random active neighbour.
func (h *HyParView) shuffle(now time.Duration) {
	if h.active.empty() {
		return
	}
	to := h.active.e[h.rng.IntN(h.active.len())].node.ID
	nodes := h.sampleForShuffle(to)
	// The records are shared read-only with the message; keep them, not
	// copies of their IDs.
	h.lastSent = append(h.lastSent[:0], nodes[1:]...)
	h.shuffleTo, h.shuffleAt = to, now
	h.stats.Shuffles++
	h.send(to, shuffleMsg(h.selfRec, h.cfg.ShuffleTTL, nodes, h.shuffleNonce(now)))
}

// retryShuffle resends this cycle's shuffle through another active
// neighbour when its first hop, dead, was just reported down. Besides
// saving the shuffle, this is how a node whose neighbours all crashed
// silently finds out within a few LinkDownDelays of its shuffle instead of
// one neighbour per cycle: each retry tests one more link.
func (h *HyParView) retryShuffle(now time.Duration, failed membership.NodeID) {
	if failed != h.shuffleTo || now-h.shuffleAt >= h.cfg.ShuffleInterval || h.active.empty() {
		return
	}
	to := h.active.e[h.rng.IntN(h.active.len())].node.ID
	nodes := make([]*pb.Node, 0, 1+len(h.lastSent))
	nodes = append(nodes, h.selfRec)
	nodes = append(nodes, h.lastSent...)
	h.shuffleTo = to
	h.stats.ShuffleRetries++
	h.send(to, shuffleMsg(h.selfRec, h.cfg.ShuffleTTL, nodes, h.shuffleNonce(now)))
}

// sampleForShuffle builds the list a shuffle carries: self, then ka
// active and kp passive nodes.
func (h *HyParView) sampleForShuffle(skip membership.NodeID) []*pb.Node {
	nodes := make([]*pb.Node, 0, 1+h.cfg.ShuffleActive+h.cfg.ShufflePassive)
	nodes = append(nodes, h.selfRec)
	nodes = h.active.sample(h.rng, h.cfg.ShuffleActive, skip, nodes)
	nodes = h.passive.sample(h.rng, h.cfg.ShufflePassive, skip, nodes)
	return nodes
}

// onShuffle forwards the walk while TTL is left and the node has another
// neighbour; otherwise it answers the origin with as many of its passive
// nodes and integrates the origin's list.
//
// A SHUFFLE with TTL left comes over an active link (origins and walkers
// send it to an active neighbour; only probes of failed nodes have TTL 0).
// If we do not hold the sender and are not asking it for a link, the
// sender holds a link we do not: we answer DISCONNECT, so that a one-sided
// link cannot last (one made by a PeerDown only we saw, a SWIM verdict,
// or a lost DISCONNECT). Plumtree pushes on active links, and a one-sided
// one swallows broadcasts.
func (h *HyParView) onShuffle(now time.Duration, from membership.NodeID, m *pb.Shuffle) {
	if m.Ttl > 0 && !h.active.has(from) && !h.isPending(from) {
		h.stats.OneSidedUndone++
		h.disconnect(from)
	}
	ttl := int(m.Ttl)
	if ttl > 0 {
		ttl--
	}
	if ttl > 0 {
		if next := h.randomActiveExcept(from, membership.NodeID(m.Origin.Id)); next != "" {
			h.send(next, shuffleMsg(m.Origin, ttl, m.Nodes, m.Nonce))
			return
		}
	}
	origin := membership.NodeID(m.Origin.Id)
	reply := h.passive.sample(h.rng, len(m.Nodes), origin, make([]*pb.Node, 0, len(m.Nodes)))
	h.send(origin, shuffleReplyMsg(reply, m.Nonce))
	h.integrate(m.Nodes, reply)
	// The origin answered nothing yet but it is evidently alive.
	h.forgetFailed(origin)
}

// onShuffleReply integrates the replier's sample, evicting first the nodes
// our own shuffle carried. A reply to a probe of a failed node means that
// node is reachable again: it goes back into the passive view, and with
// probability HealProbability (always, if we have no neighbour) we ask it
// for a link with high priority, which is what re-merges two sides of a
// healed partition. Only the first answered probe within FailedTTL draws
// (an isolated node always asks).
func (h *HyParView) onShuffleReply(now time.Duration, from membership.NodeID, m *pb.ShuffleReply) {
	if !h.takeNonce(now, m.Nonce) {
		// Not an answer to a shuffle or probe of ours: a peer could
		// otherwise replace the whole passive view (and the reserve) with
		// nodes of its choosing, the first step to isolating this node.
		h.stats.UnsolicitedReplies++
		return
	}
	h.stats.ShuffleReplies++
	h.integrate(m.Nodes, h.lastSent)
	fi := h.failedIndex(from)
	if fi < 0 {
		return
	}
	f := h.failed[fi]
	h.forgetFailed(from)
	h.stats.ProbesAnswered++
	if h.active.has(from) || h.isPending(from) {
		return
	}
	// Only the first answered probe in FailedTTL draws: after a heal every
	// node's memory holds many nodes of the other side, and a link for
	// each answer would keep evicting neighbours for as many cycles.
	decide := !h.healDrawn || now-h.healDrawnAt >= h.cfg.FailedTTL
	if decide {
		h.healDrawn, h.healDrawnAt = true, now
	}
	if h.active.empty() || (decide && h.rng.Float64() < h.cfg.HealProbability) {
		h.stats.HealLinks++
		h.request(now, f.e, true)
		return
	}
	h.addPassive(f.e)
}

// integrate adds a received list to the passive view, skipping self and
// nodes already known (see addPassive). A full passive view drops first
// the nodes listed in prefer, in order (the records we just sent to the
// peer whose list this is), then random ones.
func (h *HyParView) integrate(rs []*pb.Node, prefer []*pb.Node) {
	next := 0 // prefer[:next] are no longer in the passive view
	for _, r := range rs {
		if h.isSelf(r) {
			continue
		}
		hs := idHash(string(r.Id))
		if h.knownHash(hs, string(r.Id)) {
			continue
		}
		if h.passive.full() {
			victim := -1
			for victim < 0 && next < len(prefer) {
				p := prefer[next].Id
				victim = h.passive.indexHash(idHash(string(p)), string(p))
				next++
			}
			if victim < 0 {
				victim = h.rng.IntN(h.passive.len())
			}
			h.dropPassive(victim)
		}
		h.forgetReserve(membership.NodeID(r.Id))
		h.passive.add(newEntry(r))
	}
}

// maxNonces bounds the shuffles and probes awaiting a reply; nonces older
// than two shuffle intervals expire (a reply to them is unsolicited).
const maxNonces = 16

type nonce struct {
	v  uint64
	at time.Duration
}

// shuffleNonce draws the nonce of a shuffle or probe this node sends and
// remembers it for its reply.
func (h *HyParView) shuffleNonce(now time.Duration) uint64 {
	v := h.rng.Uint64() | 1 // never 0: a reply without a nonce matches nothing
	if len(h.nonces) >= maxNonces {
		h.nonces = append(h.nonces[:0], h.nonces[1:]...)
	}
	h.nonces = append(h.nonces, nonce{v, now})
	return v
}

// takeNonce reports whether v answers a shuffle or probe of ours sent in
// the last two shuffle intervals, and forgets it (a reply counts once).
func (h *HyParView) takeNonce(now time.Duration, v uint64) bool {
	for i, n := range h.nonces {
		if n.v == v && v != 0 && now-n.at <= 2*h.cfg.ShuffleInterval {
			h.nonces = append(h.nonces[:i], h.nonces[i+1:]...)
			return true
		}
	}
	return false
}
