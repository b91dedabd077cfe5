package store

import (
	"errors"
	"fmt"

	"github.com/ipfs/go-datastore"
)

// SaveMeta durably stores a small piece of agent metadata (the passive
// view, the broadcast sequence) under name, replacing what was there.
// Metadata is local to this replica: it is not replicated and makes no
// change in the feed.
func (s *Store) SaveMeta(name string, value []byte) error {
	if err := s.usable(); err != nil {
		return err
	}
	if err := checkKey(name, s.opts.MaxKeyBytes); err != nil {
		return fmt.Errorf("meta name: %w", err)
	}
	if len(value) > s.opts.MaxValueBytes {
		return fmt.Errorf("%w: meta %q of %d bytes, limit %d (Options.MaxValueBytes)", ErrTooLarge, name, len(value), s.opts.MaxValueBytes)
	}
	return s.putSynced(metaKey(name), value)
}

// LoadMeta returns the metadata stored under name; ok is false if there is
// none.
func (s *Store) LoadMeta(name string) (value []byte, ok bool, err error) {
	if err := checkKey(name, s.opts.MaxKeyBytes); err != nil {
		return nil, false, fmt.Errorf("meta name: %w", err)
	}
	v, err := s.ds.Get(bg(), metaKey(name))
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("store: load meta %q: %w", name, err)
	}
	return v, true, nil
}
