package antientropy

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// refSet is the reference model of a clock: a plain set of dots.
type refSet map[Dot]bool

func genDots(t *rapid.T, label string) []Dot {
	nodes := []NodeID{"a", "b", "c"}
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Dot {
		return Dot{rapid.SampledFrom(nodes).Draw(t, "node"), rapid.Uint64Range(1, 200).Draw(t, "counter")}
	}), 0, 150).Draw(t, label)
}

func clockOf(t *rapid.T, ds []Dot) (*Clock, refSet) {
	c, ref := NewClock(), refSet{}
	for _, d := range ds {
		if _, err := c.Add(d); err != nil {
			t.Fatal(err)
		}
		ref[d] = true
	}
	return c, ref
}

func checkNormal(t *rapid.T, c *Clock) {
	for _, s := range c.spans {
		if s.empty() {
			t.Fatalf("empty span %q", s.node)
		}
		if len(s.bits) > 0 && (s.bits[0]&1 != 0 || s.bits[len(s.bits)-1] == 0) {
			t.Fatalf("span %q not normalised: base %d bits %x", s.node, s.base, s.bits)
		}
	}
	if !slices.IsSortedFunc(c.spans, func(a, b span) int { return compareDots(Dot{a.node, 0}, Dot{b.node, 0}) }) {
		t.Fatal("spans not sorted")
	}
}

// TestBVVModel checks Add, Contains, Missing and the encoding against a
// plain set of dots.
func TestBVVModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, ra := clockOf(t, genDots(t, "a"))
		b, rb := clockOf(t, genDots(t, "b"))
		checkNormal(t, a)
		for _, n := range []NodeID{"a", "b", "c"} {
			for k := uint64(1); k <= 210; k++ {
				if a.Contains(Dot{n, k}) != ra[Dot{n, k}] {
					t.Fatalf("Contains(%s,%d) = %v", n, k, !ra[Dot{n, k}])
				}
			}
		}
		var miss []Dot
		a.Missing(b, func(d Dot) bool { miss = append(miss, d); return true })
		var want []Dot
		for d := range ra {
			if !rb[d] {
				want = append(want, d)
			}
		}
		slices.SortFunc(want, compareDots)
		if !slices.Equal(miss, want) {
			t.Fatalf("Missing = %v, want %v", miss, want)
		}
		if got := a.CountMissing(b); got != uint64(len(want)) {
			t.Fatalf("CountMissing = %d, want %d", got, len(want))
		}
		dec, err := DecodeClock(a.Encode())
		if err != nil || !dec.Equal(a) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestBVVJoinLaws: join is commutative, associative, idempotent, is the
// union of the dot sets, and the result is normalised, so equal sets have
// equal encodings whatever the order of the adds.
func TestBVVJoinLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		da, db, dc := genDots(t, "a"), genDots(t, "b"), genDots(t, "c")
		a, _ := clockOf(t, da)
		b, _ := clockOf(t, db)
		c, _ := clockOf(t, dc)
		join := func(x, y *Clock) *Clock { z := x.Clone(); z.Join(y); checkNormal(t, z); return z }
		if !join(a, b).Equal(join(b, a)) {
			t.Fatal("join not commutative")
		}
		if !join(join(a, b), c).Equal(join(a, join(b, c))) {
			t.Fatal("join not associative")
		}
		if !join(a, a).Equal(a) {
			t.Fatal("join not idempotent")
		}
		union, _ := clockOf(t, append(append(slices.Clone(da), db...), dc...))
		j := join(join(a, b), c)
		if !j.Equal(union) || string(j.Encode()) != string(union.Encode()) || j.Hash() != union.Hash() {
			t.Fatal("join differs from the union")
		}
		// Order of adds does not matter.
		shuffled := rapid.Permutation(da).Draw(t, "perm")
		s, _ := clockOf(t, shuffled)
		if string(s.Encode()) != string(a.Encode()) {
			t.Fatal("encoding depends on insertion order")
		}
	})
}

func TestSpanListRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ref, _ := clockOf(t, genDots(t, "ref"))
		other, _ := clockOf(t, genDots(t, "other"))
		other.Add(Dot{"zz", 3})
		l := spanList(other.spans)
		got, err := decodeSpanList(appendSpanList(nil, l, ref), ref)
		if err != nil || !got.toClock().Equal(other) {
			t.Fatalf("span list round trip: %v", err)
		}
	})
}

func TestClockRejectsNonCanonical(t *testing.T) {
	for name, b := range map[string][]byte{
		"truncated":    {1, 1, 'a'},
		"empty span":   {1, 1, 'a', 0, 0},
		"unsorted":     {2, 1, 'b', 1, 0, 1, 'a', 1, 0},
		"first bit":    {1, 1, 'a', 1, 1, 1},
		"trailing 0":   {1, 1, 'a', 1, 2, 2, 0},
		"trailing":     {0, 0},
		"long varint":  {0x80, 0x00},
		"huge count":   {0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge id":      {1, 0xff, 0x7f},
		"huge bitmap":  {1, 1, 'a', 1, 0xff, 0xff, 0xff, 0x7f},
		"empty string": {1, 0, 1, 0},
	} {
		if _, err := DecodeClock(b); err == nil {
			t.Errorf("%s: decoded %x", name, b)
		}
	}
}

func FuzzDecodeBVV(f *testing.F) {
	c := NewClock()
	for _, d := range []Dot{{"a", 1}, {"a", 2}, {"a", 9}, {"b", 70}, {"n12", 3}} {
		c.Add(d)
	}
	f.Add(c.Encode())
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeClock(b)
		if err != nil {
			return
		}
		// Anything accepted is canonical: it re-encodes to the same bytes.
		if got := k.Encode(); string(got) != string(b) {
			t.Fatalf("re-encoding %x gives %x", b, got)
		}
		k2 := k.Clone()
		k2.Join(k)
		if !k2.Equal(k) {
			t.Fatal("self-join changed the clock")
		}
		_, _ = decodeSpanList(b, k)
	})
}
