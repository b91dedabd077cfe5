package swim

import (
	"math/rand/v2"

	"github.com/hearsay-mesh/hearsay/membership"
)

// probeOrder is SWIM's randomised round-robin: a shuffled list of members
// walked once per round and reshuffled when exhausted; new members are
// inserted at random positions. Suspects queued by confirm are probed
// first.
type probeOrder struct {
	list    []membership.NodeID
	next    int
	confirm []membership.NodeID
}

func (o *probeOrder) insert(r *rand.Rand, id membership.NodeID) {
	i := r.IntN(len(o.list) + 1)
	o.list = append(o.list, "")
	copy(o.list[i+1:], o.list[i:])
	o.list[i] = id
	if i < o.next {
		o.next++
	}
}

// queueConfirm makes id the next target (first, if urgent).
func (o *probeOrder) queueConfirm(id membership.NodeID, urgent bool) {
	for i, x := range o.confirm {
		if x == id {
			if urgent {
				copy(o.confirm[1:i+1], o.confirm[:i])
				o.confirm[0] = id
			}
			return
		}
	}
	if urgent {
		o.confirm = append([]membership.NodeID{id}, o.confirm...)
		return
	}
	o.confirm = append(o.confirm, id)
}

// pick returns the next member to probe, or "" if there is none. ok tells
// whether a member may be probed; a member for which deferred is true is
// passed over and stays in the round, behind the member picked instead
// (Config.DialInterval); when only such members remain, the round ends.
func (o *probeOrder) pick(r *rand.Rand, ids []membership.NodeID, ok, suspectOK, deferred func(membership.NodeID) bool) membership.NodeID {
	for len(o.confirm) > 0 {
		id := o.confirm[0]
		o.confirm = o.confirm[1:]
		if suspectOK(id) {
			return id
		}
	}
	for pass := 0; pass < 2; pass++ {
		for i := o.next; i < len(o.list); i++ {
			id := o.list[i]
			if !ok(id) || deferred(id) {
				continue
			}
			o.list[o.next], o.list[i] = id, o.list[o.next]
			o.next++
			return id
		}
		// New round: reshuffle the live members, in a deterministic
		// starting order.
		o.list = o.list[:0]
		for _, id := range ids {
			if ok(id) {
				o.list = append(o.list, id)
			}
		}
		r.Shuffle(len(o.list), func(i, j int) { o.list[i], o.list[j] = o.list[j], o.list[i] })
		o.next = 0
	}
	return ""
}
