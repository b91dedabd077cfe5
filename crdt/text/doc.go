// Package text is a sequence CRDT for collaborative plain text.
//
// A Doc is one replica of a text document. Local edits (Insert, Delete) take
// positions in Unicode code points and return a Delta: the operations to ship
// to the other replicas. Apply merges a Delta received from anywhere (a peer's
// local edit, a batch of them, or a whole State) and is idempotent and
// commutative with concurrent deltas: duplicates are dropped and operations
// that arrive before their causal dependencies are parked inside the Doc until
// those dependencies arrive, so the transport may lose, duplicate and reorder
// messages; replicas that have received the same operations hold the same text
// and byte-equal encodings (Encode).
//
// Ordering of concurrent inserts follows YjsMod, which is the FugueMax variant
// of Fugue (Weidner and Kleppmann): every item records the item to its left
// and to its right when it was typed (origin left / origin right), and
// concurrent runs of typing at one place never interleave character by
// character, whether typed forwards or backwards. See docs/text-crdt.md.
//
// Items are identified by (agent, seq) dots; agents are strings at the API and
// small integers inside a Doc. Consecutive characters typed by one agent are
// stored as one run, so memory and encodings grow with the number of edits
// that broke a run, not with the number of characters.
//
// The package does no I/O, reads no clock, starts no goroutine and holds no
// lock: a Doc must be used by one goroutine at a time.
package text
