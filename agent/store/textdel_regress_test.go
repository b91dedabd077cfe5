package store

import (
	"errors"
	"testing"
)

// Del of a text key refuses (ErrTextPending) while an edit of it waits for
// an earlier one, and works once it arrived: deleting then removed the
// waiting edit's flag but not its characters, so the key read as missing
// while its text hid in the document, and the next insert brought the
// deleted text back on every replica.
func TestDelOfTextWithWaitingEditsWaits(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	ok := must[Change](t)
	d1 := ok(a.TextInsert("k", 0, "a"))
	d2 := ok(a.TextInsert("k", 1, "b"))
	if _, err := b.ApplyDelta(d2, 0); err != nil { // out of order: "b" waits for "a"
		t.Fatal(err)
	}
	if _, _, err := b.Del("k"); !errors.Is(err, ErrTextPending) {
		t.Fatalf("Del while an edit waits: %v, want ErrTextPending", err)
	}
	if _, err := b.ApplyDelta(d1, 0); err != nil {
		t.Fatal(err)
	}
	del := ok(b.Del("k"))
	if _, err := a.ApplyDelta(del, 0); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		if _, present := s.Get("k"); present {
			t.Fatalf("%s: k still present after the delete", s.self)
		}
	}
	ok(b.TextInsert("k", 0, "z"))
	if got, _ := b.Text("k"); got != "z" {
		t.Fatalf("an insert after the delete reads %q, want \"z\" (deleted text came back)", got)
	}
}

// A broadcast delta must change the key its broadcast names, and only it.
func TestApplyKeyDeltaRefusesOtherKeys(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	d := must[Change](t)(a.Put("k", "v", 1))
	if _, err := b.ApplyKeyDelta("other", d, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a delta of k filed under another key: %v, want ErrMalformed", err)
	}
	if _, ok := b.Get("k"); ok {
		t.Fatal("the refused delta was applied")
	}
	if _, err := b.ApplyKeyDelta("k", d, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok := b.Get("k"); !ok || v.Str != "v" {
		t.Fatalf("k = %+v %v", v, ok)
	}
}
