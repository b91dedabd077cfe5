package store

import (
	"errors"
	"testing"

	"github.com/ipfs/go-datastore/failstore"
)

// A Sync that fails after a successful Commit stops the store: the write
// is not acknowledged, and no later write may reuse its feed sequence
// numbers (it did, overwriting the change record, so the feed never
// mentioned a key the datastore held).
func TestFailedSyncAfterCommitStopsTheStore(t *testing.T) {
	fail := false
	ds := failstore.NewFailstore(OpenMemory(), func(op string) error {
		if fail && op == "sync" {
			return errors.New("fsync: EIO")
		}
		return nil
	})
	o := DefaultOptions()
	o.SyncAfterCommit = true
	s, err := Open(ds, "n", o)
	if err != nil {
		t.Fatal(err)
	}
	fail = true
	if _, _, err := s.Put("a", "1", 1); err == nil {
		t.Fatal("a Put whose sync failed was acknowledged")
	}
	fail = false
	if err := s.Healthy(); !errors.Is(err, ErrBroken) {
		t.Fatalf("Healthy after a failed sync: %v, want ErrBroken (the agent's /healthz reports it)", err)
	}
	if _, _, err := s.Put("b", "2", 2); !errors.Is(err, ErrBroken) {
		t.Fatalf("a Put after a failed sync: %v, want ErrBroken", err)
	}
	// Reopened, the store shows what the datastore holds, feed included.
	s2, err := Open(ds, "n", o)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := s2.Changes(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	_, hasA := s2.Get("a")
	mentioned := false
	for _, c := range feed {
		mentioned = mentioned || c.Key == "a"
	}
	if hasA != mentioned {
		t.Fatalf("after reopening: key a present %v, in the feed %v", hasA, mentioned)
	}
	if _, _, err := s2.Put("b", "2", 2); err != nil {
		t.Fatal(err)
	}
}
