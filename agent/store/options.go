package store

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configures a Store. Start from DefaultOptions; Open refuses
// options that fail Validate.
type Options struct {
	// MaxKeyBytes is the longest key accepted, in bytes, from local
	// writes and remote deltas alike (all nodes should use the same
	// value). Range [1, 65536]; default 512.
	MaxKeyBytes int
	// MaxValueBytes bounds one value handed to a local operation, in
	// bytes: Put's value, each element of Add and Remove, the text of
	// TextInsert, a SaveMeta value. Range [1, 1<<30]; default 1 MiB.
	MaxValueBytes int
	// MaxStateBytes bounds a key's encoded state after a local write, in
	// bytes; a write that would exceed it is refused and changes nothing.
	// Remote deltas and states are always merged (refusing them would let
	// replicas diverge). Range [MaxValueBytes, 1<<31]; default 16 MiB.
	MaxStateBytes int
	// FeedLen is how many changes the persisted change feed keeps, in
	// changes; older ones are dropped and a cursor before them gets
	// ErrCursorTooOld. Range [1, 1e9]; default 100000.
	FeedLen int
	// FeedValueBytes: a change's new value is stored in the feed when its
	// JSON encoding is at most this many bytes; larger values are left out
	// (Change.Value is nil and the reader re-reads the key). 0 stores no
	// values. Range [0, MaxValueBytes]; default 4096.
	FeedValueBytes int
	// MaxClockAhead bounds how far beyond the physical time handed in a
	// remote register timestamp may pull the hybrid logical clock; a
	// farther one is still merged but logged and not followed. 0 disables
	// the bound. Range [0, 24h]; default 10s.
	MaxClockAhead time.Duration
	// SyncAfterCommit calls the datastore's Sync after every batch commit,
	// for datastores whose commit is not durable by itself. The datastore
	// from OpenPebble syncs every commit, so this stays off for it.
	SyncAfterCommit bool
	// Logger receives warnings (a peer's clock far ahead). Nil discards.
	Logger *slog.Logger
}

// DefaultOptions returns the options the agent uses.
func DefaultOptions() Options {
	return Options{
		MaxKeyBytes:    512,
		MaxValueBytes:  1 << 20,
		MaxStateBytes:  16 << 20,
		FeedLen:        100_000,
		FeedValueBytes: 4096,
		MaxClockAhead:  10 * time.Second,
	}
}

// Validate reports the first field outside its allowed range.
func (o Options) Validate() error {
	check := func(name string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("store: Options.%s = %d, want [%d, %d]", name, v, lo, hi)
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		v, lo, hi int64
	}{
		{"MaxKeyBytes", int64(o.MaxKeyBytes), 1, 1 << 16},
		{"MaxValueBytes", int64(o.MaxValueBytes), 1, 1 << 30},
		{"MaxStateBytes", int64(o.MaxStateBytes), int64(o.MaxValueBytes), 1 << 31},
		{"FeedLen", int64(o.FeedLen), 1, 1e9},
		{"FeedValueBytes", int64(o.FeedValueBytes), 0, int64(o.MaxValueBytes)},
		{"MaxClockAhead", int64(o.MaxClockAhead), 0, int64(24 * time.Hour)},
	} {
		if err := check(c.name, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	return nil
}
