package store

import (
	"fmt"
	"slices"
)

// Get returns key's value; ok is false if the key does not exist. Readers
// never touch the datastore: every record was read and checked by Open.
func (s *Store) Get(key string) (Value, bool) {
	e, ok := s.keys[key]
	if !ok {
		return Value{}, false
	}
	return e.value()
}

// Text returns the text of text key. It returns an error matching
// ErrNotFound or ErrWrongType when key is missing or of another type.
func (s *Store) Text(key string) (string, error) {
	e, ok := s.keys[key]
	if !ok || !e.present() {
		return "", fmt.Errorf("%w: key %q", ErrNotFound, key)
	}
	if t, _ := e.typ(); t != TypeText {
		return "", &WrongTypeError{Key: key, Type: t, Op: OpText}
	}
	if e.doc == nil {
		return "", nil
	}
	return e.doc.Text(), nil
}

// Keys returns up to limit existing keys that start with prefix and sort
// after after (byte order), and the after value for the next page ("" when
// this page is the last). limit <= 0 means no limit.
func (s *Store) Keys(prefix, after string, limit int) (keys []string, next string) {
	return s.present.page(prefix, after, limit)
}

// Len returns the number of existing keys.
func (s *Store) Len() int { return s.present.Len() }

// Range calls fn, in key order, for every key that has a state (including
// deleted keys, whose state remembers the deletion) until fn returns
// false. It is anti-entropy's view of the keyspace.
func (s *Store) Range(fn func(key string, digest [16]byte) bool) {
	keys := make([]string, 0, len(s.keys))
	for k := range s.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !fn(k, s.keys[k].digest) {
			return
		}
	}
}
