package store

import (
	"cmp"
	"fmt"

	"github.com/hearsay-mesh/hearsay/crdt"
)

// tagText is the map field tag of a text key's presence flag.
const tagText crdt.Tag = "text"

// textFlag is the map field of a text key: an enable-wins flag made of the
// dots of the text writes. The characters live in the key's text.Doc, which
// has no dots of its own; the flag gives Del its observed-remove meaning for
// text (a text write concurrent with Del keeps the key).
type textFlag struct {
	dots []crdt.Dot // strictly increasing by (node, counter)
}

func compareDots(a, b crdt.Dot) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}

// Tag implements crdt.Embedded.
func (f *textFlag) Tag() crdt.Tag { return tagText }

// Join implements crdt.Embedded: a dot survives if both sides hold it, or
// one side holds it and the other side's context has not seen it.
func (f *textFlag) Join(ctx *crdt.CausalContext, other crdt.Embedded, octx *crdt.CausalContext) crdt.Embedded {
	var o []crdt.Dot
	if of, ok := other.(*textFlag); ok && of != nil {
		o = of.dots
	}
	out := make([]crdt.Dot, 0, len(f.dots)+len(o))
	i, j := 0, 0
	for i < len(f.dots) || j < len(o) {
		switch {
		case j == len(o) || (i < len(f.dots) && compareDots(f.dots[i], o[j]) < 0):
			if !octx.Contains(f.dots[i]) {
				out = append(out, f.dots[i])
			}
			i++
		case i == len(f.dots) || compareDots(f.dots[i], o[j]) > 0:
			if !ctx.Contains(o[j]) {
				out = append(out, o[j])
			}
			j++
		default:
			out = append(out, f.dots[i])
			i++
			j++
		}
	}
	f.dots = out
	return f
}

// Dots implements crdt.Embedded.
func (f *textFlag) Dots(fn func(crdt.Dot)) {
	for _, d := range f.dots {
		fn(d)
	}
}

// Empty implements crdt.Embedded.
func (f *textFlag) Empty() bool { return len(f.dots) == 0 }

// Clone implements crdt.Embedded.
func (f *textFlag) Clone() crdt.Embedded {
	return &textFlag{dots: append([]crdt.Dot(nil), f.dots...)}
}

// Encode implements crdt.Embedded.
func (f *textFlag) Encode(w *crdt.Writer) {
	w.Uvarint(uint64(len(f.dots)))
	for _, d := range f.dots {
		w.Dot(d)
	}
}

// decodeTextFlag is the crdt.DecodeFunc for tagText.
func decodeTextFlag(r *crdt.Reader, ctx *crdt.CausalContext, _ *crdt.Registry) (crdt.Embedded, error) {
	n := r.Count(2)
	f := &textFlag{dots: make([]crdt.Dot, 0, n)}
	for range n {
		d := r.Dot()
		if err := r.Err(); err != nil {
			return nil, err
		}
		if k := len(f.dots); k > 0 && compareDots(f.dots[k-1], d) >= 0 {
			return nil, fmt.Errorf("text flag dots not increasing")
		}
		if !r.Covered(ctx, d) {
			return nil, fmt.Errorf("text flag dot not covered by the context")
		}
		f.dots = append(f.dots, d)
	}
	return f, nil
}

// raiseText is the flag's mutator: a fresh dot replacing the observed ones.
func raiseText(node crdt.NodeID) crdt.Mutator {
	return func(cur crdt.Embedded, ctx *crdt.CausalContext) (crdt.Embedded, *crdt.CausalContext) {
		d := ctx.Next(node)
		dctx := crdt.NewCausalContext()
		dctx.Add(d)
		if cur != nil {
			cur.Dots(dctx.Add)
		}
		return &textFlag{dots: []crdt.Dot{d}}, dctx
	}
}
