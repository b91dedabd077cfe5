package text

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// roundTrip checks that Decode(Encode(d)) holds the same text and encodes
// to the same bytes, and returns the encoding.
func roundTrip(t fataler, d *Doc) []byte {
	t.Helper()
	enc := d.Encode()
	e, err := Decode(enc, "reader")
	if err != nil {
		t.Fatal("decode:", err)
	}
	if e.Text() != d.Text() {
		t.Fatal(fmt.Sprintf("decoded text %q, want %q", e.Text(), d.Text()))
	}
	if !bytes.Equal(e.Encode(), enc) {
		t.Fatal("re-encoding differs")
	}
	return enc
}

// randomEdit makes one local edit on d and returns its delta.
func randomEdit(t *rapid.T, d *Doc) Delta {
	if d.Len() > 0 && rapid.IntRange(0, 2).Draw(t, "kind") == 0 {
		pos := rapid.IntRange(0, d.Len()-1).Draw(t, "pos")
		n := rapid.IntRange(1, min(3, d.Len()-pos)).Draw(t, "n")
		x, err := d.Delete(pos, n)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	x, err := d.Insert(rapid.IntRange(0, d.Len()).Draw(t, "pos"), genText(t, "s"))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

type message struct {
	to int
	x  []byte
}

// TestConvergence: replicas edit concurrently and exchange encoded deltas
// through a network that loses, duplicates and reorders them; a final
// full-state exchange recovers what was lost. All replicas must then hold
// the same text and byte-equal encodings.
func TestConvergence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(3, 5).Draw(t, "replicas")
		docs := make([]*Doc, n)
		for i := range docs {
			docs[i] = mustNew(t, fmt.Sprintf("r%d", i))
		}
		var net []message
		deliver := func() {
			i := rapid.IntRange(0, len(net)-1).Draw(t, "msg")
			m := net[i]
			if !rapid.Bool().Draw(t, "dup") {
				net = append(net[:i], net[i+1:]...)
			}
			if rapid.IntRange(0, 4).Draw(t, "loss") == 0 {
				return
			}
			x, err := DecodeDelta(m.x)
			if err != nil {
				t.Fatal(err)
			}
			if err := docs[m.to].Apply(x); err != nil {
				t.Fatal(err)
			}
		}
		for range rapid.IntRange(1, 80).Draw(t, "steps") {
			if len(net) > 0 && rapid.Bool().Draw(t, "deliver") {
				deliver()
				continue
			}
			from := rapid.IntRange(0, n-1).Draw(t, "from")
			x := EncodeDelta(randomEdit(t, docs[from]))
			for to := range docs {
				if to != from {
					net = append(net, message{to, x})
				}
			}
		}
		for len(net) > 0 && rapid.Bool().Draw(t, "drain") {
			deliver()
		}
		// Full-state exchange in a ring, twice around, through the wire.
		for range 2 {
			for i := range docs {
				j := (i + 1) % n
				x, err := DecodeDelta(EncodeDelta(docs[i].State()))
				if err != nil {
					t.Fatal(err)
				}
				if err := docs[j].Apply(x); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := roundTrip(t, docs[0])
		for i, d := range docs {
			if d.Parked() != 0 {
				t.Fatalf("replica %d has %d parked ops after full exchange", i, d.Parked())
			}
			if d.Text() != docs[0].Text() {
				t.Fatalf("replica %d text %q, replica 0 %q", i, d.Text(), docs[0].Text())
			}
			if got := roundTrip(t, d); !bytes.Equal(got, want) {
				t.Fatalf("replica %d encoding differs from replica 0", i)
			}
		}
	})
}

// TestJoinLaws: merging whole states is commutative, associative and
// idempotent (compared by encoding).
func TestJoinLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Three replicas with a shared prefix, then concurrent edits.
		base := mustNew(t, "base")
		for range rapid.IntRange(0, 10).Draw(t, "shared") {
			randomEdit(t, base)
		}
		var reps [3]*Doc
		for i := range reps {
			d, err := Decode(base.Encode(), fmt.Sprintf("r%d", i))
			if err != nil {
				t.Fatal(err)
			}
			for range rapid.IntRange(0, 10).Draw(t, "own") {
				randomEdit(t, d)
			}
			reps[i] = d
		}
		join := func(ds ...*Doc) []byte {
			acc, err := Decode(ds[0].Encode(), "j")
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds[1:] {
				if err := acc.Apply(d.State()); err != nil {
					t.Fatal(err)
				}
			}
			return acc.Encode()
		}
		a, b, c := reps[0], reps[1], reps[2]
		if !bytes.Equal(join(a, b), join(b, a)) {
			t.Fatal("join not commutative")
		}
		if !bytes.Equal(join(a, a), a.Encode()) {
			t.Fatal("join not idempotent")
		}
		ab, err := Decode(join(a, b), "ab")
		if err != nil {
			t.Fatal(err)
		}
		bc, err := Decode(join(b, c), "bc")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(join(ab, c), join(a, bc)) {
			t.Fatal("join not associative")
		}
	})
}

// TestNoInterleaving: two replicas type a word at the same place
// concurrently, forwards or backwards; the merged text holds each word
// contiguous.
func TestNoInterleaving(t *testing.T) {
	for _, backward := range []bool{false, true} {
		for _, names := range [][2]string{{"alice", "bob"}, {"bob", "alice"}} {
			t.Run(fmt.Sprintf("backward=%v/%s-first", backward, names[0]), func(t *testing.T) {
				a, b := mustNew(t, names[0]), mustNew(t, names[1])
				x, _ := a.Insert(0, "[]")
				if err := b.Apply(x); err != nil {
					t.Fatal(err)
				}
				var da, db Delta
				typeWord := func(d *Doc, w string, out *Delta) {
					for i, ch := range w {
						pos := 1 + i
						if backward {
							pos = 1
							ch = []rune(w)[len(w)-1-i]
						}
						x, err := d.Insert(pos, string(ch))
						if err != nil {
							t.Fatal(err)
						}
						out.Merge(x)
					}
				}
				typeWord(a, "hello", &da)
				typeWord(b, "WORLD", &db)
				if err := a.Apply(db); err != nil {
					t.Fatal(err)
				}
				if err := b.Apply(da); err != nil {
					t.Fatal(err)
				}
				if a.Text() != b.Text() {
					t.Fatalf("diverged: %q vs %q", a.Text(), b.Text())
				}
				got := a.Text()
				if got != "[helloWORLD]" && got != "[WORLDhello]" {
					t.Fatalf("interleaved: %q", got)
				}
			})
		}
	}
}

// TestDuplicateAndEarlyDelivery: a delete that arrives before its insert
// waits, and duplicates change nothing.
func TestDuplicateAndEarlyDelivery(t *testing.T) {
	a, b := mustNew(t, "a"), mustNew(t, "b")
	x1, _ := a.Insert(0, "hello")
	x2, _ := a.Delete(1, 3)
	x3, _ := a.Insert(2, " world")
	for _, x := range []Delta{x3, x2, x2, x1, x3, x1} {
		if err := b.Apply(x); err != nil {
			t.Fatal(err)
		}
	}
	if b.Text() != a.Text() || b.Parked() != 0 {
		t.Fatalf("got %q parked %d, want %q", b.Text(), b.Parked(), a.Text())
	}
	if !strings.Contains(a.Text(), "world") {
		t.Fatalf("unexpected %q", a.Text())
	}
}
