// Package membership is the vocabulary every hearsay protocol core shares:
// node identities and records, the events that cross layer boundaries, and
// the core contract that lets one implementation run both in the real agent
// and in the deterministic simulator.
//
// # The core contract
//
// A protocol core (hyparview, plumtree, swim, antientropy) is a plain struct.
// It is driven from outside through exactly four kinds of input:
//
//   - Step(now, from, msg): a message that arrived from a peer;
//   - Tick(now): time passed; the driver calls it every TickInterval;
//   - PeerDown(now, peer): the transport lost the link to a peer (a closed
//     connection, a failed dial, a failed write): for HyParView this is a
//     neighbour failure, exactly as the paper uses TCP as its detector;
//   - commands: core-specific methods (Join, Broadcast, Leave...) that also
//     take now.
//
// Every input may queue outputs, which the driver takes with Ready():
//
//   - Sends: protobuf messages addressed to a peer. The driver delivers them
//     in order per peer (over a libp2p stream in the agent, through the
//     simulated network in sim/). Delivery may fail; the driver then calls
//     PeerDown. Sends to the node itself never happen.
//   - Events: notifications for the layers above (NeighborUp, NeighborDown,
//     Delivered, MemberEvent...). The driver routes them, for example
//     HyParView's NeighborUp becomes plumtree's NeighborUp command.
//
// What a core never does: start a goroutine, take a lock, read the wall
// clock, draw from a global random source, touch a socket or a file. Time is
// the now argument (a Duration since an arbitrary epoch, monotonic), and
// randomness is a *rand.Rand handed to the constructor. Because of that, the
// same seed gives the same run event for event in sim/, and a failure found
// in simulation can be replayed.
//
// A core must also never let Go's randomised map iteration order reach its
// outputs: iterate slices, or sort keys first.
//
// # Node identity
//
// A NodeID is the text form of a libp2p peer ID in the agent
// (peer.ID.String(), e.g. "12D3KooW..."), so every wire format can carry it
// as a valid UTF-8 string and logs print it as users see it, and a short
// synthetic name in the simulator. A Node record adds the addresses another node needs to dial it.
package membership
