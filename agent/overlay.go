package agent

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// overlayJoin is a HyParView join waiting for SWIM's (Config.OverlayJoinWait).
type overlayJoin struct {
	contacts []membership.Node // the addresses the node was given
	until    time.Duration     // join through a contact from then on
}

// joinMesh joins SWIM through contact, and HyParView either at once
// through the same contact or, with OverlayJoinWait, once SWIM's table
// has come back (maybeJoinOverlay).
func (a *Agent) joinMesh(now time.Duration, contact membership.Node) {
	if err := a.sw.Join(now, contact); err != nil {
		a.log.Warn("swim join", "peer", string(contact.ID), "err", err)
	}
	if a.cfg.OverlayJoinWait == 0 {
		a.hv.Join(now, contact)
		return
	}
	if a.overlay == nil {
		a.overlay = &overlayJoin{until: now + a.cfg.OverlayJoinWait}
	}
	a.overlay.contacts = append(a.overlay.contacts, contact)
}

// maybeJoinOverlay sends the deferred HyParView join once SWIM's join has
// its reply, or once OverlayJoinWait has passed without one, through a
// random live member SWIM knows other than this node (the contact if it
// knows no other): a contact slow to answer SWIM is the busiest node, so
// the overlay's join goes elsewhere whenever it can. The contacts are kept
// for HyParView's retries either way.
func (a *Agent) maybeJoinOverlay(now time.Duration) {
	o := a.overlay
	if o == nil || (a.sw.Joining() && now < o.until) {
		return
	}
	a.overlay = nil
	via := o.contacts[0]
	if m, ok := a.randomMember(); ok {
		via = m
	}
	for _, c := range o.contacts {
		a.hv.AddContact(c)
	}
	a.hv.Join(now, via)
}

// aliveMembers lists the members SWIM holds alive, other than this node.
func (a *Agent) aliveMembers() []membership.Node {
	var alive []membership.Node
	for _, m := range a.sw.Members() {
		if m.State == membership.StateAlive && m.Node.ID != a.self.ID {
			alive = append(alive, m.Node)
		}
	}
	return alive
}

// randomMember picks a member SWIM holds alive, other than this node.
func (a *Agent) randomMember() (membership.Node, bool) {
	alive := a.aliveMembers()
	if len(alive) == 0 {
		return membership.Node{}, false
	}
	return alive[a.rng.IntN(len(alive))], true
}

// refillPassive offers HyParView random members SWIM holds alive once its
// passive view has been short (fewer entries than active slots) while its
// active view had a free slot for a JoinTimeout: the passive view is only
// refilled by shuffles over active links, and a node left with one link to
// a peer as bare as itself would otherwise stay cut off from the rest
// (hyparview.Suggest). The wait leaves a forming cluster to its JOINs:
// refilled at once, the requests to the suggested members were extra first
// contacts while 50 members joined one seed (SWIM's formation median 2.09
// -> 2.45 s, docs/hyparview.md). Members already in a view, asked or
// remembered as failed are skipped by Suggest.
func (a *Agent) refillPassive(now time.Duration) {
	max := a.cfg.HyParView.ActiveSize
	if a.hv.PassiveLen() >= max || a.hv.ActiveLen() >= max {
		a.shortSince = -1
		return
	}
	if a.shortSince < 0 {
		a.shortSince = now
	}
	if now-a.shortSince < a.cfg.HyParView.JoinTimeout {
		return
	}
	alive := a.aliveMembers()
	for _, i := range a.rng.Perm(len(alive)) {
		if a.hv.PassiveLen() >= max {
			break
		}
		a.hv.Suggest(alive[i])
	}
}
