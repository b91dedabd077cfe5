package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// Store is the agent's durable keyspace. It is not safe for concurrent use:
// one goroutine (the agent's event loop) makes every call.
type Store struct {
	ds   datastore.Batching
	self crdt.NodeID
	opts Options
	log  *slog.Logger
	reg  *crdt.Registry
	hlc  *crdt.HLC
	dict *nodeDict // numbers the writers named in stored records

	keys    map[string]*entry // every key with a persisted record; lookups only
	present index             // keys that exist, sorted
	feed    feedState
	broken  error // set when memory could not be brought back in line with the datastore
}

// Open restores the store kept in ds (empty if ds holds none) for replica
// self. It reads every record: a record that cannot be decoded makes Open
// fail with an error naming the key and matching ErrCorrupt. The Store does
// not own ds; the caller closes it after the last call.
func Open(ds datastore.Batching, self crdt.NodeID, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if self == "" {
		return nil, fmt.Errorf("%w: empty node ID", ErrInvalid)
	}
	reg, err := crdt.NewRegistry().With(tagText, decodeTextFlag)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{ds: ds, self: self, opts: opts, log: log, reg: reg, keys: map[string]*entry{}}
	version, err := s.readVersion()
	if err != nil {
		return nil, err
	}
	if err := s.loadFeed(); err != nil {
		return nil, err
	}
	if err := s.loadDict(); err != nil {
		return nil, err
	}
	// The clock starts unbounded so that it can take in every stored
	// timestamp, then gets its bound.
	s.hlc = crdt.NewHLC(0)
	legacy, err := s.loadRecords()
	if err != nil {
		return nil, err
	}
	s.hlc.MaxAhead = int64(opts.MaxClockAhead)
	// Everything has been read and checked: only now write. The version
	// goes first, so a build that reads only older formats refuses a store
	// whose migration was interrupted.
	if version != formatVersion {
		if err := s.putSynced(datastore.NewKey(keyVersion), []byte(formatVersion)); err != nil {
			return nil, err
		}
	}
	if err := s.migrate(legacy); err != nil {
		return nil, err
	}
	if err := s.trimFeed(); err != nil {
		return nil, err
	}
	return s, nil
}

func bg() context.Context { return context.Background() }

// readVersion returns the format version of the datastore ("" when it
// holds no store yet): formatVersion, or an older format whose records
// Open migrates.
func (s *Store) readVersion() (string, error) {
	v, err := s.ds.Get(bg(), datastore.NewKey(keyVersion))
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("store: read %s: %w", keyVersion, err)
	case string(v) != formatVersion && string(v) != formatV2 && string(v) != formatV1:
		return "", fmt.Errorf("%w: %s is %q, this build reads %q, %q and %q", ErrCorrupt, keyVersion, v, formatV1, formatV2, formatVersion)
	}
	return string(v), nil
}

// recordFormats lists where each format's records live, newest first.
// Open reads them all and rewrites the older ones in the newest.
func recordFormats() [3]string { return [3]string{prefixRecord, prefixRecordV2, prefixRecordV1} }

// legacyRecord is a record Open read in an older format.
type legacyRecord struct{ key, prefix string }

// loadRecords reads every key's record into memory: the stored records
// (format 3), then the records of older formats left by an older build
// (or an interrupted migration), which it returns for migrate.
func (s *Store) loadRecords() (legacy []legacyRecord, err error) {
	for _, prefix := range recordFormats() {
		res, err := s.ds.Query(bg(), query.Query{Prefix: prefix})
		if err != nil {
			return nil, fmt.Errorf("store: query records: %w", err)
		}
		for r := range res.Next() {
			if r.Error != nil {
				res.Close()
				return nil, fmt.Errorf("store: read records: %w", r.Error)
			}
			key, err := keyOfRecord(r.Key, prefix)
			if _, dup := s.keys[key]; err == nil && dup {
				err = fmt.Errorf("%w: key %q has records in two formats (%s and another)", ErrCorrupt, key, prefix)
			}
			var e *entry
			if err == nil {
				e, err = s.decodeEntryAt(prefix, key, r.Value)
			}
			if err != nil {
				res.Close()
				return nil, err
			}
			if prefix != prefixRecord {
				legacy = append(legacy, legacyRecord{key, prefix})
			}
			s.keys[key] = e
			s.present.set(key, e.present())
			if f, ok := e.m.Fields().Field(fieldName, crdt.TagLWW); ok {
				if _, ts, ok := f.(*crdt.LWWField).Value(); ok {
					_, _ = s.hlc.Observe(ts, 0)
				}
			}
		}
		if err := res.Close(); err != nil {
			return nil, fmt.Errorf("store: read records: %w", err)
		}
	}
	return legacy, nil
}

// migrateBatch is how many older-format records one migration batch
// rewrites.
const migrateBatch = 1024

// migrate rewrites records of older formats in the current one: each
// batch writes the new records, the dictionary numbers they use and the
// deletion of the old records, so a crash leaves every key in exactly one
// format.
func (s *Store) migrate(recs []legacyRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), migrateBatch)
		b, err := s.ds.Batch(bg())
		if err != nil {
			return fmt.Errorf("store: batch: %w", err)
		}
		for _, r := range recs[:n] {
			if err := b.Put(bg(), recordKey(r.key), encodeStored(s.keys[r.key], s.dict)); err != nil {
				return fmt.Errorf("store: migrate key %q: %w", r.key, err)
			}
			if err := b.Delete(bg(), recordKeyAt(r.prefix, r.key)); err != nil {
				return fmt.Errorf("store: migrate key %q: %w", r.key, err)
			}
		}
		if err := s.commitBatch(b); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// decodeEntryAt decodes a record read under prefix; the digest is that of
// the canonical state.
func (s *Store) decodeEntryAt(prefix, key string, b []byte) (*entry, error) {
	switch prefix {
	case prefixRecordV1:
		// Format 1: the record is the canonical state.
		e, err := decodeRecord(b, s.self, s.reg)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q (format 1): %v", ErrCorrupt, key, err)
		}
		e.digest = digestOf(b)
		return e, nil
	case prefixRecordV2:
		return s.decodeEntry(key, b, crdt.CompactV1)
	}
	return s.decodeEntry(key, b, crdt.CompactLatest)
}

// decodeEntry decodes a stored record whose map has layout v; the digest
// is that of the canonical state.
func (s *Store) decodeEntry(key string, b []byte, v crdt.CompactVersion) (*entry, error) {
	e, err := decodeStored(b, v, s.self, s.reg, s.dict)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", ErrCorrupt, key, err)
	}
	e.digest = digestOf(encodeRecord(e))
	return e, nil
}

// putSynced writes one datastore entry durably.
func (s *Store) putSynced(k datastore.Key, v []byte) error {
	b, err := s.ds.Batch(bg())
	if err != nil {
		return fmt.Errorf("store: batch: %w", err)
	}
	if err := b.Put(bg(), k, v); err != nil {
		return fmt.Errorf("store: put %s: %w", k, err)
	}
	return s.commitBatch(b)
}

// commitBatch commits b with the node numbers assigned since the last
// commit, which the records in b may use.
func (s *Store) commitBatch(b datastore.Batch) error {
	n := len(s.dict.ids)
	if err := s.dict.putPending(b); err != nil {
		return err
	}
	if err := b.Commit(bg()); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if s.opts.SyncAfterCommit {
		if err := s.ds.Sync(bg(), datastore.NewKey(prefixRoot)); err != nil {
			// The batch is committed but perhaps not durable: the caller
			// acknowledges nothing, and the store stops (fail-stop, as
			// after a failed fsync nothing more can be trusted). Going on
			// reused the batch's feed sequence numbers, overwriting its
			// change records, and the write sat in the datastore unannounced.
			s.broken = fmt.Errorf("sync after commit: %w", err)
			return fmt.Errorf("store: sync: %w", err)
		}
	}
	s.dict.committed(n)
	return nil
}

// recWrite is a record to persist.
type recWrite struct {
	key    string
	data   []byte   // the stored record (encodeStored)
	digest [16]byte // digest of the canonical state (encodeRecord)
}

// commit persists records and appends changes to the feed, in one batch.
// It fills in the changes' sequence numbers. Memory (entries, feed
// counters) is updated by the caller only after it returns nil.
func (s *Store) commit(recs []recWrite, changes []Change) (feedState, error) {
	b, err := s.ds.Batch(bg())
	if err != nil {
		return feedState{}, fmt.Errorf("store: batch: %w", err)
	}
	for _, r := range recs {
		if err := b.Put(bg(), recordKey(r.key), r.data); err != nil {
			return feedState{}, fmt.Errorf("store: put key %q: %w", r.key, err)
		}
	}
	next, err := s.appendChanges(b, changes)
	if err != nil {
		return feedState{}, err
	}
	if err := s.commitBatch(b); err != nil {
		return feedState{}, err
	}
	return next, nil
}

// Healthy is nil unless the store stopped (ErrBroken): a failed write it
// could not undo in memory, or a failed sync after a commit.
func (s *Store) Healthy() error { return s.usable() }

// usable returns the error that stops a broken store.
func (s *Store) usable() error {
	if s.broken != nil {
		return fmt.Errorf("%w: %v", ErrBroken, s.broken)
	}
	return nil
}

// reload replaces the in-memory state of keys with what the datastore
// holds: it undoes changes whose write failed or was refused.
func (s *Store) reload(keys ...string) {
	for _, key := range keys {
		b, err := s.ds.Get(bg(), recordKey(key))
		switch {
		case errors.Is(err, datastore.ErrNotFound):
			delete(s.keys, key)
			s.present.set(key, false)
			continue
		case err != nil:
			s.broken = fmt.Errorf("reload key %q: %w", key, err)
			return
		}
		e, err := s.decodeEntry(key, b, crdt.CompactLatest)
		if err != nil {
			s.broken = err
			return
		}
		s.keys[key] = e
		s.present.set(key, e.present())
	}
}
