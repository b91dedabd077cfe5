package text

import (
	"bytes"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// checkInvariants verifies the tree's cached counts and indexes.
func checkInvariants(t fataler, d *Doc) {
	t.Helper()
	total := 0
	for i, l := range d.order {
		if l.idx != i || d.arena[l.id] != l {
			t.Fatal("leaf index out of sync")
		}
		vis := 0
		for ri := range l.runs {
			r := &l.runs[ri]
			if r.n == 0 {
				t.Fatal("empty run")
			}
			vis += int(r.visible())
			for s := r.s; s < r.s+r.n; s++ {
				if d.agents[r.a].leafOf[s] != l.id {
					t.Fatal("leafOf out of sync")
				}
			}
		}
		if vis != l.vis {
			t.Fatal("leaf visible count out of sync")
		}
		total += vis
	}
	if total != d.vis {
		t.Fatal("document visible count out of sync")
	}
}

// TestEditorModel edits like a person at a keyboard: typing, backspace and
// forward delete at a cursor that sometimes jumps, with selections replaced
// now and then. Insert/Delete and AppendInsert/AppendDelete (into a reused
// Delta) must produce equal deltas, a peer applying them must match, and the
// text must match a []rune model.
func TestEditorModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := mustNew(t, "a"), mustNew(t, "a")
		peer := mustNew(t, "p")
		var m []rune
		var kept []Delta
		var buf Delta
		cur := 0
		for range rapid.IntRange(1, 400).Draw(t, "ops") {
			if rapid.IntRange(0, 9).Draw(t, "jump") == 0 {
				cur = rapid.IntRange(0, len(m)).Draw(t, "cur")
			}
			buf.Inserts, buf.Deletes = buf.Inserts[:0], buf.Deletes[:0]
			var x Delta
			var err error
			switch k := rapid.IntRange(0, 9).Draw(t, "kind"); {
			case k < 6 || len(m) == 0: // type
				s := genText(t, "s")
				if rapid.Bool().Draw(t, "one") {
					s = string([]rune(s)[:1])
				}
				x, err = a.Insert(cur, s)
				if err == nil {
					err = b.AppendInsert(&buf, cur, s)
				}
				m = splice(m, cur, 0, s)
				cur += len([]rune(s))
			case k < 8 && cur > 0: // backspace
				n := min(cur, rapid.IntRange(1, 3).Draw(t, "n"))
				x, err = a.Delete(cur-n, n)
				if err == nil {
					err = b.AppendDelete(&buf, cur-n, n)
				}
				m = splice(m, cur-n, n, "")
				cur -= n
			default: // forward delete or selection
				if cur == len(m) {
					cur = rapid.IntRange(0, len(m)-1).Draw(t, "cur")
				}
				n := rapid.IntRange(1, len(m)-cur).Draw(t, "n")
				x, err = a.Delete(cur, n)
				if err == nil {
					err = b.AppendDelete(&buf, cur, n)
				}
				m = splice(m, cur, n, "")
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(x.Inserts, buf.Inserts) && len(x.Inserts)+len(buf.Inserts) > 0 ||
				!reflect.DeepEqual(x.Deletes, buf.Deletes) && len(x.Deletes)+len(buf.Deletes) > 0 {
				t.Fatalf("Insert/Delete delta %+v, Append* %+v", x, buf)
			}
			// Appending to an earlier delta must not disturb a later one
			// carved from the same chunk.
			kept = append(kept, x)
			if len(kept) > 1 {
				last := kept[len(kept)-1]
				before := Delta{Inserts: append([]Insert(nil), last.Inserts...), Deletes: append([]Range(nil), last.Deletes...)}
				y := kept[len(kept)-2]
				y.Inserts = append(y.Inserts, Insert{Text: "zz"})
				y.Deletes = append(y.Deletes, Range{Len: 9})
				if !reflect.DeepEqual(before.Inserts, last.Inserts) && len(last.Inserts) > 0 ||
					!reflect.DeepEqual(before.Deletes, last.Deletes) && len(last.Deletes) > 0 {
					t.Fatal("appending to a delta changed another one")
				}
			}
			if err := peer.Apply(x); err != nil {
				t.Fatal(err)
			}
			if got := a.Text(); got != string(m) {
				t.Fatalf("text %q, model %q", got, string(m))
			}
		}
		checkInvariants(t, a)
		checkInvariants(t, peer)
		if b.Text() != a.Text() || peer.Text() != a.Text() {
			t.Fatal("replicas differ")
		}
		if !bytes.Equal(a.Encode(), b.Encode()) || !bytes.Equal(a.Encode(), peer.Encode()) {
			t.Fatal("encodings differ")
		}
		roundTrip(t, a)
		for _, x := range kept {
			if err := peer.Apply(x); err != nil {
				t.Fatal(err)
			}
		}
		if peer.Text() != a.Text() {
			t.Fatal("re-applying the kept deltas changed the peer")
		}
	})
}
