package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/failstore"
	"github.com/ipfs/go-datastore/query"
)

// dsDump returns every entry of a datastore, for before/after comparisons.
func dsDump(t testing.TB, ds datastore.Datastore) map[string]string {
	t.Helper()
	res, err := ds.Query(context.Background(), query.Query{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for r := range res.Next() {
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		out[r.Key] = string(r.Value)
	}
	return out
}

// TestDigestIndependentOfNumbering: two replicas that number the writers
// differently (each numbers itself 0) store different bytes but hold equal
// states and digests for equal state, before and after a restart, so
// anti-entropy's Merkle trees agree.
func TestDigestIndependentOfNumbering(t *testing.T) {
	dsA, dsB := OpenMemory(), OpenMemory()
	a, err := Open(dsA, peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dsB, peerB, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ok := must[Change](t)
	// Each replica writes first (taking number 0), then learns the other.
	for _, x := range []struct {
		s    *Store
		pfx  string
		wall int64
	}{{a, "a", wallNs}, {b, "b", wallNs + 7}} {
		ok(x.s.Put(x.pfx+"reg", "v", x.wall))
		ok(x.s.Inc("ctr", 2))
		ok(x.s.Add("set", x.pfx+"1", x.pfx+"2"))
		ok(x.s.TextInsert("doc", 0, x.pfx))
		ok(x.s.Put("both", x.pfx, x.wall))
	}
	ok(a.Remove("set", "a1"))
	sync := func(from, to *Store) {
		from.Range(func(k string, _ [16]byte) bool {
			st, _ := from.State(k)
			if _, err := to.MergeState(k, st); err != nil {
				t.Fatal(err)
			}
			return true
		})
	}
	sync(a, b)
	sync(b, a)
	if a.dict.ids[0] != peerA || b.dict.ids[0] != peerB {
		t.Fatalf("numbering: a %v, b %v", a.dict.ids, b.dict.ids)
	}
	check := func(a, b *Store) {
		t.Helper()
		n := 0
		a.Range(func(k string, d [16]byte) bool {
			n++
			sa, _ := a.State(k)
			sb, _ := b.State(k)
			if d != b.Digest(k) || !bytes.Equal(sa, sb) {
				t.Errorf("%s: digests or states differ", k)
			}
			if d != digestOf(sa) {
				t.Errorf("%s: digest is not that of the state", k)
			}
			return true
		})
		if n != 6 || b.Len() != 6 {
			t.Fatalf("%d and %d keys, want 6", n, b.Len())
		}
	}
	check(a, b)
	differ := 0
	for _, k := range []string{"areg", "breg", "ctr", "set", "doc", "both"} {
		ra, _ := dsA.Get(context.Background(), recordKey(k))
		rb, _ := dsB.Get(context.Background(), recordKey(k))
		if !bytes.Equal(ra, rb) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("stored records identical: the numberings do not differ")
	}
	a2, err := Open(dsA, peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Open(dsB, peerB, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	check(a2, b2)
	check(a2, a)
}

// TestMigrateFormat1: a datastore written by a format-1 build (records
// under /store/k holding the canonical state) opens with the same values,
// digests and feed, leaves no format-1 record behind, and is marked
// format 2; a second Open changes nothing.
func TestMigrateFormat1(t *testing.T) {
	src, err := Open(OpenMemory(), peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ok := must[Change](t)
	ok(src.Put("reg", "v", wallNs))
	ok(src.Inc("ctr", 3))
	ok(src.Add("set", "x", "y"))
	ok(src.TextInsert("doc", 0, "hello"))
	ok(src.Put("gone", "v", wallNs))
	ok(src.Del("gone"))
	peer := openMem(t, peerB)
	if _, err := src.ApplyDelta(ok(peer.Put("remote", "r", wallNs)), wallNs); err != nil {
		t.Fatal(err)
	}
	// The old layout: version "1", records = canonical states under /store/k.
	old := OpenMemory()
	ctx := context.Background()
	if err := old.Put(ctx, datastore.NewKey(keyVersion), []byte(formatV1)); err != nil {
		t.Fatal(err)
	}
	digests := map[string][16]byte{}
	values := map[string]Value{}
	src.Range(func(k string, d [16]byte) bool {
		st, _ := src.State(k)
		if err := old.Put(ctx, recordKeyV1(k), st); err != nil {
			t.Fatal(err)
		}
		digests[k] = d
		values[k], _ = src.Get(k)
		return true
	})
	s, err := Open(old, peerA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(digests) != 6 {
		t.Fatalf("%d keys", len(digests))
	}
	for k, d := range digests {
		v, _ := s.Get(k)
		if s.Digest(k) != d || !v.Equal(values[k]) {
			t.Errorf("%s: digest or value changed by the migration: %+v", k, v)
		}
	}
	dump := dsDump(t, old)
	for k := range dump {
		if strings.HasPrefix(k, prefixRecordV1+"/") {
			t.Errorf("format-1 record %s left", k)
		}
	}
	if dump[keyVersion] != formatVersion {
		t.Errorf("version %q", dump[keyVersion])
	}
	fp, err := s.Footprint()
	if err != nil || fp.Records != 6 || fp.Nodes != 2 {
		t.Fatalf("footprint %+v %v", fp, err)
	}
	if _, err := Open(old, peerA, DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	if again := dsDump(t, old); len(again) != len(dump) {
		t.Fatal("second Open changed the datastore")
	}
	// Writes continue from the migrated state.
	ok(s.Inc("ctr", 1))
	if v := get(t, s, "ctr"); v.Int != 4 {
		t.Fatalf("ctr = %d", v.Int)
	}
}

// TestCorruptFormat1ChangesNothing: a bad format-1 record fails Open with
// an error naming the key, before anything is written (the version stays
// 1, no record is migrated).
func TestCorruptFormat1ChangesNothing(t *testing.T) {
	ds := OpenMemory()
	ctx := context.Background()
	src := openMem(t, "a")
	must[Change](t)(src.Put("good", "v", 1))
	st, _ := src.State("good")
	_ = ds.Put(ctx, datastore.NewKey(keyVersion), []byte(formatV1))
	_ = ds.Put(ctx, recordKeyV1("good"), st)
	_ = ds.Put(ctx, recordKeyV1("bad key"), st[:len(st)-1])
	before := dsDump(t, ds)
	_, err := Open(ds, "a", DefaultOptions())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"bad key"`) {
		t.Fatalf("err = %v", err)
	}
	after := dsDump(t, ds)
	if len(after) != len(before) {
		t.Fatalf("Open of a corrupt store wrote: %d entries, had %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%s changed", k)
		}
	}
}

// TestCorruptDictionary: a dictionary with a gap, a bad entry, a duplicate
// ID, or a record naming a number the dictionary lacks fails Open with
// ErrCorrupt.
func TestCorruptDictionary(t *testing.T) {
	build := func() datastore.Batching {
		ds := OpenMemory()
		s, err := Open(ds, "a", DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		peer := openMem(t, "b")
		if _, err := s.ApplyDelta(must[Change](t)(peer.Put("k", "v", 1)), 1); err != nil {
			t.Fatal(err)
		}
		must[Change](t)(s.Inc("c", 1))
		return ds
	}
	ctx := context.Background()
	for name, spoil := range map[string]func(ds datastore.Batching){
		"missing number": func(ds datastore.Batching) { _ = ds.Delete(ctx, nodeKey(0)) },
		"record names unknown number": func(ds datastore.Batching) {
			_ = ds.Delete(ctx, nodeKey(1))
		},
		"empty ID":     func(ds datastore.Batching) { _ = ds.Put(ctx, nodeKey(1), nil) },
		"duplicate ID": func(ds datastore.Batching) { _ = ds.Put(ctx, nodeKey(1), []byte("b")) },
		"bad key":      func(ds datastore.Batching) { _ = ds.Put(ctx, datastore.NewKey(prefixNode+"/x"), []byte("c")) },
	} {
		ds := build()
		spoil(ds)
		before := dsDump(t, ds)
		_, err := Open(ds, "a", DefaultOptions())
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v", name, err)
		}
		if name == "record names unknown number" && !strings.Contains(err.Error(), `"c"`) && !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("%s: error does not name the key: %v", name, err)
		}
		if len(dsDump(t, ds)) != len(before) {
			t.Errorf("%s: Open wrote", name)
		}
	}
}

// TestDictionaryNumbersAreDurableFirst: a commit that fails after a new
// writer was numbered leaves the number pending; the next commit writes
// it, and every reopened datastore decodes.
func TestDictionaryNumbersAreDurableFirst(t *testing.T) {
	fail := false
	mem := OpenMemory()
	ds := failstore.NewFailstore(mem, func(op string) error {
		if fail && op == "batch-commit" {
			return errors.New("disk full")
		}
		return nil
	})
	s, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	peer := openMem(t, "b")
	delta := must[Change](t)(peer.Put("k", "v", 1))
	fail = true
	if _, err := s.ApplyDelta(delta, 1); err == nil {
		t.Fatal("commit did not fail")
	}
	if _, err := Open(mem, "a", DefaultOptions()); err != nil {
		t.Fatalf("reopen after the failed commit: %v", err)
	}
	fail = false
	must[Change](t)(s.Inc("c", 1)) // writes the pending number of "b" too
	if _, err := mem.Get(context.Background(), nodeKey(1)); err != nil {
		t.Fatalf("pending number not written by the next commit: %v", err)
	}
	if _, err := s.ApplyDelta(delta, 1); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(mem, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v := get(t, s2, "k"); v.Str != "v" || s2.Digest("k") != s.Digest("k") {
		t.Fatalf("k after reopen: %+v", v)
	}
}

// FuzzDecodeStored: a stored record either decodes to an entry that
// re-encodes to the same bytes, or fails Open with ErrCorrupt naming the
// key and changing nothing in the datastore.
func FuzzDecodeStored(f *testing.F) {
	src := openMem(f, "s")
	for _, d := range seedDeltas(f) {
		if _, err := src.ApplyDelta(d, 0); err != nil {
			f.Fatal(err)
		}
	}
	must[Change](f)(src.Put("f-reg", "v", wallNs))
	src.Range(func(k string, _ [16]byte) bool {
		f.Add(encodeStored(src.keys[k], src.dict))
		return true
	})
	f.Fuzz(func(t *testing.T, rec []byte) {
		dict := &nodeDict{num: map[crdt.NodeID]uint64{}}
		dict.Index("s")
		dict.Index("f")
		reg := src.reg
		e, err := decodeStored(rec, crdt.CompactLatest, "f", reg, dict)
		if err == nil {
			if got := encodeStored(e, dict); !bytes.Equal(got, rec) {
				t.Fatalf("accepted non-canonical record:\n in %x\nout %x", rec, got)
			}
			if len(dict.ids) != 2 {
				t.Fatal("re-encoding numbered a new node")
			}
		}
		ds := OpenMemory()
		ctx := context.Background()
		_ = ds.Put(ctx, datastore.NewKey(keyVersion), []byte(formatVersion))
		_ = ds.Put(ctx, nodeKey(0), []byte("s"))
		_ = ds.Put(ctx, nodeKey(1), []byte("f"))
		_ = ds.Put(ctx, recordKey("k"), rec)
		before := dsDump(t, ds)
		_, oerr := Open(ds, "f", DefaultOptions())
		switch {
		case err == nil && oerr != nil:
			t.Fatalf("record decodes but Open fails: %v", oerr)
		case err != nil && (!errors.Is(oerr, ErrCorrupt) || !strings.Contains(oerr.Error(), `"k"`)):
			t.Fatalf("bad record: Open error %v", oerr)
		case err != nil && len(dsDump(t, ds)) != len(before):
			t.Fatal("Open of a bad record wrote")
		}
	})
}
