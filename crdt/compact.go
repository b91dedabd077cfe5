package crdt

import (
	"math"
	"slices"
)

// The compact form of an ORMap is for storage that keeps its own numbering
// of node IDs (a store-wide dictionary): node IDs are numbers from a Dict,
// the causal context is left out where the fields' dots imply it, built-in
// field tags take one byte, and HLC wall times take 8 fixed bytes. It has
// no version or kind byte: the caller's framing must say what follows.
// Unlike Encode's output it depends on the Dict's numbering, so it is not
// a form to compare or hash across replicas (use Encode for that).
//
//	map      = header [explicit] field*
//	header   = uvarint(number of fields << 1 | 1 if explicit follows)
//	explicit = uvarint(count >= 1) (node vv uvarint(cloud count) gap*)*
//	           nodes in increasing ID order; cloud counter = previous + gap,
//	           gap >= 1, starting from vv + 1
//	field    = uvarint(tag code << 1 | 1 if name follows) [tag] [name] body
//	           tag only when the code is 0 (a plug-in type)
//
// The context of a map decoded from it is, for each node, the version
// vector entry max(counters of the node's dots in the fields), except for
// the nodes listed in explicit, which give their vector entry and cloud.
// The encoder lists exactly the nodes that differ from that, so a key whose
// writes each replaced the previous ones (the common case) stores no
// context at all.

// Dict numbers node IDs for the compact form. The caller keeps it (and
// persists a number before anything written with it), and decodes with the
// same numbering.
type Dict interface {
	// Index returns n's number, assigning the next free one if n has none.
	Index(n NodeID) uint64
	// Node returns the node numbered i, if any.
	Node(i uint64) (NodeID, bool)
}

// Tag codes of the compact form. They are persisted: never renumber; a new
// built-in type takes the next number. 0 means the tag follows as a string.
var (
	tagCodes = map[Tag]uint64{TagLWW: 1, TagMV: 2, TagCounter: 3, TagAWSet: 4, TagRWSet: 5, TagMap: 6}
	codeTags = []Tag{1: TagLWW, 2: TagMV, 3: TagCounter, 4: TagAWSet, 5: TagRWSet, 6: TagMap}
)

// fieldKey writes a field key.
func (w *Writer) fieldKey(k FieldKey) {
	if w.ext == nil {
		w.String(k.Name)
		w.String(string(k.Tag))
		return
	}
	code := tagCodes[k.Tag]
	h := code << 1
	if k.Name != "" {
		h |= 1
	}
	w.Uvarint(h)
	if code == 0 {
		w.String(string(k.Tag))
	}
	if k.Name != "" {
		w.String(k.Name)
	}
}

// fieldKey reads a field key written by Writer.fieldKey.
func (r *Reader) fieldKey() FieldKey {
	if r.ext == nil {
		return FieldKey{Name: r.String(), Tag: Tag(r.String())}
	}
	h := r.Uvarint()
	var k FieldKey
	switch code := h >> 1; {
	case r.err != nil:
		return k
	case code == 0:
		k.Tag = Tag(r.String())
		if _, builtin := tagCodes[k.Tag]; builtin || k.Tag == "" {
			r.Fail("non-canonical field tag %q", k.Tag)
		}
	case code < uint64(len(codeTags)):
		k.Tag = codeTags[code]
	default:
		r.Fail("unknown field tag code %d", code)
	}
	if h&1 == 1 {
		if k.Name = r.String(); k.Name == "" && r.err == nil {
			r.Fail("non-canonical empty field name")
		}
	}
	return k
}

// maxDots returns, per node, the largest counter among f's dots, sorted by
// node, appended to out.
// Up to 8 nodes the list is searched in place (the common case: a key's
// writers are few, and this runs for every stored record); beyond, a map
// indexes it, so a set with elements from N writers costs O(N log N), not
// O(N^2) (40,000 writers took 2.4 s per encode).
func maxDots(f *MapField, out []Dot) []Dot {
	var at map[NodeID]int
	f.Dots(func(d Dot) {
		if at != nil {
			if i, ok := at[d.Node]; ok {
				out[i].Counter = max(out[i].Counter, d.Counter)
				return
			}
			at[d.Node] = len(out)
			out = append(out, d)
			return
		}
		for i := range out {
			if out[i].Node == d.Node {
				out[i].Counter = max(out[i].Counter, d.Counter)
				return
			}
		}
		out = append(out, d)
		if len(out) > 8 {
			at = make(map[NodeID]int, 2*len(out))
			for i, x := range out {
				at[x.Node] = i
			}
		}
	})
	slices.SortFunc(out, compareDots)
	return out
}

func impliedMax(ms []Dot, n NodeID) uint64 {
	i, ok := slices.BinarySearchFunc(ms, n, func(d Dot, n NodeID) int {
		switch {
		case d.Node < n:
			return -1
		case d.Node > n:
			return 1
		}
		return 0
	})
	if !ok {
		return 0
	}
	return ms[i].Counter
}

// AppendCompact appends m's compact form (see Dict) to dst, numbering node
// IDs with dict, and returns the extended slice.
func (m *ORMap) AppendCompact(dst []byte, dict Dict) []byte {
	if dst == nil {
		dst = make([]byte, 0, 64)
	}
	w := &Writer{buf: dst, ext: dict}
	ms := maxDots(m.f, w.scratch[:0])
	// Nodes whose context entry is not the one the dots imply.
	var cloud []Dot
	var explicit []NodeID
	if len(m.ctx.cloud) > 0 {
		cloud = m.ctx.Cloud()
		explicit = m.ctx.cloudNodes()
	}
	for n, v := range m.ctx.vv {
		if v > 0 && v != impliedMax(ms, n) && !hasCloud(cloud, n) {
			explicit = append(explicit, n)
		}
	}
	slices.Sort(explicit)
	h := uint64(len(m.f.fields)) << 1
	if len(explicit) > 0 {
		h |= 1
	}
	w.Uvarint(h)
	if len(explicit) > 0 {
		w.Uvarint(uint64(len(explicit)))
		for _, n := range explicit {
			v := m.ctx.vv[n]
			w.Node(n)
			w.Uvarint(v)
			i, _ := slices.BinarySearchFunc(cloud, Dot{n, 0}, compareDots)
			j := i
			for j < len(cloud) && cloud[j].Node == n {
				j++
			}
			w.Uvarint(uint64(j - i))
			prev := v + 1
			for _, d := range cloud[i:j] {
				w.Uvarint(d.Counter - prev)
				prev = d.Counter
			}
		}
	}
	m.f.encodeFields(w)
	return w.buf
}

func hasCloud(cloud []Dot, n NodeID) bool {
	i, _ := slices.BinarySearchFunc(cloud, Dot{n, 0}, compareDots)
	return i < len(cloud) && cloud[i].Node == n
}

// DecodeORMapCompact decodes a compact form at the start of b with the
// node numbering dict and the field decoders in reg (nil: the built-in
// types), and returns the map and the bytes after it. Like DecodeORMap it
// accepts only what AppendCompact writes (re-encoding gives the same
// bytes) and never panics; errors wrap ErrMalformed.
func DecodeORMapCompact(b []byte, node NodeID, reg *Registry, dict Dict) (*ORMap, []byte, error) {
	if reg == nil {
		reg = NewRegistry()
	}
	r := &Reader{b: b, ext: dict}
	h := r.Uvarint()
	nf := h >> 1
	if r.err == nil && nf > uint64(len(r.b)/2) {
		r.Fail("field count %d exceeds input", nf)
	}
	type listed struct {
		node  NodeID
		vv    uint64
		cloud []uint64
	}
	var explicit []listed
	if h&1 == 1 {
		n := r.Count(3)
		if r.err == nil && n == 0 {
			r.Fail("empty explicit context")
		}
		for i := 0; i < n && r.err == nil; i++ {
			e := listed{node: r.Node(), vv: r.Uvarint()}
			if r.err == nil && e.vv > MaxDotCounter {
				r.Fail("version vector entry %d above %d", e.vv, uint64(MaxDotCounter))
			}
			k := r.Count(1)
			if r.err == nil && k > 0 && e.vv == math.MaxUint64 {
				r.Fail("cloud beyond the largest counter")
			}
			prev := e.vv + 1
			for j := 0; j < k && r.err == nil; j++ {
				gap := r.Uvarint()
				if r.err == nil && (gap == 0 || gap > math.MaxUint64-prev) {
					r.Fail("bad cloud gap")
				}
				prev += gap
				if r.err == nil && prev > MaxDotCounter {
					r.Fail("cloud dot %d above %d", prev, uint64(MaxDotCounter))
				}
				e.cloud = append(e.cloud, prev)
			}
			if r.err == nil && i > 0 && e.node <= explicit[i-1].node {
				r.Fail("explicit context nodes not increasing")
			}
			explicit = append(explicit, e)
		}
	}
	ctx := NewCausalContext()
	var f *MapField
	if r.err == nil {
		f = readFields(r, ctx, reg, int(nf))
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	// The context: the dots' maxima, then the listed nodes.
	ms := maxDots(f, nil)
	for _, d := range ms {
		ctx.vv[d.Node] = d.Counter
	}
	for _, e := range explicit {
		if e.vv == impliedMax(ms, e.node) && len(e.cloud) == 0 {
			r.Fail("explicit context entry equal to the implied one")
			return nil, nil, r.err
		}
		delete(ctx.vv, e.node)
		if e.vv > 0 {
			ctx.vv[e.node] = e.vv
		}
		for _, c := range e.cloud {
			ctx.cloud[Dot{e.node, c}] = struct{}{}
		}
	}
	f.Dots(func(d Dot) {
		if !ctx.Contains(d) {
			r.Fail("dot not covered by causal context")
		}
	})
	if r.err != nil {
		return nil, nil, r.err
	}
	return &ORMap{node: node, ctx: ctx, f: f}, r.b, nil
}
