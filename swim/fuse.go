package swim

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// FUSE groups (Dunagan et al., OSDI 2004) ride on SWIM: a group costs
// nothing in steady state, because its liveness is SWIM's verdict about
// its members. A group fires once, at every live member, when a member
// signals it, or SWIM declares a member dead or left, or its creation did
// not complete. Firing sends a signal directly to every other member
// (retried until acknowledged, and relayed by each member that hears it)
// and piggybacks it on SWIM traffic.

type groupPhase uint8

const (
	phaseCreating groupPhase = iota + 1 // creator waits for every member
	phaseArmed
	phaseFired // kept only while signals await acknowledgement
)

type group struct {
	id        GroupID
	members   []membership.NodeID // sorted, includes this node
	creator   membership.NodeID
	phase     groupPhase
	confirmed bool
	acked     []bool // creator only: which members answered
	deadline  time.Duration
	reason    FuseReason
	about     membership.NodeID
	out       []fuseOut
	active    bool   // listed in fuseState.active
	inc       uint64 // this node's incarnation when the group was installed here
}

// fuseOut is a message to resend until acknowledged.
type fuseOut struct {
	to     membership.NodeID
	kind   pb.FuseKind
	nextAt time.Duration
	tries  int
}

type fuseState struct {
	groups   map[GroupID]*group
	byMember map[membership.NodeID][]GroupID
	active   []GroupID // groups with resends or a deadline pending
	fired    map[GroupID]time.Duration
	firedLog []GroupID // in firing order, for expiry
	next     uint64
	// boot is drawn when the core is built: group IDs carry it, so a node
	// that restarted (same peer ID, counter from 0) does not reuse the ID
	// of a group its peers still hold, armed or as a tombstone.
	boot uint64
}

func (f *fuseState) init() {
	f.groups = map[GroupID]*group{}
	f.byMember = map[membership.NodeID][]GroupID{}
	f.fired = map[GroupID]time.Duration{}
}

// CreateGroup asks every member (this node is added if absent) to join a
// new group. The ID is returned at once but the group is armed only when
// FuseCreated is emitted, after every member answered; if one does not
// answer within Config.FuseCreateTimeout (or is declared dead), the
// creator gets FuseCreateFailed and the members that heard of the group
// get FuseTriggered with FuseCreationFailed. An error means nothing was
// sent: a member is unknown or not alive here, or a bound is exceeded.
func (c *Core) CreateGroup(now time.Duration, members []membership.NodeID) (GroupID, error) {
	if c.left {
		return "", errLeft
	}
	c.start(now)
	ms := append([]membership.NodeID{c.self.ID}, members...)
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	uniq := ms[:0]
	for i, m := range ms {
		if i == 0 || m != ms[i-1] {
			uniq = append(uniq, m)
		}
	}
	ms = uniq
	if len(ms) < 2 || len(ms) > c.cfg.MaxGroupSize {
		return "", fmt.Errorf("swim: group of %d members; want 2..%d", len(ms), c.cfg.MaxGroupSize)
	}
	if len(c.fuse.groups) >= c.cfg.MaxGroups {
		return "", fmt.Errorf("swim: already in %d groups; Config.MaxGroups", len(c.fuse.groups))
	}
	for _, m := range ms {
		if m == c.self.ID {
			continue
		}
		if mm := c.members[m]; mm == nil || mm.state != membership.StateAlive {
			return "", fmt.Errorf("swim: group member %q is not alive here", m)
		}
	}
	c.fuse.next++
	g := &group{id: GroupID(fmt.Sprintf("%s/%x/%d", c.self.ID, c.fuse.boot, c.fuse.next)), members: ms, creator: c.self.ID,
		phase: phaseCreating, acked: make([]bool, len(ms)), deadline: now + c.cfg.FuseCreateTimeout}
	c.installGroup(g)
	for i, m := range ms {
		if m == c.self.ID {
			g.acked[i] = true
			continue
		}
		g.out = append(g.out, fuseOut{to: m, kind: pb.FuseKind_FUSE_CREATE, nextAt: now + c.cfg.FuseRetryInterval, tries: 1})
		c.sendFuse(m, g, pb.FuseKind_FUSE_CREATE)
	}
	c.activate(g)
	return g.id, nil
}

// Signal fires a group this node belongs to.
func (c *Core) Signal(now time.Duration, gid GroupID) error {
	g := c.fuse.groups[gid]
	if g == nil || g.phase == phaseFired {
		return errors.New("swim: no such armed group " + string(gid))
	}
	c.start(now)
	c.fire(now, g, FuseSignalled, c.self.ID)
	return nil
}

// Groups lists the groups this node belongs to that have not fired,
// sorted (creating ones included).
func (c *Core) Groups() []GroupID {
	var out []GroupID
	for id, g := range c.fuse.groups {
		if g.phase != phaseFired {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (c *Core) installGroup(g *group) {
	g.inc = c.inc
	c.fuse.groups[g.id] = g
	for _, m := range g.members {
		if m != c.self.ID {
			c.fuse.byMember[m] = append(c.fuse.byMember[m], g.id)
		}
	}
}

func (c *Core) unindexGroup(g *group) {
	for _, m := range g.members {
		l := c.fuse.byMember[m]
		for i, x := range l {
			if x == g.id {
				l = append(l[:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(c.fuse.byMember, m)
		} else {
			c.fuse.byMember[m] = l
		}
	}
}

func (c *Core) sendFuse(to membership.NodeID, g *group, kind pb.FuseKind) {
	msg := &pb.FuseMsg{Kind: kind, Group: string(g.id)}
	switch kind {
	case pb.FuseKind_FUSE_CREATE:
		msg.Members = make([]string, len(g.members))
		for i, m := range g.members {
			msg.Members[i] = string(m)
		}
	case pb.FuseKind_FUSE_SIGNAL:
		msg.Reason, msg.Member = pb.FuseReason(g.reason), string(g.about)
	}
	c.stats.FuseMsgs++
	c.send(to, &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: msg}}, c.cfg.PiggybackBytes)
}

func (c *Core) sendFuseAck(to membership.NodeID, gid string, kind pb.FuseKind) {
	c.stats.FuseMsgs++
	c.send(to, &pb.Envelope{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: kind, Group: gid}}}, c.cfg.PiggybackBytes)
}

func (c *Core) onFuse(now time.Duration, from membership.NodeID, f *pb.FuseMsg) {
	gid := GroupID(f.Group)
	g := c.fuse.groups[gid]
	switch f.Kind {
	case pb.FuseKind_FUSE_CREATE:
		if _, gone := c.fuse.fired[gid]; gone || c.left || !strings.HasPrefix(f.Group, string(from)+"/") {
			return // fired already, or not a group ID of the sender's
		}
		if g == nil {
			if len(c.fuse.groups) >= c.cfg.MaxGroups {
				return
			}
			ms := make([]membership.NodeID, len(f.Members))
			for i, m := range f.Members {
				ms[i] = membership.NodeID(m)
				if mm := c.members[ms[i]]; mm != nil && !isLive(mm.state) {
					return // a member is already down here: let creation fail
				}
			}
			g = &group{id: gid, members: ms, creator: from, phase: phaseArmed}
			c.installGroup(g)
		}
		if g.phase != phaseFired {
			c.sendFuseAck(from, f.Group, pb.FuseKind_FUSE_CREATE_ACK)
		}
	case pb.FuseKind_FUSE_CREATE_ACK:
		if g == nil || g.phase != phaseCreating {
			return
		}
		all := true
		for i, m := range g.members {
			if m == from {
				g.acked[i] = true
			}
			all = all && g.acked[i]
		}
		g.dropOut(from)
		if all {
			g.phase = phaseArmed
			c.Emit(FuseCreated{Group: g.id, Members: append([]membership.NodeID(nil), g.members...), Creator: true})
			for _, m := range g.members {
				if m != c.self.ID {
					c.sendFuse(m, g, pb.FuseKind_FUSE_CONFIRM)
				}
			}
		}
	case pb.FuseKind_FUSE_CONFIRM:
		if g != nil && g.phase == phaseArmed && !g.confirmed && g.creator == from {
			g.confirmed = true
			c.Emit(FuseCreated{Group: g.id, Members: append([]membership.NodeID(nil), g.members...)})
		}
	case pb.FuseKind_FUSE_SIGNAL:
		c.sendFuseAck(from, f.Group, pb.FuseKind_FUSE_SIGNAL_ACK)
		if g != nil && g.phase != phaseFired {
			c.fire(now, g, FuseReason(f.Reason), membership.NodeID(f.Member))
		} else if g == nil {
			c.tombstone(now, gid)
		}
	case pb.FuseKind_FUSE_SIGNAL_ACK:
		if g != nil {
			g.dropOut(from)
		}
	}
}

// onTrigger fires a group held here. A gossiped trigger for a group not
// held here leaves a tombstone only when it names this node: triggers
// reach every member of the cluster, most of which are in no such group,
// and their tombstones would fill the table. A SIGNAL is sent to group
// members only, so it always leaves one (onFuse).
func (c *Core) onTrigger(now time.Duration, t *pb.FuseTrigger) {
	g := c.fuse.groups[GroupID(t.Group)]
	switch {
	case g != nil && g.phase != phaseFired:
		c.fire(now, g, FuseReason(t.Reason), membership.NodeID(t.Member))
	case g == nil && membership.NodeID(t.Member) == c.self.ID:
		// About us: the firer may have held us down and skipped our
		// SIGNAL, so this trigger is how we hear; a CREATE arriving
		// later must not install the group armed.
		c.tombstone(now, GroupID(t.Group))
	}
}

// tombstone remembers that a group this node does not hold has fired, so
// a CREATE that arrives after the signal (a retry still in flight, a
// slower path) does not install it armed for good. Bounded: beyond
// 4 x MaxGroups tombstones, none is added.
func (c *Core) tombstone(now time.Duration, gid GroupID) {
	if _, ok := c.fuse.fired[gid]; ok || len(c.fuse.fired) >= 4*c.cfg.MaxGroups {
		return
	}
	c.fuse.fired[gid] = now
	c.fuse.firedLog = append(c.fuse.firedLog, gid)
}

func (g *group) dropOut(to membership.NodeID) {
	kept := g.out[:0]
	for _, o := range g.out {
		if o.to != to {
			kept = append(kept, o)
		}
	}
	g.out = kept
}

// fire triggers a group here and tells every other member.
func (c *Core) fire(now time.Duration, g *group, reason FuseReason, about membership.NodeID) {
	if g.phase == phaseCreating {
		c.Emit(FuseCreateFailed{Group: g.id, Member: about})
		reason = FuseCreationFailed
	} else {
		c.Emit(FuseTriggered{Group: g.id, Reason: reason, Member: about})
	}
	g.phase, g.reason, g.about = phaseFired, reason, about
	c.unindexGroup(g)
	c.fuse.fired[g.id] = now
	c.fuse.firedLog = append(c.fuse.firedLog, g.id)
	g.out = g.out[:0]
	for _, m := range g.members {
		if m == c.self.ID || !c.reachable(m) {
			continue
		}
		g.out = append(g.out, fuseOut{to: m, kind: pb.FuseKind_FUSE_SIGNAL, nextAt: now + c.cfg.FuseRetryInterval, tries: 1})
		c.sendFuse(m, g, pb.FuseKind_FUSE_SIGNAL)
	}
	c.bq.addTrigger(&pb.FuseTrigger{Group: string(g.id), Reason: pb.FuseReason(reason), Member: string(about)}, c.cfg.MaxBroadcasts)
	c.activate(g)
}

func (c *Core) activate(g *group) {
	if !g.active {
		g.active = true
		c.fuse.active = append(c.fuse.active, g.id)
	}
}

// reachable: not known to be dead or left here.
func (c *Core) reachable(id membership.NodeID) bool {
	m := c.members[id]
	return m == nil || isLive(m.state)
}

// fuseMemberDown fires every group of a member SWIM declared down.
func (c *Core) fuseMemberDown(now time.Duration, id membership.NodeID, st membership.MemberState) {
	gids := append([]GroupID(nil), c.fuse.byMember[id]...)
	reason := FuseMemberFailed
	if st == membership.StateLeft {
		reason = FuseMemberLeft
	}
	for _, gid := range gids {
		if g := c.fuse.groups[gid]; g != nil && g.phase != phaseFired {
			c.fire(now, g, reason, id)
		}
	}
}

// fuseSelfDeclaredDead fires the groups of this node that it held when
// it was declared dead at incarnation inc (those installed at inc or
// before): the members that declared it fired them, and their signals
// skip a member they hold dead, so a member wrongly declared dead (paused,
// partitioned) would otherwise never hear its groups fired. The news may
// come after this node has refuted a suspicion at that incarnation, so
// the death is then stale for the member table but not for the groups.
func (c *Core) fuseSelfDeclaredDead(now time.Duration, inc uint64) {
	var due []GroupID
	for id, g := range c.fuse.groups {
		if g.phase != phaseFired && !incNewer(g.inc, inc) {
			due = append(due, id)
		}
	}
	slices.Sort(due) // map order is random; the core's sends must not be
	for _, id := range due {
		c.fire(now, c.fuse.groups[id], FuseMemberFailed, c.self.ID)
	}
}

// tickFuse resends unacknowledged messages, fails overdue creations and
// forgets old tombstones.
func (c *Core) tickFuse(now time.Duration) {
	if len(c.fuse.active) > 0 {
		active := c.fuse.active
		c.fuse.active = nil
		var kept []GroupID
		for _, gid := range active {
			g := c.fuse.groups[gid]
			if g == nil || !g.active {
				continue
			}
			g.active = false
			if g.phase == phaseCreating && now >= g.deadline {
				var missing membership.NodeID
				for j, m := range g.members {
					if !g.acked[j] {
						missing = m
						break
					}
				}
				c.fire(now, g, FuseCreationFailed, missing)
			}
			outs := g.out[:0]
			for _, o := range g.out {
				if now >= o.nextAt {
					if o.tries > c.cfg.FuseRetries || !c.reachable(o.to) {
						continue
					}
					o.tries++
					o.nextAt = now + c.cfg.FuseRetryInterval
					c.sendFuse(o.to, g, o.kind)
				}
				outs = append(outs, o)
			}
			g.out = outs
			if g.active {
				continue // fired above: already listed again
			}
			if len(g.out) > 0 || g.phase == phaseCreating {
				g.active = true
				kept = append(kept, gid)
			} else if g.phase == phaseFired {
				delete(c.fuse.groups, gid)
			}
		}
		c.fuse.active = append(kept, c.fuse.active...)
	}
	for len(c.fuse.firedLog) > 0 {
		gid := c.fuse.firedLog[0]
		if now-c.fuse.fired[gid] < c.cfg.DeadRetention {
			break
		}
		delete(c.fuse.fired, gid)
		c.fuse.firedLog = c.fuse.firedLog[1:]
	}
}
