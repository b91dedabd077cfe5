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
	stats   Stats
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
		cache:   newCache(cfg.CacheSize, cfg.CacheTTL),
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
// missing-message timers and expires old cache entries.
func (c *Core) Tick(now time.Duration) {
	c.flushLazy()
	c.fireTimers(now)
	c.stats.CacheEvicted += uint64(c.cache.expire(now))
}
