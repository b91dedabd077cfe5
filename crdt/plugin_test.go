package crdt_test

import (
	"bytes"
	"testing"

	"github.com/hearsay-mesh/hearsay/crdt"
)

// flag is an enable-wins flag written only against the exported API, the
// way crdt/text plugs its type into the map.
type flag struct{ dots []crdt.Dot } // sorted by (node, counter)

const tagFlag crdt.Tag = "test.flag"

func (f *flag) Tag() crdt.Tag { return tagFlag }
func (f *flag) Join(ctx *crdt.CausalContext, other crdt.Embedded, octx *crdt.CausalContext) crdt.Embedded {
	var o []crdt.Dot
	if of, ok := other.(*flag); ok && of != nil {
		o = of.dots
	}
	in := func(ds []crdt.Dot, d crdt.Dot) bool {
		for _, x := range ds {
			if x == d {
				return true
			}
		}
		return false
	}
	var out []crdt.Dot
	for _, d := range f.dots {
		if in(o, d) || !octx.Contains(d) {
			out = append(out, d)
		}
	}
	for _, d := range o {
		if !in(f.dots, d) && !ctx.Contains(d) {
			out = append(out, d)
		}
	}
	sortDots(out)
	f.dots = out
	return f
}
func (f *flag) Dots(fn func(crdt.Dot)) {
	for _, d := range f.dots {
		fn(d)
	}
}
func (f *flag) Empty() bool           { return len(f.dots) == 0 }
func (f *flag) Clone() crdt.Embedded  { return &flag{dots: append([]crdt.Dot(nil), f.dots...)} }
func (f *flag) Encode(w *crdt.Writer) { w.Uvarint(uint64(len(f.dots))); f.Dots(w.Dot) }

func sortDots(ds []crdt.Dot) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && (ds[j].Node < ds[j-1].Node || ds[j].Node == ds[j-1].Node && ds[j].Counter < ds[j-1].Counter); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func decodeFlag(r *crdt.Reader, ctx *crdt.CausalContext, _ *crdt.Registry) (crdt.Embedded, error) {
	n := r.Count(2)
	f := &flag{}
	for range n {
		d := r.Dot()
		if r.Err() == nil && !ctx.Contains(d) {
			r.Fail("flag dot outside context")
		}
		f.dots = append(f.dots, d)
	}
	return f, r.Err()
}

// enable is the flag's mutator: a fresh dot replacing the observed ones.
func enable(node crdt.NodeID) crdt.Mutator {
	return func(cur crdt.Embedded, ctx *crdt.CausalContext) (crdt.Embedded, *crdt.CausalContext) {
		d := ctx.Next(node)
		dctx := crdt.NewCausalContext()
		dctx.Add(d)
		if cur != nil {
			cur.Dots(dctx.Add)
		}
		return &flag{dots: []crdt.Dot{d}}, dctx
	}
}

func TestPluginTypeInMap(t *testing.T) {
	reg, err := crdt.NewRegistry().With(tagFlag, decodeFlag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.With(crdt.TagCounter, decodeFlag); err == nil {
		t.Fatal("re-registering a built-in tag succeeded")
	}
	a, b := crdt.NewORMap("a"), crdt.NewORMap("b")
	b.Join(a.Update("f", tagFlag, enable("a")))
	da := a.Update("f", tagFlag, enable("a")) // concurrent with b's removal: enable wins
	db := b.Remove("f")
	a.Join(db)
	b.Join(da)
	if _, ok := a.Fields().Field("f", tagFlag); !ok {
		t.Fatal("flag lost its concurrent enable")
	}
	enc := a.Encode()
	if !bytes.Equal(enc, b.Encode()) {
		t.Fatal("replicas differ")
	}
	if _, err := crdt.DecodeORMap(enc, "c", crdt.NewRegistry()); err == nil {
		t.Fatal("decoded an unknown tag without its decoder")
	}
	c, err := crdt.DecodeORMap(enc, "c", reg)
	if err != nil || !bytes.Equal(c.Encode(), enc) {
		t.Fatalf("round trip with registry: %v", err)
	}
}
