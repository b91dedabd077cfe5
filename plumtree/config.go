package plumtree

import (
	"fmt"
	"time"
)

// Config tunes a plumtree core. Every queue and table has a limit; what a
// limit drops is counted in Stats.
type Config struct {
	// TickInterval is how often the driver calls Tick: the IHAVE batching
	// period and the resolution of the missing-message timers.
	TickInterval time.Duration

	// GraftTimeoutMin and GraftTimeoutMax bound every missing-message
	// timer (time.Duration). The timer follows the measured round-trip
	// time to the peer that announced the message (see IHaveWaitRTTs).
	GraftTimeoutMin time.Duration
	GraftTimeoutMax time.Duration
	// InitialRTT is the round-trip time assumed for a peer before any has
	// been measured (time.Duration).
	InitialRTT time.Duration
	// IHaveWaitRTTs is how many retransmission timeouts (smoothed RTT plus
	// four deviations) a node waits after the first IHAVE for a message
	// before it sends GRAFT: the tree gets that long to deliver. Later
	// timers (a GRAFT that went unanswered) wait one timeout after the
	// first GRAFT, doubling after each further one. Unitless, >= 1.
	IHaveWaitRTTs float64
	// MaxTreeLag caps the node's estimate of how late the tree delivers a
	// payload after an IHAVE for it (time.Duration; see Stats.LagSamples):
	// the first missing-message timer waits at least the estimate (mean
	// plus four deviations), at most this. It keeps a node whose own
	// samples are pathological (a long stall) from waiting out a cycle.
	MaxTreeLag time.Duration
	// TreeLagHalfLife is how fast the tree-lag estimate forgets
	// (time.Duration): it is scaled by one half per TreeLagHalfLife of
	// Ticks. Samples are rare (only a payload that comes after its IHAVE
	// gives one), so without forgetting, one bad second (a GC pause, the
	// setup's dial storm) kept the first timer at MaxTreeLag for minutes:
	// measured on 50 real hosts, every GRAFT-path delivery waited 2 s.
	TreeLagHalfLife time.Duration
	// StallFactor: a Tick that comes more than StallFactor x TickInterval
	// after the previous one means this node was not running (descheduled,
	// paused, a busy loop); the missing-message timers are pushed back by
	// the stall, so that payloads which arrived meanwhile and wait in the
	// driver's queue are processed before a GRAFT asks for them again
	// (counted in Stats.Stalls). Unitless, >= 1.
	StallFactor float64
	// MaxGraftAttempts is how many GRAFTs a node sends for one missing
	// message, cycling through the peers that announced it, before it gives
	// up (counted in Stats.MissingGaveUp).
	MaxGraftAttempts int

	// OptimizationThreshold is the tree optimisation's threshold in hops:
	// when a lazy peer announces a message it received at least this many
	// hops fewer than the path that delivered it, the node grafts that
	// peer and prunes the old parent. 0 disables the optimisation.
	OptimizationThreshold int

	// LazyNewLinks makes a neighbour that comes up start lazy in every tree
	// that has carried traffic, rather than eager as in the paper: a
	// replacement link then costs an IHAVE instead of a duplicate payload
	// and a PRUNE, and is grafted only if a message actually goes missing.
	// That includes a tree whose parent went down (the node grafts what a
	// new neighbour announces at the next tick). Before any traffic, and at
	// a root left without another eager link, links start eager, so the
	// first broadcast still builds the paper's tree.
	LazyNewLinks bool

	// AnnounceRecent: a neighbour that comes up is sent IHAVEs for the
	// messages delivered in this last span (time.Duration; at most
	// MaxIHaveBatch of them; 0 disables), so a node cut off while they
	// went by (joining, or its links being replaced) can graft them.
	// Off by default: on 50 real hosts at 200 messages/s it removed the
	// start-up losses but, with links changing under load, the extra
	// IHAVEs raced the slow tree and doubled the deliveries by GRAFT (p99
	// 380 and 1,090 ms against 149-258 ms without; docs/plumtree.md).
	AnnounceRecent time.Duration

	// CatchUpSpan: the messages a node delivered in this span before a
	// neighbour came up are announced to that neighbour MaxTreeLag later
	// (at most MaxIHaveBatch, newest; 0 disables). The two ends of a new
	// overlay link learn of it at different moments, and while only one
	// end lists it the other end pushes and announces nothing into it; if
	// that link is the only one between two parts of the overlay, a
	// message that goes by in the late end's part meanwhile would never
	// reach the other part. The wait lets the copies still on their way by
	// the tree arrive first, so the neighbour grafts only what it really
	// lacks. Default 1 s: on 50 hosts on one machine the two ends' views
	// differed by at most 0.44 s at start-up (p99 0.37 s).
	CatchUpSpan time.Duration

	// OptimizationConfirm is the optimisation's hysteresis: how many
	// consecutive messages a lazy peer must announce with a path shorter
	// by the threshold before the node swaps it in as parent; one
	// announcement without that advantage resets the count (1 is the
	// paper: at once). With a shared tree and many senders, a peer closer
	// to one origin is often farther from another; swapping at once makes
	// the tree oscillate, and every swap costs a GRAFT, a PRUNE and often a
	// duplicate. Count, >= 1.
	OptimizationConfirm int
	// OptimizationInterval is the least time between two parent swaps at
	// one node (time.Duration; 0: no limit, the paper). With a shared
	// tree and random senders the swaps oscillate (a peer closer to one
	// sender is farther from the next); each swap cuts paths for other
	// senders until GRAFTs repair them. On 50 real hosts, runs with 600+
	// swaps per 200 messages had 1-3% of deliveries by GRAFT (p99 of
	// hundreds of ms) against 0.04% in runs with fewer swaps.
	OptimizationInterval time.Duration

	// PerOriginTrees keeps a separate eager/lazy split per origin (each
	// forked from the shared template when the origin is first seen; the
	// template learns from origins' first messages only), so a sender that
	// keeps sending gets a tree of its own and one sender's PRUNEs do not
	// cut another's paths. False keeps the paper's single shared tree. On
	// by default: on 50 real hosts at 200 messages/s the shared tree's
	// PRUNE/GRAFT churn put 1.4-3.7% of deliveries on the GRAFT path (p99
	// 0.6-2 s); per-origin trees 0.01-0.02% (p99 25-34 ms). With a new
	// sender per message (the simulator's scenario (b)) both give RMR
	// about 0 and the shared tree a 2-10% shorter LDH (docs/plumtree.md).
	PerOriginTrees bool
	// MaxOriginTrees bounds the per-origin splits kept (least recently used
	// evicted first; counted in Stats.TreesEvicted). Count.
	MaxOriginTrees int

	// MaxPayload is the largest payload accepted, in bytes, from Broadcast
	// or on the wire.
	MaxPayload int
	// MaxHops is the largest hop count accepted on the wire.
	MaxHops int
	// MaxIHaveBatch is the most announcements in one IHAVE, sent or
	// accepted. Count.
	MaxIHaveBatch int
	// MaxLazyQueue is the most announcements waiting for one peer's next
	// IHAVE; beyond it new ones are dropped (Stats.LazyDropped). Count.
	MaxLazyQueue int
	// MaxGraftBatch is the most message IDs (and, separately, origins) in
	// one GRAFT or PRUNE, sent or accepted. Count.
	MaxGraftBatch int
	// MaxMissing is the most announced-but-not-received messages tracked;
	// beyond it announcements are dropped (Stats.MissingDropped). Count.
	MaxMissing int

	// CacheSize is the most received messages kept (payload included) to
	// answer GRAFTs and recognise duplicates. Count.
	CacheSize int
	// MaxFloors bounds the per-origin floors: the highest forgotten
	// sequence number kept per origin after its cache entries are evicted.
	// Beyond it the origin whose floor was raised longest ago loses its
	// floor (Stats.FloorsEvicted); a copy of one of its old messages that
	// arrives after that could be delivered again. Count.
	MaxFloors int
	// CacheTTL is how long a received message is kept (time.Duration).
	// A message older than every kept one from the same origin is treated
	// as already delivered, so a message is never delivered twice even
	// after its entry is evicted.
	CacheTTL time.Duration
}

// DefaultConfig suits a LAN or a simulation with 5-25 ms links.
func DefaultConfig() Config {
	return Config{
		TickInterval:          50 * time.Millisecond,
		GraftTimeoutMin:       100 * time.Millisecond,
		GraftTimeoutMax:       2 * time.Second,
		InitialRTT:            50 * time.Millisecond,
		IHaveWaitRTTs:         2,
		MaxTreeLag:            2 * time.Second,
		TreeLagHalfLife:       5 * time.Second,
		StallFactor:           3,
		MaxGraftAttempts:      8,
		OptimizationThreshold: 2,
		OptimizationConfirm:   2,
		OptimizationInterval:  5 * time.Second,
		LazyNewLinks:          true,
		AnnounceRecent:        0,
		CatchUpSpan:           time.Second,
		PerOriginTrees:        true,
		MaxOriginTrees:        1024,
		MaxPayload:            1 << 20,
		MaxHops:               255,
		MaxIHaveBatch:         256,
		MaxLazyQueue:          4096,
		MaxGraftBatch:         256,
		MaxMissing:            8192,
		CacheSize:             16384,
		MaxFloors:             16384,
		CacheTTL:              2 * time.Minute,
	}
}

// WANConfig suits links with 50-300 ms round trips.
func WANConfig() Config {
	c := DefaultConfig()
	c.TickInterval = 100 * time.Millisecond
	c.GraftTimeoutMin = 300 * time.Millisecond
	c.GraftTimeoutMax = 5 * time.Second
	c.InitialRTT = 200 * time.Millisecond
	c.MaxTreeLag = 5 * time.Second
	c.TreeLagHalfLife = 10 * time.Second
	return c
}

// TestConfig is DefaultConfig with small limits, so tests reach them.
func TestConfig() Config {
	c := DefaultConfig()
	c.MaxPayload = 1024
	c.MaxIHaveBatch = 8
	c.MaxLazyQueue = 32
	c.MaxGraftBatch = 8
	c.MaxMissing = 64
	c.CacheSize = 256
	c.CacheTTL = 30 * time.Second
	c.MaxOriginTrees = 16
	c.MaxFloors = 16
	return c
}

// Validate names the first bad field and its allowed range.
func (c Config) Validate() error {
	durs := []struct {
		name string
		v    time.Duration
	}{
		{"TickInterval", c.TickInterval},
		{"GraftTimeoutMin", c.GraftTimeoutMin},
		{"GraftTimeoutMax", c.GraftTimeoutMax},
		{"InitialRTT", c.InitialRTT},
		{"MaxTreeLag", c.MaxTreeLag},
		{"TreeLagHalfLife", c.TreeLagHalfLife},
		{"CacheTTL", c.CacheTTL},
	}
	for _, d := range durs {
		if d.v <= 0 {
			return fmt.Errorf("plumtree: Config.%s = %v; want > 0", d.name, d.v)
		}
	}
	if c.GraftTimeoutMax < c.GraftTimeoutMin {
		return fmt.Errorf("plumtree: Config.GraftTimeoutMax = %v; want >= GraftTimeoutMin (%v)", c.GraftTimeoutMax, c.GraftTimeoutMin)
	}
	if !(c.IHaveWaitRTTs >= 1 && c.IHaveWaitRTTs <= 100) {
		return fmt.Errorf("plumtree: Config.IHaveWaitRTTs = %v; want in [1,100]", c.IHaveWaitRTTs)
	}
	if !(c.StallFactor >= 1 && c.StallFactor <= 1000) {
		return fmt.Errorf("plumtree: Config.StallFactor = %v; want in [1,1000]", c.StallFactor)
	}
	if c.AnnounceRecent < 0 {
		return fmt.Errorf("plumtree: Config.AnnounceRecent = %v; want >= 0 (0 disables)", c.AnnounceRecent)
	}
	if c.CatchUpSpan < 0 {
		return fmt.Errorf("plumtree: Config.CatchUpSpan = %v; want >= 0 (0 disables)", c.CatchUpSpan)
	}
	if c.OptimizationInterval < 0 {
		return fmt.Errorf("plumtree: Config.OptimizationInterval = %v; want >= 0 (0: no limit)", c.OptimizationInterval)
	}
	if c.OptimizationThreshold < 0 {
		return fmt.Errorf("plumtree: Config.OptimizationThreshold = %d; want >= 0 (0 disables)", c.OptimizationThreshold)
	}
	ints := []struct {
		name string
		v    int
	}{
		{"MaxGraftAttempts", c.MaxGraftAttempts},
		{"OptimizationConfirm", c.OptimizationConfirm},
		{"MaxOriginTrees", c.MaxOriginTrees},
		{"MaxPayload", c.MaxPayload},
		{"MaxHops", c.MaxHops},
		{"MaxIHaveBatch", c.MaxIHaveBatch},
		{"MaxLazyQueue", c.MaxLazyQueue},
		{"MaxGraftBatch", c.MaxGraftBatch},
		{"MaxMissing", c.MaxMissing},
		{"CacheSize", c.CacheSize},
		{"MaxFloors", c.MaxFloors},
	}
	for _, f := range ints {
		if f.v < 1 {
			return fmt.Errorf("plumtree: Config.%s = %d; want >= 1", f.name, f.v)
		}
	}
	if c.MaxHops > 1<<16 {
		return fmt.Errorf("plumtree: Config.MaxHops = %d; want <= 65536", c.MaxHops)
	}
	return nil
}
