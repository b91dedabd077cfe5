package store

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/hearsay-mesh/hearsay/crdt/text"
)

// Local mutators. Each one checks its arguments and the key's type, applies
// the operation, persists the key's new state and the change record in one
// synced batch, and only then returns the encoded delta to broadcast (feed
// it to the other replicas' ApplyDelta) and the Change (with its Seq). On
// any error nothing has changed, in memory or in the datastore.

// Put writes value to register key. physNow is the current physical time
// in nanoseconds (normally Unix time); it drives the hybrid logical clock
// that orders concurrent writes.
func (s *Store) Put(key, value string, physNow int64) ([]byte, Change, error) {
	if err := s.checkValue(key, value); err != nil {
		return nil, Change{}, err
	}
	return s.local(key, TypeRegister, OpPut, false, func(e *entry) (keyDelta, error) {
		return keyDelta{m: e.m.SetLWW(fieldName, value, s.hlc.Now(physNow))}, nil
	})
}

// PutMV writes value to multi-value register key: it replaces the values
// this replica has seen; values written concurrently elsewhere are kept
// beside it until a later write has seen them.
func (s *Store) PutMV(key, value string) ([]byte, Change, error) {
	if err := s.checkValue(key, value); err != nil {
		return nil, Change{}, err
	}
	return s.local(key, TypeMVRegister, OpPut, false, func(e *entry) (keyDelta, error) {
		return keyDelta{m: e.m.SetMV(fieldName, value)}, nil
	})
}

// Inc adds by (which may be negative) to counter key. A sum beyond the
// int64 range is refused (ErrInvalid): it wrapped (two increments by
// MaxInt64 read -2), persisted and replicated. Concurrent increments at
// other replicas can still carry the merged value past it.
func (s *Store) Inc(key string, by int64) ([]byte, Change, error) {
	return s.local(key, TypeCounter, OpInc, false, func(e *entry) (keyDelta, error) {
		cur, _ := e.m.Counter(fieldName)
		if (by > 0 && cur > math.MaxInt64-by) || (by < 0 && cur < math.MinInt64-by) {
			return keyDelta{}, fmt.Errorf("%w: counter %q is %d; adding %d would pass the int64 range", ErrInvalid, key, cur, by)
		}
		return keyDelta{m: e.m.Inc(fieldName, by)}, nil
	})
}

// Dec subtracts by from counter key.
func (s *Store) Dec(key string, by int64) ([]byte, Change, error) {
	if by == math.MinInt64 {
		return nil, Change{}, fmt.Errorf("%w: dec %q by %d", ErrInvalid, key, by)
	}
	return s.local(key, TypeCounter, OpDec, false, func(e *entry) (keyDelta, error) {
		cur, _ := e.m.Counter(fieldName)
		if (by > 0 && cur < math.MinInt64+by) || (by < 0 && cur > math.MaxInt64+by) {
			return keyDelta{}, fmt.Errorf("%w: counter %q is %d; subtracting %d would pass the int64 range", ErrInvalid, key, cur, by)
		}
		return keyDelta{m: e.m.Inc(fieldName, -by)}, nil
	})
}

// Add adds elems to set key.
func (s *Store) Add(key string, elems ...string) ([]byte, Change, error) {
	if err := s.checkElems(key, elems); err != nil {
		return nil, Change{}, err
	}
	return s.local(key, TypeSet, OpAdd, false, func(e *entry) (keyDelta, error) {
		d := e.m.SetAdd(fieldName, crdt.AddWins, elems[0])
		for _, el := range elems[1:] {
			d.Join(e.m.SetAdd(fieldName, crdt.AddWins, el))
		}
		return keyDelta{m: d}, nil
	})
}

// Remove removes elems from set key: the adds of them this replica has
// seen (an add made concurrently elsewhere survives). Removing every
// element deletes the key. It returns ErrNotFound if key does not exist.
func (s *Store) Remove(key string, elems ...string) ([]byte, Change, error) {
	if err := s.checkElems(key, elems); err != nil {
		return nil, Change{}, err
	}
	return s.local(key, TypeSet, OpRemove, true, func(e *entry) (keyDelta, error) {
		d := e.m.SetRemove(fieldName, crdt.AddWins, elems[0])
		for _, el := range elems[1:] {
			d.Join(e.m.SetRemove(fieldName, crdt.AddWins, el))
		}
		return keyDelta{m: d}, nil
	})
}

// Del deletes key, whatever its type: it removes what this replica has
// seen of it (for text, the characters it holds), so a write made
// concurrently elsewhere survives and the key then shows only that write.
// It returns ErrNotFound if key does not exist.
func (s *Store) Del(key string) ([]byte, Change, error) {
	return s.local(key, "", OpDel, true, func(e *entry) (keyDelta, error) {
		if e.doc != nil && e.doc.Parked() > 0 {
			// The key shows present through a parked edit's flag, but the
			// edit's characters are not in the text yet: deleting now would
			// remove the flag and not the characters, which would come back
			// hidden, and with the next insert, visible everywhere.
			return keyDelta{}, fmt.Errorf("%w: %q (%d edits waiting); retry", ErrTextPending, key, e.doc.Parked())
		}
		d := keyDelta{m: e.m.Remove(fieldName)}
		if e.doc != nil && e.doc.Len() > 0 {
			td, err := e.doc.Delete(0, e.doc.Len())
			if err != nil {
				return keyDelta{}, err
			}
			d.text = td
		}
		return d, nil
	})
}

// TextInsert inserts s into text key at position pos, counted in Unicode
// code points (0 <= pos <= length). Inserting into a missing key creates
// it.
func (s *Store) TextInsert(key string, pos int, str string) ([]byte, Change, error) {
	if err := s.checkValue(key, str); err != nil {
		return nil, Change{}, err
	}
	return s.local(key, TypeText, OpText, false, func(e *entry) (keyDelta, error) {
		if err := s.ensureDoc(e); err != nil {
			return keyDelta{}, err
		}
		td, err := e.doc.Insert(pos, str)
		if err != nil {
			return keyDelta{}, fmt.Errorf("%w: key %q: %v", ErrInvalid, key, err)
		}
		return keyDelta{m: e.m.Update(fieldName, tagText, raiseText(s.self)), text: td}, nil
	})
}

// TextDelete deletes n code points of text key from position pos. It
// returns ErrNotFound if key does not exist.
func (s *Store) TextDelete(key string, pos, n int) ([]byte, Change, error) {
	return s.local(key, TypeText, OpText, true, func(e *entry) (keyDelta, error) {
		if err := s.ensureDoc(e); err != nil {
			return keyDelta{}, err
		}
		td, err := e.doc.Delete(pos, n)
		if err != nil {
			return keyDelta{}, fmt.Errorf("%w: key %q: %v", ErrInvalid, key, err)
		}
		return keyDelta{m: e.m.Update(fieldName, tagText, raiseText(s.self)), text: td}, nil
	})
}

func (s *Store) ensureDoc(e *entry) error {
	if e.doc != nil {
		return nil
	}
	d, err := text.New(string(s.self))
	if err != nil {
		return err
	}
	e.doc = d
	return nil
}

// local runs one local operation on key. t is the operation's type ("" for
// any); mustExist refuses a missing key; fn applies the operation to the
// entry and returns the key's delta.
func (s *Store) local(key string, t Type, op Op, mustExist bool, fn func(e *entry) (keyDelta, error)) ([]byte, Change, error) {
	if err := s.usable(); err != nil {
		return nil, Change{}, err
	}
	if err := checkKey(key, s.opts.MaxKeyBytes); err != nil {
		return nil, Change{}, err
	}
	e, ok := s.keys[key]
	cur, exists := Type(""), false
	if ok {
		cur, exists = e.typ()
	}
	if exists && t != "" && cur != t {
		return nil, Change{}, &WrongTypeError{Key: key, Type: cur, Op: op}
	}
	if mustExist && !exists {
		return nil, Change{}, fmt.Errorf("%w: %s on key %q", ErrNotFound, op, key)
	}
	if !ok {
		e = newEntry(s.self)
		s.keys[key] = e
	}
	d, err := fn(e)
	if err != nil {
		s.reload(key)
		return nil, Change{}, err
	}
	if m := e.m.Context().Max(s.self); m > crdt.MaxDotCounter {
		// A merged state claimed this node's dots up to the limit (only a
		// faulty or hostile peer does). Persisting the write made a record
		// every later Open refused as corrupt: the replica never restarted.
		s.reload(key)
		return nil, Change{}, fmt.Errorf("%w: key %q: this node's dot counter for it would pass %d (a state merged from a peer claimed this node's dots up to the limit); the key takes no writes from this node",
			ErrInvalid, key, uint64(crdt.MaxDotCounter))
	}
	rec := encodeRecord(e)
	if len(rec) > s.opts.MaxStateBytes {
		s.reload(key)
		return nil, Change{}, fmt.Errorf("%w: %s would make key %q %d bytes, limit %d (Options.MaxStateBytes)",
			ErrTooLarge, op, key, len(rec), s.opts.MaxStateBytes)
	}
	ch := Change{Key: key, Type: t, Op: op, Origin: OriginLocal}
	if t == "" {
		ch.Type = cur
	}
	if v, ok := e.value(); ok {
		ch.Value = &v
	}
	changes := []Change{ch}
	d0 := digestOf(rec)
	f, err := s.commit([]recWrite{{key, encodeStored(e, s.dict), d0}}, changes)
	if err != nil {
		s.reload(key)
		return nil, Change{}, err
	}
	s.feed = f
	e.digest = d0
	s.present.set(key, e.present())
	d.key = key
	return encodeDelta(d), changes[0], nil
}

// checkValue validates one value of a local write of key.
func (s *Store) checkValue(key, v string) error {
	if len(v) > s.opts.MaxValueBytes {
		return fmt.Errorf("%w: value of %d bytes for key %q, limit %d (Options.MaxValueBytes)",
			ErrTooLarge, len(v), key, s.opts.MaxValueBytes)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: value for key %q is not UTF-8", ErrInvalid, key)
	}
	return nil
}

func (s *Store) checkElems(key string, elems []string) error {
	if len(elems) == 0 {
		return fmt.Errorf("%w: no elements for key %q", ErrInvalid, key)
	}
	for _, el := range elems {
		if err := s.checkValue(key, el); err != nil {
			return err
		}
	}
	return nil
}
