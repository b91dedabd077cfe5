package hyparview

import (
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// Room seekers: matching free slots through full nodes.
//
// Once most active views are full, a node with a free slot finds another
// one only by chance: full nodes refuse its low-priority NEIGHBOR, and it
// backs off after ActiveSize refusals (refused). Two such nodes often ask
// the same full node within a short time, though, so a full node keeps the
// last few nodes it refused and, refusing the next one, names one of them
// in the refusal (NeighborReply.hint). The requester asks the named node,
// which had a free slot a moment ago, and the two free slots become one
// link. Each seeker is named at most once per full node, and only within a
// ShuffleInterval of its request.

// maxSeekers bounds the refused requesters a node remembers.
const maxSeekers = 4

// seeker is a node refused for lack of room, and when.
type seeker struct {
	rec *pb.Node
	at  time.Duration
}

// addSeeker remembers rec (just refused) as the newest seeker, replacing
// an older entry for the same node and dropping the oldest when full.
func (h *HyParView) addSeeker(now time.Duration, rec *pb.Node) {
	h.dropSeeker(membership.NodeID(rec.Id))
	if len(h.seekers) >= maxSeekers {
		h.seekers = append(h.seekers[:0], h.seekers[1:]...)
	}
	h.seekers = append(h.seekers, seeker{rec: rec, at: now})
}

func (h *HyParView) dropSeeker(id membership.NodeID) {
	for i := range h.seekers {
		if membership.NodeID(h.seekers[i].rec.Id) == id {
			h.seekers = append(h.seekers[:i], h.seekers[i+1:]...)
			return
		}
	}
}

// takeSeeker removes and returns the newest seeker, other than requester,
// refused within a ShuffleInterval and not our neighbour since; nil if
// none. Older seekers are forgotten on the way.
func (h *HyParView) takeSeeker(now time.Duration, requester membership.NodeID) *pb.Node {
	for i := len(h.seekers) - 1; i >= 0; i-- {
		s := h.seekers[i]
		id := membership.NodeID(s.rec.Id)
		if id == requester || h.active.has(id) {
			continue
		}
		if now-s.at > h.cfg.ShuffleInterval {
			h.seekers = h.seekers[:0]
			return nil
		}
		h.seekers = append(h.seekers[:i], h.seekers[i+1:]...)
		return s.rec
	}
	return nil
}

// takeHint acts on the seeker a refusal from `from` named: unless we
// already hold or ask it, it goes into the passive view marked as wanting
// room, so repair asks it first. It reports whether there is a new node
// to ask.
func (h *HyParView) takeHint(from membership.NodeID, hint *pb.Node) bool {
	if hint == nil {
		return false
	}
	id := membership.NodeID(hint.Id)
	if id == from || h.active.has(id) || h.isPending(id) {
		return false
	}
	if i := h.passive.index(id); i >= 0 {
		e := &h.passive.e[i]
		if e.wasTried {
			return false // asked this cycle already
		}
		e.wantsRoom = true
		h.stats.HintsTaken++
		return true
	}
	h.forgetFailed(id)
	h.addPassive(newEntry(hint))
	i := h.passive.index(id)
	if i < 0 {
		return false
	}
	h.passive.e[i].wantsRoom = true
	h.stats.HintsTaken++
	return true
}
