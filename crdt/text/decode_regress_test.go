package text

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func mustDoc(t *testing.T, name string) *Doc {
	t.Helper()
	d, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// encodeByHand builds a one-agent, one-run document encoding.
func oneRunDoc(n uint64, dels [][2]uint64, content string) []byte {
	b := []byte{Version}
	b = putUvarint(b, 1)
	b = putString(b, "a")
	b = putUvarint(b, 1) // runs
	b = putUvarint(b, 0) // rank
	b = putUvarint(b, 1) // repeat
	b = putUvarint(b, n) // length
	b = putZigzag(b, 0)  // seq
	b = append(b, 0)     // kinds: none/none
	b = putUvarint(b, uint64(len(dels)))
	for _, d := range dels {
		b = putUvarint(b, d[0])
		b = putUvarint(b, d[1])
	}
	return putString(b, content)
}

// Regression tests from a review (2026-12-07): each failed before its fix.

// A deleted range whose gap and length wrap uint64 is refused: it passed
// the bounds check and building the document panicked (24 bytes).
func TestDecodeRefusesWrappingDeletedRange(t *testing.T) {
	data := oneRunDoc(4, [][2]uint64{{1, math.MaxUint64}}, "a")
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Decode panicked on %d untrusted bytes: %v", len(data), r)
		}
	}()
	_, err := Decode(data, "me")
	if err == nil {
		t.Fatal("accepted")
	}
}

// A document declaring more than MaxChars characters is refused: a fully
// deleted run needs no text, so 20 bytes asked for 8 bytes per character
// (32 GiB at 2^32). MaxChars itself still decodes.
func TestDecodeRefusesMoreThanMaxChars(t *testing.T) {
	n := uint64(MaxChars + 1)
	if _, err := Decode(oneRunDoc(n, [][2]uint64{{0, n}}, ""), "me"); err == nil {
		t.Fatalf("a document of %d deleted characters decoded", n)
	}
	if _, err := Decode(oneRunDoc(MaxChars, [][2]uint64{{0, MaxChars}}, ""), "me"); err != nil {
		t.Fatalf("MaxChars characters: %v", err)
	}
}

// Delete(pos, n) with pos+n past MaxInt is refused and changes nothing:
// the check wrapped, the delete ran off the end and panicked halfway.
func TestDeleteRefusesWrappingRange(t *testing.T) {
	d := mustDoc(t, "a")
	if _, err := d.Insert(0, "hello"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Delete(1, MaxInt) panicked: %v; text now %q", r, d.Text())
		}
	}()
	if _, err := d.Delete(1, math.MaxInt); err == nil {
		t.Fatal("accepted")
	}
	if d.Text() != "hello" {
		t.Fatalf("the refused delete changed the text to %q", d.Text())
	}
}

// A run whose origin is itself or a later character of its agent is
// refused: it decoded, and no replica then accepted the document's State,
// so anti-entropy failed for that key for good.
func TestDecodeRefusesOriginNotBeforeItsRun(t *testing.T) {
	b := []byte{Version}
	b = putUvarint(b, 1)
	b = putString(b, "a")
	b = putUvarint(b, 1)
	b = putUvarint(b, 0)
	b = putUvarint(b, 1)
	b = putUvarint(b, 3) // length
	b = putZigzag(b, 0)
	b = append(b, oSame) // left = same agent, right none
	b = putZigzag(b, 2)  // left origin a:2 (itself)
	b = putUvarint(b, 0) // no deletes
	b = putString(b, "xyz")
	if _, err := Decode(b, "me"); err == nil {
		t.Fatal("a run whose left origin is its own last character decoded")
	}
}

// A local insert of invalid UTF-8 is refused: it was accepted and shipped
// a delta every replica refused.
func TestInsertRefusesInvalidUTF8(t *testing.T) {
	a := mustDoc(t, "a")
	if _, err := a.Insert(0, "ok\xff"); err == nil {
		t.Fatal("an insert of invalid UTF-8 was accepted")
	}
	if a.Len() != 0 {
		t.Fatalf("the refused insert left %q", a.Text())
	}
}

// A full backlog of waiting operations (they wait for an agent that never
// comes) no longer wedges the document: the waiting ones are forgotten and
// an honest state applies (it was refused, as was everything after).
func TestFullBacklogDoesNotWedge(t *testing.T) {
	if testing.Short() {
		t.Skip("parks a million operations")
	}
	b := mustDoc(t, "b")
	const batch = 1 << 12
	for i := 0; i < MaxParked/batch; i++ {
		var x Delta
		for j := range batch {
			x.Inserts = append(x.Inserts, Insert{ID: ID{Agent: "evil", Seq: uint32(i*batch + j + 1)}, Left: ID{Agent: "ghost", Seq: 0}, Text: "x"})
		}
		if err := b.Apply(x); err != nil {
			t.Fatal(i, err)
		}
	}
	a := mustDoc(t, "a")
	if _, err := a.Insert(0, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(a.State()); err != nil {
		t.Fatalf("an honest state with %d operations waiting: %v", b.Parked(), err)
	}
	if b.Text() != "hello" || b.Dropped() != MaxParked {
		t.Fatalf("text %q, %d dropped; want \"hello\", %d", b.Text(), b.Dropped(), MaxParked)
	}
}

var _ = binary.MaxVarintLen64
var _ = strings.Repeat
