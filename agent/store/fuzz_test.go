package store

import (
	"testing"
)

// seedDeltas returns deltas of every kind, made by a replica "s" whose
// writes build on each other (so some of them depend on earlier ones).
func seedDeltas(t testing.TB) [][]byte {
	s := openMem(t, "s")
	ok := must[Change](t)
	return [][]byte{
		ok(s.Put("reg", "v", 1)),
		ok(s.PutMV("mv", "m")),
		ok(s.Inc("ctr", 3)),
		ok(s.Dec("ctr", 1)),
		ok(s.Add("set", "a", "b")),
		ok(s.Remove("set", "a")),
		ok(s.TextInsert("doc", 0, "héllo")),
		ok(s.TextDelete("doc", 1, 2)),
		ok(s.Del("doc")),
		ok(s.Del("reg")),
	}
}

// FuzzApplyDelta: a delta either merges (and merging it again changes
// nothing, and the touched keys' states round-trip through MergeState) or
// returns an error and changes nothing.
func FuzzApplyDelta(f *testing.F) {
	for _, d := range seedDeltas(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, delta []byte) {
		s := openMem(t, "f")
		ok := must[Change](t)
		ok(s.Inc("ctr", 1))
		ok(s.TextInsert("doc", 0, "ab"))
		ok(s.Add("set", "a"))
		before := snapshot(s)
		changes, err := s.ApplyDelta(delta, 0)
		if err != nil {
			if after := snapshot(s); after != before {
				t.Fatalf("failed delta changed the store: %v", err)
			}
			return
		}
		if len(changes) > 0 && changes[len(changes)-1].Seq != s.Seq() {
			t.Fatal("changes not numbered up to Seq")
		}
		again := snapshot(s)
		if ch, err := s.ApplyDelta(delta, 0); err != nil || len(ch) != 0 || snapshot(s) != again {
			t.Fatalf("second apply: %+v %v", ch, err)
		}
		peer := openMem(t, "p")
		s.Range(func(k string, d [16]byte) bool {
			st, _ := s.State(k)
			if _, err := peer.MergeState(k, st); err != nil {
				t.Fatalf("state of %q does not merge: %v", k, err)
			}
			if peer.Digest(k) != d {
				t.Fatalf("state of %q does not round-trip", k)
			}
			return true
		})
	})
}

// snapshot summarises a store's visible and persisted state.
func snapshot(s *Store) string {
	out := ""
	s.Range(func(k string, d [16]byte) bool {
		v, _ := s.Get(k)
		j, _ := v.MarshalJSON()
		out += k + "=" + string(j) + "@" + string(d[:]) + ";"
		return true
	})
	ks, _ := s.Keys("", "", 0)
	for _, k := range ks {
		out += k + ","
	}
	return out + string(rune(s.Seq()))
}

// TestMultiKeyDelta: a delta may carry several keys (a delta group); they
// merge together, and a defect in any of them rejects the whole delta.
func TestMultiKeyDelta(t *testing.T) {
	src := openMem(t, "s")
	ok := must[Change](t)
	var parts []keyDelta
	for _, d := range [][]byte{ok(src.Inc("a", 2)), ok(src.TextInsert("b", 0, "hi"))} {
		kds, err := decodeDelta(d, "x", src.reg, 512)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, kds...)
	}
	group := encodeDelta(parts...)
	dst := openMem(t, "d")
	ch, err := dst.ApplyDelta(group, 0)
	if err != nil || len(ch) != 2 || ch[0].Key != "a" || ch[1].Key != "b" || ch[1].Seq != 2 {
		t.Fatalf("group: %+v %v", ch, err)
	}
	if v := get(t, dst, "b"); v.Str != "hi" {
		t.Fatalf("b = %+v", v)
	}
	// Keys out of order are rejected, and nothing is merged.
	dst2 := openMem(t, "d")
	if _, err := dst2.ApplyDelta(encodeDelta(parts[1], parts[0]), 0); err == nil || dst2.Len() != 0 {
		t.Fatalf("unsorted group: %v, %d keys", err, dst2.Len())
	}
	// A bad text part in the second key undoes the first key too.
	bad := parts[1]
	bad.text.Inserts = append(bad.text.Inserts[:0:0], bad.text.Inserts...)
	bad.text.Inserts[0].Left = bad.text.Inserts[0].ID // origin not before the insert
	if _, err := dst2.ApplyDelta(encodeDelta(parts[0], bad), 0); err == nil || dst2.Len() != 0 || dst2.Seq() != 0 {
		t.Fatalf("bad text in group: %v, %d keys", err, dst2.Len())
	}
}
