package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ipfs/go-datastore"
)

// format2Fixture loads testdata/format2-store.txt: a store of peer A in
// format 2 (records in crdt.CompactV1 under /store/r) written by the build
// before format 3, holding a register written once, one with a logical
// timestamp, one overwritten by peer B, a counter of A and B, a set with a
// removal, peer C's second write to a register without its first, C's
// second add to a set without its first (a cloud), text and a deleted
// key; and each key's canonical
// state, which no migration may change.
func format2Fixture(t *testing.T) (datastore.Batching, map[string][]byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/format2-store.txt")
	if err != nil {
		t.Fatal(err)
	}
	ds := OpenMemory()
	states := map[string][]byte{}
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			t.Fatalf("fixture line %q", line)
		}
		v, err := hex.DecodeString(f[2])
		if err != nil {
			t.Fatal(err)
		}
		switch f[0] {
		case "ds":
			if err := ds.Put(context.Background(), datastore.NewKey(f[1]), v); err != nil {
				t.Fatal(err)
			}
		case "state":
			k, err := hex.DecodeString(f[1])
			if err != nil {
				t.Fatal(err)
			}
			states[string(k)] = v
		default:
			t.Fatalf("fixture line %q", line)
		}
	}
	return ds, states
}

// TestMigrateFormat2: Open rewrites a format-2 store in format 3 without
// changing any key's canonical state (so digests, Merkle trees and what
// anti-entropy sends stay the same), the change feed or the dictionary;
// the records shrink; a second Open writes nothing; writes go on.
func TestMigrateFormat2(t *testing.T) {
	ds, states := format2Fixture(t)
	if len(states) != 9 {
		t.Fatalf("fixture holds %d keys", len(states))
	}
	before := dsDump(t, ds)
	if before[keyVersion] != formatV2 {
		t.Fatalf("fixture version %q", before[keyVersion])
	}
	s, err := Open(ds, peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	s.Range(func(k string, d [16]byte) bool {
		seen++
		want, ok := states[k]
		if got, _ := s.State(k); !ok || !bytes.Equal(got, want) {
			t.Errorf("%q: state changed by the migration:\n got %x\nwant %x", k, got, want)
		}
		if d != digestOf(want) {
			t.Errorf("%q: digest changed", k)
		}
		return true
	})
	if seen != len(states) {
		t.Fatalf("%d keys after the migration, want %d", seen, len(states))
	}
	after := dsDump(t, ds)
	if after[keyVersion] != formatVersion {
		t.Fatalf("version %q after the migration", after[keyVersion])
	}
	oldBytes, newBytes := 0, 0
	for k, v := range before {
		switch {
		case strings.HasPrefix(k, prefixRecordV2+"/"):
			oldBytes += len(v)
			nk := prefixRecord + strings.TrimPrefix(k, prefixRecordV2)
			if _, ok := after[nk]; !ok {
				t.Errorf("%s not rewritten as %s", k, nk)
			}
		case k != keyVersion && after[k] != v:
			t.Errorf("%s (feed, dictionary or meta) changed by the migration", k)
		}
	}
	for k, v := range after {
		if strings.HasPrefix(k, prefixRecordV2+"/") {
			t.Errorf("format-2 record %s left", k)
		}
		if strings.HasPrefix(k, prefixRecord+"/") {
			newBytes += len(v)
		}
	}
	// Saved: reg2 3 (explicit count, cloud count, logical byte), the
	// tombstone 2 (explicit count, cloud count), reg1 and gap 1 each (the
	// logical byte), cloud 1 (explicit count); reg-logical, ctr, set and
	// doc keep their size.
	if oldBytes-newBytes != 8 {
		t.Errorf("records took %d bytes in format 2 and %d in format 3", oldBytes, newBytes)
	}
	if _, err := Open(ds, peerA, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	if again := dsDump(t, ds); len(again) != len(after) {
		t.Fatal("second Open changed the datastore")
	}
	// Writes go on from the migrated state, locally and from B.
	ok := must[Change](t)
	ok(s.Inc("ctr", 1))
	if v := get(t, s, "ctr"); v.Int != 2 {
		t.Fatalf("ctr = %d, want 3 - 2 + 1", v.Int)
	}
	b := openMem(t, peerB)
	st, _ := s.State("reg2")
	if _, err := b.MergeState("reg2", st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyDelta(ok(b.Put("reg2", "newer", wallNs+2000)), wallNs); err != nil {
		t.Fatal(err)
	}
	if v := get(t, s, "reg2"); v.Str != "newer" {
		t.Fatalf("reg2 = %+v", v)
	}
}

// TestMigrateInterrupted: a store whose version says 3 but which still
// holds format-2 records (a migration cut short) is finished by Open; a key
// with records in two formats is refused and nothing is written.
func TestMigrateInterrupted(t *testing.T) {
	ds, states := format2Fixture(t)
	old := dsDump(t, ds)
	if _, err := Open(ds, peerA, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Put "ctr" back in format 2, as if its batch had not committed.
	ctrOld, ctrNew := recordKeyAt(prefixRecordV2, "ctr"), recordKey("ctr")
	if err := ds.Delete(ctx, ctrNew); err != nil {
		t.Fatal(err)
	}
	if err := ds.Put(ctx, ctrOld, []byte(old[ctrOld.String()])); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ds, peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.State("ctr"); !bytes.Equal(got, states["ctr"]) {
		t.Fatal("ctr's state changed")
	}
	if has, _ := ds.Has(ctx, ctrOld); has {
		t.Fatal("format-2 record left")
	}
	// Now both: refused, nothing written.
	if err := ds.Put(ctx, ctrOld, []byte(old[ctrOld.String()])); err != nil {
		t.Fatal(err)
	}
	before := dsDump(t, ds)
	if _, err := Open(ds, peerA, DefaultOptions()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"ctr"`) {
		t.Fatalf("key in two formats: err = %v", err)
	}
	if after := dsDump(t, ds); len(after) != len(before) {
		t.Fatal("a refused Open wrote")
	}
}

// TestCorruptFormat2ChangesNothing: a format-2 record that does not decode
// (here, one cut short) fails Open naming the key, before any write.
func TestCorruptFormat2ChangesNothing(t *testing.T) {
	ds, _ := format2Fixture(t)
	ctx := context.Background()
	k := recordKeyAt(prefixRecordV2, "reg2")
	v, err := ds.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Put(ctx, k, v[:len(v)-1]); err != nil {
		t.Fatal(err)
	}
	before := dsDump(t, ds)
	if _, err := Open(ds, peerA, DefaultOptions()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"reg2"`) {
		t.Fatalf("err = %v", err)
	}
	after := dsDump(t, ds)
	if len(after) != len(before) {
		t.Fatal("Open of a corrupt store wrote")
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s changed", k)
		}
	}
}
