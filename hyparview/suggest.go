package hyparview

import "github.com/hearsay-mesh/hearsay/membership"

// Suggest offers node, a member the layer above (SWIM) holds alive, as a
// backup: it goes into the passive view if the view has room and the node
// is in no list yet (not self, active, passive, asked or remembered as
// failed). It never evicts a passive entry the shuffles brought, and sends
// nothing; the next Tick's repair asks it if the active view has a free
// slot. It reports whether the node was added.
//
// The passive view is refilled by shuffles over active links. A node whose
// links all failed at once and whose passive entries went with them (false
// deaths during a CPU storm, a failed memory that overflowed or expired)
// may be left linked to one peer in the same state, and shuffling with
// each other brings neither anything new: the real-agent test saw two of
// fifteen survivors stay so for a minute. A full member list held by SWIM
// is a better source than none.
func (h *HyParView) Suggest(node membership.Node) bool {
	if h.left || !node.ID.Valid() || h.passive.full() {
		return false
	}
	n := h.passive.len()
	h.addPassive(entryOf(node)) // skips self and nodes in any list
	if h.passive.len() == n {
		return false
	}
	h.stats.Suggested++
	return true
}

// Revive tells the core that node was heard from by the layer above (SWIM
// refuted a suspicion of it, or saw it rejoin). If node is remembered as
// failed it is forgotten as such and offered to the passive view (Suggest):
// its eviction on a false death otherwise lasts until the failed memory's
// probe picks it (one random entry per shuffle cycle) or FailedTTL. A node
// not remembered as failed is left alone, so a burst of joins does not
// fill the passive view with whatever SWIM heard first. It reports whether
// the node was added.
func (h *HyParView) Revive(node membership.Node) bool {
	if h.left || h.failedIndex(node.ID) < 0 {
		return false
	}
	h.forgetFailed(node.ID)
	return h.Suggest(node)
}

// PassiveLen is the number of nodes in the passive view.
func (h *HyParView) PassiveLen() int { return h.passive.len() }
