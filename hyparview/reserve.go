package hyparview

import (
	"slices"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// The reserve is a bounded memory of nodes the passive view dropped to
// make room (shuffle integration and evictions), newest last. Those nodes
// were alive when learned, so they are a last resort for a node whose
// passive view is used up while its active view still has free slots:
// after a mass failure (90% of nodes at once), a node whose 30 passive
// entries all died is otherwise cut off for good, since no live node may
// know it either. With ReserveSize more memories the chance that all of a
// node's memories are dead falls from 0.9^30 (4%) to 0.9^(30+ReserveSize).
// The reserve is never sampled into shuffles and never probed in steady
// state: it costs memory, not messages.

// reserveEntry is a reserve slot: the node's wire record (shared
// read-only, as in the views), its idHash and when it was last asked for a
// link (as in the passive view: a node is not asked again within a
// ShuffleInterval). Nothing else is kept.
type reserveEntry struct {
	hash     uint64
	rec      *pb.Node
	tried    time.Duration
	wasTried bool
}

// reserveList is the reserve, oldest first, at most max entries.
type reserveList struct {
	e   []reserveEntry
	max int
}

func (r *reserveList) index(hs uint64, id string) int {
	for i := range r.e {
		if r.e[i].hash == hs && string(r.e[i].rec.Id) == id {
			return i
		}
	}
	return -1
}

func (r *reserveList) removeAt(i int) reserveEntry {
	e := r.e[i]
	r.e = slices.Delete(r.e, i, i+1) // keeps the order, clears the freed slot
	return e
}

// addReserve remembers e as a dropped passive entry. An entry already
// there moves to the newest end; a full reserve forgets its oldest.
func (h *HyParView) addReserve(e entry) {
	if h.reserve.max == 0 || e.node.ID == h.self.ID {
		return
	}
	if i := h.reserve.index(e.hash, string(e.node.ID)); i >= 0 {
		h.reserve.removeAt(i)
	}
	if len(h.reserve.e) >= h.reserve.max {
		h.reserve.removeAt(0)
	}
	h.reserve.e = append(h.reserve.e, reserveEntry{hash: e.hash, rec: e.rec, tried: e.tried, wasTried: e.wasTried})
}

// dropPassive removes passive entry i to make room and keeps it in the
// reserve.
func (h *HyParView) dropPassive(i int) {
	h.addReserve(h.passive.removeAt(i))
}

// reserveCandidate takes the newest reserve entry not otherwise known (in
// a view, pending or failed) and not asked within the last
// ShuffleInterval, or reports false. Entries known elsewhere are dropped;
// recently asked ones stay. Without the second rule a node with a free
// slot in a cluster of full active views spun: a refused request put the
// node back in the full passive view, which pushed another refused node
// into the reserve, which was asked at once (two thousand requests a
// second, found at N=50).
func (h *HyParView) reserveCandidate(now time.Duration) (entry, bool) {
	for i := len(h.reserve.e) - 1; i >= 0; i-- {
		r := h.reserve.e[i]
		if h.knownHash(r.hash, string(r.rec.Id)) {
			h.reserve.removeAt(i)
			continue
		}
		if r.wasTried && now-r.tried < h.cfg.ShuffleInterval {
			continue
		}
		h.reserve.removeAt(i)
		return newEntry(r.rec), true
	}
	return entry{}, false
}

// forgetReserve drops id from the reserve (it failed, or it is known
// elsewhere now).
func (h *HyParView) forgetReserve(id membership.NodeID) {
	if i := h.reserve.index(idHash(string(id)), string(id)); i >= 0 {
		h.reserve.removeAt(i)
	}
}

// Reserve returns the reserve, oldest first.
func (h *HyParView) Reserve() []membership.Node {
	out := make([]membership.Node, len(h.reserve.e))
	for i := range h.reserve.e {
		out[i] = fromRecord(h.reserve.e[i].rec)
	}
	return out
}

// repairFromReserve asks reserve nodes for the slots the passive view
// could not fill. It is only reached with free slots and no passive
// candidate left.
func (h *HyParView) repairFromReserve(now time.Duration, high bool) {
	for h.active.len()+len(h.pending) < h.cfg.ActiveSize {
		e, ok := h.reserveCandidate(now)
		if !ok {
			return
		}
		h.stats.ReserveRequests++
		h.request(now, e, high)
	}
}
