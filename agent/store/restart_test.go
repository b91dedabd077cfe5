package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/failstore"
)

// TestRestartRestoresEveryAcknowledgedWrite closes and reopens a pebble
// store: every write that returned without error is back, for every type,
// with the change feed, the metadata and the clock.
func TestRestartRestoresEveryAcknowledgedWrite(t *testing.T) {
	dir := t.TempDir()
	ds, err := OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ok := must[Change](t)
	ok(s.Put("reg", "v", 100))
	ok(s.PutMV("mv", "m"))
	ok(s.Inc("ctr", 41))
	ok(s.Inc("ctr", 1))
	ok(s.Add("set", "x", "y"))
	ok(s.Remove("set", "x"))
	ok(s.TextInsert("doc", 0, "hello"))
	ok(s.TextInsert("doc", 5, "!"))
	ok(s.Add("gone", "z"))
	ok(s.Del("gone"))
	// A remote key too.
	peer := openMem(t, "b")
	if _, err := s.ApplyDelta(ok(peer.Put("remote", "r", 50)), 60); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveMeta("plumtree.seq", []byte{7}); err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{}
	digests := map[string][16]byte{}
	for _, k := range []string{"reg", "mv", "ctr", "set", "doc", "remote", "gone"} {
		if v, ok := s.Get(k); ok {
			want[k] = v
		}
		digests[k] = s.Digest(k)
	}
	seq := s.Seq()
	feed, err := s.Changes(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}

	ds, err = OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	s, err = Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for k, d := range digests {
		if got := s.Digest(k); got != d {
			t.Errorf("%s: digest changed across restart", k)
		}
		v, ok := s.Get(k)
		if w, had := want[k]; ok != had || (ok && !v.Equal(w)) {
			t.Errorf("%s: %+v (%v), want %+v (%v)", k, v, ok, w, had)
		}
	}
	if len(want) != 6 || s.Len() != 6 {
		t.Errorf("keys: want 6, had %d, have %d", len(want), s.Len())
	}
	if s.Seq() != seq {
		t.Errorf("seq %d, want %d", s.Seq(), seq)
	}
	feed2, err := s.Changes(0, 100)
	if err != nil || len(feed2) != len(feed) {
		t.Fatalf("feed after restart: %d changes, %v; want %d", len(feed2), err, len(feed))
	}
	if v, ok, _ := s.LoadMeta("plumtree.seq"); !ok || v[0] != 7 {
		t.Error("meta lost")
	}
	// Writes continue with fresh dots: a peer that saw the old writes
	// takes the new ones.
	ok(s.Inc("ctr", 1))
	ok(s.TextInsert("doc", 0, ">"))
	ok(s.Put("reg", "w", 1)) // the clock went back: the write still wins
	for k, w := range map[string]Value{
		"ctr": {Type: TypeCounter, Int: 43},
		"doc": {Type: TypeText, Str: ">hello!"},
		"reg": {Type: TypeRegister, Str: "w"},
	} {
		if v := get(t, s, k); !v.Equal(w) {
			t.Errorf("%s after restart write: %+v, want %+v", k, v, w)
		}
	}
}

func TestCorruptRecordNamesKey(t *testing.T) {
	ds := OpenMemory()
	s, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	must[Change](t)(s.Put("fine", "v", 1))
	must[Change](t)(s.Put("broken key", "v", 1))
	for _, garbage := range [][]byte{nil, {1}, {1, 5, 1, 9, 0, 0, 0}, {9, 0, 0}, []byte("garbage bytes")} {
		if err := ds.Put(context.Background(), recordKey("broken key"), garbage); err != nil {
			t.Fatal(err)
		}
		_, err = Open(ds, "a", DefaultOptions())
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"broken key"`) {
			t.Fatalf("garbage %x: err = %v", garbage, err)
		}
	}
	if err := ds.Put(context.Background(), datastore.NewKey(prefixRecord+"/zz"), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ds, "a", DefaultOptions()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad datastore key: %v", err)
	}
}

// TestFailedWriteChangesNothing makes the datastore refuse commits: the
// mutator and ApplyDelta return the error and memory stays as persisted.
func TestFailedWriteChangesNothing(t *testing.T) {
	fail := false
	ds := failstore.NewFailstore(OpenMemory(), func(op string) error {
		if fail && op == "batch-commit" {
			return errors.New("disk full")
		}
		return nil
	})
	s, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	must[Change](t)(s.Add("k", "x"))
	must[Change](t)(s.TextInsert("t", 0, "ab"))
	peer := openMem(t, "b")
	remote := must[Change](t)(peer.Inc("r", 1))
	fail = true
	seq, dk, dt := s.Seq(), s.Digest("k"), s.Digest("t")
	for name, op := range map[string]func() error{
		"add":    func() error { _, _, err := s.Add("k", "y"); return err },
		"del":    func() error { _, _, err := s.Del("k"); return err },
		"new":    func() error { _, _, err := s.Inc("n", 1); return err },
		"text":   func() error { _, _, err := s.TextInsert("t", 1, "z"); return err },
		"remote": func() error { _, err := s.ApplyDelta(remote, 0); return err },
	} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if s.Seq() != seq || s.Digest("k") != dk || s.Digest("t") != dt {
		t.Fatal("failed writes changed the store")
	}
	for k, w := range map[string]Value{"k": {Type: TypeSet, List: []string{"x"}}, "t": {Type: TypeText, Str: "ab"}} {
		if v := get(t, s, k); !v.Equal(w) {
			t.Errorf("%s = %+v, want %+v", k, v, w)
		}
	}
	for _, k := range []string{"n", "r"} {
		if _, ok := s.Get(k); ok {
			t.Errorf("%s exists after a failed write", k)
		}
	}
	fail = false
	must[Change](t)(s.TextInsert("t", 2, "c"))
	if v := get(t, s, "t"); v.Str != "abc" {
		t.Errorf("text after recovery: %q", v.Str)
	}
}
