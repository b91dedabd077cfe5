package antientropy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
)

// Protocol is the anti-entropy wire protocol.
const Protocol membership.ProtocolID = "/hearsay/antientropy/1.0.0"

// Core is one node's anti-entropy state machine. See the package
// documentation for the protocol and what the driver does with outputs.
type Core struct {
	membership.Outbox
	cfg   Config
	self  NodeID
	store Store
	rng   *rand.Rand

	clock *Clock
	snap  *Clock // immutable copy of clock, nil when stale
	log   dotLog
	tree  *tree

	members []NodeID         // live members, sorted, without self
	links   membership.IDSet // open links (links.go)
	// periodic counts the periodic sessions picked (RandomSyncEvery).
	periodic uint64
	peers    map[NodeID]*peerInfo
	intern   map[[16]byte]*Clock // acked clocks by hash, shared among peers
	out      map[NodeID]*outSession
	in       map[inKey]*inSession
	inOrder  []inKey // oldest first

	nextID    uint64
	nextSync  time.Duration
	nextPrune time.Duration
	// quiet counts the in-sync sessions in a row since this node's clock
	// last changed (quietAt: its hash then); it stretches the wait
	// between sessions (Config.IdleSyncMax).
	quiet   int
	quietAt [16]byte
	ticked  bool
	stats   Stats
}

// peerInfo is what the node knows about a member's clock.
type peerInfo struct {
	acked     *Clock   // a clock the peer is known to hold (immutable)
	confirmed [16]byte // hash of my clock the peer is known to have stored
}

// New builds a core for node self over store; rng is the node's own
// seeded source. The Merkle tree is filled from store.Range.
func New(cfg Config, self NodeID, store Store, rng *rand.Rand) (*Core, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !self.Valid() || store == nil || rng == nil {
		return nil, fmt.Errorf("antientropy: New needs a node ID, a store and a rand source")
	}
	c := &Core{
		cfg: cfg, self: self, store: store, rng: rng,
		clock:  NewClock(),
		tree:   newTree(cfg.MerkleFanout, cfg.MerkleDepth),
		peers:  map[NodeID]*peerInfo{},
		intern: map[[16]byte]*Clock{},
		out:    map[NodeID]*outSession{},
		in:     map[inKey]*inSession{},
	}
	store.Range(func(k string, d [16]byte) bool {
		c.tree.update(k, d)
		return true
	})
	return c, nil
}

// Protocol implements membership.Core.
func (c *Core) Protocol() membership.ProtocolID { return Protocol }

// NewMessage implements membership.Core.
func (c *Core) NewMessage() proto.Message { return &pb.Envelope{} }

// TickInterval implements membership.Core.
func (c *Core) TickInterval() time.Duration { return c.cfg.TickInterval }

// Clock returns a copy of the node clock (to persist it, or to inspect).
func (c *Core) Clock() *Clock { return c.snapshot().Clone() }

// ClockHash is the node clock's hash.
func (c *Core) ClockHash() [16]byte { return c.clock.Hash() }

// Root is the Merkle tree's root hash: equal stores have equal roots.
func (c *Core) Root() uint64 { return c.tree.root() }

// Restore joins a persisted clock (from Clock().Encode()) into the node
// clock after a restart, so the node does not ask its peers again for
// what its store already holds. Peers lacking those dots are repaired
// through the Merkle walk (the log starts empty).
func (c *Core) Restore(now time.Duration, k *Clock) {
	if c.clock.Join(k) {
		c.snap = nil
	}
}

// NextDot is the dot the node's next local write should use.
func (c *Core) NextDot() Dot { return Dot{c.self, c.clock.Max(c.self) + 1} }

func (c *Core) snapshot() *Clock {
	if c.snap == nil {
		c.snap = c.clock.Clone()
	}
	return c.snap
}

func (c *Core) addDot(d Dot, key string) error {
	changed, err := c.clock.Add(d)
	if err != nil {
		return err
	}
	if changed {
		c.snap = nil
		c.log.add(d, key, 4*c.cfg.MaxLogEntries+64)
	}
	return nil
}

// Wrote tells the core that a local write, durable in the store, changed
// key with the node's fresh dot d (d.Node must be the node itself).
func (c *Core) Wrote(now time.Duration, key string, d Dot) error {
	if d.Node != c.self {
		return fmt.Errorf("antientropy: Wrote with dot of %q, not of self %q", d.Node, c.self)
	}
	return c.Applied(now, key, []Dot{d})
}

// Applied tells the core that a delta received by broadcast, durable in
// the store, changed key and carried dots.
func (c *Core) Applied(now time.Duration, key string, dots []Dot) error {
	if key == "" || len(key) > c.cfg.MaxKeyBytes {
		return fmt.Errorf("antientropy: key of %d bytes; want 1..%d", len(key), c.cfg.MaxKeyBytes)
	}
	c.tree.update(key, c.store.Digest(key))
	for _, d := range dots {
		if err := c.addDot(d, key); err != nil {
			return err
		}
	}
	c.enforceLog()
	return nil
}

func (c *Core) enforceLog() {
	if c.log.entries > c.cfg.MaxLogEntries {
		c.stats.Evicted += uint64(c.log.entries - c.cfg.MaxLogEntries)
		c.log.evict(c.cfg.MaxLogEntries)
	}
}

// SetMembers replaces the set of live members (from SWIM, or a static
// list). Only members are picked for periodic sessions, and a dot leaves
// the log once every member is known to hold it. The node itself may be
// in the list; it is ignored.
func (c *Core) SetMembers(now time.Duration, ids []NodeID) {
	ms := make([]NodeID, 0, len(ids))
	for _, id := range ids {
		if id.Valid() && id != c.self {
			ms = append(ms, id)
		}
	}
	slices.Sort(ms)
	c.members = slices.Compact(ms)
	for _, id := range sortedKeys(c.peers) {
		if _, ok := slices.BinarySearch(c.members, id); !ok {
			delete(c.peers, id)
		}
	}
}

// SetMember applies one membership change: a live member (alive or
// suspect) is added, any other removed, as SetMembers with the whole list
// would. It costs O(members) moves and no allocation per change, where
// rebuilding the list per event cost O(members) copies of every record
// (12% of an agent's CPU while 200 members formed, docs/swim-bench.md).
func (c *Core) SetMember(id NodeID, live bool) {
	if !id.Valid() || id == c.self {
		return
	}
	i, ok := slices.BinarySearch(c.members, id)
	switch {
	case live && !ok:
		c.members = slices.Insert(c.members, i, id)
	case !live && ok:
		c.members = slices.Delete(c.members, i, i+1)
		delete(c.peers, id)
	}
}

// NeighborUp starts a session with node at once (a link came up, for
// example after a partition healed), unless one is already running.
func (c *Core) NeighborUp(now time.Duration, node NodeID) {
	if node.Valid() && node != c.self {
		c.startSession(now, node)
	}
}

// SyncWith starts a session with node now (tests, experiments, and the
// agent's "repair now" command).
func (c *Core) SyncWith(now time.Duration, node NodeID) { c.NeighborUp(now, node) }

// Tick implements membership.Core: it starts the periodic session,
// expires stalled sessions and prunes the log.
func (c *Core) Tick(now time.Duration) {
	if !c.ticked {
		c.ticked = true
		c.nextSync = now + c.jitter()
		c.nextPrune = now + c.cfg.PruneInterval
	}
	c.expire(now)
	if c.quiet > 0 && c.clock.Hash() != c.quietAt {
		// New dots: back to the fast cadence.
		c.quiet = 0
		c.nextSync = min(c.nextSync, now+c.jitter())
	}
	if now >= c.nextSync {
		c.nextSync = now + c.jitter()
		if len(c.out) < c.cfg.MaxSessions {
			if p := c.pickPartner(); p != "" {
				c.startSession(now, p)
			}
		}
	}
	if now >= c.nextPrune {
		c.nextPrune = now + c.cfg.PruneInterval
		c.prune()
		c.reintern()
	}
}

// syncInterval is the mean wait before the next session: SyncInterval,
// doubled per in-sync session in a row, at most IdleSyncMax.
func (c *Core) syncInterval() time.Duration {
	iv := c.cfg.SyncInterval
	for i := 0; i < c.quiet && iv < c.cfg.IdleSyncMax; i++ {
		iv *= 2
	}
	return min(iv, c.cfg.IdleSyncMax)
}

func (c *Core) jitter() time.Duration {
	iv := c.syncInterval()
	return iv - iv/10 + time.Duration(c.rng.Int64N(int64(iv/5)+1))
}

// PeerDown implements membership.Core: sessions with peer are dropped.
func (c *Core) PeerDown(now time.Duration, peer NodeID) {
	if s, ok := c.out[peer]; ok {
		c.stats.Abandoned++
		delete(c.out, s.peer)
	}
	for _, k := range slices.Clone(c.inOrder) {
		if k.peer == peer {
			c.dropIn(k)
		}
	}
}

func (c *Core) expire(now time.Duration) {
	for _, p := range sortedKeys(c.out) {
		if s := c.out[p]; now-s.last > c.cfg.SessionTimeout {
			c.stats.Abandoned++
			delete(c.out, p)
		}
	}
	for len(c.inOrder) > 0 {
		k := c.inOrder[0]
		if s := c.in[k]; s != nil && now-s.last <= c.cfg.SessionTimeout {
			break
		}
		c.dropIn(k)
	}
}

// prune drops the log entries every live member is known to hold.
func (c *Core) prune() {
	if c.log.entries == 0 {
		return
	}
	var acked []*Clock
	seen := map[*Clock]bool{}
	for _, m := range c.members {
		p := c.peers[m]
		if p == nil || p.acked == nil {
			return // a member we know nothing of: nothing is stable
		}
		if !seen[p.acked] {
			seen[p.acked] = true
			acked = append(acked, p.acked)
		}
	}
	before := c.log.entries
	c.log.prune(func(o NodeID) uint64 {
		s := c.clock.Base(o)
		for _, a := range acked {
			s = min(s, a.Base(o))
		}
		return s
	})
	c.stats.Pruned += uint64(before - c.log.entries)
}

// reintern forgets shared clocks no peer refers to any more. The order
// of the map walk does not matter: only membership is rebuilt.
func (c *Core) reintern() {
	clear(c.intern)
	for _, p := range c.peers {
		if p.acked != nil {
			c.intern[p.acked.Hash()] = p.acked
		}
	}
}

// ack records that peer is known to hold clock k (immutable).
func (c *Core) ack(peer NodeID, k *Clock) {
	p := c.peers[peer]
	if p == nil {
		if _, ok := slices.BinarySearch(c.members, peer); !ok {
			return
		}
		p = &peerInfo{}
		c.peers[peer] = p
	}
	if p.acked != nil && k.CountMissing(p.acked) == 0 {
		return
	}
	if p.acked != nil && p.acked.CountMissing(k) != 0 {
		k = k.Clone()
		k.Join(p.acked)
	}
	// Share one copy among the peers that hold the same clock: in a
	// large cluster most of them do, and a clock per peer would cost
	// members x origins.
	if same, ok := c.intern[k.Hash()]; ok {
		k = same
	} else {
		c.intern[k.Hash()] = k
	}
	p.acked = k
}

// LogEntries is the number of dot-key log entries held.
func (c *Core) LogEntries() int { return c.log.entries }

// Keys is the number of keys in the Merkle tree (present in the store).
func (c *Core) Keys() int { return c.tree.keys }

// Stats returns the core's counters and the dot-key log's size.
func (c *Core) Stats() Stats {
	s := c.stats
	s.LogEntries = c.log.entries
	return s
}

// Stats are counters since the core was built.
type Stats struct {
	SessionsStarted uint64 // as initiator
	InSync          uint64 // sessions that found equal clocks
	DeltaSessions   uint64 // answered by the dot-key log
	TreeSessions    uint64 // answered by the Merkle walk
	LossyWalks      uint64 // Merkle walks that could not carry everything: the clock kept out the peer's dots
	NeedClock       uint64 // hash-only syncs the responder could not resolve
	Abandoned       uint64 // initiated sessions dropped (timeout, peer down)
	ObjectsPulled   uint64 // objects merged from responses
	ObjectsPushed   uint64 // objects merged from pushes
	Pruned          uint64 // log entries pruned
	Evicted         uint64 // log entries evicted over capacity
	Rejected        uint64 // messages refused by Step
	LogEntries      int    // dot-key log entries held now (0 at rest, once every member has acked)
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
