package hyparview

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// askedNeighbor is a NEIGHBOR we sent whose NEIGHBORREPLY has not come.
//
// A peer answers every NEIGHBOR with exactly one reply, and a link
// delivers in order, so the replies from a peer answer our NEIGHBORs to it
// in the order we sent them. The reply itself does not say which NEIGHBOR
// it answers, and two kinds may be outstanding at once: a request
// (repair, heal: tracked in pending) and a confirmation (the
// high-priority NEIGHBOR that JOIN and FORWARDJOIN send to a joiner
// already taken into the active view). Matching replies to this list
// keeps the acceptance of an old confirmation from being taken for the
// answer to a newer request, which made one-sided links: we take the
// joiner, drop it again with DISCONNECT, ask it with a request it refuses,
// and its acceptance of the confirmation (it read our DISCONNECT right
// after) arrives first.
type askedNeighbor struct {
	id      membership.NodeID
	confirm bool          // a confirmation, not a request
	void    bool          // we sent DISCONNECT since: the answer is stale
	until   time.Duration // forgotten after this (a reply lost with its link)
}

// maxAsked bounds the outstanding NEIGHBORs remembered; the oldest is
// forgotten first.
const maxAsked = 256

// asked records a NEIGHBOR sent to id.
func (h *HyParView) asked(now time.Duration, id membership.NodeID, confirm bool) {
	if len(h.askedList) >= maxAsked {
		copy(h.askedList, h.askedList[1:])
		h.askedList = h.askedList[:len(h.askedList)-1]
	}
	h.askedList = append(h.askedList, askedNeighbor{id: id, confirm: confirm, until: now + h.askedTTL()})
}

// askedTTL is how long an unanswered NEIGHBOR is remembered: long past
// NeighborTimeout, as a late acceptance of a request still makes a link.
func (h *HyParView) askedTTL() time.Duration {
	if d := 2 * h.cfg.NeighborTimeout; d > h.cfg.ShuffleInterval {
		return d
	}
	return h.cfg.ShuffleInterval
}

// What a NEIGHBORREPLY answers.
const (
	answersNothing = iota // no NEIGHBOR to the peer remembered
	answersRequest
	answersConfirm
	answersVoid // a NEIGHBOR we sent DISCONNECT after
)

// takeAsked removes the oldest outstanding NEIGHBOR to id and says what it
// was.
func (h *HyParView) takeAsked(id membership.NodeID) int {
	for i := range h.askedList {
		if h.askedList[i].id == id {
			a := h.askedList[i]
			copy(h.askedList[i:], h.askedList[i+1:])
			h.askedList[len(h.askedList)-1] = askedNeighbor{}
			h.askedList = h.askedList[:len(h.askedList)-1]
			switch {
			case a.void:
				return answersVoid
			case a.confirm:
				return answersConfirm
			}
			return answersRequest
		}
	}
	return answersNothing
}

// disconnect sends DISCONNECT to id. The peer reads it after every
// NEIGHBOR we sent it before, so their answers, still to come, will be
// stale: mark them.
func (h *HyParView) disconnect(id membership.NodeID) {
	for i := range h.askedList {
		if h.askedList[i].id == id {
			h.askedList[i].void = true
		}
	}
	h.send(id, disconnectMsg())
}

// forgetAsked drops every outstanding NEIGHBOR to id: its link failed, so
// their replies are lost (or, if some still arrive, are treated as
// answering nothing).
func (h *HyParView) forgetAsked(id membership.NodeID) {
	k := 0
	for _, a := range h.askedList {
		if a.id != id {
			h.askedList[k] = a
			k++
		}
	}
	for i := k; i < len(h.askedList); i++ {
		h.askedList[i] = askedNeighbor{}
	}
	h.askedList = h.askedList[:k]
}

// expireAsked forgets NEIGHBORs unanswered past their time.
func (h *HyParView) expireAsked(now time.Duration) {
	k := 0
	for _, a := range h.askedList {
		if a.until > now {
			h.askedList[k] = a
			k++
		}
	}
	for i := k; i < len(h.askedList); i++ {
		h.askedList[i] = askedNeighbor{}
	}
	h.askedList = h.askedList[:k]
}
