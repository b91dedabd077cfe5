package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// tickGossip pushes pending updates to GossipFanout random live members
// every GossipInterval, and only while there are some: in steady state
// SWIM's own pings and acks are the only traffic.
func (c *Core) tickGossip(now time.Duration) {
	if now < c.nextGossip {
		return
	}
	c.nextGossip = now + c.cfg.GossipInterval
	if c.bq.len() == 0 {
		return
	}
	for _, to := range c.pickLinkedFirst(c.cfg.GossipFanout, c.probeable) {
		if c.bq.len() == 0 {
			return
		}
		c.stats.Gossips++
		c.send(to, &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}, c.cfg.GossipBytes)
	}
}

// joinState tracks a Join until a full-state reply comes back.
type joinState struct {
	contact membership.NodeID
	retryAt time.Duration
	tries   int
	// lastTo and sentAt are the last join push-pull's target and time;
	// waiting says it went to a member with no connection yet (see
	// holdJoinRetry).
	lastTo  membership.NodeID
	sentAt  time.Duration
	waiting bool
}

// maxJoinBackoff caps the join retry interval at this many JoinRetry.
const maxJoinBackoff = 16

// Join contacts a known member and swaps full state with it; the contact
// spreads our arrival. Retried until a full-state reply comes back, at
// JoinRetry doubling up to 16 x JoinRetry; every second retry goes to a
// member learnt meanwhile (if any) instead of the contact. It never gives
// up: a join given up after a few tries (as before, 5 tries 1 s apart) left
// a node that the overlay knew but SWIM never would when 199 processes
// dialled one seed at once (bench swim --procs, N=200).
func (c *Core) Join(now time.Duration, contact membership.Node) error {
	if !contact.ID.Valid() || contact.ID == c.self.ID {
		return errInvalidContact
	}
	if c.left {
		return errLeft
	}
	c.start(now)
	c.join = &joinState{contact: contact.ID, retryAt: now + c.cfg.JoinRetry, tries: 1}
	c.sendJoin(now, contact.ID)
	return nil
}

func (c *Core) sendJoin(now time.Duration, to membership.NodeID) {
	j := c.join
	j.lastTo, j.sentAt, j.waiting = to, now, c.awaitsConn(to)
	c.sendPushPull(to, true, false)
}

// holdJoinRetry reports whether a join retry to `to` would only queue
// behind the last one, which is still waiting for the connection to `to`
// (Config.ConnectTimeout: no PeerUp yet, no PeerDown, for less than
// ConnectTimeout). The contact would then answer each copy with its whole
// table as soon as the connection is up: when 199 agents joined one seed
// at once, the seed sent 505 full-state replies in the first 10 s, to
// joins that had all been retried behind their own dials
// (docs/swim-bench.md, "One core per agent").
func (c *Core) holdJoinRetry(now time.Duration, to membership.NodeID) bool {
	j := c.join
	return j.waiting && to == j.lastTo && c.awaitsConn(to) && now-j.sentAt < c.cfg.ConnectTimeout
}

func (c *Core) tickJoin(now time.Duration) {
	if j := c.join; j != nil && now >= j.retryAt {
		j.tries++
		j.retryAt = now + c.cfg.JoinRetry*time.Duration(min(1<<min(j.tries-1, 8), maxJoinBackoff))
		to := j.contact
		if j.tries%2 == 1 {
			if other := c.pickMembers(1, c.probeable); len(other) > 0 {
				to = other[0]
			}
		}
		if c.holdJoinRetry(now, to) {
			c.stats.JoinRetriesHeld++
		} else {
			c.sendJoin(now, to)
		}
	}
	if c.syncAt > 0 && now >= c.syncAt {
		c.syncAt = 0
		if c.syncsLeft--; c.syncsLeft > 0 {
			c.syncGap *= 2
			c.syncAt = now + c.syncGap
		}
		if to := c.pickLinkedFirst(1, c.probeable); len(to) > 0 {
			c.sendDigest(to[0])
		}
	}
}

func (c *Core) pushPullInterval() time.Duration {
	n := c.NumAlive()
	if n <= 32 {
		return c.cfg.PushPullInterval
	}
	return time.Duration(int64(c.cfg.PushPullInterval) * int64(n) / 32)
}

func (c *Core) tickPushPull(now time.Duration) {
	if c.cfg.PushPullInterval == 0 || now < c.nextPushPull {
		return
	}
	c.nextPushPull = now + c.pushPullInterval()
	if to := c.pickMembers(1, c.probeable); len(to) > 0 {
		c.sendDigest(to[0])
	}
}

// sendDigest starts a periodic push-pull with the digest alone.
func (c *Core) sendDigest(to membership.NodeID) {
	c.stats.PushPulls++
	c.stats.Digests++
	c.send(to, &pb.Envelope{Body: &pb.Envelope_PushPull{PushPull: &pb.PushPull{Digest: c.stateDigest()}}}, 0)
}

func (c *Core) sendPushPull(to membership.NodeID, join, reply bool) {
	c.sendState(to, &pb.PushPull{Join: join, Reply: reply})
}

// sendState fills p with the full member table and sends it.
func (c *Core) sendState(to membership.NodeID, p *pb.PushPull) {
	ms := make([]*pb.Member, 0, len(c.ids)+1)
	ms = append(ms, c.selfRecord())
	for _, id := range c.ids {
		ms = append(ms, c.record(c.members[id]))
	}
	p.Members = ms
	c.stats.PushPulls++
	c.send(to, &pb.Envelope{Body: &pb.Envelope_PushPull{PushPull: p}}, 0)
}

func (c *Core) onPushPull(now time.Duration, from membership.NodeID, p *pb.PushPull) {
	if !p.Reply && !p.Join && len(p.Members) == 0 && p.Digest != 0 {
		// A digest offer: equal tables need nothing more.
		if d := c.stateDigest(); d == p.Digest {
			c.stats.PushPulls++
			c.stats.DigestsEqual++
			c.send(from, &pb.Envelope{Body: &pb.Envelope_PushPull{PushPull: &pb.PushPull{Reply: true, Digest: d}}}, 0)
		} else {
			c.sendState(from, &pb.PushPull{Reply: true, WantState: true})
		}
		return
	}
	for _, u := range p.Members {
		if u.State == pb.State_STATE_DEAD || u.State == pb.State_STATE_SUSPECT {
			// A remote death may be stale: only suspect, with the
			// sender as the suspector (as memberlist does).
			if u.Id == string(c.self.ID) && u.State == pb.State_STATE_DEAD && !c.left {
				if !incNewer(c.inc, u.Incarnation) {
					c.refute(u.Incarnation)
				}
				c.fuseSelfDeclaredDead(now, u.Incarnation)
				continue
			}
			suspector := u.From // the suspicion's originator, or the sender for a death
			if suspector == "" {
				suspector = string(from)
			}
			c.onSuspect(now, &pb.Member{Id: u.Id, Incarnation: u.Incarnation, State: pb.State_STATE_SUSPECT, From: suspector})
			continue
		}
		c.apply(now, u, from)
	}
	if !p.Reply {
		c.sendPushPull(from, p.Join, true)
		return
	}
	if p.WantState {
		c.sendPushPull(from, false, true)
	}
	if p.Join && c.join != nil {
		// The answer to one of our join push-pulls (from the contact or
		// from a member a retry went to): we hold the table and are known.
		c.join = nil
		if c.cfg.JoinSyncDelay > 0 {
			c.syncAt = now + c.cfg.JoinSyncDelay
			c.syncGap, c.syncsLeft = c.cfg.JoinSyncDelay, c.cfg.JoinSyncs
		}
	}
}
