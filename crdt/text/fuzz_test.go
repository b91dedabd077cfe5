package text

import (
	"bytes"
	"testing"
)

// seedDoc builds a small document with two agents, a concurrent merge and
// deletions, for seeds.
func seedDoc(t fataler) (*Doc, []Delta) {
	a, b := mustNew(t, "alice"), mustNew(t, "bob")
	var xs []Delta
	step := func(x Delta, err error) {
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	step(a.Insert(0, "héllo wörld"))
	if err := b.Apply(xs[0]); err != nil {
		t.Fatal(err)
	}
	step(a.Delete(2, 3))
	step(b.Insert(5, "😀 there"))
	step(b.Delete(0, 1))
	for _, x := range xs {
		if err := a.Apply(x); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(x); err != nil {
			t.Fatal(err)
		}
	}
	return a, xs
}

// FuzzDecodeDoc: any bytes either fail to decode or give a document whose
// encoding decodes to the same bytes again; nothing panics.
func FuzzDecodeDoc(f *testing.F) {
	d, _ := seedDoc(f)
	f.Add(d.Encode())
	f.Add([]byte{Version})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data, "fuzz")
		if err != nil {
			return
		}
		enc := d.Encode()
		e, err := Decode(enc, "fuzz")
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(e.Encode(), enc) || e.Text() != d.Text() {
			t.Fatal("round trip changed the document")
		}
		// The decoded document must stay editable.
		if _, err := d.Insert(d.Len()/2, "x"); err != nil {
			t.Fatal(err)
		}
		if d.Len() > 0 {
			if _, err := d.Delete(0, 1); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzDecodeDelta: any bytes either fail to decode or give a delta that
// re-encodes stably and can be applied to a document without panicking.
func FuzzDecodeDelta(f *testing.F) {
	_, xs := seedDoc(f)
	for _, x := range xs {
		f.Add(EncodeDelta(x))
	}
	f.Add([]byte{Version, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := DecodeDelta(data)
		if err != nil {
			return
		}
		enc := EncodeDelta(x)
		y, err := DecodeDelta(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(EncodeDelta(y), enc) {
			t.Fatal("delta round trip not stable")
		}
		d, _ := seedDoc(t)
		if err := d.Apply(x); err != nil {
			return
		}
		if err := d.Apply(x); err != nil {
			t.Fatalf("second apply: %v", err)
		}
		roundTrip(t, d)
	})
}

// TestDecodeRejects covers truncations and bad versions of valid input.
func TestDecodeRejects(t *testing.T) {
	d, xs := seedDoc(t)
	enc := d.Encode()
	for i := range enc {
		if _, err := Decode(enc[:i], "x"); err == nil {
			t.Fatalf("doc truncated to %d bytes accepted", i)
		}
	}
	bad := append([]byte{Version + 1}, enc[1:]...)
	if _, err := Decode(bad, "x"); err == nil {
		t.Fatal("wrong version accepted")
	}
	dx := EncodeDelta(xs[2])
	for i := range dx {
		if _, err := DecodeDelta(dx[:i]); err == nil {
			t.Fatalf("delta truncated to %d bytes accepted", i)
		}
	}
}

// TestDeltaSize: a one-character insert ships in at most 32 bytes.
func TestDeltaSize(t *testing.T) {
	d := mustNew(t, "agent-01")
	for i := range 1000 {
		if _, err := d.Insert(i, "a"); err != nil {
			t.Fatal(err)
		}
	}
	x, err := d.Insert(500, "b")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(EncodeDelta(x)); n > 32 {
		t.Fatalf("one-character insert delta is %d bytes", n)
	} else {
		t.Logf("one-character insert delta: %d bytes", n)
	}
}
