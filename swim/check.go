package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// check is a probe outside the round-robin order, run alongside the
// period's probe. Two things start one:
//
//   - a final check: our timer on a suspicion we only heard of (or that
//     nobody confirmed) ran out. Before declaring a death we ping the
//     suspect with the buddy flag and, at the same time, send ping-reqs
//     through 2k members; a relay that already holds a newer record of
//     the suspect (its refutation) sends it back at once. The suspect is
//     declared dead only if every path stays silent.
//   - a PeerDown hint: the transport lost its link to an alive member (in
//     the agent, a crashed process resets its connections). We ping it at
//     once, ping-req through k members after ProbeTimeout, and suspect it
//     if that fails: suspicion starts within about a period of a crash
//     instead of after the first-probe delay of round-robin.
type check struct {
	target   membership.NodeID
	seq      uint64
	start    time.Duration
	ackBy    time.Duration // direct ping deadline (hint checks)
	end      time.Duration
	indirect bool
	// connecting: as probeState's (hint checks only; a final check asks
	// 2k relays at once).
	connecting    bool
	waited        bool
	final         bool
	expectedNacks int
	nacks         int
}

// maxChecks bounds the checks in flight; a PeerDown storm (our own link
// failing) cannot make us probe more than this many members at once.
const maxChecks = 16

func (c *Core) checking(id membership.NodeID) bool {
	for _, k := range c.checks {
		if k.target == id {
			return true
		}
	}
	return false
}

// startCheck starts a check of target; it reports false if there are
// already maxChecks in flight.
func (c *Core) startCheck(now time.Duration, target membership.NodeID, final bool) bool {
	if len(c.checks) >= maxChecks {
		return false
	}
	c.seq++
	c.stats.Checks++
	k := &check{target: target, seq: c.seq, start: now, ackBy: now + c.ackTimeout(), end: now + c.scaled(c.cfg.ProbeInterval), final: final}
	if !final && c.awaitsConn(target) {
		k.connecting, k.waited = true, true
		k.ackBy = now + c.cfg.ConnectTimeout
		k.end = max(k.end, k.ackBy)
		c.stats.ConnectWaits++
	}
	c.checks = append(c.checks, k)
	c.stats.Pings++
	c.send(target, &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: k.seq, Target: string(target), SuspectIncarnation: c.suspectInc(target)}}}, c.cfg.PiggybackBytes)
	if final {
		c.sendCheckIndirect(now, k, 2*c.cfg.IndirectChecks)
	}
	return true
}

func (c *Core) sendCheckIndirect(now time.Duration, k *check, n int) {
	k.indirect, k.connecting = true, false
	// Relays nack ProbeTimeout after our request reaches them: wait for
	// their nacks (a check with none is not trusted, see checkFailed).
	if e := now + c.cfg.ProbeTimeout + c.cfg.ProbeTimeout/2; k.end < e {
		k.end = e
	}
	cands := c.pickLinkedFirst(n, func(id membership.NodeID) bool {
		m := c.members[id]
		return id != k.target && m != nil && m.state == membership.StateAlive
	})
	for _, via := range cands {
		c.stats.PingReqs++
		c.send(via, &pb.Envelope{Body: &pb.Envelope_PingReq{PingReq: &pb.PingReq{Seq: k.seq, Target: string(k.target), Nack: c.cfg.Lifeguard, SuspectIncarnation: c.suspectInc(k.target)}}}, c.cfg.PiggybackBytes)
	}
	if c.cfg.Lifeguard {
		k.expectedNacks = len(cands)
	}
}

// tickChecks escalates hint checks to ping-req and ends checks whose time
// ran out.
func (c *Core) tickChecks(now time.Duration) {
	kept := c.checks[:0]
	var failed []*check
	for _, k := range c.checks {
		if k.connecting && now >= k.ackBy && c.inconclusive(k.target, k.start) {
			continue // dropped: no verdict
		}
		if !k.indirect && now >= k.ackBy {
			c.sendCheckIndirect(now, k, c.cfg.IndirectChecks)
		}
		if now < k.end {
			kept = append(kept, k)
			continue
		}
		failed = append(failed, k)
	}
	for i := len(kept); i < len(c.checks); i++ {
		c.checks[i] = nil
	}
	c.checks = kept
	for _, k := range failed {
		c.checkFailed(now, k)
	}
}

func (c *Core) checkFailed(now time.Duration, k *check) {
	c.stats.CheckFailures++
	m := c.members[k.target]
	if m == nil {
		return
	}
	// With nacks on, a check none of whose relays answered says more
	// about our own links than about the target: do not accuse on it.
	isolated := k.expectedNacks > 0 && k.nacks == 0
	if k.final {
		if m.state == membership.StateSuspect && m.susp != nil && isolated {
			m.susp.checked = false
			m.susp.deadline = now + m.susp.min
		}
		// Otherwise the suspicion's deadline (the check's end) has
		// passed and tickSuspicions declares the death.
		return
	}
	if isolated {
		c.healthDelta(+1)
		return
	}
	c.Emit(ProbeFailed{Node: k.target, Started: k.start, Hint: true, Waited: k.waited, Relays: k.expectedNacks, Nacks: k.nacks})
	c.probeFailedOn(now, m)
}

// onCheckAck ends the check an ack answers; it reports whether one did.
func (c *Core) onCheckAck(now time.Duration, seq uint64) bool {
	for i, k := range c.checks {
		if k.seq != seq {
			continue
		}
		c.checks = append(c.checks[:i], c.checks[i+1:]...)
		if m := c.members[k.target]; m != nil {
			c.answered(now, m)
		}
		return true
	}
	return false
}

func (c *Core) onCheckNack(now time.Duration, seq uint64) bool {
	for _, k := range c.checks {
		if k.seq == seq {
			k.nacks++
			if !k.final && k.nacks >= k.expectedNacks {
				// Every relay failed to reach the target too: no
				// need to wait longer.
				k.end = now
			}
			return true
		}
	}
	return false
}

// PeerDown is a hint from the transport that the link to peer failed.
// With Config.PeerDownProbe, an alive peer is probed at once, outside the
// round-robin order (see check); the transport alone never suspects
// anyone. A paused process keeps its connections, so pauses cause no
// hint.
func (c *Core) PeerDown(now time.Duration, peer membership.NodeID) {
	c.connLost(now, peer)
	if !c.cfg.PeerDownProbe || c.left || !c.started {
		return
	}
	m := c.members[peer]
	if m == nil || m.state != membership.StateAlive {
		return
	}
	if p := c.probe; p != nil && p.target == peer {
		if !p.indirect {
			c.sendIndirect(now, p)
		}
		return
	}
	if c.checking(peer) || (m.hintAt > 0 && now-m.hintAt < c.cfg.ProbeInterval) {
		return
	}
	m.hintAt = now
	c.startCheck(now, peer, false)
}
