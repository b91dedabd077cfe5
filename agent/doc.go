// Package agent is hearsay's composition root: one node is a libp2p host,
// a transport that carries protobuf frames over long-lived streams, and
// the protocol cores (HyParView today; plumtree, SWIM, the CRDT store and
// anti-entropy as they arrive), all driven by one event loop.
//
// # The event loop
//
// One goroutine owns every core. Everything else posts to it: stream
// readers post decoded messages, libp2p's notifications post peer up and
// down, tickers post ticks, RPC handlers post closures. After each input
// the loop drains the cores' Ready outputs: sends go to the transport
// (which never blocks the loop; a full queue drops and counts), events are
// routed to the layers above. No core is ever touched from another
// goroutine, so the cores need no locks, exactly as in the simulator.
//
// Time given to the cores is the monotonic time since the agent started.
// Each core gets its own *rand.Rand seeded from crypto/rand at start.
package agent
