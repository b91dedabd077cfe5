package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hearsay-mesh/hearsay/crdt"
)

// ApplyDelta merges a delta produced by a mutator of any replica (this one
// included) and returns the visible changes it made, already numbered in
// the feed and persisted. Merging is idempotent and commutative: a
// duplicate or an old delta changes nothing and returns no change. A delta
// that cannot be decoded or applied returns an error matching ErrMalformed
// and changes nothing. physNow (nanoseconds) lets the hybrid logical clock
// follow the register timestamps received.
//
// Text operations whose causal predecessors have not arrived yet wait in
// memory (not persisted) until they do; anti-entropy repairs them after a
// restart.
func (s *Store) ApplyDelta(delta []byte, physNow int64) ([]Change, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	kds, err := decodeDelta(delta, s.self, s.reg, s.opts.MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return s.merge(kds, physNow, false)
}

// ApplyKeyDelta is ApplyDelta for a delta that must change key and no
// other: a broadcast names the key its delta changes (anti-entropy files
// the writer's dot under that key), and a delta touching another key would
// leave that key's Merkle entry stale. Such a delta is refused (ErrMalformed)
// and changes nothing.
func (s *Store) ApplyKeyDelta(key string, delta []byte, physNow int64) ([]Change, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	kds, err := decodeDelta(delta, s.self, s.reg, s.opts.MaxKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	for _, kd := range kds {
		if kd.key != key {
			return nil, fmt.Errorf("%w: the delta changes key %q, the broadcast names %q", ErrMalformed, kd.key, key)
		}
	}
	return s.merge(kds, physNow, false)
}

// State returns key's full state, canonically encoded, for anti-entropy;
// ok is false if the key has no state. Replicas holding the same state
// return the same bytes.
func (s *Store) State(key string) (state []byte, ok bool) {
	e, ok := s.keys[key]
	if !ok || e.digest == ([16]byte{}) {
		return nil, false
	}
	return encodeRecord(e), true
}

// Digest returns a 16-byte hash of key's state (State's bytes); replicas
// holding the same state return the same digest. The zero digest means
// the key has no state.
func (s *Store) Digest(key string) [16]byte {
	if e, ok := s.keys[key]; ok {
		return e.digest
	}
	return [16]byte{}
}

// MergeState joins a peer's full state of key (its State) into the local
// one and returns the visible changes (Op OpMerge, or OpDel when the key
// disappeared). Compare Digest before and after to learn whether the state
// changed at all. A state that cannot be decoded returns an error matching
// ErrMalformed and changes nothing. It is MergeStates with one state.
func (s *Store) MergeState(key string, state []byte) ([]Change, error) {
	changes, _, err := s.MergeStates([]KeyState{{Key: key, State: state}})
	return changes, err
}

// KeyState is one key's full state, as State returns it.
type KeyState struct {
	Key   string
	State []byte
}

// MergeStates joins peers' full states of several keys (each as
// MergeState would) in one datastore batch: one commit, so one durable
// sync, for all of them; it returns once that commit is done. It returns
// the visible changes, in key order, and changed[i], whether the state of
// states[i].Key changed. A key may appear more than once (its states are
// all joined). If any state cannot be decoded, or any key is invalid, it
// returns an error matching ErrMalformed naming that key, and changes
// nothing: no state of the batch is merged. MergeStates does not keep
// states: the caller may reuse them once it returns.
//
// A state whose key holds nothing yet becomes the key's entry as decoded
// (no join), and its digest is that of the bytes received: the decoders
// accept only canonical encodings, so they are the bytes State would
// return. The stored record is the entry's compact form.
func (s *Store) MergeStates(states []KeyState) (changes []Change, changed []bool, err error) {
	if err := s.usable(); err != nil {
		return nil, nil, err
	}
	total := 0
	for _, st := range states {
		if err := checkKey(st.Key, s.opts.MaxKeyBytes); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		total += len(st.State)
	}
	// merge wants the keys sorted; equal keys stay in their order.
	order := make([]int, len(states))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(states[i].Key, states[j].Key) })
	// One copy of all the states: nothing decoded from them may alias
	// the caller's buffer.
	buf := make([]byte, 0, total)
	kds := make([]keyDelta, len(states))
	for j, i := range order {
		st := states[i]
		b := buf[len(buf) : len(buf)+len(st.State) : len(buf)+len(st.State)]
		buf = append(buf, st.State...)
		o, err := decodeRecord(b, s.self, s.reg)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: key %q: %w", ErrMalformed, st.Key, err)
		}
		kd := keyDelta{key: st.Key, m: o.m}
		if o.doc != nil {
			kd.text = o.doc.State()
		} else {
			kd.whole, kd.digest = o, digestOf(b)
		}
		kds[j] = kd
	}
	before := make([][16]byte, len(states))
	for i, st := range states {
		before[i] = s.Digest(st.Key)
	}
	changes, err = s.merge(kds, 0, true)
	if err != nil {
		return nil, nil, err
	}
	changed = make([]bool, len(states))
	for i, st := range states {
		changed[i] = s.Digest(st.Key) != before[i]
	}
	return changes, changed, nil
}

// merge joins deltas (or states) into the keyspace, persists what changed
// in one batch and returns the visible changes. kds is sorted by key;
// equal keys (only MergeStates passes them) are adjacent and all joined.
// On error nothing has changed.
func (s *Store) merge(kds []keyDelta, physNow int64, isState bool) ([]Change, error) {
	before := make([]seen, len(kds))
	touched := make([]string, 0, len(kds))
	for i := range kds {
		kd := &kds[i]
		touched = append(touched, kd.key)
		e, ok := s.keys[kd.key]
		last := i+1 == len(kds) || kds[i+1].key != kd.key
		if !ok && kd.whole != nil && last && (i == 0 || kds[i-1].key != kd.key) {
			// A key this store has never held, received once: the
			// decoded state is the entry, its bytes the record.
			s.keys[kd.key] = kd.whole
			kd.fast = true
			continue
		}
		if !ok {
			e = newEntry(s.self)
			s.keys[kd.key] = e
		}
		if i > 0 && kds[i-1].key == kd.key {
			before[i] = before[i-1] // the value before the first state of the key
		} else {
			before[i].v, before[i].ok = e.value()
		}
		if !kd.text.IsEmpty() {
			if err := s.ensureDoc(e); err != nil {
				s.reload(touched...)
				return nil, err
			}
			if err := e.doc.Apply(kd.text); err != nil {
				s.reload(touched...)
				return nil, fmt.Errorf("%w: key %q: %w", ErrMalformed, kd.key, err)
			}
		}
		e.m.Join(kd.m)
		if !isState {
			s.observe(*kd, physNow)
		}
	}
	var recs []recWrite
	var changes []Change
	for i, kd := range kds {
		if i+1 < len(kds) && kds[i+1].key == kd.key {
			continue // the key's last state sees the joined entry
		}
		e := s.keys[kd.key]
		if e.empty() {
			continue // a new key that stays empty (its entry is dropped below)
		}
		var d [16]byte
		if kd.fast {
			d = kd.digest
		} else {
			d = digestOf(encodeRecord(e))
		}
		if d == e.digest {
			continue
		}
		recs = append(recs, recWrite{kd.key, encodeStored(e, s.dict), d})
		v, ok := e.value()
		if ok == before[i].ok && (!ok || v.Equal(before[i].v)) {
			continue // only metadata changed
		}
		ch := Change{Key: kd.key, Origin: OriginRemote, Type: before[i].v.Type}
		if ok {
			ch.Type, ch.Value = v.Type, &v
		}
		ch.Op = inferOp(kd, before[i], ok, v, isState)
		changes = append(changes, ch)
	}
	if len(recs) == 0 {
		s.dropEmpty(touched)
		return nil, nil
	}
	f, err := s.commit(recs, changes)
	if err != nil {
		s.reload(touched...)
		return nil, err
	}
	s.feed = f
	for _, r := range recs {
		e := s.keys[r.key]
		e.digest = r.digest
		s.present.set(r.key, e.present())
	}
	s.dropEmpty(touched)
	return changes, nil
}

// dropEmpty forgets entries created for keys that stayed empty.
func (s *Store) dropEmpty(keys []string) {
	for _, k := range keys {
		if e := s.keys[k]; e.digest == ([16]byte{}) && e.empty() {
			delete(s.keys, k)
		}
	}
}

// observe lets the clock follow a received register timestamp.
func (s *Store) observe(kd keyDelta, physNow int64) {
	f, ok := kd.m.Fields().Field(fieldName, crdt.TagLWW)
	if !ok {
		return
	}
	if _, ts, ok := f.(*crdt.LWWField).Value(); ok {
		if _, err := s.hlc.Observe(ts, physNow); err != nil {
			s.log.Warn("register timestamp far ahead of local time; merged but not followed",
				"key", kd.key, "remote_wall_ns", ts.Wall, "local_ns", physNow)
		}
	}
}

// seen is a key's value before a merge.
type seen struct {
	v  Value
	ok bool
}

// inferOp names the operation behind a remote change: OpDel when the key
// disappeared, OpMerge for a state merge, else from the key's type and what
// changed.
func inferOp(kd keyDelta, before seen, ok bool, v Value, isState bool) Op {
	switch {
	case !ok:
		return OpDel
	case isState:
		return OpMerge
	}
	switch v.Type {
	case TypeCounter:
		if before.ok && before.v.Type == TypeCounter && v.Int < before.v.Int {
			return OpDec
		}
		return OpInc
	case TypeSet:
		if f, ok := kd.m.Fields().Field(fieldName, crdt.TagAWSet); ok && f.(*crdt.SetField).Len() > 0 {
			return OpAdd
		}
		return OpRemove
	case TypeText:
		return OpText
	}
	return OpPut
}
