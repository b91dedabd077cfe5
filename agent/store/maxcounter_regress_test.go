package store

import (
	"encoding/hex"
	"errors"
	"testing"
)

// A peer's state claiming this node's dot counter at the limit
// (crdt.MaxDotCounter) was merged, and the next local write took the dot
// past it and persisted it: every later Open refused the store as corrupt,
// so the replica never restarted. The write is now refused and the store
// reopens. (Found by a review of the format-3 change; older than it.)
func TestLocalWritePastMaxDotCounterRefused(t *testing.T) {
	// NewORMap("B") whose context holds A:2^62, after one LWW write of B,
	// in the canonical encoding.
	mb, err := hex.DecodeString("0109020141014202008080808080808080400101000100036c77770101010a000176")
	if err != nil {
		t.Fatal(err)
	}
	st := appendBytes(appendBytes([]byte{recordVersion}, mb), nil)
	ds := OpenMemory()
	s, err := Open(ds, "A", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MergeState("k", st); err != nil {
		t.Fatalf("merge: %v", err)
	}
	before, _ := s.State("k")
	if _, _, err := s.Put("k", "mine", 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("put past the limit: %v, want ErrInvalid", err)
	}
	if after, _ := s.State("k"); string(after) != string(before) {
		t.Fatal("the refused write changed the key")
	}
	if _, err := Open(ds, "A", DefaultOptions()); err != nil {
		t.Fatalf("reopen: %v", err)
	}
}
