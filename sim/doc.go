// Package sim is a deterministic discrete-event network simulator that
// runs hearsay's real protocol cores (see package membership for the core
// contract), not models of them.
//
// A Sim holds N processes, each a set of cores that one node runs, and a
// virtual clock. It keeps one queue of timed events: message deliveries,
// core ticks, link-failure notices and scheduled actions (crash, restart,
// partition, heal, or any func). Running the simulation pops the earliest
// event, feeds it to the node's core, and turns the core's Ready outputs
// into new events: each Send becomes a delivery after a latency drawn from
// the configured distribution, possibly lost, duplicated or reordered;
// each Event is handed to the process's Route method, which is where a node
// wires one core's events into another core's commands.
//
// Faults: Crash stops a node (its pending events are dropped and messages
// to it are lost); Restart brings it back as a fresh process from the
// factory; Partition splits nodes into groups that cannot reach each other
// until Heal. A message that cannot be delivered because the target crashed
// or sits across a partition makes the sender's cores see PeerDown after
// Config.LinkDownDelay, which is how a TCP connection's failure shows up to
// the real agent. Random loss (Config.Loss) is silent, like a lost datagram.
//
// Determinism: one seed drives everything. The network draws from its own
// PCG stream; each node gets its own stream derived from the seed and the
// node's index (and its restart count). Events at the same virtual instant
// are ordered by insertion sequence. No Go map is iterated where order
// matters. TraceHash folds every delivered event into an FNV-1a hash, so a
// test can assert two runs of the same seed are identical event for event.
package sim
