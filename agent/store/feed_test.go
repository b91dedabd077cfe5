package store

import (
	"errors"
	"strings"
	"testing"
)

func TestFeedCursor(t *testing.T) {
	ds := OpenMemory()
	opts := DefaultOptions()
	opts.FeedLen, opts.FeedValueBytes = 5, 64
	s, err := Open(ds, "a", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Changes(0, 10); err != nil || len(got) != 0 || s.Seq() != 0 {
		t.Fatalf("empty feed: %v %v", got, err)
	}
	ok := must[Change](t)
	ok(s.Inc("c", 1))
	_, c, _ := s.Put("r", strings.Repeat("x", 100), 1) // too big for the feed
	if c.Seq != 2 || c.Value == nil {
		t.Fatalf("returned change: %+v", c)
	}
	ok(s.Add("s", "e"))
	got, err := s.Changes(0, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("changes: %+v %v", got, err)
	}
	for i, want := range []struct {
		key string
		op  Op
		typ Type
	}{{"c", OpInc, TypeCounter}, {"r", OpPut, TypeRegister}, {"s", OpAdd, TypeSet}} {
		g := got[i]
		if g.Seq != uint64(i+1) || g.Key != want.key || g.Op != want.op || g.Type != want.typ || g.Origin != OriginLocal {
			t.Errorf("change %d: %+v", i, g)
		}
	}
	if got[0].Value == nil || got[0].Value.Int != 1 {
		t.Errorf("small value not kept: %+v", got[0].Value)
	}
	if got[1].Value != nil {
		t.Errorf("large value kept in the feed")
	}
	if page, _ := s.Changes(1, 1); len(page) != 1 || page[0].Seq != 2 {
		t.Errorf("page after 1: %+v", page)
	}

	// A remote change and a deletion.
	peer := openMem(t, "b")
	if _, err := s.ApplyDelta(ok(peer.Inc("c", 5)), 0); err != nil {
		t.Fatal(err)
	}
	ok(s.Del("s"))
	got, _ = s.Changes(3, 10)
	if len(got) != 2 || got[0].Origin != OriginRemote || got[0].Op != OpInc || got[0].Value.Int != 6 ||
		got[1].Op != OpDel || got[1].Type != TypeSet || got[1].Value != nil {
		t.Fatalf("remote and del: %+v", got)
	}

	// Six changes on a feed of five: the first one is gone.
	ok(s.Inc("c", 1))
	if _, err := s.Changes(0, 10); !errors.Is(err, ErrCursorTooOld) {
		t.Fatalf("cursor 0 after trim: %v", err)
	}
	if got, err := s.Changes(1, 10); err != nil || len(got) != 5 || got[0].Seq != 2 {
		t.Fatalf("oldest valid cursor: %+v %v", got, err)
	}
	if _, err := s.Changes(7, 10); !errors.Is(err, ErrCursorAhead) {
		t.Fatalf("cursor ahead: %v", err)
	}
	if _, err := s.Changes(6, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("limit 0: %v", err)
	}

	// The feed survives a reopen, and a lower FeedLen trims it.
	opts.FeedLen = 2
	s, err = Open(ds, "a", opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seq() != 6 {
		t.Fatalf("seq after reopen: %d", s.Seq())
	}
	if _, err := s.Changes(3, 10); !errors.Is(err, ErrCursorTooOld) {
		t.Fatalf("after trim on open: %v", err)
	}
	if got, err := s.Changes(4, 10); err != nil || len(got) != 2 || got[1].Seq != 6 {
		t.Fatalf("kept changes: %+v %v", got, err)
	}
	ok(s.Inc("c", 1))
	if got, err := s.Changes(5, 10); err != nil || len(got) != 2 || got[1].Seq != 7 {
		t.Fatalf("after reopen write: %+v %v", got, err)
	}
}

// TestFeedOnlyVisibleRemoteChanges: a remote delta that changes only
// metadata (a removal of something never seen here) or nothing (a
// duplicate) makes no feed entry.
func TestFeedOnlyVisibleRemoteChanges(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	add := must[Change](t)(b.Add("s", "x"))
	rm := must[Change](t)(b.Remove("s", "x"))
	if ch, err := a.ApplyDelta(rm, 0); err != nil || len(ch) != 0 {
		t.Fatalf("remove before add: %+v %v", ch, err)
	}
	if ch, err := a.ApplyDelta(add, 0); err != nil || len(ch) != 0 {
		t.Fatalf("add after its removal: %+v %v", ch, err)
	}
	if a.Seq() != 0 {
		t.Fatalf("seq %d", a.Seq())
	}
	if a.Digest("s") != b.Digest("s") || a.Digest("s") == ([16]byte{}) {
		t.Fatal("tombstone state not kept")
	}
}
