// Package store is the agent's durable keyspace: string keys mapped to typed
// CRDT values (last-writer-wins register, multi-value register, PN counter,
// add-wins set, collaborative text), kept in memory and persisted in a
// go-datastore Batching datastore (pebble on disk, a map in tests).
//
// # Model
//
// Every key holds one crdt.ORMap of its own (its causal context plus the
// key's fields; see docs/store.md). A key's type is fixed by its first
// write: an operation of another type returns a *WrongTypeError (matching
// ErrWrongType) and changes nothing. Del is an observed remove: it drops what
// this replica has seen of the key, and a write made concurrently elsewhere
// survives it. Text keys keep their characters in a crdt/text Doc beside the
// map; the map holds a presence flag with dots so that Del has the same
// observed-remove meaning for text as for the other types.
//
// # Driving it
//
// Every local mutator (Put, Inc, Dec, Add, Remove, Del, TextInsert,
// TextDelete) applies the operation, persists the key's new state together
// with a change record in one batch commit, and only then returns: the
// encoded delta for the agent to broadcast, and the Change. Deltas received
// from peers go to ApplyDelta; full per-key states exchanged by
// anti-entropy go to MergeState (State and Digest produce them). Merging is
// idempotent and commutative: replicas that have merged the same deltas, in
// any order and with duplicates, read the same values and hold byte-equal
// states.
//
// Every visible change, local or remote, gets the next sequence number and is
// appended to a bounded, persisted change feed (Changes), so a client that
// reconnects with its last cursor misses nothing, or learns with
// ErrCursorTooOld that it must re-read the keyspace.
//
// Physical time is handed in (nanoseconds, normally Unix time) for the hybrid
// logical clock of register writes; the package never reads a clock and
// starts no goroutine. It performs I/O only through the datastore it is
// given.
//
// # Concurrency
//
// A Store is not safe for concurrent use. The agent's event loop owns it and
// makes every call; nothing inside takes a lock.
package store
