package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipfs/go-datastore"
)

// feedState is the range of sequence numbers the feed holds: [first, last],
// empty when first == last+1. Sequence numbers start at 1.
type feedState struct {
	first, last uint64
}

func (f feedState) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, f.first)
	return binary.BigEndian.AppendUint64(b, f.last)
}

func (s *Store) loadFeed() error {
	b, err := s.ds.Get(bg(), datastore.NewKey(keyFeed))
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		s.feed = feedState{first: 1}
		return nil
	case err != nil:
		return fmt.Errorf("store: read %s: %w", keyFeed, err)
	case len(b) != 16:
		return fmt.Errorf("%w: %s holds %d bytes, want 16", ErrCorrupt, keyFeed, len(b))
	}
	f := feedState{first: binary.BigEndian.Uint64(b), last: binary.BigEndian.Uint64(b[8:])}
	if f.first == 0 || f.first > f.last+1 {
		return fmt.Errorf("%w: %s range [%d, %d]", ErrCorrupt, keyFeed, f.first, f.last)
	}
	s.feed = f
	return nil
}

// appendChanges numbers changes, adds them to batch b, drops the oldest
// changes beyond Options.FeedLen and returns the feed's new range.
func (s *Store) appendChanges(b datastore.Batch, changes []Change) (feedState, error) {
	f := s.feed
	for i := range changes {
		f.last++
		changes[i].Seq = f.last
		c := changes[i]
		if c.Value != nil && !s.fitsFeed(c.Value) {
			c.Value = nil
		}
		data, err := json.Marshal(c)
		if err != nil {
			return feedState{}, fmt.Errorf("store: encode change: %w", err)
		}
		if err := b.Put(bg(), changeKey(f.last), data); err != nil {
			return feedState{}, fmt.Errorf("store: put change %d: %w", f.last, err)
		}
	}
	for f.last-f.first+1 > uint64(s.opts.FeedLen) {
		if err := b.Delete(bg(), changeKey(f.first)); err != nil {
			return feedState{}, fmt.Errorf("store: drop change %d: %w", f.first, err)
		}
		f.first++
	}
	if err := b.Put(bg(), datastore.NewKey(keyFeed), f.encode()); err != nil {
		return feedState{}, fmt.Errorf("store: put feed range: %w", err)
	}
	return f, nil
}

func (s *Store) fitsFeed(v *Value) bool {
	if s.opts.FeedValueBytes == 0 {
		return false
	}
	// A cheap bound first: most values are far below the limit.
	n := len(v.Str) + 8
	for _, e := range v.List {
		n += len(e) + 3
	}
	if 2*n+64 <= s.opts.FeedValueBytes {
		return true
	}
	data, err := json.Marshal(v)
	return err == nil && len(data) <= s.opts.FeedValueBytes
}

// trimFeed drops the changes beyond Options.FeedLen (after the limit was
// lowered between runs).
func (s *Store) trimFeed() error {
	if s.feed.last-s.feed.first+1 <= uint64(s.opts.FeedLen) {
		return nil
	}
	b, err := s.ds.Batch(bg())
	if err != nil {
		return fmt.Errorf("store: batch: %w", err)
	}
	f, err := s.appendChanges(b, nil)
	if err != nil {
		return err
	}
	if err := s.commitBatch(b); err != nil {
		return err
	}
	s.feed = f
	return nil
}

// Seq returns the sequence number of the latest change (0 before the
// first). A client that has just read the keyspace resumes the feed from
// it.
func (s *Store) Seq() uint64 { return s.feed.last }

// Changes returns up to limit changes with sequence numbers after cursor
// after, oldest first; an empty result means the client is up to date.
// Start with the Seq() read together with the keyspace (or 0 on a new
// store). It returns ErrCursorTooOld when changes after the cursor have
// already left the feed, and ErrCursorAhead for a cursor beyond Seq().
// limit must be positive.
func (s *Store) Changes(after uint64, limit int) ([]Change, error) {
	switch {
	case limit <= 0:
		return nil, fmt.Errorf("%w: limit %d", ErrInvalid, limit)
	case after > s.feed.last:
		return nil, fmt.Errorf("%w: cursor %d, last change %d", ErrCursorAhead, after, s.feed.last)
	case after+1 < s.feed.first:
		return nil, fmt.Errorf("%w: cursor %d, feed starts at %d", ErrCursorTooOld, after, s.feed.first)
	}
	var out []Change
	for seq := after + 1; seq <= s.feed.last && len(out) < limit; seq++ {
		data, err := s.ds.Get(bg(), changeKey(seq))
		if err != nil {
			return nil, fmt.Errorf("store: read change %d: %w", seq, err)
		}
		var c Change
		if err := json.Unmarshal(data, &c); err != nil || c.Seq != seq {
			return nil, fmt.Errorf("%w: change %d: %v", ErrCorrupt, seq, err)
		}
		out = append(out, c)
	}
	return out, nil
}
