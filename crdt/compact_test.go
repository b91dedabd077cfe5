package crdt

import (
	"bytes"
	"fmt"
	"math"
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
// again, one overwritten by another writer, and a removed key.
func TestCompactSizes(t *testing.T) {
	dict := newTestDict()
	ts := Timestamp{Wall: 1_796_400_000_000_000_000}
	m := NewORMap("a")
	m.SetLWW("", "v", ts)
	// header 1, field key 1, dot count 1, dot 2, timestamp 8, value 1+1
	if b := m.AppendCompact(nil, dict); len(b) != 15 {
		t.Fatalf("one write: %d bytes %x", len(b), b)
	}
	m.SetLWW("", "v", ts)
	if b := m.AppendCompact(nil, dict); len(b) != 15 {
		t.Fatalf("second write: %d bytes %x", len(b), b)
	}
	// A later write by b: b's dot, and an entry saying a's dot was seen
	// (node 1, vv<<1 1): 2 bytes more, where CompactV1 took 4.
	other := NewORMap("b")
	other.Join(m)
	other.Join(other.SetLWW("", "v", Timestamp{Wall: ts.Wall + 1}))
	if b := other.AppendCompact(nil, dict); len(b) != 17 {
		t.Fatalf("overwritten by a second writer: %d bytes %x", len(b), b)
	}
	// A logical counter costs its uvarint.
	m.SetLWW("", "v", Timestamp{Wall: ts.Wall, Logical: 3})
	if b := m.AppendCompact(nil, dict); len(b) != 16 {
		t.Fatalf("logical counter: %d bytes %x", len(b), b)
	}
	m.Remove("")
	// header 1, node 1, vv<<1 1
	if b := m.AppendCompact(nil, dict); len(b) != 3 {
		t.Fatalf("removed: %d bytes %x", len(b), b)
	}
}

// TestCompactTimestamps: every timestamp round-trips, including walls
// outside the 8-byte form's range and the largest logical counter.
func TestCompactTimestamps(t *testing.T) {
	dict := newTestDict()
	for _, ts := range []Timestamp{
		{}, {Wall: 1}, {Logical: 1}, {Wall: tsWallMax - 1, Logical: 1<<32 - 1},
		{Wall: tsWallMax}, {Wall: -1, Logical: 7}, {Wall: math.MinInt64}, {Wall: math.MaxInt64, Logical: 1},
	} {
		m := NewORMap("a")
		m.SetLWW("", "v", ts)
		b := m.AppendCompact(nil, dict)
		got, rest, err := DecodeORMapCompact(b, "a", nil, dict)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%+v: %v", ts, err)
		}
		f, _ := got.Fields().Field("", TagLWW)
		if _, gts, ok := f.(*LWWField).Value(); !ok || gts != ts {
			t.Fatalf("%+v came back as %+v", ts, gts)
		}
	}
}

// TestCompactV1 reads the layout stores wrote before CompactV2: the same
// maps, which AppendCompact then writes in the new layout.
func TestCompactV1(t *testing.T) {
	dict := newTestDict("a", "b")
	for name, c := range map[string]struct{ v1, v2 []byte }{
		// one LWW write by a at wall 5, value "v"
		"register": {
			v1: []byte{2, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 'v'},
			v2: []byte{4, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 'v'},
		},
		// logical counter 2
		"logical": {
			v1: []byte{2, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 2, 1, 'v'},
			v2: []byte{4, 2, 1, 0, 1, 0x40, 0, 0, 0, 0, 0, 0, 5, 2, 1, 'v'},
		},
		// a removed key: a:1 in the context, no fields
		"removed": {v1: []byte{1, 1, 0, 1, 0}, v2: []byte{1, 0, 2}},
		// b's write over a's: a:1 listed
		"overwritten": {
			v1: []byte{3, 1, 0, 1, 0, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1, 'w'},
			v2: []byte{5, 0, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 6, 1, 'w'},
		},
		// a cloud: b's dot 3 seen, not 1-2 (vv 0, one gap of 3)
		"cloud": {v1: []byte{1, 1, 1, 0, 1, 3}, v2: []byte{1, 1, 1, 1, 3}},
	} {
		m, rest, err := DecodeORMapCompactVersion(c.v1, CompactV1, "a", nil, dict)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: V1: %v", name, err)
		}
		if got := m.AppendCompact(nil, dict); !bytes.Equal(got, c.v2) {
			t.Fatalf("%s: V1 re-encodes to %x, want %x", name, got, c.v2)
		}
		m2, _, err := DecodeORMapCompact(c.v2, "a", nil, dict)
		if err != nil || !bytes.Equal(m2.Encode(), m.Encode()) {
			t.Fatalf("%s: V2 decodes to another map (%v)", name, err)
		}
	}
	if _, _, err := DecodeORMapCompactVersion([]byte{0}, 3, "a", nil, dict); err == nil {
		t.Fatal("unknown compact version accepted")
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
	// good = header 4, field key 2, dot count 1, dot 0 1, wall 8 bytes, value 1 'v'
	withTS := func(ts ...byte) []byte {
		return append(append(append([]byte{}, good[:5]...), ts...), good[13:]...)
	}
	for name, b := range map[string][]byte{
		"empty":                nil,
		"unknown node":         {1, 9, 2},
		"tag code":             {4, 99 << 1},
		"builtin tag string":   append([]byte{4, 0, 3}, "lww"...),
		"empty name":           {4, 1<<1 | 1, 0},
		"explicit implied":     append([]byte{5, 0, 1 << 1}, good[1:]...),
		"uncovered dot":        append([]byte{5, 0, 1, 1, 5}, good[1:]...),
		"zero cloud gap":       {1, 0, 1, 1, 0},
		"empty cloud":          {1, 0, 3, 0},
		"nodes not increasing": {2, 1, 2, 0, 2},
		"timestamp escape":     withTS(0x81, 10, 0),
		"escaped in range":     withTS(0x80, 10, 0),
		"flagged zero logical": withTS(0x40, 0, 0, 0, 0, 0, 0, 5, 0),
		"logical overflow":     withTS(0x40, 0, 0, 0, 0, 0, 0, 5, 0x80, 0x80, 0x80, 0x80, 0x10),
		"short timestamp":      good[:9],
		"truncated":            good[:len(good)-1],
	} {
		if _, _, err := DecodeORMapCompact(b, "a", nil, dict); err == nil {
			t.Errorf("%s: accepted %x", name, b)
		}
	}
	// The same defects in CompactV1.
	goodV1 := []byte{2, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 'v'}
	for name, b := range map[string][]byte{
		"unknown node":     {2, 2, 1, 9, 1},
		"explicit empty":   {3, 0},
		"explicit implied": append([]byte{3, 1, 0, 1, 0}, goodV1[1:]...),
		"uncovered dot":    append([]byte{3, 1, 0, 0, 1, 5}, goodV1[1:]...),
		"zero cloud gap":   {1, 1, 0, 0, 2, 1, 0},
		"truncated":        goodV1[:len(goodV1)-1],
	} {
		if _, _, err := DecodeORMapCompactVersion(b, CompactV1, "a", nil, dict); err == nil {
			t.Errorf("V1 %s: accepted %x", name, b)
		}
	}
}

// FuzzDecodeORMapCompact: never panics; what it accepts re-encodes to the
// same bytes (with the same numbering), and the rest is what follows; the
// CompactV1 reader never panics and yields valid maps.
func FuzzDecodeORMapCompact(f *testing.F) {
	dict := newTestDict("a", "b", "c", "n")
	for _, s := range seedStates() {
		if m, err := DecodeORMap(s, "n", nil); err == nil {
			f.Add(m.AppendCompact(nil, dict))
			f.Add(append(m.AppendCompact(nil, dict), 7))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// The old layout, read only to migrate, must not panic either, and
		// what it accepts must be a valid map.
		if m, _, err := DecodeORMapCompactVersion(b, CompactV1, "n", nil, dict); err == nil {
			if _, err := DecodeORMap(m.Encode(), "n", nil); err != nil {
				t.Fatalf("a CompactV1 map does not round-trip canonically: %v", err)
			}
		}
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
