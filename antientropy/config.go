package antientropy

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Config sets the core's parameters. Durations are virtual time in the
// simulator and real time in the agent; sizes are bytes; counts are items.
type Config struct {
	// SyncInterval is the mean period between the sessions Tick starts,
	// each with one member picked at random; each wait is jittered by
	// ±10%. Default 1 s.
	SyncInterval time.Duration
	// IdleSyncMax is the longest wait between sessions while they keep
	// finding the peer in sync: after each in-sync session the wait
	// doubles, from SyncInterval up to IdleSyncMax; a session that finds a
	// difference, or any change of this node's dots, brings it back to
	// SyncInterval. A node that lacks dots, or holds dots others lack,
	// keeps finding differences and so keeps the fast cadence; only
	// replicas already in sync slow down (an idle agent's sessions were a
	// third of its messages). IdleSyncMax = SyncInterval turns the
	// back-off off. Default 8 s.
	IdleSyncMax time.Duration
	// TickInterval is how often the driver calls Tick: the resolution of
	// SyncInterval, SessionTimeout and PruneInterval. Default 200 ms.
	TickInterval time.Duration
	// SessionTimeout is how long a session may wait for its next message
	// before it is abandoned (a lost message, a crashed peer). Default 5 s.
	SessionTimeout time.Duration
	// RandomSyncEvery: with links (LinkUp: the agent's HyParView active
	// view), every RandomSyncEvery-th periodic session goes to a random
	// member and the others to a random link, which needs no new
	// connection (links.go). 0 or 1: every session with a random member.
	// Default 4.
	RandomSyncEvery int
	// LinkedSyncs, with RandomSyncEvery above 1, skips the periodic
	// sessions that would go to a link while the node has no link that is
	// a member, instead of sending them to a random member: only every
	// RandomSyncEvery-th session runs then. For a driver that reports
	// links and joins its overlay after the members are known (the agent:
	// HyParView joins after SWIM's reply), so that a joining node does not
	// open a connection to a random member every second until its first
	// link: 200 agents joining at once made 1,845 anti-entropy dials in
	// their first 40 s. Off (the simulator's anti-entropy alone, which has
	// no links): every session goes to a random member.
	LinkedSyncs bool
	// MaxSessions bounds the sessions this node runs as initiator at
	// once; Tick starts none while it is reached. Default 2.
	MaxSessions int
	// MaxInbound bounds the sessions this node answers and keeps state
	// for (awaiting an ack or pushed objects); the oldest is forgotten
	// first. Default 64.
	MaxInbound int
	// PruneInterval is how often the dot-key log is pruned of the dots
	// every live member is known to hold. Default 1 s.
	PruneInterval time.Duration
	// MaxLogEntries bounds the dot-key log, in entries (about 16 bytes
	// each plus the key when the key is not shared with the store); the
	// oldest entries of the longest window go first. Default 1,048,576.
	MaxLogEntries int
	// MaxLogAnswer is the most missing dots a session answers through the
	// log; a peer lacking more is repaired by the Merkle walk. Default
	// 1,048,576.
	MaxLogAnswer int
	// MerkleFanout is the Merkle tree's fanout: a power of two in
	// [2, 256]. Every replica of a cluster must use the same. Default 16.
	MerkleFanout int
	// MerkleDepth is the number of levels below the root; the tree has
	// MerkleFanout^MerkleDepth leaf segments (at most 2^24) and costs 8
	// bytes per node. Aim for a few keys to a few tens of keys per
	// segment. Every replica must use the same. Default 4 (65,536).
	MerkleDepth int
	// MaxMessageBytes bounds the encoded size of every message the core
	// sends; long answers are split. At most 1 MiB. Default 1 MiB - 4 KiB.
	MaxMessageBytes int
	// MaxKeyBytes and MaxStateBytes bound one key and one encoded state
	// accepted from a peer (and sent: a larger local state is skipped, and
	// a walk that skips one claims none of the peer's dots). A key and its
	// state must fit in one message with room to spare (Validate). The
	// store must refuse local writes that would make a larger state, or
	// they are never repaired (the agent sets it so). Defaults 1 KiB and
	// 1 MiB - 16 KiB.
	MaxKeyBytes   int
	MaxStateBytes int
}

// DefaultConfig is for the agent on a LAN or WAN: a session per second.
func DefaultConfig() Config {
	return Config{
		SyncInterval:    time.Second,
		IdleSyncMax:     8 * time.Second,
		TickInterval:    200 * time.Millisecond,
		SessionTimeout:  5 * time.Second,
		RandomSyncEvery: 4,
		MaxSessions:     2,
		MaxInbound:      64,
		PruneInterval:   time.Second,
		MaxLogEntries:   1 << 20,
		MaxLogAnswer:    1 << 20,
		MerkleFanout:    16,
		MerkleDepth:     4,
		MaxMessageBytes: 1<<20 - 4<<10,
		MaxKeyBytes:     1 << 10,
		MaxStateBytes:   1<<20 - 16<<10,
	}
}

// SimConfig is for large simulated clusters with small keyspaces (up to
// about 10,000 keys): a 256-segment tree (2 KiB per node) and a smaller
// log.
func SimConfig() Config {
	c := DefaultConfig()
	c.MerkleDepth = 2
	c.MaxLogEntries = 1 << 16
	return c
}

// Validate names the first bad field and its allowed range.
func (c Config) Validate() error {
	pos := []struct {
		name string
		v    time.Duration
	}{{"SyncInterval", c.SyncInterval}, {"TickInterval", c.TickInterval}, {"SessionTimeout", c.SessionTimeout}, {"PruneInterval", c.PruneInterval}}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("antientropy: Config.%s = %v; want > 0", p.name, p.v)
		}
	}
	ints := []struct {
		name   string
		v, min int
		max    int
	}{
		{"MaxSessions", c.MaxSessions, 1, 1 << 10},
		{"RandomSyncEvery", c.RandomSyncEvery, 0, 1 << 20},
		{"MaxInbound", c.MaxInbound, 1, 1 << 16},
		{"MaxLogEntries", c.MaxLogEntries, 0, 1 << 30},
		{"MaxLogAnswer", c.MaxLogAnswer, 0, 1 << 26},
		{"MerkleFanout", c.MerkleFanout, 2, 256},
		{"MerkleDepth", c.MerkleDepth, 1, 24},
		{"MaxMessageBytes", c.MaxMessageBytes, 16 << 10, 1 << 20},
		{"MaxKeyBytes", c.MaxKeyBytes, 1, 1 << 16},
		{"MaxStateBytes", c.MaxStateBytes, 1, 1 << 20},
	}
	for _, p := range ints {
		if p.v < p.min || p.v > p.max {
			return fmt.Errorf("antientropy: Config.%s = %d; want in [%d, %d]", p.name, p.v, p.min, p.max)
		}
	}
	if room := c.MaxMessageBytes - 64 - 2*binary.MaxVarintLen64 - c.MaxKeyBytes; c.MaxStateBytes > room {
		return fmt.Errorf("antientropy: Config.MaxStateBytes = %d; want at most %d, so that a key of MaxKeyBytes and its state fit in one message of MaxMessageBytes", c.MaxStateBytes, room)
	}
	if c.IdleSyncMax < c.SyncInterval {
		return fmt.Errorf("antientropy: Config.IdleSyncMax = %v; want >= SyncInterval (%v)", c.IdleSyncMax, c.SyncInterval)
	}
	if c.MerkleFanout&(c.MerkleFanout-1) != 0 {
		return fmt.Errorf("antientropy: Config.MerkleFanout = %d; want a power of two", c.MerkleFanout)
	}
	segs := 1
	for range c.MerkleDepth {
		segs *= c.MerkleFanout
		if segs > 1<<24 {
			return fmt.Errorf("antientropy: Config.MerkleDepth = %d; MerkleFanout^MerkleDepth must be at most 2^24", c.MerkleDepth)
		}
	}
	if c.MaxKeyBytes+c.MaxStateBytes+64 > c.MaxMessageBytes {
		return fmt.Errorf("antientropy: Config.MaxStateBytes = %d; one object (with MaxKeyBytes %d) must fit in MaxMessageBytes %d", c.MaxStateBytes, c.MaxKeyBytes, c.MaxMessageBytes)
	}
	return nil
}
