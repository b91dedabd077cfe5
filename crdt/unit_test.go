package crdt

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestCausalContextCompacts(t *testing.T) {
	c := NewCausalContext()
	c.Add(Dot{"a", 3})
	c.Add(Dot{"a", 2})
	if got := c.Cloud(); len(got) != 2 || c.VersionVector()["a"] != 0 {
		t.Fatalf("before gap fills: vv %v cloud %v", c.VersionVector(), got)
	}
	c.Add(Dot{"a", 1})
	if vv := c.VersionVector(); vv["a"] != 3 || len(c.Cloud()) != 0 {
		t.Fatalf("after gap fills: vv %v cloud %v", vv, c.Cloud())
	}
	if d := c.Next("a"); d != (Dot{"a", 4}) {
		t.Fatalf("Next = %v", d)
	}
	o := contextOf(Dot{"a", 5}, Dot{"b", 1})
	c.Join(o)
	if !c.Contains(Dot{"a", 5}) || c.Contains(Dot{"a", 4}) || !c.Contains(Dot{"b", 1}) {
		t.Fatal("join lost or invented dots")
	}
	c.Join(contextOf(Dot{"a", 4}))
	if vv := c.VersionVector(); vv["a"] != 5 || len(c.Cloud()) != 0 {
		t.Fatalf("join did not compact: vv %v cloud %v", vv, c.Cloud())
	}
}

// A context is a set of dots: compare against a plain set, and check that
// the normal form makes equal sets encode equally whatever the insertion
// order.
func TestCausalContextMatchesSetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dots := rapid.SliceOf(rapid.Custom(func(t *rapid.T) Dot {
			return Dot{NodeID(rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "n")), rapid.Uint64Range(1, 12).Draw(t, "c")}
		})).Draw(t, "dots")
		model := map[Dot]bool{}
		a, b := NewCausalContext(), NewCausalContext()
		for _, d := range dots {
			model[d] = true
			a.Add(d)
		}
		perm := rapid.Permutation(dots).Draw(t, "perm")
		half := len(perm) / 2
		b1, b2 := contextOf(perm[:half]...), contextOf(perm[half:]...)
		b.Join(b1)
		b.Join(b2)
		for _, n := range []NodeID{"a", "b", "c"} {
			for k := uint64(1); k <= 13; k++ {
				d := Dot{n, k}
				if a.Contains(d) != model[d] || b.Contains(d) != model[d] {
					t.Fatalf("Contains(%v) = %v/%v, model %v", d, a.Contains(d), b.Contains(d), model[d])
				}
			}
		}
		if !a.Equal(b) || !bytes.Equal(a.Encode(), b.Encode()) {
			t.Fatalf("same dots, different representation: %x vs %x", a.Encode(), b.Encode())
		}
		c, err := DecodeCausalContext(a.Encode())
		if err != nil || !c.Equal(a) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestHLCMonotonicUnderBackwardJump(t *testing.T) {
	c := NewHLC(10e9)
	t1 := c.Now(100e9)
	t2 := c.Now(40e9) // wall clock jumped back a minute
	t3 := c.Now(40e9)
	if t2.Compare(t1) <= 0 || t3.Compare(t2) <= 0 || t3.Wall != 100e9 {
		t.Fatalf("not monotonic: %v %v %v", t1, t2, t3)
	}
	if t4 := c.Now(101e9); t4 != (Timestamp{Wall: 101e9}) {
		t.Fatalf("did not resume physical time: %v", t4)
	}
}

func TestHLCRejectsFarFutureRemote(t *testing.T) {
	c := NewHLC(10e9)
	before := c.Now(100e9)
	_, err := c.Observe(Timestamp{Wall: 100e9 + 3600e9}, 100e9) // an hour ahead
	if !errors.Is(err, ErrClockAhead) {
		t.Fatalf("err = %v, want ErrClockAhead", err)
	}
	if c.Last() != before {
		t.Fatalf("clock moved to %v on rejected timestamp", c.Last())
	}
	got, err := c.Observe(Timestamp{Wall: 105e9, Logical: 7}, 100e9) // within bound
	if err != nil || got != (Timestamp{Wall: 105e9, Logical: 8}) {
		t.Fatalf("within bound: %v %v", got, err)
	}
	if n := c.Now(100e9); n.Compare(got) <= 0 {
		t.Fatalf("Now after Observe not greater: %v <= %v", n, got)
	}
}

func TestHLCLogicalOverflow(t *testing.T) {
	c := &HLC{last: Timestamp{Wall: 5, Logical: math.MaxUint32}}
	if got := c.Now(1); got != (Timestamp{Wall: 6}) {
		t.Fatalf("overflow: %v", got)
	}
}

// Properties of the HLC against any sequence of physical readings and
// remote timestamps: readings strictly increase, exceed every accepted
// remote, and never run more than MaxAhead past the largest physical time
// seen (plus logical ticks).
func TestHLCProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const bound = 1000
		c := NewHLC(bound)
		var prev Timestamp
		var maxPhys int64
		for i := range rapid.IntRange(1, 100).Draw(t, "n") {
			_ = i
			phys := rapid.Int64Range(0, 10000).Draw(t, "phys")
			maxPhys = max(maxPhys, phys)
			var got Timestamp
			if rapid.Bool().Draw(t, "remote") {
				rt := Timestamp{rapid.Int64Range(0, 12000).Draw(t, "rw"), rapid.Uint32Range(0, 3).Draw(t, "rl")}
				var err error
				got, err = c.Observe(rt, phys)
				if (err != nil) != (rt.Wall-phys > bound) {
					t.Fatalf("Observe(%v, %d) err = %v", rt, phys, err)
				}
				if err != nil {
					if got != prev {
						t.Fatal("rejected Observe moved the clock")
					}
					continue
				}
				if got.Compare(rt) <= 0 {
					t.Fatalf("reading %v not after remote %v", got, rt)
				}
			} else {
				got = c.Now(phys)
			}
			if got.Compare(prev) <= 0 {
				t.Fatalf("reading %v not after %v", got, prev)
			}
			if got.Wall > maxPhys+bound {
				t.Fatalf("reading %v more than %d past physical %d", got, bound, maxPhys)
			}
			prev = got
		}
	})
}

func TestORSetConcurrentAddRemove(t *testing.T) {
	for _, tc := range []struct {
		p    SetPolicy
		want []string
	}{{AddWins, []string{"x"}}, {RemoveWins, []string{}}} {
		a, b := NewORSet("a", tc.p), NewORSet("b", tc.p)
		b.Join(a.Add("x"))
		da := a.Add("x") // concurrent with b's remove
		db := b.Remove("x")
		a.Join(db)
		b.Join(da)
		if got := a.Elements(); !slices.Equal(got, tc.want) || !bytes.Equal(a.Encode(), b.Encode()) {
			t.Fatalf("policy %d: elements %v, want %v", tc.p, got, tc.want)
		}
	}
}

// An add-wins set that added and removed many elements holds no element
// metadata afterwards: its encoding equals that of a fresh set that has
// merely seen the same dots.
func TestORSetRemoveLeavesNoTombstones(t *testing.T) {
	s := NewORSet("a", AddWins)
	for _, e := range []string{"p", "q", "r", "s"} {
		s.Add(e)
		s.Remove(e)
	}
	empty := NewORSet("a", AddWins)
	empty.ctx.Join(s.ctx)
	if !bytes.Equal(s.Encode(), empty.Encode()) || len(s.f.adds.run)+len(s.f.adds.recent)+len(s.f.rms.run)+len(s.f.rms.recent) != 0 {
		t.Fatalf("tombstones left: %x vs %x", s.Encode(), empty.Encode())
	}
	if vv := s.ctx.VersionVector(); vv["a"] != 4 || len(s.ctx.Cloud()) != 0 {
		t.Fatalf("context not compact: %v %v", vv, s.ctx.Cloud())
	}
}

func TestMapRemoveLeavesNoTombstones(t *testing.T) {
	m := NewORMap("a")
	m.Inc("c", 3)
	m.SetAdd("s", AddWins, "x")
	m.UpdateMap("n", func(c *ORMap) *ORMap { return c.SetMV("v", "1") })
	m.Remove("c")
	m.Remove("s")
	m.Remove("n")
	if m.f.Len() != 0 || len(m.ctx.Cloud()) != 0 {
		t.Fatalf("fields %v cloud %v", m.Keys(), m.ctx.Cloud())
	}
}

func TestMVRegisterConcurrentValues(t *testing.T) {
	a, b := NewMVRegister("a"), NewMVRegister("b")
	da, db := a.Set("1"), b.Set("2")
	a.Join(db)
	b.Join(da)
	if got := a.Values(); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("values %v", got)
	}
	b.Join(a.Set("3"))
	if got := b.Values(); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("after overwrite %v", got)
	}
}

func TestMapLWWConcurrentWritesPickGreatestTimestamp(t *testing.T) {
	a, b := NewORMap("a"), NewORMap("b")
	da := a.SetLWW("k", "early", Timestamp{Wall: 10})
	db := b.SetLWW("k", "late", Timestamp{Wall: 20})
	a.Join(db)
	b.Join(da)
	va, _ := a.LWW("k")
	vb, _ := b.LWW("k")
	if va != "late" || vb != "late" {
		t.Fatalf("got %q %q", va, vb)
	}
}

func TestEncodingNodeDictionary(t *testing.T) {
	s := NewORSet("a-very-long-node-identifier", AddWins)
	for _, e := range []string{"x", "y", "z"} {
		s.Add(e)
	}
	if n := strings.Count(string(s.Encode()), "a-very-long-node-identifier"); n != 1 {
		t.Fatalf("node ID appears %d times", n)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	good := NewORMap("a")
	good.Inc("c", 1)
	b := good.Encode()
	for _, bad := range [][]byte{nil, {9}, {2, byte(KindORMap)}, append(slices.Clone(b), 0), b[:len(b)-1]} {
		if _, err := DecodeORMap(bad, "a", nil); !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeORMap(%x) err = %v", bad, err)
		}
	}
	if _, err := DecodeORSet(b, "a"); err == nil {
		t.Fatal("decoded a map as a set")
	}
}

func TestCausalContextDisjoint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := func(label string) (*CausalContext, map[Dot]bool) {
			ds := rapid.SliceOf(rapid.Custom(func(t *rapid.T) Dot {
				return Dot{NodeID(rapid.SampledFrom([]string{"a", "b"}).Draw(t, "n")), rapid.Uint64Range(1, 6).Draw(t, "c")}
			})).Draw(t, label)
			m := map[Dot]bool{}
			for _, d := range ds {
				m[d] = true
			}
			return contextOf(ds...), m
		}
		a, am := gen("a")
		b, bm := gen("b")
		want := true
		for d := range am {
			if bm[d] {
				want = false
			}
		}
		if a.disjoint(b) != want || b.disjoint(a) != want {
			t.Fatalf("disjoint = %v, want %v", a.disjoint(b), want)
		}
	})
}
