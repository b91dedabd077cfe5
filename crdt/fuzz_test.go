package crdt

import (
	"bytes"
	"testing"
)

// Every decoder must return an error, never panic, on arbitrary bytes; what
// it accepts must re-encode to exactly the same bytes (canonical form).

// seedStates builds small valid encodings of every kind, used as fuzz seeds
// (in addition to the committed corpus under testdata/fuzz).
func seedStates() [][]byte {
	g := NewGCounter("a")
	g.Inc(3)
	pnc := NewPNCounter("b")
	pnc.Add(-2)
	gs := NewGSet()
	gs.Add("x")
	tp := NewTwoPSet()
	tp.Add("x")
	tp.Remove("y")
	l := NewLWWRegister("a")
	l.Set("v", Timestamp{Wall: 1e18, Logical: 2})
	mv := NewMVRegister("a")
	mv.Set("1")
	mv.Join(NewMVRegister("b").Set("2"))
	aw := NewORSet("a", AddWins)
	aw.Add("x")
	aw.Join(NewORSet("b", AddWins).Add("y"))
	rw := NewORSet("a", RemoveWins)
	rw.Add("x")
	rw.Remove("y")
	m := NewORMap("a")
	m.Inc("c", -4)
	m.SetLWW("l", "v", Timestamp{Wall: 5})
	m.SetMV("m", "v")
	m.SetAdd("s", AddWins, "e")
	m.SetRemove("r", RemoveWins, "e")
	m.UpdateMap("n", func(c *ORMap) *ORMap { return c.SetAdd("s", AddWins, "z") })
	ctx := contextOf(Dot{"a", 1}, Dot{"a", 3}, Dot{"b", 2})
	return [][]byte{ctx.Encode(), g.Encode(), pnc.Encode(), gs.Encode(), tp.Encode(), l.Encode(),
		mv.Encode(), aw.Encode(), rw.Encode(), m.Encode()}
}

func fuzzDecoder(f *testing.F, decode func([]byte) (func() []byte, error)) {
	for _, s := range seedStates() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		enc, err := decode(b)
		if err != nil {
			return
		}
		if got := enc(); !bytes.Equal(got, b) {
			t.Fatalf("accepted non-canonical input:\n in %x\nout %x", b, got)
		}
	})
}

func FuzzDecodeCausalContext(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeCausalContext(b)
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeGCounter(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeGCounter(b, "n")
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodePNCounter(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodePNCounter(b, "n")
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeGSet(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeGSet(b)
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeTwoPSet(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeTwoPSet(b)
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeLWWRegister(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeLWWRegister(b, "n")
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeMVRegister(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeMVRegister(b, "n")
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeORSet(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeORSet(b, "n")
		if err != nil {
			return nil, err
		}
		return x.Encode, nil
	})
}

func FuzzDecodeORMap(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (func() []byte, error) {
		x, err := DecodeORMap(b, "n", NewRegistry())
		if err != nil {
			return nil, err
		}
		// A decoded state must also join with a live replica without panicking.
		live := NewORMap("n")
		live.Inc("c", 1)
		live.Join(x)
		x.Join(live)
		return func() []byte { y, _ := DecodeORMap(b, "n", NewRegistry()); return y.Encode() }, nil
	})
}
