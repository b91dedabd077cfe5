package swim

import (
	"slices"
	"sort"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

func isLive(s membership.MemberState) bool {
	return s == membership.StateAlive || s == membership.StateSuspect
}

// setState changes a member's state and keeps the live count.
func (c *Core) setState(now time.Duration, m *member, s membership.MemberState) {
	if isLive(m.state) {
		c.live--
	}
	if isLive(s) {
		c.live++
	}
	m.state, m.since = s, now
	if s != membership.StateSuspect {
		m.susp = nil
	}
}

func (c *Core) emit(ch membership.MemberChange, m *member) {
	c.Emit(membership.MemberEvent{Change: ch, Node: m.node.Clone(), Incarnation: m.inc, Meta: copyMeta(m.meta)})
}

// apply merges one member update heard from a peer (piggybacked or in a
// push-pull). from is the peer that carried it.
func (c *Core) apply(now time.Duration, u *pb.Member, from membership.NodeID) {
	switch u.State {
	case pb.State_STATE_ALIVE:
		c.onAlive(now, u)
	case pb.State_STATE_SUSPECT:
		c.onSuspect(now, u)
	case pb.State_STATE_DEAD:
		c.onDead(now, u, membership.StateDead)
	case pb.State_STATE_LEFT:
		c.onDead(now, u, membership.StateLeft)
	}
}

// Incarnations compare in serial-number arithmetic (RFC 1982): a is newer
// than b when a-b, modulo 2^64, is below 2^63; two exactly 2^63 apart are
// neither. There is no largest incarnation. The two sides treat the
// incomparable case so that they agree: a node takes a claim about another
// member (suspect, dead, left) only if it is at least as new as what it
// holds, and an alive record only if newer; a member answers any claim
// about itself that is not strictly older than its own incarnation, with
// the incarnation after the claim's, which every node that took the claim
// (or still holds anything the claim was at least as new as) takes. With
// plain comparison a claim at 2^64-1 made the refutation wrap to 0, after
// which the member's records were refused everywhere: dead for good, from
// one message of any peer; a wire bound and jump windows, tried first the
// same day, only moved that wall (swim/regress*_test.go).
func incNewer(a, b uint64) bool { return a != b && a-b < 1<<63 }

// incAtLeast is a == b or incNewer(a, b).
func incAtLeast(a, b uint64) bool { return a == b || incNewer(a, b) }

// nextInc is the incarnation after i (0 is not an incarnation).
func nextInc(i uint64) uint64 {
	if i+1 == 0 {
		return 1
	}
	return i + 1
}

func (c *Core) onAlive(now time.Duration, u *pb.Member) {
	id := membership.NodeID(u.Id)
	if id == c.self.ID {
		c.answerSelf(u)
		return
	}
	m := c.members[id]
	if m == nil {
		if len(c.members) >= c.cfg.MaxMembers {
			return
		}
		m = &member{node: membership.Node{ID: id, Addrs: append([]string(nil), u.Addrs...)}, inc: u.Incarnation, meta: metaFromPB(u.Meta)}
		c.members[id] = m
		c.insertID(id)
		c.setState(now, m, membership.StateAlive)
		c.probes.insert(c.rng, id)
		c.emit(membership.MemberJoined, m)
		c.bq.addMember(u, c.cfg.MaxBroadcasts)
		return
	}
	if !incNewer(u.Incarnation, m.inc) {
		return
	}
	old := m.state
	newMeta := metaFromPB(u.Meta)
	changed := !sameMeta(m.meta, newMeta)
	m.inc, m.meta = u.Incarnation, newMeta
	if len(u.Addrs) > 0 {
		m.node.Addrs = append([]string(nil), u.Addrs...)
	}
	c.setState(now, m, membership.StateAlive)
	switch old {
	case membership.StateDead, membership.StateLeft:
		c.probes.insert(c.rng, id)
		c.emit(membership.MemberJoined, m)
	case membership.StateSuspect:
		c.emit(membership.MemberAlive, m)
	default:
		if changed {
			c.emit(membership.MemberUpdated, m)
		}
	}
	c.bq.addMember(u, c.cfg.MaxBroadcasts)
}

func (c *Core) onSuspect(now time.Duration, u *pb.Member) {
	id := membership.NodeID(u.Id)
	from := membership.NodeID(u.From)
	if id == c.self.ID {
		if c.left {
			c.answerSelf(u) // a left member stays left: LEFT answers
			return
		}
		if !incNewer(c.inc, u.Incarnation) {
			c.refute(u.Incarnation)
			// Tell the suspector and k members at once rather than wait
			// for gossip: the refutation then starts from several
			// places, so fewer members miss every copy. Linked members
			// first: a refutation must not cost new connections while
			// the cluster is overloaded (which is when suspicions come).
			to := c.pickLinkedFirst(c.cfg.IndirectChecks, func(id membership.NodeID) bool { return id != from && c.probeable(id) })
			if from.Valid() && from != c.self.ID {
				to = append(to, from)
			}
			for _, id := range to {
				c.stats.Gossips++
				c.send(id, &pb.Envelope{Updates: []*pb.Member{c.selfRecord()}, Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}}, 0)
			}
		}
		return
	}
	m := c.members[id]
	if m == nil || !incAtLeast(u.Incarnation, m.inc) || !isLive(m.state) {
		return
	}
	if m.state == membership.StateSuspect && u.Incarnation == m.inc {
		if m.susp != nil && m.susp.confirm(from) {
			c.bq.addMember(u, c.cfg.MaxBroadcasts)
		}
		return
	}
	c.suspect(now, m, u.Incarnation, from)
	c.bq.addMember(u, c.cfg.MaxBroadcasts)
	if from != c.self.ID && c.cfg.ConfirmProbes {
		k := float64(2 * (c.cfg.SuspicionConfirmations + 1))
		if p := k / float64(c.NumAlive()); p >= 1 || c.rng.Float64() < p {
			c.probes.queueConfirm(id, false)
		}
	}
}

// suspect starts (or restarts at a higher incarnation) a suspicion.
func (c *Core) suspect(now time.Duration, m *member, inc uint64, from membership.NodeID) {
	m.inc = inc
	wasSuspect := m.state == membership.StateSuspect
	c.setState(now, m, membership.StateSuspect)
	m.susp = c.newSuspicion(now, from)
	m.susp.probed = from == c.self.ID
	if !wasSuspect {
		if !slices.Contains(c.suspects, m.node.ID) { // suspect, alive, suspect again before a tick
			c.suspects = append(c.suspects, m.node.ID)
		}
		c.emit(membership.MemberSuspect, m)
	}
	if from == c.self.ID {
		c.stats.Suspicions++
	}
}

func (c *Core) onDead(now time.Duration, u *pb.Member, st membership.MemberState) {
	id := membership.NodeID(u.Id)
	if id == c.self.ID {
		switch {
		case c.left:
			c.answerSelf(u) // a left member stays left: LEFT answers
		case !incNewer(c.inc, u.Incarnation):
			c.refute(u.Incarnation)
			if st == membership.StateDead {
				c.fuseSelfDeclaredDead(now, u.Incarnation)
			}
		case st == membership.StateDead:
			// Declared dead at an incarnation refuted since (a suspicion
			// of it came first): the groups fired all the same.
			c.fuseSelfDeclaredDead(now, u.Incarnation)
		}
		return
	}
	m := c.members[id]
	if m == nil || !incAtLeast(u.Incarnation, m.inc) || !isLive(m.state) {
		return
	}
	c.markDown(now, m, u.Incarnation, st)
	c.bq.addMember(u, c.cfg.MaxBroadcasts)
}

// markDown records a death or departure and tells the layers above and
// the FUSE groups.
func (c *Core) markDown(now time.Duration, m *member, inc uint64, st membership.MemberState) {
	m.inc = inc
	c.setState(now, m, st)
	if st == membership.StateLeft {
		c.emit(membership.MemberLeft, m)
	} else {
		c.emit(membership.MemberFailed, m)
	}
	c.fuseMemberDown(now, m.node.ID, st)
}

// refute raises our incarnation above a suspicion or death claim.
func (c *Core) refute(seen uint64) {
	if incNewer(c.inc, seen) {
		c.inc = nextInc(c.inc)
	} else {
		c.inc = nextInc(seen)
	}
	c.stats.Refutations++
	if c.cfg.Lifeguard {
		c.healthDelta(+1)
	}
	c.broadcastSelf()
}

// answerSelf corrects a record of this node that peers may hold and that
// is not strictly older than ours but is not our own record: an alive
// record at a newer incarnation (we restarted, or a forger moved it), one
// at ours with other metadata or addresses (a forger's, taken by a node
// that did not hold us: it stuck until our incarnation changed), or any
// record while we have left (one forged alive record brought a left
// member back for good). Our record at the incarnation after it answers.
func (c *Core) answerSelf(u *pb.Member) {
	if incNewer(c.inc, u.Incarnation) {
		return // older than ours: our record already wins
	}
	if u.Incarnation == c.inc && sameRecord(u, c.selfRecord()) {
		return // our own record, echoed
	}
	c.inc = nextInc(u.Incarnation)
	c.broadcastSelf()
}

// sameRecord reports whether a and b say the same of a member: state,
// addresses and metadata (not proto.Equal, which also compares unknown
// fields: a newer peer echoing our record with a field this version does
// not know would make us outbid it at every echo).
func sameRecord(a, b *pb.Member) bool {
	if a.State != b.State || !slices.Equal(a.Addrs, b.Addrs) || len(a.Meta) != len(b.Meta) {
		return false
	}
	for i := range a.Meta {
		if a.Meta[i].GetKey() != b.Meta[i].GetKey() || a.Meta[i].GetValue() != b.Meta[i].GetValue() {
			return false
		}
	}
	return true
}

// broadcastSelf queues our own alive (or left) record.
func (c *Core) broadcastSelf() {
	c.bq.addMember(c.selfRecord(), c.cfg.MaxBroadcasts)
}

func (c *Core) selfRecord() *pb.Member {
	st := pb.State_STATE_ALIVE
	if c.left {
		st = pb.State_STATE_LEFT
	}
	return &pb.Member{Id: string(c.self.ID), Addrs: append([]string(nil), c.self.Addrs...), Incarnation: c.inc, State: st, Meta: metaToPB(c.meta)}
}

func (c *Core) record(m *member) *pb.Member {
	r := &pb.Member{Id: string(m.node.ID), Addrs: append([]string(nil), m.node.Addrs...), Incarnation: m.inc, State: stateToPB(m.state), Meta: metaToPB(m.meta)}
	switch {
	case m.state == membership.StateSuspect && m.susp != nil && len(m.susp.seen) > 0:
		// The suspicion's originator, not us: a peer that gets it back
		// by push-pull must not count us as a further confirmation of
		// what may be its own suspicion.
		r.From = string(m.susp.seen[0])
	case m.state == membership.StateSuspect || m.state == membership.StateDead:
		r.From = string(c.self.ID)
	}
	return r
}

func (c *Core) insertID(id membership.NodeID) {
	i := sort.Search(len(c.ids), func(i int) bool { return c.ids[i] >= id })
	c.ids = append(c.ids, "")
	copy(c.ids[i+1:], c.ids[i:])
	c.ids[i] = id
}

// reap forgets members dead or left for longer than DeadRetention.
func (c *Core) reap(now time.Duration) {
	kept := c.ids[:0]
	for _, id := range c.ids {
		m := c.members[id]
		if !isLive(m.state) && now-m.since > c.cfg.DeadRetention {
			delete(c.members, id)
			delete(c.conns, id)
			continue
		}
		kept = append(kept, id)
	}
	c.ids = kept
}

func stateToPB(s membership.MemberState) pb.State {
	switch s {
	case membership.StateAlive:
		return pb.State_STATE_ALIVE
	case membership.StateSuspect:
		return pb.State_STATE_SUSPECT
	case membership.StateDead:
		return pb.State_STATE_DEAD
	case membership.StateLeft:
		return pb.State_STATE_LEFT
	}
	return pb.State_STATE_UNSPECIFIED
}

func metaFromPB(ms []*pb.Meta) map[string]string {
	if len(ms) == 0 {
		return nil
	}
	out := make(map[string]string, len(ms))
	for _, kv := range ms {
		out[kv.Key] = kv.Value
	}
	return out
}

func metaToPB(m map[string]string) []*pb.Meta {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pb.Meta, len(keys))
	for i, k := range keys {
		out[i] = &pb.Meta{Key: k, Value: m[k]}
	}
	return out
}

func copyMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sameMeta(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func metaSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}
