package plumtree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
	"google.golang.org/protobuf/proto"
)

// Protocol is plumtree's wire protocol ID.
const Protocol membership.ProtocolID = "/hearsay/plumtree/1.0.0"

// Core is one node's plumtree state machine. It implements
// membership.Core; see the package documentation for the driver's duties.
type Core struct {
	membership.Outbox

	self membership.NodeID
	cfg  Config
	rng  *rand.Rand

	seq     uint64
	peers   []membership.NodeID // sorted active neighbours
	trees   trees
	cache   cache
	missing map[MessageID]*missing
	lazyQ   map[membership.NodeID][]*pb.Announcement
	rtts    map[membership.NodeID]*rtt
	// catchUps are the neighbours still to be told of the messages
	// delivered just before they came up (Config.CatchUpSpan), in the
	// order they came up.
	catchUps []catchUp
	// lag estimates how late the tree delivers a payload after the first
	// IHAVE for it (see treeLag); it is measured from normal traffic.
	lag      rtt
	lastTick time.Duration
	ticked   bool
	// lastSwap is when the tree optimisation last swapped a parent
	// (swapped: it ever did), for Config.OptimizationInterval.
	lastSwap time.Duration
	swapped  bool
	stats    Stats
}

var _ membership.Core = (*Core)(nil)

// New builds a core for node self. rng is the node's own seeded source
// (timer jitter); cfg must pass Validate.
func New(self membership.NodeID, cfg Config, rng *rand.Rand) (*Core, error) {
	if !self.Valid() {
		return nil, fmt.Errorf("plumtree: invalid self ID")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("plumtree: nil rng")
	}
	return &Core{
		self:    self,
		cfg:     cfg,
		rng:     rng,
		trees:   newTrees(cfg.PerOriginTrees, cfg.MaxOriginTrees),
		cache:   newCache(cfg.CacheSize, cfg.MaxFloors, cfg.CacheTTL),
		missing: map[MessageID]*missing{},
		lazyQ:   map[membership.NodeID][]*pb.Announcement{},
		rtts:    map[membership.NodeID]*rtt{},
	}, nil
}

// Protocol implements membership.Core.
func (c *Core) Protocol() membership.ProtocolID { return Protocol }

// NewMessage implements membership.Core.
func (c *Core) NewMessage() proto.Message { return &pb.Envelope{} }

// TickInterval implements membership.Core.
func (c *Core) TickInterval() time.Duration { return c.cfg.TickInterval }

// Self is this node's ID.
func (c *Core) Self() membership.NodeID { return c.self }

// Stats returns a copy of the counters.
func (c *Core) Stats() Stats {
	s := c.stats
	s.TreesEvicted = c.trees.evicted
	s.FloorsEvicted = c.cache.floorsEvicted
	return s
}

// Neighbors lists the current neighbours, sorted.
func (c *Core) Neighbors() []membership.NodeID { return slices.Clone(c.peers) }

// EagerPeers lists the neighbours messages from origin are pushed to
// eagerly (with the shared tree, origin is ignored), sorted.
func (c *Core) EagerPeers(origin membership.NodeID) []membership.NodeID {
	s := c.trees.peekOrShared(origin)
	var out []membership.NodeID
	for _, p := range c.peers {
		if !s.isLazy(p) {
			out = append(out, p)
		}
	}
	return out
}

// LazyPeers lists the neighbours that only get IHAVEs for origin, sorted.
func (c *Core) LazyPeers(origin membership.NodeID) []membership.NodeID {
	s := c.trees.peekOrShared(origin)
	var out []membership.NodeID
	for _, p := range c.peers {
		if s.isLazy(p) {
			out = append(out, p)
		}
	}
	return out
}

func (c *Core) isNeighbor(p membership.NodeID) bool {
	_, ok := slices.BinarySearch(c.peers, p)
	return ok
}

// Tick implements membership.Core: it sends the batched IHAVEs, fires the
// missing-message timers and expires old cache entries. A Tick long after
// the previous one (Config.StallFactor) first pushes the timers back by
// the stall: see stall.
func (c *Core) Tick(now time.Duration) {
	if c.ticked {
		c.stall(now - c.lastTick)
		c.lag.decay(now-c.lastTick, c.cfg.TreeLagHalfLife)
	}
	c.lastTick, c.ticked = now, true
	c.catchUp(now)
	c.flushLazy()
	c.fireTimers(now)
	c.stats.CacheEvicted += uint64(c.cache.expire(now))
}

// stall handles a gap of d between two Ticks. When d exceeds
// StallFactor x TickInterval the node itself was not running for most of
// it: messages that arrived meanwhile may still wait in the driver's queue
// (the agent's select does not order a late tick after them), so a timer
// that expired during the gap is not evidence that the tree failed. Every
// missing-message deadline moves back by the part of the gap beyond one
// interval. (In the simulator ticks are exact and this never happens.)
func (c *Core) stall(d time.Duration) {
	if float64(d) <= c.cfg.StallFactor*float64(c.cfg.TickInterval) || len(c.missing) == 0 {
		return // nothing waits on a timer (an idle core may be ticked seldom on purpose)
	}
	c.stats.Stalls++
	extra := d - c.cfg.TickInterval
	for _, m := range c.missing { // each entry independently: order does not matter
		m.deadline += extra
	}
}

// Busy reports whether the next Tick has work to do: IHAVEs queued or
// missing-message timers running, or a new neighbour's catch-up
// (Config.CatchUpSpan) pending. A driver may tick an idle core much less
// often than TickInterval (the received-message cache still expires on
// Tick, so at least every second or so) and must tick it again on its
// TickInterval cadence once it is busy, calling Resume first.
func (c *Core) Busy() bool { return len(c.missing) > 0 || len(c.lazyQ) > 0 || len(c.catchUps) > 0 }

// Resume tells a core whose Ticks the driver skipped while it was idle
// that it is busy again at now: the gap since the last Tick was chosen, not
// a stall, so the next Tick must not push its new timers back.
func (c *Core) Resume(now time.Duration) {
	if c.ticked && now > c.lastTick {
		c.lag.decay(now-c.lastTick, c.cfg.TreeLagHalfLife)
		c.lastTick = now
	}
}
