package antientropy

// Store is the replica's keyspace as anti-entropy sees it: opaque encoded
// CRDT states by key. The agent implements it over its datastore and the
// crdt package; MemStore is an in-memory one for tests and the simulator.
// The core calls it only from inside its own methods (Step, Tick and the
// commands), on the driver's goroutine.
type Store interface {
	// Get returns key's current state, encoded; ok is false if the key
	// has never been written.
	Get(key string) (state []byte, ok bool)
	// Merge joins an encoded state (a full state or a delta) received
	// from a peer into key's state, durably, and reports whether the
	// local state changed. It must be idempotent and commutative. An
	// error means the bytes were not a valid state; the core then drops
	// the session. state aliases a received message: copy it to keep it.
	Merge(key string, state []byte) (changed bool, err error)
	// Digest is a hash of key's state such that two replicas holding the
	// same state give the same digest; the zero digest means the key is
	// absent.
	Digest(key string) [16]byte
	// Range calls fn for every present key (in any order) until fn
	// returns false. The core calls it once, when it is built, to fill
	// its Merkle tree.
	Range(fn func(key string, digest [16]byte) bool)
}

// Object is one key and its encoded state, as a Dots or Objects message
// carries it.
type Object struct {
	Key   string
	State []byte
}

// BatchStore is a Store that can merge all the objects of one received
// message at once, with one durable write instead of one per key. The
// core uses MergeBatch when the store has it.
type BatchStore interface {
	Store
	// MergeBatch joins every objs[i].State into objs[i].Key's state, as
	// Merge does, durably, and reports in changed[i] whether that key's
	// local state changed. A key may appear more than once. It is all or
	// nothing: an error (some state was not valid) means no object was
	// merged; the core then drops the session. States alias a received
	// message: copy them to keep them.
	MergeBatch(objs []Object) (changed []bool, err error)
}
