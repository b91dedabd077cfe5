// Package antientropy repairs what broadcast missed: it finds the writes
// a peer lacks and sends it the objects that hold them. It is a protocol
// core (see package membership): a state machine without I/O, fed with
// Step, Tick, PeerDown and the commands below, drained with Ready.
//
// # State
//
//   - The node clock, a bitmap version vector (Gonçalves, Almeida,
//     Baquero, Fonte, DAIS 2015; DottedDB): per origin node a base counter
//     (every dot up to it) and a bitmap of the dots seen beyond it,
//     normalised. It names every write the local store reflects.
//   - The dot-key log: which key each recent dot changed. An entry leaves
//     the log once every live member is known to hold its dot (the peers'
//     acked clocks, learned in sessions), or when the log is over
//     Config.MaxLogEntries.
//   - A Merkle tree over the keyspace (Riak TicTac style): a key hashes to
//     one of MerkleFanout^MerkleDepth segments; a segment's hash is the XOR
//     of h(key, digest) over its keys, an inner node's the XOR of its
//     children, so every write updates depth+1 words.
//
// # Sessions
//
// A session is one round trip plus an ack, started by the initiator A with
// a random live member every SyncInterval (Tick) and at once with a node
// that comes up (NeighborUp):
//
//	A -> B  Sync{hash(clock), clock}      clock omitted when B is known to hold it
//	B -> A  Reply{status, have, want}     IN_SYNC | NEED_CLOCK | DELTA | TREE
//	B -> A  Dots{objects}...              DELTA: the objects for the dots A lacks
//	A -> B  Dots{push, objects}...        the objects for the dots B lacks (want)
//	A -> B  Ack{}                         every pulled dot merged; B records A's clock
//
// have and want are B's spans (base and bitmap) for the origins where B
// has dots A lacks and where A has dots B lacks, sent against A's clock
// (an origin A knows is named by its index). The dots A lacks, in origin
// then counter order, form an implicit sequence both sides compute; Dots
// messages carry the objects for a range of it, each key once per message,
// with a short list of repeats for positions whose key came earlier. So the
// per-dot metadata is nothing: the log path costs the objects plus a few
// bytes per origin. Two replicas in sync exchange a 16-byte hash each way.
//
// When B's log cannot name the key of some dot A lacks (the dot was pruned
// while A was not a member, or evicted; or A is new), B replies TREE with
// its level-1 hashes and A walks the Merkle tree: Tree messages alternate,
// each carrying the sender's hashes of the children of the nodes that
// differ, one level per message; the side that reaches the segments sends
// its Leaves (the 64-bit contributions of the keys in the differing
// segments); the other side pushes the objects whose contributions the
// sender lacks and Wants the ones it lacks itself (in Want requests of at
// most 32 KiB, answered one by one, so the objects stream while the
// receiver merges). The walk finds d
// differing keys among n in about log_fanout(n)/2 + 1 round trips with
// O(d · fanout · log_fanout(n/d)) hashes. When it ends, A's store holds
// every write of B's clock at reply time, so A joins B's spans into its
// clock and acks.
//
// All messages stay under Config.MaxMessageBytes (1 MiB at most): long
// answers are split into several messages.
//
// # What the driver does
//
//   - Sends (Envelope messages) go to the named peer over the
//     /hearsay/antientropy/1.0.0 stream, in order per peer. A failed send
//     is reported with PeerDown (the session is dropped, and retried on a
//     later Tick).
//   - Merged events name the keys a session changed in the store: tell
//     their subscribers, exactly as for a delta from broadcast.
//   - SessionDone events report a finished session (for metrics).
//   - After a local write is durable, call Wrote(now, key, dot); after a
//     delta from broadcast is merged and durable, Applied(now, key, dots).
//   - Feed the live members with SetMembers (from SWIM) and neighbour
//     links coming up with NeighborUp (from HyParView), so a healed
//     partition is repaired at once.
//
// The store plugs in through the Store interface (store.go); MemStore is
// an in-memory one for tests and the simulator. A store that also
// implements BatchStore merges each received message's objects in one
// call (one durable write per message instead of one per key).
//
// Received messages are read, never kept or changed; sent messages are
// never touched again (the simulator passes pointers without encoding).
//
// # Encodings
//
// A clock is uvarint origin count, then per origin (increasing ID):
// uvarint ID length, ID, uvarint base, uvarint bitmap length, bitmap bytes
// (little-endian, bit i is dot base+1+i, no trailing zero byte, bit 0
// clear). DecodeClock accepts only this canonical form and never panics.
// Objects are packed as uvarint key length, key, uvarint state length,
// state. Node indices are packed as a count, the first index and then the
// gaps minus one; hashes as 8 little-endian bytes.
package antientropy
