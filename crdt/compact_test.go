package crdt

import (
	"bytes"
	"fmt"
	"testing"
)

// testDict is a Dict numbering nodes in order of first use.
type testDict struct {
	ids []NodeID
	num map[NodeID]uint64
}

func newTestDict(ids ...NodeID) *testDict {
	d := &testDict{num: map[NodeID]uint64{}}
	for _, n := range ids {
		d.Index(n)
	}
	return d
}

func (d *testDict) Index(n NodeID) uint64 {
	i, ok := d.num[n]
	if !ok {
		i = uint64(len(d.ids))
		d.num[n] = i
		d.ids = append(d.ids, n)
	}
	return i
}

func (d *testDict) Node(i uint64) (NodeID, bool) {
	if i >= uint64(len(d.ids)) {
		return "", false
	}
	return d.ids[i], true
}

// TestORMapCompact runs the ORMap properties with the compact form as the
// encoding (random histories with lost and reordered deltas give contexts
// with clouds and entries the dots do not imply): it round-trips exactly,
// context included, and converged replicas encode identically.
func TestORMapCompact(t *testing.T) {
	s := ormapSpec()
	dict := newTestDict()
	// The encoding is followed by the canonical context, which the decoded
	// map must reproduce.
	s.encode = func(m *ORMap) []byte { return append(m.AppendCompact(nil, dict), m.ctx.Encode()...) }
	s.decode = func(b []byte, n NodeID) (*ORMap, error) {
		m, rest, err := DecodeORMapCompact(b, n, nil, dict)
		if err == nil && !bytes.Equal(rest, m.ctx.Encode()) {
			err = fmt.Errorf("context %x, want %x", m.ctx.Encode(), rest)
		}
		return m, err
	}
	runSpec(t, s)
}

// TestCompactSizes pins the compact form's size for the shapes the store
// keeps most: one register write (no context stored), a register written
// again, and a removed key.
func TestCompactSizes(t *testing.T) {
	dict := newTestDict()
	ts := Timestamp{Wall: 1_796_400_000_000_000_000}
	m := NewORMap("a")
	m.SetLWW("", "v", ts)
	// header 1, field key 1, dot count 1, dot 2, timestamp 8+1, value 1+1
	if b := m.AppendCompact(nil, dict); len(b) != 16 {
		t.Fatalf("one write: %d bytes %x", len(b), b)
	}
	m.SetLWW("", "v", ts)
	if b := m.AppendCompact(nil, dict); len(b) != 16 {
		t.Fatalf("second write: %d bytes %x", len(b), b)
	}
	m.Remove("")
	// header 1, explicit count 1, node 1, vv 1, cloud count 1
	if b := m.AppendCompact(nil, dict); len(b) != 5 {
		t.Fatalf("removed: %d bytes %x", len(b), b)
	}
}

// TestCompactRejects: defects of the compact form are errors.
func TestCompactRejects(t *testing.T) {
	dict := newTestDict("a", "b")
	m := NewORMap("a")
	m.SetLWW("", "v", Timestamp{Wall: 5})
	good := m.AppendCompact(nil, dict)
	if _, rest, err := DecodeORMapCompact(good, "a", nil, dict); err != nil || len(rest) != 0 {
		t.Fatalf("good: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":              nil,
		"unknown node":       {2, 2, 1, 9, 1},
		"tag code":           {2, 99 << 1},
		"builtin tag string": append([]byte{2, 0, 3}, "lww"...),
		"empty name":         {2, 1<<1 | 1, 0},
		"explicit empty":     {3, 0},
		"explicit implied":   append([]byte{3, 1, 0, 1, 0}, good[1:]...),
		"uncovered dot":      append([]byte{3, 1, 0, 0, 1, 5}, good[1:]...),
		"zero cloud gap":     {1, 1, 0, 0, 2, 1, 0},
		"truncated":          good[:len(good)-1],
	} {
		if _, _, err := DecodeORMapCompact(b, "a", nil, dict); err == nil {
			t.Errorf("%s: accepted %x", name, b)
		}
	}
}

// FuzzDecodeORMapCompact: never panics; what it accepts re-encodes to the
// same bytes (with the same numbering), and the rest is what follows.
func FuzzDecodeORMapCompact(f *testing.F) {
	dict := newTestDict("a", "b", "c", "n")
	for _, s := range seedStates() {
		if m, err := DecodeORMap(s, "n", nil); err == nil {
			f.Add(m.AppendCompact(nil, dict))
			f.Add(append(m.AppendCompact(nil, dict), 7))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, rest, err := DecodeORMapCompact(b, "n", nil, dict)
		if err != nil {
			return
		}
		enc := m.AppendCompact(nil, dict)
		if !bytes.Equal(append(enc, rest...), b) {
			t.Fatalf("accepted non-canonical input:\n in %x\nout %x + %x", b, enc, rest)
		}
		if _, err := DecodeORMap(m.Encode(), "n", nil); err != nil {
			t.Fatalf("decoded map does not round-trip canonically: %v", err)
		}
	})
}

// The compact form round-trips whatever the number of writers, on both
// sides of the switch from a searched list to a map in maxDots (8 nodes).
func TestCompactRoundTripManyWriters(t *testing.T) {
	for _, n := range []int{1, 8, 9, 50} {
		m := NewORMap("n")
		for i := range n {
			w := NewORMap(NodeID(fmt.Sprintf("w%02d", i)))
			m.Join(w.SetAdd("s", AddWins, fmt.Sprint(i)))
			m.Join(w.SetAdd("s", AddWins, fmt.Sprint(i, "b"))) // a second dot of the same writer
		}
		d := newTestDict()
		got, rest, err := DecodeORMapCompact(m.AppendCompact(nil, d), "n", nil, d)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%d writers: %v, %d bytes left", n, err, len(rest))
		}
		if !bytes.Equal(got.Encode(), m.Encode()) {
			t.Fatalf("%d writers: the compact form did not round-trip", n)
		}
	}
}
