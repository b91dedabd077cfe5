package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// First contacts (Config.DialInterval). SWIM's randomised round-robin
// probes every member in turn, so over connections each member ends up
// connected to every other: for 200 members about 20,000 setups, each a
// TCP connect, a Noise handshake, yamux and identify in both processes.
// Made at one a second per member while a cluster forms (every member has
// just learnt of every other), they held a 2-core machine for minutes and
// starved live members' acks into false suspicions (docs/swim-bench.md).
//
// With DialInterval a node paces its first contacts: a probe goes to a
// member it has never reached (no PeerUp or message from it, not a link)
// at most once per DialInterval, jittered by ±50 %. In the other periods
// the round-robin walks on to the next member it has reached, leaving the
// unreached ones where they are in the round; when only those remain the
// round ends early and a new one is shuffled. So every member is still
// probed by each member connected to it at SWIM's rate (a member with c
// connections is probed about once per period by its c neighbours, each
// of which probes it once per c periods), and the full mesh is still
// built, at one connection per DialInterval per member instead of one a
// second. Suspects queued for a final probe are never deferred, nor is a
// member whose connection was lost: it was reached once, so a probe of it
// is a test of the member, not a first contact. Gossip, indirect probes
// and post-join syncs go to links first, then reached members, then
// others (pickLinkedFirst).
//
// A ping-req is someone else's probe, and during a storm of failed direct
// probes each brought three relays a dial each: 7,533 ping-reqs in the
// first 90 s of 200 agents (docs/swim-bench.md). A relay asked to ping a
// member it never reached spends the same budget, and with the budget
// spent it nacks at once: "alive, but not reaching the target", which is
// what Lifeguard's nack says.

// reached reports whether a message to id goes over a connection this
// node has had: a link, a current connection, or a member that reached
// us or that we reached before.
func (c *Core) reached(id membership.NodeID) bool {
	if m := c.members[id]; m != nil && m.reached {
		return true
	}
	if _, ok := c.conns[id]; ok {
		return true
	}
	return c.links.Has(id)
}

// dialDeferred reports whether a probe of id must wait for the dial
// budget: DialInterval is set, id was never reached, and the last first
// contact was too recent.
func (c *Core) dialDeferred(now time.Duration, id membership.NodeID) bool {
	return c.cfg.DialInterval > 0 && now < c.nextDial && !c.reached(id)
}

// firstContact spends the dial budget on a probe of id if id was never
// reached.
func (c *Core) firstContact(now time.Duration, id membership.NodeID) {
	if c.cfg.DialInterval <= 0 || c.reached(id) {
		return
	}
	c.stats.FirstContacts++
	c.nextDial = now + c.cfg.DialInterval/2 + time.Duration(c.rng.Int64N(int64(c.cfg.DialInterval)))
}
