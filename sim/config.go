package sim

import (
	"fmt"
	"time"
)

// Config sets the simulated network's behaviour.
type Config struct {
	// Seed drives every random choice of the run.
	Seed uint64
	// Latency gives the one-way delay of each message. Default: uniform
	// 5 ms to 25 ms.
	Latency Latency
	// Loss is the probability, in [0,1), that a message is silently lost.
	Loss float64
	// Duplicate is the probability, in [0,1), that a message is delivered
	// twice (the copy with its own latency).
	Duplicate float64
	// Reorder is the probability, in [0,1), that a message skips the
	// per-link FIFO order and may overtake earlier ones. With Reorder 0,
	// each directed link delivers in send order, as a TCP stream does.
	Reorder float64
	// LinkDownDelay is how long after sending to a crashed or
	// partitioned node the sender is told the link failed (PeerDown).
	// Zero means it is never told. Default 2x the mean latency is a
	// reasonable choice; DefaultConfig uses 50 ms.
	LinkDownDelay time.Duration
	// CountBytes makes the simulator compute every message's encoded
	// size (proto.Size) for the per-protocol byte counters. It costs time.
	CountBytes bool
	// Wire encodes every message with proto.Marshal when it is sent and
	// decodes it into the receiving core's NewMessage when it arrives, as
	// the agent's transport does, so codec bugs (a proto3 string that is
	// not UTF-8, a field the receiver cannot parse) show in simulation.
	// Failures are counted in EncodeFailed and DecodeFailed. It costs time.
	Wire bool
	// TraceContent folds each delivered message's deterministic encoding
	// into the trace hash (slower); otherwise only the event's time,
	// endpoints, protocol and message type are hashed.
	TraceContent bool
	// Deadlines ticks every core that reports NextDeadline (SWIM,
	// anti-entropy) at its deadlines, as the agent does, instead of every
	// TickInterval: never sooner than a tenth of its TickInterval after
	// its last tick, never later than a second after it. The other cores
	// keep their fixed cadence.
	Deadlines bool
	// Connect, when set, models connection setup (on libp2p: TCP, a
	// Noise handshake, yamux, identify): a message between two nodes
	// without a connection waits until one is set up. Setting one up
	// takes a sample of Connect, and each node sets up its connections
	// one after another, so a node that many dial at once answers them
	// late, as a saturated process does. When a connection is up, the
	// cores of both nodes that have a PeerUp(now, peer) method are told.
	// A connection dies with either end's process. nil: messages need no
	// connection (datagrams).
	Connect Latency
}

// DefaultConfig returns a LAN-like network: 5-25 ms latency, no loss,
// FIFO links, failures noticed after 50 ms.
func DefaultConfig(seed uint64) Config {
	return Config{
		Seed:          seed,
		Latency:       Uniform{Min: 5 * time.Millisecond, Max: 25 * time.Millisecond},
		LinkDownDelay: 50 * time.Millisecond,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Latency == nil {
		return fmt.Errorf("sim: Config.Latency is nil; want a distribution such as Uniform")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"Loss", c.Loss}, {"Duplicate", c.Duplicate}, {"Reorder", c.Reorder}} {
		if p.v < 0 || p.v >= 1 {
			return fmt.Errorf("sim: Config.%s = %v; want a probability in [0,1)", p.name, p.v)
		}
	}
	if c.LinkDownDelay < 0 {
		return fmt.Errorf("sim: Config.LinkDownDelay = %v; want >= 0", c.LinkDownDelay)
	}
	return nil
}
