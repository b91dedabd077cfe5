package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// probeState is the probe of the current protocol period.
type probeState struct {
	target   membership.NodeID
	seq      uint64
	start    time.Duration
	ackBy    time.Duration // direct ping deadline
	end      time.Duration // indirect deadline: the period's end
	indirect bool
	// connecting: the target had no connection when the probe started;
	// ackBy is the ConnectTimeout until PeerUp (conns.go).
	connecting bool
	// waited: the probe waited for a connection (its round trip is no
	// sample of the member's).
	waited        bool
	expectedNacks int
	nacks         int
}

// relay is a ping this node sent on behalf of a ping-req.
type relay struct {
	seq       uint64 // our ping's seq
	origSeq   uint64
	requester membership.NodeID
	target    membership.NodeID
	// suspectInc is the requester's suspicion of target (0 if none): a
	// newer record of target goes back with the ack or nack.
	suspectInc uint64
	deadline   time.Duration
	nack       bool
}

const maxRelays = 64

func (c *Core) probeable(id membership.NodeID) bool {
	m := c.members[id]
	return m != nil && isLive(m.state)
}

func (c *Core) isSuspect(id membership.NodeID) bool {
	m := c.members[id]
	return m != nil && m.state == membership.StateSuspect
}

func (c *Core) suspectInc(id membership.NodeID) uint64 {
	if m := c.members[id]; m != nil && m.state == membership.StateSuspect {
		return m.inc
	}
	return 0
}

func (c *Core) tickProbe(now time.Duration) {
	if p := c.probe; p != nil {
		if p.connecting && now >= p.ackBy && c.inconclusive(p.target, p.start) {
			c.probe, p = nil, nil
		}
		if p != nil && !p.indirect && now >= p.ackBy {
			c.sendIndirect(now, p)
		}
		if p != nil && p.indirect && now >= p.end {
			c.probe = nil
			c.probeFailed(now, p)
		}
	}
	if c.probe == nil && now >= c.nextProbe {
		c.startProbe(now)
	}
	c.tickChecks(now)
}

func (c *Core) startProbe(now time.Duration) {
	interval := c.scaled(c.cfg.ProbeInterval)
	c.nextProbe = now + interval
	target := c.probes.pick(c.rng, c.ids, c.probeable, c.isSuspect, func(id membership.NodeID) bool { return c.dialDeferred(now, id) })
	if target == "" {
		return
	}
	c.firstContact(now, target)
	c.seq++
	c.stats.Probes++
	c.probe = &probeState{target: target, seq: c.seq, start: now, ackBy: now + c.ackTimeout(), end: now + interval}
	if c.awaitsConn(target) {
		c.probe.connecting, c.probe.waited = true, true
		c.probe.ackBy = now + c.cfg.ConnectTimeout
		c.probe.end = max(c.probe.end, c.probe.ackBy)
		c.stats.ConnectWaits++
	}
	c.stats.Pings++
	c.send(target, &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: c.seq, SuspectIncarnation: c.suspectInc(target)}}}, c.cfg.PiggybackBytes)
}

// ackTimeout is how long the direct ping may take.
func (c *Core) ackTimeout() time.Duration {
	max := c.scaled(c.cfg.ProbeTimeout)
	if c.cfg.Detector == DetectorPhi {
		if t, ok := c.rtt.timeout(c.cfg.PhiThreshold); ok {
			t = c.scaled(t)
			if t < c.cfg.TickInterval {
				t = c.cfg.TickInterval
			}
			if t < max {
				return t
			}
		}
	}
	return max
}

func (c *Core) sendIndirect(now time.Duration, p *probeState) {
	p.indirect, p.connecting = true, false
	if p.end < now+c.cfg.ProbeTimeout {
		// After a stall (a paused process) give the indirect probes time.
		p.end = now + c.cfg.ProbeTimeout
	}
	cands := c.pickLinkedFirst(c.cfg.IndirectChecks, func(id membership.NodeID) bool {
		m := c.members[id]
		return id != p.target && m != nil && m.state == membership.StateAlive
	})
	for _, via := range cands {
		c.stats.PingReqs++
		c.send(via, &pb.Envelope{Body: &pb.Envelope_PingReq{PingReq: &pb.PingReq{Seq: p.seq, Target: string(p.target), Nack: c.cfg.Lifeguard, SuspectIncarnation: c.suspectInc(p.target)}}}, c.cfg.PiggybackBytes)
	}
	if c.cfg.Lifeguard {
		p.expectedNacks = len(cands)
	}
}

func (c *Core) probeFailed(now time.Duration, p *probeState) {
	c.stats.ProbeFailures++
	c.Emit(ProbeFailed{Node: p.target, Started: p.start, Waited: p.waited, Relays: p.expectedNacks, Nacks: p.nacks})
	if c.cfg.Lifeguard {
		// Missing nacks mean our own links are failing, not the target.
		if p.expectedNacks > 0 {
			if p.nacks < p.expectedNacks {
				c.healthDelta(p.expectedNacks - p.nacks)
			}
		} else {
			c.healthDelta(+1)
		}
	}
	if m := c.members[p.target]; m != nil {
		c.probeFailedOn(now, m)
	}
}

// probeFailedOn suspects m (or confirms our suspicion of it) after our
// probe of it failed.
func (c *Core) probeFailedOn(now time.Duration, m *member) {
	switch m.state {
	case membership.StateAlive:
		c.suspect(now, m, m.inc, c.self.ID)
		c.bq.addMember(&pb.Member{Id: string(m.node.ID), Incarnation: m.inc, State: pb.State_STATE_SUSPECT, From: string(c.self.ID)}, c.cfg.MaxBroadcasts)
	case membership.StateSuspect:
		if m.susp != nil {
			m.susp.probed = true
		}
		if m.susp != nil && m.susp.confirm(c.self.ID) {
			c.bq.addMember(&pb.Member{Id: string(m.node.ID), Incarnation: m.inc, State: pb.State_STATE_SUSPECT, From: string(c.self.ID)}, c.cfg.MaxBroadcasts)
		}
	}
}

// pickMembers draws up to k distinct members satisfying ok.
func (c *Core) pickMembers(k int, ok func(membership.NodeID) bool) []membership.NodeID {
	var cands []membership.NodeID
	for _, id := range c.ids {
		if ok(id) {
			cands = append(cands, id)
		}
	}
	if k > len(cands) {
		k = len(cands)
	}
	for i := 0; i < k; i++ {
		j := i + c.rng.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return cands[:k]
}

func (c *Core) onPing(now time.Duration, from membership.NodeID, p *pb.Ping) {
	env := &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: p.Seq}}}
	if p.SuspectIncarnation > 0 && !c.left {
		// Buddy system: the pinger suspects us. Refute at once, and
		// carry our record on the ack even if we refuted long ago.
		if !incNewer(c.inc, p.SuspectIncarnation) {
			c.refute(p.SuspectIncarnation)
		}
		env.Updates = []*pb.Member{c.selfRecord()}
	}
	c.stats.Acks++
	c.send(from, env, c.cfg.PiggybackBytes)
}

func (c *Core) onPingReq(now time.Duration, from membership.NodeID, r *pb.PingReq) {
	target := membership.NodeID(r.Target)
	if target == c.self.ID {
		c.stats.Acks++
		c.send(from, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: r.Seq}}}, c.cfg.PiggybackBytes)
		return
	}
	if up := c.newerRecord(target, r.SuspectIncarnation); up != nil {
		// The requester suspects the target, which already refuted:
		// hand it the refutation now rather than only on the ack.
		c.stats.Gossips++
		c.send(from, &pb.Envelope{Updates: up, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}, c.cfg.PiggybackBytes)
	}
	if len(c.relays) >= maxRelays {
		return
	}
	if c.dialDeferred(now, target) {
		// A first contact, with the dial budget spent (dials.go): nack
		// at once rather than set up a connection for someone else's
		// probe.
		c.stats.RelaysDeclined++
		if r.Nack {
			c.stats.Nacks++
			c.send(from, &pb.Envelope{Body: &pb.Envelope_Nack{Nack: &pb.Nack{Seq: r.Seq}}}, c.cfg.PiggybackBytes)
		}
		return
	}
	c.firstContact(now, target)
	c.seq++
	c.relays = append(c.relays, relay{seq: c.seq, origSeq: r.Seq, requester: from, target: target, suspectInc: r.SuspectIncarnation, deadline: now + c.cfg.ProbeTimeout, nack: r.Nack})
	c.stats.Pings++
	c.send(target, &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: c.seq, SuspectIncarnation: r.SuspectIncarnation}}}, c.cfg.PiggybackBytes)
}

func (c *Core) onAck(now time.Duration, from membership.NodeID, a *pb.Ack) {
	if p := c.probe; p != nil && p.seq == a.Seq {
		c.probe = nil
		if c.cfg.Lifeguard {
			c.healthDelta(-1)
		}
		if from == p.target && !p.indirect && !p.waited {
			c.rtt.add(now - p.start)
		}
		if m := c.members[p.target]; m != nil {
			c.answered(now, m)
		}
		return
	}
	if c.onCheckAck(now, a.Seq) {
		return
	}
	for i, r := range c.relays {
		if r.seq == a.Seq {
			c.relays = append(c.relays[:i], c.relays[i+1:]...)
			c.stats.Acks++
			c.send(r.requester, &pb.Envelope{Updates: c.newerRecord(r.target, r.suspectInc), Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: r.origSeq}}}, c.cfg.PiggybackBytes)
			return
		}
	}
}

// answered notes that m acked a probe of ours.
func (c *Core) answered(now time.Duration, m *member) {
	if m.state == membership.StateSuspect && m.susp != nil {
		// The suspect answered us but its refutation has not reached
		// us (yet): it is alive, so do not let our timer kill it while
		// it answers.
		if d := now + m.susp.min; d > m.susp.deadline {
			m.susp.deadline = d
		}
		m.susp.checked = false
	}
}

// newerRecord is our record of target if it refutes a suspicion at
// suspectInc (alive at a higher incarnation), for a ping-req's requester
// that may have missed the refutation.
func (c *Core) newerRecord(target membership.NodeID, suspectInc uint64) []*pb.Member {
	if suspectInc == 0 {
		return nil
	}
	m := c.members[target]
	if m == nil || m.state != membership.StateAlive || !incNewer(m.inc, suspectInc) {
		return nil
	}
	return []*pb.Member{c.record(m)}
}

func (c *Core) onNack(now time.Duration, n *pb.Nack) {
	if p := c.probe; p != nil && p.seq == n.Seq {
		p.nacks++
		return
	}
	c.onCheckNack(now, n.Seq)
}

func (c *Core) tickRelays(now time.Duration) {
	kept := c.relays[:0]
	for _, r := range c.relays {
		if now < r.deadline {
			kept = append(kept, r)
			continue
		}
		if r.nack {
			c.stats.Nacks++
			c.send(r.requester, &pb.Envelope{Updates: c.newerRecord(r.target, r.suspectInc), Body: &pb.Envelope_Nack{Nack: &pb.Nack{Seq: r.origSeq}}}, c.cfg.PiggybackBytes)
		}
	}
	c.relays = kept
}
