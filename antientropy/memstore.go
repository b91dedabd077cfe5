package antientropy

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
)

// MemStore is an in-memory Store for tests and the simulator. Each key
// holds a last-writer-wins register stamped with a per-key Lamport time
// and the dot of the write that set it, ordered by (time, node): a state
// is uvarint time, uvarint counter, uvarint node length, node, value. Its
// causal metadata per key is that stamp. The agent's real store
// (OR-map of crdt fields over the datastore) replaces it.
type MemStore struct {
	states map[string][]byte
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{states: map[string][]byte{}} }

// EncodeLWW encodes a register state written by dot at Lamport time ts.
func EncodeLWW(ts uint64, d Dot, value []byte) []byte {
	b := binary.AppendUvarint(nil, ts)
	b = binary.AppendUvarint(b, d.Counter)
	b = binary.AppendUvarint(b, uint64(len(d.Node)))
	b = append(b, d.Node...)
	return append(b, value...)
}

// DecodeLWW decodes a register state.
func DecodeLWW(b []byte) (uint64, Dot, []byte, error) {
	r := &reader{b: b}
	ts := r.uvarint()
	c := r.uvarint()
	n := r.bytes(maxNodeIDBytes)
	if r.err == nil && (c == 0 || len(n) == 0 || ts == 0) {
		r.fail("register without a stamp")
	}
	if r.err != nil {
		return 0, Dot{}, nil, r.err
	}
	return ts, Dot{NodeID(n), c}, r.b, nil
}

// Put writes value at key as dot d (the caller's fresh dot) and returns
// the delta to broadcast (here, the whole new state).
func (m *MemStore) Put(key string, value []byte, d Dot) []byte {
	var ts uint64 = 1
	if cur, ok := m.states[key]; ok {
		t, _, _, _ := DecodeLWW(cur)
		ts = t + 1
	}
	st := EncodeLWW(ts, d, value)
	if _, err := m.Merge(key, st); err != nil {
		panic(err) // EncodeLWW output always decodes
	}
	return st
}

// Get implements Store.
func (m *MemStore) Get(key string) ([]byte, bool) {
	s, ok := m.states[key]
	return s, ok
}

// Merge implements Store: the state with the larger dot wins.
func (m *MemStore) Merge(key string, state []byte) (bool, error) {
	ts, d, _, err := DecodeLWW(state)
	if err != nil {
		return false, fmt.Errorf("memstore: key %q: %w", key, err)
	}
	if cur, ok := m.states[key]; ok {
		cts, cd, _, _ := DecodeLWW(cur)
		if ts < cts || (ts == cts && (d.Node < cd.Node || (d.Node == cd.Node && d.Counter <= cd.Counter))) {
			return false, nil
		}
	}
	m.states[key] = slices.Clone(state)
	return true, nil
}

// Digest implements Store.
func (m *MemStore) Digest(key string) [16]byte {
	s, ok := m.states[key]
	if !ok {
		return [16]byte{}
	}
	h := fnv.New128a()
	h.Write(s)
	var d [16]byte
	h.Sum(d[:0])
	if d == ([16]byte{}) {
		d[0] = 1
	}
	return d
}

// Range implements Store, in sorted key order.
func (m *MemStore) Range(fn func(string, [16]byte) bool) {
	for _, k := range m.Keys() {
		if !fn(k, m.Digest(k)) {
			return
		}
	}
}

// Keys lists the keys, sorted.
func (m *MemStore) Keys() []string {
	ks := make([]string, 0, len(m.states))
	for k := range m.states {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Len is the number of keys.
func (m *MemStore) Len() int { return len(m.states) }

// DotBytes is the causal metadata the store keeps for key: the encoded
// size of its register's stamp, Lamport time and dot (0 if absent).
func (m *MemStore) DotBytes(key string) int {
	s, ok := m.states[key]
	if !ok {
		return 0
	}
	ts, d, _, _ := DecodeLWW(s)
	return uvarintLen(ts) + uvarintLen(d.Counter) + uvarintLen(uint64(len(d.Node))) + len(d.Node)
}
