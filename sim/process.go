package sim

import (
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// Process is what one simulated node runs: a fixed set of protocol cores
// and the wiring between them.
type Process interface {
	// Cores lists the node's cores; the list must not change.
	Cores() []membership.Core
	// Route receives every event any of the node's cores emitted. It may
	// call commands on the node's cores (their outputs are drained after
	// it returns) and record what an experiment measures.
	Route(now time.Duration, ev membership.Event)
}

// Factory builds the process for a node. rng is the node's own seeded
// source; index is the node's position, stable across restarts.
type Factory func(id membership.NodeID, index int, rng *rand.Rand) Process

// Observer sees every message the network delivers or drops. Experiments
// use it to count payloads and hops without touching the cores.
type Observer interface {
	Delivered(now time.Duration, from, to int, proto membership.ProtocolID, msg any)
}
