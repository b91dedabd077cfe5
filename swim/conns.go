package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// Connections (Config.ConnectTimeout). SWIM was designed for datagrams:
// a ping costs one packet, and an unanswered one says something about the
// member. On libp2p the first message to a member costs a TCP connect, a
// Noise handshake, yamux and identify in both processes, and while many
// members set up connections at once (a cluster's formation, when every
// member learns every other and probes them in turn) that setup alone can
// outlast the probe timeout by seconds. Counting it against the member
// made 200 freshly started agents accuse each other thousands of times a
// second until the full mesh of connections existed (docs/swim-bench.md).
//
// So a driver that sets ConnectTimeout reports its connections: PeerUp when
// messages to a member go out promptly (the agent: when its SWIM stream to
// the member opened, which on libp2p also waits for identify; a message
// from the member counts too), PeerDown when it has none left or a dial
// was refused. A probe or hint check of a member
// without a connection sends its ping (the driver dials to deliver it) and
// waits up to ConnectTimeout for PeerUp; only then does the ProbeTimeout
// start. A failed dial (PeerDown) ends the wait at once and the probe goes
// on to its indirect pings, so a crashed member is still suspected within a
// period of its refused connection. Final checks of a suspect do not wait:
// they ask 2k relays at once.
//
// A wait that runs out (ConnectTimeout with neither PeerUp nor PeerDown;
// the agent does not pass dial timeouts on as PeerDown) is no evidence
// either way: on a saturated machine dials to live members time out by the
// thousand. The probe ends without a verdict (ProbeInconclusive), up to
// InconclusiveProbes times in a row per member; after that the next such
// probe goes on to ping-reqs and suspicion, so that a member that died
// before anyone connected to it is still found.

// awaitsConn reports whether a ping to id must wait for a connection.
func (c *Core) awaitsConn(id membership.NodeID) bool {
	if c.cfg.ConnectTimeout <= 0 {
		return false
	}
	_, ok := c.conns[id]
	return !ok
}

// PeerUp records that the driver holds a connection to node: a probe
// waiting for it (Config.ConnectTimeout) starts its ProbeTimeout now.
// Without ConnectTimeout it does nothing.
func (c *Core) PeerUp(now time.Duration, node membership.NodeID) {
	if m := c.members[node]; m != nil {
		m.reached = true
	}
	if c.cfg.ConnectTimeout <= 0 || node == c.self.ID || !node.Valid() {
		return
	}
	if _, ok := c.conns[node]; ok || len(c.conns) >= c.cfg.MaxMembers {
		return
	}
	c.conns[node] = struct{}{}
	if m := c.members[node]; m != nil {
		m.noConn = 0
	}
	if p := c.probe; p != nil && p.connecting && p.target == node {
		p.connecting = false
		p.ackBy = now + c.ackTimeout()
		p.end = now + c.scaled(c.cfg.ProbeInterval)
	}
	for _, k := range c.checks {
		if k.connecting && k.target == node {
			k.connecting = false
			k.ackBy = now + c.ackTimeout()
			k.end = now + c.scaled(c.cfg.ProbeInterval)
		}
	}
}

// connLost forgets the connection to node (PeerDown): a probe or check
// still waiting for one goes on to its indirect pings now.
func (c *Core) connLost(now time.Duration, node membership.NodeID) {
	if c.cfg.ConnectTimeout <= 0 {
		return
	}
	delete(c.conns, node)
	if j := c.join; j != nil && j.lastTo == node {
		j.waiting = false // that join push-pull is lost: the next retry sends again
	}
	// The wait's deadline was also the probe's end; the indirect phase
	// sets its own from now.
	if p := c.probe; p != nil && p.connecting && p.target == node {
		p.end = now
		c.sendIndirect(now, p)
	}
	for _, k := range c.checks {
		if k.connecting && k.target == node {
			k.end = now
			c.sendCheckIndirect(now, k, c.cfg.IndirectChecks)
		}
	}
}

// inconclusive ends a probe or check of id whose connection wait ran out
// without a verdict, and reports true, unless id has had
// InconclusiveProbes of them in a row (then the caller goes on as after an
// unanswered ping).
func (c *Core) inconclusive(id membership.NodeID, started time.Duration) bool {
	m := c.members[id]
	if m == nil {
		return true
	}
	if m.noConn >= c.cfg.InconclusiveProbes {
		m.noConn = 0
		return false
	}
	m.noConn++
	c.stats.Inconclusive++
	c.Emit(ProbeInconclusive{Node: id, Started: started, Tries: m.noConn})
	return true
}
