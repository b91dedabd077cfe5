// Package trace loads real editing traces (Joseph Gentle's editing-traces
// format, gzipped JSON) and replays them on crdt/text replicas, for tests and
// for the `hearsay bench text` command (BenchTrace).
//
// Sequential traces are replayed as local edits of one replica. Concurrent
// traces give, per transaction, the agent that typed it and its parents, with
// positions relative to the document as that agent saw it at those parents.
// They are replayed with one replica per agent: before an agent's
// transaction, its replica receives exactly the transactions in the causal
// history of the parents that it has not yet seen (each agent's previous
// transaction is always an ancestor of its next one, which Replay checks), so
// the replica shows the document as of the parents and the positions apply.
// The deltas those replicas return are what peers would ship.
//
// Unlike the CRDT it drives, this package is a harness, not a protocol core:
// it reads files and reads the clock to time replays, by design.
package trace
