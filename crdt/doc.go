// Package crdt implements delta-state conflict-free replicated data types
// (Almeida, Shoker and Baquero, "Delta state replicated data types", JPDC 2018)
// for the hearsay agent: dots and causal contexts, a hybrid logical clock,
// registers, counters, sets and an observed-remove map of typed fields that
// forms the agent's keyspace.
//
// # Model
//
// Every replica is identified by a [NodeID]. Every mutator applies its change
// to the receiver and returns a delta: a value of the same type that holds
// only the change. Deltas and full states are both lattice elements; Join is
// commutative, associative and idempotent, so deltas may be delivered late,
// twice, out of order or grouped (joined into a delta group) before delivery,
// and replicas that have joined the same set of deltas or states hold equal
// states with byte-equal encodings. A lost delta is repaired by joining a
// full state (anti-entropy).
//
// Causal types (MVRegister, ORSet, ORMap and the map's field types) are a dot
// store plus a [CausalContext] as in the paper: a removed element or field
// leaves nothing behind except the dots the context already records, which
// compact into a version vector.
//
// # Determinism contract
//
// The package starts no goroutines, takes no locks, reads no wall clock,
// draws from no global random source and performs no I/O. Physical time for
// the [HLC] is handed in by the caller as nanoseconds. Output never depends
// on Go map iteration order: encodings and listings are sorted. Values are
// not safe for concurrent use; the agent's event loop owns them.
//
// # Encoding
//
// Every type has a compact, canonical binary encoding (Encode / DecodeXxx)
// starting with a version byte and a kind byte, followed by a per-object
// dictionary of node IDs and a body of uvarints. Decoders accept untrusted
// bytes: they return an error and never panic. See docs/crdt.md.
package crdt
