package hyparview

import (
	"fmt"
	"time"
)

// Config sets the protocol's parameters. Sizes count nodes, walk lengths
// count hops, durations are virtual time in the simulator and real time in
// the agent.
type Config struct {
	// ActiveSize is the active view's capacity (open links). The paper uses
	// log10(n)+1: 5 for n=10,000.
	ActiveSize int
	// PassiveSize is the passive view's capacity (backups). Paper: 30.
	PassiveSize int
	// ARWL (active random walk length) is the TTL, in hops, a FORWARDJOIN
	// starts with; the node where it reaches 0 takes the joiner into its
	// active view. Paper: 6.
	ARWL int
	// PRWL (passive random walk length) is the TTL, in hops, at which a
	// node on the FORWARDJOIN walk puts the joiner into its passive view.
	// Paper: 3. Must be at most ARWL.
	PRWL int
	// ShuffleActive (ka) is how many active-view nodes a shuffle carries.
	// Paper: 3.
	ShuffleActive int
	// ShufflePassive (kp) is how many passive-view nodes a shuffle carries.
	// Paper: 4.
	ShufflePassive int
	// ShuffleTTL is the hops a shuffle walks before it is answered. The
	// paper uses ARWL: 6.
	ShuffleTTL int
	// ShuffleInterval is the period of the shuffle cycle (one shuffle, and
	// one probe of a remembered failed node, per cycle). The first shuffle
	// and each next one are jittered by up to ±25% around it.
	ShuffleInterval time.Duration
	// TickInterval is how often the driver calls Tick: the resolution of
	// timeouts, retries and the shuffle timer.
	TickInterval time.Duration
	// NeighborTimeout is how long a NEIGHBOR request waits for its reply
	// before the next passive candidate is tried.
	NeighborTimeout time.Duration
	// JoinTimeout is how long after a JOIN a node with still no neighbour
	// first retries (through the next contact). Each retry doubles the
	// wait, up to JoinBackoffMax.
	JoinTimeout time.Duration
	// JoinBackoffMax caps the wait between JOIN retries.
	JoinBackoffMax time.Duration
	// ReserveSize is how many nodes dropped from the passive view (to make
	// room for newer ones) the node keeps as a last resort, asked for a
	// link only when the passive view has no candidate left and the active
	// view has a free slot. It is what lets a node whose whole passive view
	// died in a mass failure find a live node again. 0 disables it.
	ReserveSize int
	// FailedSize is how many recently failed nodes the node remembers
	// (oldest forgotten first) to probe once per shuffle cycle, so that an
	// overlay split by a partition merges again after the heal. 0 disables
	// the probes.
	FailedSize int
	// FailedTTL is how long a failed node is remembered and probed: the
	// longest partition the overlay heals from by itself.
	FailedTTL time.Duration
	// HealProbability, in [0,1], is the chance that a probe that finds a
	// remembered failed node reachable again turns into a high-priority
	// NEIGHBOR request (one active cross-link, at the cost of one eviction
	// on each side). Every such probe puts the node back into the passive
	// view regardless.
	HealProbability float64
	// SpliceJoins makes a full node that takes a joiner in (the contact,
	// or a node where a FORWARDJOIN walk ends) splice it in, as a full
	// node answers a NEIGHBOR request from a node with two free slots
	// (splice): it hands one of its neighbours over to the joiner instead
	// of evicting one, so the joiner gains two links and nobody is left
	// with a hole to repair; the contact then starts ActiveSize/2 walks
	// instead of ActiveSize-1, since each can bring two links. Off: the
	// paper's join, where each of the joiner's links evicts a link of a
	// full node and every eviction starts a repair: 200 nodes joining one
	// contact at once made about five evictions per join and three times
	// the links the overlay ends with (docs/hyparview.md).
	SpliceJoins bool
	// MaxNodesPerMessage bounds the node lists a peer may send (shuffles
	// and their replies); longer lists are rejected.
	MaxNodesPerMessage int
	// MaxTTL bounds the TTL a peer may put in a FORWARDJOIN or SHUFFLE.
	MaxTTL int
	// MaxIDBytes bounds a node ID's length in bytes.
	MaxIDBytes int
	// MaxAddrs bounds how many addresses a node record may carry.
	MaxAddrs int
	// MaxAddrBytes bounds one address's length in bytes.
	MaxAddrBytes int
}

// DefaultConfig returns the paper's parameters for n=10,000 with the
// agent's timing: a 10 s shuffle cycle and a 1 s tick.
func DefaultConfig() Config {
	return Config{
		ActiveSize:         5,
		PassiveSize:        30,
		ARWL:               6,
		PRWL:               3,
		ShuffleActive:      3,
		ShufflePassive:     4,
		ShuffleTTL:         6,
		ShuffleInterval:    10 * time.Second,
		TickInterval:       time.Second,
		NeighborTimeout:    3 * time.Second,
		JoinTimeout:        5 * time.Second,
		JoinBackoffMax:     2 * time.Minute,
		ReserveSize:        64,
		FailedSize:         16,
		FailedTTL:          30 * time.Minute,
		HealProbability:    0.2,
		SpliceJoins:        true,
		MaxNodesPerMessage: 64,
		MaxTTL:             32,
		MaxIDBytes:         128,
		MaxAddrs:           16,
		MaxAddrBytes:       512,
	}
}

// SimConfig is DefaultConfig with a cycle ten times shorter (1 s shuffle,
// 250 ms tick), for simulations that run many cycles over a LAN-like
// network, and the paper's join (SpliceJoins off); the failed-node memory
// still spans 100 cycles.
func SimConfig() Config {
	c := DefaultConfig()
	c.ShuffleInterval = time.Second
	c.TickInterval = 250 * time.Millisecond
	c.NeighborTimeout = 500 * time.Millisecond
	c.JoinTimeout = 500 * time.Millisecond
	c.JoinBackoffMax = 10 * time.Second
	c.FailedTTL = 100 * time.Second
	// The paper's join, so that the reproductions (sim/exp) build the
	// overlay the paper describes; docs/hyparview.md compares the two.
	c.SpliceJoins = false
	return c
}

// Validate names the first bad field and its allowed range.
func (c Config) Validate() error {
	ints := []struct {
		name string
		v    int
		min  int
	}{
		{"ActiveSize", c.ActiveSize, 1},
		{"PassiveSize", c.PassiveSize, 1},
		{"ARWL", c.ARWL, 1},
		{"PRWL", c.PRWL, 0},
		{"ShuffleActive", c.ShuffleActive, 0},
		{"ShufflePassive", c.ShufflePassive, 0},
		{"ShuffleTTL", c.ShuffleTTL, 0},
		{"ReserveSize", c.ReserveSize, 0},
		{"FailedSize", c.FailedSize, 0},
		{"MaxNodesPerMessage", c.MaxNodesPerMessage, 1},
		{"MaxTTL", c.MaxTTL, 1},
		{"MaxIDBytes", c.MaxIDBytes, 1},
		{"MaxAddrs", c.MaxAddrs, 0},
		{"MaxAddrBytes", c.MaxAddrBytes, 1},
	}
	for _, f := range ints {
		if f.v < f.min {
			return fmt.Errorf("hyparview: Config.%s = %d; want >= %d", f.name, f.v, f.min)
		}
	}
	if c.PRWL > c.ARWL {
		return fmt.Errorf("hyparview: Config.PRWL = %d; want <= ARWL (%d)", c.PRWL, c.ARWL)
	}
	if c.ARWL > c.MaxTTL || c.ShuffleTTL > c.MaxTTL {
		return fmt.Errorf("hyparview: Config.MaxTTL = %d; want >= ARWL (%d) and ShuffleTTL (%d)", c.MaxTTL, c.ARWL, c.ShuffleTTL)
	}
	if n := c.ShuffleActive + c.ShufflePassive + 1; n > c.MaxNodesPerMessage {
		return fmt.Errorf("hyparview: Config.MaxNodesPerMessage = %d; want >= ShuffleActive+ShufflePassive+1 (%d)", c.MaxNodesPerMessage, n)
	}
	durs := []struct {
		name string
		v    time.Duration
	}{
		{"ShuffleInterval", c.ShuffleInterval},
		{"TickInterval", c.TickInterval},
		{"NeighborTimeout", c.NeighborTimeout},
		{"JoinTimeout", c.JoinTimeout},
		{"JoinBackoffMax", c.JoinBackoffMax},
		{"FailedTTL", c.FailedTTL},
	}
	for _, d := range durs {
		if d.v <= 0 {
			return fmt.Errorf("hyparview: Config.%s = %v; want > 0", d.name, d.v)
		}
	}
	if c.JoinBackoffMax < c.JoinTimeout {
		return fmt.Errorf("hyparview: Config.JoinBackoffMax = %v; want >= JoinTimeout (%v)", c.JoinBackoffMax, c.JoinTimeout)
	}
	if c.HealProbability < 0 || c.HealProbability > 1 {
		return fmt.Errorf("hyparview: Config.HealProbability = %v; want in [0,1]", c.HealProbability)
	}
	return nil
}
