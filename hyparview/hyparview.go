package hyparview

import (
	"fmt"
	"math/rand/v2"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
)

// Protocol is the wire protocol the core speaks.
const Protocol membership.ProtocolID = "/hearsay/hyparview/1.0.0"

// HyParView is one node's membership core. It is not safe for concurrent
// use: one goroutine (the agent's node loop, or the simulator) owns it.
type HyParView struct {
	membership.Outbox

	cfg     Config
	self    membership.Node
	selfRec *pb.Node
	rng     *rand.Rand

	active  view
	passive view
	reserve reserveList  // nodes dropped from the passive view, oldest first
	pending []pendingReq // NEIGHBOR requests awaiting a reply
	// askedList holds every NEIGHBOR sent and not answered yet, oldest
	// first, to match replies to them (see askedNeighbor).
	askedList []askedNeighbor
	failed    []failedNode // recently failed nodes, oldest first
	// contacts are the addresses Join was given, kept to rejoin.
	contacts    []entry
	nextContact int

	joining     bool          // no neighbour yet since the last Join/isolation
	joinAt      time.Duration // next JOIN retry
	joinBackoff time.Duration

	// Low-priority repair backs off while every node asked refuses (all
	// active views full: a free slot here may stay free for long). See
	// refused.
	refusals    int           // refusals in a row
	repairPause time.Duration // no low-priority request before this
	repairWait  time.Duration // the next pause (doubles)
	// seekers are the last nodes we refused for lack of room, newest
	// last: a refusal names one of them to the next requester (seekers.go).
	seekers []seeker

	started     bool // the shuffle timer is set
	nextShuffle time.Duration
	lastSent    []*pb.Node        // records carried by our last shuffle (shared, read-only)
	nonces      []nonce           // shuffles and probes awaiting a reply, oldest first
	shuffleTo   membership.NodeID // first hop of our last shuffle, sent at shuffleAt
	shuffleAt   time.Duration
	left        bool
	// healDrawnAt is when an answered probe last drew for a heal link
	// (valid if healDrawn).
	healDrawn   bool
	healDrawnAt time.Duration

	stats Stats
}

// pendingReq is a NEIGHBOR request in flight.
type pendingReq struct {
	e        entry
	deadline time.Duration
	high     bool
}

var _ membership.Core = (*HyParView)(nil)

// New builds the core of node self. rng is the node's own seeded source.
func New(self membership.Node, cfg Config, rng *rand.Rand) (*HyParView, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !self.ID.Valid() {
		return nil, fmt.Errorf("hyparview: self has an empty ID")
	}
	if rng == nil {
		return nil, fmt.Errorf("hyparview: nil rng")
	}
	self = self.Clone()
	return &HyParView{
		cfg:     cfg,
		self:    self,
		selfRec: record(self),
		rng:     rng,
		active:  newView(cfg.ActiveSize),
		passive: newView(cfg.PassiveSize),
		reserve: reserveList{max: cfg.ReserveSize},
	}, nil
}

// Protocol is the wire protocol ID.
func (h *HyParView) Protocol() membership.ProtocolID { return Protocol }

// NewMessage returns an empty envelope to decode a frame into.
func (h *HyParView) NewMessage() proto.Message { return &pb.Envelope{} }

// TickInterval is how often the driver must call Tick.
func (h *HyParView) TickInterval() time.Duration { return h.cfg.TickInterval }

// Config returns the configuration in use.
func (h *HyParView) Config() Config { return h.cfg }

// Self is this node's record.
func (h *HyParView) Self() membership.Node { return h.self.Clone() }

// Active returns a copy of the active view (the open links).
func (h *HyParView) Active() []membership.Node { return h.active.nodes() }

// Passive returns a copy of the passive view (the backups).
func (h *HyParView) Passive() []membership.Node { return h.passive.nodes() }

// ActiveLen is the number of active neighbours (no copy).
func (h *HyParView) ActiveLen() int { return h.active.len() }

// ActiveID returns the ID of active neighbour i, 0 <= i < ActiveLen(),
// without copying the view: for drivers that walk the graph.
func (h *HyParView) ActiveID(i int) membership.NodeID { return h.active.e[i].node.ID }

// IsActive reports whether id is an active neighbour.
func (h *HyParView) IsActive(id membership.NodeID) bool { return h.active.has(id) }

// Lookup finds what the node knows about id (its addresses, to dial it):
// in the active view, pending requests, the passive view, the failed-node
// memory and the contacts, in that order.
func (h *HyParView) Lookup(id membership.NodeID) (membership.Node, bool) {
	if i := h.active.index(id); i >= 0 {
		return h.active.e[i].node.Clone(), true
	}
	for _, p := range h.pending {
		if p.e.node.ID == id {
			return p.e.node.Clone(), true
		}
	}
	if i := h.passive.index(id); i >= 0 {
		return h.passive.e[i].node.Clone(), true
	}
	for _, f := range h.failed {
		if f.e.node.ID == id {
			return f.e.node.Clone(), true
		}
	}
	for _, c := range h.contacts {
		if c.node.ID == id {
			return c.node.Clone(), true
		}
	}
	return membership.Node{}, false
}

// Stats returns the counters since the start.
func (h *HyParView) Stats() Stats { return h.stats }

// Step feeds a message from peer from. A malformed message returns an error
// and changes nothing.
func (h *HyParView) Step(now time.Duration, from membership.NodeID, msg proto.Message) error {
	env, ok := msg.(*pb.Envelope)
	if !ok || env == nil {
		h.stats.Malformed++
		return fmt.Errorf("%w: %T", ErrUnknownMessage, msg)
	}
	if !from.Valid() || from == h.self.ID {
		h.stats.Malformed++
		return fmt.Errorf("%w: sender %q", ErrBadNode, string(from))
	}
	if len(from) > h.cfg.MaxIDBytes {
		h.stats.Malformed++
		return fmt.Errorf("%w: sender id of %d bytes", ErrBadNode, len(from))
	}
	if err := h.validate(from, env); err != nil {
		h.stats.Malformed++
		return err
	}
	if h.left {
		return nil
	}
	h.start(now)
	h.stats.Received++
	switch k := env.Kind.(type) {
	case *pb.Envelope_Join:
		h.onJoin(now, from, k.Join)
	case *pb.Envelope_ForwardJoin:
		h.onForwardJoin(now, from, k.ForwardJoin)
	case *pb.Envelope_Neighbor:
		h.onNeighbor(now, from, k.Neighbor)
	case *pb.Envelope_NeighborReply:
		h.onNeighborReply(now, from, k.NeighborReply)
	case *pb.Envelope_Disconnect:
		h.onDisconnect(now, from)
	case *pb.Envelope_Shuffle:
		h.onShuffle(now, from, k.Shuffle)
	case *pb.Envelope_ShuffleReply:
		h.onShuffleReply(now, from, k.ShuffleReply)
	}
	return nil
}

// Tick runs the timers: request timeouts, JOIN retries, the shuffle cycle
// and its probe of one failed node (every tick while the node has no
// neighbour and no request in flight).
func (h *HyParView) Tick(now time.Duration) {
	if h.left {
		return
	}
	h.start(now)
	h.expirePending(now)
	h.expireAsked(now)
	h.expireFailed(now)
	if now >= h.nextShuffle {
		h.nextShuffle = now + h.jitter(h.cfg.ShuffleInterval)
		h.shuffle(now)
		h.probeFailed(now)
	} else if h.active.empty() && len(h.pending) == 0 {
		// Isolated with nothing to ask: probe every tick, so a node cut
		// off by a partition rejoins within a tick of the heal.
		h.probeFailed(now)
	}
	h.repair(now)
}

// start arms the shuffle timer on the first input.
func (h *HyParView) start(now time.Duration) {
	if h.started {
		return
	}
	h.started = true
	h.nextShuffle = now + h.jitter(h.cfg.ShuffleInterval)
}

// jitter draws a duration uniformly in [0.75d, 1.25d].
func (h *HyParView) jitter(d time.Duration) time.Duration {
	q := int64(d) / 4
	if q <= 0 {
		return d
	}
	return d - time.Duration(q) + time.Duration(h.rng.Int64N(2*q+1))
}

func (h *HyParView) send(to membership.NodeID, env *pb.Envelope) {
	h.stats.Sent++
	h.Send(to, env)
}
