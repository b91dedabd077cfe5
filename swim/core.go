package swim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
	"google.golang.org/protobuf/proto"
)

// Protocol is the SWIM core's wire protocol.
const Protocol membership.ProtocolID = "/hearsay/swim/1.0.0"

// member is what a core knows about another node.
type member struct {
	node  membership.Node
	inc   uint64
	state membership.MemberState
	meta  map[string]string // replaced, never mutated
	since time.Duration     // when state last changed
	susp  *suspicion        // while suspect
	// hintAt is when a PeerDown about it last started a check.
	hintAt time.Duration
	// noConn counts our probes of it in a row that found no connection
	// within ConnectTimeout (conns.go).
	noConn int
	// reached: the driver has had a connection to it (PeerUp, or a
	// message from it), so probing it is no first contact (dials.go).
	reached bool
}

// Core is one node's SWIM failure detector. Build it with New.
type Core struct {
	membership.Outbox

	cfg  Config
	self membership.Node
	rng  *rand.Rand

	inc     uint64
	meta    map[string]string
	left    bool
	started bool
	// lastTick is when Tick last ran, to notice a stall (a paused
	// process).
	lastTick time.Duration
	// armed is the deadline the driver last asked for (NextDeadline), 0
	// if it has not asked since the last Tick (a fixed cadence).
	armed time.Duration

	members map[membership.NodeID]*member
	ids     []membership.NodeID // sorted IDs of members (not self)
	live    int                 // members alive or suspect, not self

	probes    probeOrder
	probe     *probeState
	nextProbe time.Duration
	seq       uint64
	relays    []relay
	checks    []*check
	suspects  []membership.NodeID // members with a running suspicion timer
	lhm       int
	rtt       rttHistory

	bq           bqueue
	nextGossip   time.Duration
	nextPushPull time.Duration
	nextReap     time.Duration
	join         *joinState
	syncAt       time.Duration // pending post-join push-pull (0 = none)
	syncGap      time.Duration // from the last post-join push-pull to syncAt
	syncsLeft    int           // post-join push-pulls still to come, syncAt's included

	// links are the members the driver has an open link to, sorted
	// (LinkUp, LinkDown; links.go).
	links membership.IDSet
	// conns are the members the driver holds a connection to, with
	// Config.ConnectTimeout (PeerUp, PeerDown; conns.go).
	conns map[membership.NodeID]struct{}
	// nextDial is when a probe may next go to a member never reached
	// (Config.DialInterval; dials.go).
	nextDial time.Duration

	fuse  fuseState
	stats Stats
}

var _ membership.Core = (*Core)(nil)

// New builds a core for self. rng is the node's own seeded source.
func New(self membership.Node, cfg Config, rng *rand.Rand) (*Core, error) {
	if !self.ID.Valid() {
		return nil, errors.New("swim: self has an empty ID")
	}
	if rng == nil {
		return nil, errors.New("swim: nil rng")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Core{
		cfg:     cfg,
		self:    self.Clone(),
		rng:     rng,
		inc:     1,
		members: map[membership.NodeID]*member{},
		conns:   map[membership.NodeID]struct{}{},
		rtt:     newRTTHistory(cfg.PhiWindow),
	}
	c.fuse.init()
	c.fuse.boot = rng.Uint64()
	c.bq.maxSize = cfg.GossipBytes
	return c, nil
}

// Protocol is "/hearsay/swim/1.0.0".
func (c *Core) Protocol() membership.ProtocolID { return Protocol }

// NewMessage returns an empty envelope.
func (c *Core) NewMessage() proto.Message { return &pb.Envelope{} }

// TickInterval is Config.TickInterval.
func (c *Core) TickInterval() time.Duration { return c.cfg.TickInterval }

// Step feeds a received envelope.
func (c *Core) Step(now time.Duration, from membership.NodeID, msg proto.Message) error {
	env, ok := msg.(*pb.Envelope)
	if !ok {
		c.stats.Rejected++
		return fmt.Errorf("swim: unexpected message type %T", msg)
	}
	if err := c.validate(from, env); err != nil {
		c.stats.Rejected++
		return err
	}
	c.stats.Received++
	c.start(now)
	for _, u := range env.Updates {
		c.apply(now, u, from)
	}
	// It reached us: there is a connection (after the updates, which may
	// carry its own record, so that it counts as reached; dials.go).
	c.PeerUp(now, from)
	for _, t := range env.Triggers {
		c.onTrigger(now, t)
	}
	switch b := env.Body.(type) {
	case *pb.Envelope_Ping:
		c.onPing(now, from, b.Ping)
	case *pb.Envelope_PingReq:
		c.onPingReq(now, from, b.PingReq)
	case *pb.Envelope_Ack:
		c.onAck(now, from, b.Ack)
	case *pb.Envelope_Nack:
		c.onNack(now, b.Nack)
	case *pb.Envelope_PushPull:
		c.onPushPull(now, from, b.PushPull)
	case *pb.Envelope_Gossip:
	case *pb.Envelope_Fuse:
		c.onFuse(now, from, b.Fuse)
	}
	return nil
}

// start sets the timers on the first input.
func (c *Core) start(now time.Duration) {
	if c.started {
		return
	}
	c.started = true
	c.nextProbe = now + time.Duration(c.rng.Int64N(int64(c.cfg.ProbeInterval)))
	if c.cfg.DialInterval > 0 {
		c.nextDial = now + time.Duration(c.rng.Int64N(int64(c.cfg.DialInterval)))
	}
	c.nextGossip = now + c.cfg.GossipInterval
	c.nextReap = now + c.cfg.ProbeInterval
	if c.cfg.PushPullInterval > 0 {
		c.nextPushPull = now + time.Duration(c.rng.Int64N(int64(c.pushPullInterval())))
	}
}

// Tick runs every timer that is due.
func (c *Core) Tick(now time.Duration) {
	c.start(now)
	if c.armed > 0 {
		// Deadline-driven: late by more than a TickInterval past the
		// deadline we were woken for means a stall. Timers move by the
		// lateness plus a TickInterval, so that what arrived meanwhile
		// (an ack, a refutation) is read before they fire.
		if late := now - c.armed; late > c.cfg.TickInterval {
			c.stalled(late + c.cfg.TickInterval)
		}
		c.armed = 0
	} else if c.lastTick > 0 && now-c.lastTick > 2*c.cfg.TickInterval {
		c.stalled(now - c.lastTick - c.cfg.TickInterval)
	}
	c.lastTick = now
	if !c.left {
		c.tickProbe(now)
		c.tickRelays(now)
		c.tickSuspicions(now)
		c.tickPushPull(now)
		c.tickJoin(now)
	}
	c.tickGossip(now)
	c.tickFuse(now)
	if now >= c.nextReap {
		c.nextReap = now + c.cfg.ProbeInterval
		c.reap(now)
	}
}

// send queues an envelope with piggybacked updates within budget bytes.
func (c *Core) send(to membership.NodeID, env *pb.Envelope, budget int) {
	if budget > 0 {
		ms, ts := c.bq.take(budget, c.retransmitLimit())
		env.Updates, env.Triggers = append(env.Updates, ms...), ts
		c.stats.Updates += uint64(len(ms))
	}
	c.stats.Sent++
	c.Send(to, env)
}

// Self is this node.
func (c *Core) Self() membership.Node { return c.self.Clone() }

// Left reports whether this node has left (Leave): it probes no one and
// refuses Join from then on.
func (c *Core) Left() bool { return c.left }

// Joining reports whether a Join is still waiting for its full-state
// reply.
func (c *Core) Joining() bool { return c.join != nil }

// Incarnation is this node's current incarnation number.
func (c *Core) Incarnation() uint64 { return c.inc }

// LocalHealth is Lifeguard's local health multiplier (0 is healthy).
func (c *Core) LocalHealth() int { return c.lhm }

// Stats returns the counters.
func (c *Core) Stats() Stats {
	s := c.stats
	s.OversizedUpdates = c.bq.oversized
	return s
}

// MemberInfo is a snapshot of one member.
type MemberInfo struct {
	Node        membership.Node
	State       membership.MemberState
	Incarnation uint64
	Meta        map[string]string
}

// Members lists every known member, this node included, sorted by ID.
func (c *Core) Members() []MemberInfo {
	out := make([]MemberInfo, 0, len(c.ids)+1)
	for _, id := range c.ids {
		out = append(out, c.info(c.members[id]))
	}
	out = append(out, c.selfInfo())
	sort.Slice(out, func(i, j int) bool { return out[i].Node.ID < out[j].Node.ID })
	return out
}

// Member returns one member's snapshot; ok is false if unknown.
func (c *Core) Member(id membership.NodeID) (MemberInfo, bool) {
	if id == c.self.ID {
		return c.selfInfo(), true
	}
	m, ok := c.members[id]
	if !ok {
		return MemberInfo{}, false
	}
	return c.info(m), true
}

func (c *Core) info(m *member) MemberInfo {
	return MemberInfo{Node: m.node.Clone(), State: m.state, Incarnation: m.inc, Meta: copyMeta(m.meta)}
}

func (c *Core) selfInfo() MemberInfo {
	st := membership.StateAlive
	if c.left {
		st = membership.StateLeft
	}
	return MemberInfo{Node: c.self.Clone(), State: st, Incarnation: c.inc, Meta: copyMeta(c.meta)}
}

// NumAlive counts members alive or suspect, this node included.
func (c *Core) NumAlive() int { return c.live + 1 }

// stalled pushes back every running timer by gap: Tick came that much
// late, so this process was paused (SIGSTOP, a long GC, a suspended VM)
// and observed nothing meanwhile. Without this, the first tick after a
// pause would fail probes whose acks wait unread in the socket and
// declare dead the members whose refutations wait there too.
func (c *Core) stalled(gap time.Duration) {
	c.stats.Stalls++
	if p := c.probe; p != nil {
		p.ackBy += gap
		p.end += gap
	}
	for _, k := range c.checks {
		k.ackBy += gap
		k.end += gap
	}
	for i := range c.relays {
		c.relays[i].deadline += gap
	}
	for _, id := range c.suspects {
		if m := c.members[id]; m != nil && m.susp != nil {
			m.susp.start += gap
			m.susp.deadline += gap
		}
	}
}
