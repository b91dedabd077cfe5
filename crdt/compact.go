package crdt

import (
	"fmt"
	"math"
	"slices"
)

// The compact form of an ORMap is for storage that keeps its own numbering
// of node IDs (a store-wide dictionary): node IDs are numbers from a Dict,
// the causal context is left out where the fields' dots imply it, built-in
// field tags take one byte, and HLC wall times take 8 fixed bytes. It has
// no version or kind byte: the caller's framing must say what follows (and
// which CompactVersion wrote it). Unlike Encode's output it depends on the
// Dict's numbering, so it is not a form to compare or hash across replicas
// (use Encode for that).
//
// CompactV2, what AppendCompact writes:
//
//	map      = header [uvarint(count - 3)] entry* field*
//	header   = uvarint(number of fields << 2 | min(count, 3))
//	           count = number of explicit context entries
//	entry    = node uvarint(vv << 1 | 1 if a cloud follows) [uvarint(k >= 1) gap*k]
//	           nodes in increasing ID order; cloud counter = previous + gap,
//	           gap >= 1, starting from vv + 1
//	field    = uvarint(tag code << 1 | 1 if name follows) [tag] [name] body
//	           tag only when the code is 0 (a plug-in type)
//	timestamp (in bodies) = 8 bytes big-endian: wall | 1<<62 if logical > 0,
//	           then uvarint(logical) if logical > 0; a wall outside
//	           [0, 2^62) is byte 0x80, varint(wall), uvarint(logical)
//
// CompactV1 (stores written before 2026-12-07, read for migration):
//
//	map      = header [explicit] field*
//	header   = uvarint(number of fields << 1 | 1 if explicit follows)
//	explicit = uvarint(count >= 1) (node vv uvarint(cloud count) gap*)*
//	timestamp = 8 bytes big-endian wall, uvarint(logical)
//
// V2 saves three bytes on a register overwritten by another writer (the
// explicit count and cloud count, and the timestamp's logical byte, which
// is almost always 0), so such a key stores 16 bytes beyond its value
// where V1 stored 19.
//
// The context of a map decoded from it is, for each node, the version
// vector entry max(counters of the node's dots in the fields), except for
// the nodes listed in explicit, which give their vector entry and cloud.
// The encoder lists exactly the nodes that differ from that, so a key whose
// writes each replaced the previous ones (the common case) stores no
// context at all.

// CompactVersion identifies a layout of the compact form.
type CompactVersion int

// The compact form's layouts. They are persisted: never change one.
const (
	CompactV1 CompactVersion = 1
	CompactV2 CompactVersion = 2
	// CompactLatest is what AppendCompact writes.
	CompactLatest = CompactV2
)

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
	h := uint64(len(m.f.fields))<<2 | uint64(min(len(explicit), 3))
	w.Uvarint(h)
	if len(explicit) >= 3 {
		w.Uvarint(uint64(len(explicit) - 3))
	}
	for _, n := range explicit {
		v := m.ctx.vv[n]
		w.Node(n)
		i, _ := slices.BinarySearchFunc(cloud, Dot{n, 0}, compareDots)
		j := i
		for j < len(cloud) && cloud[j].Node == n {
			j++
		}
		if j == i {
			w.Uvarint(v << 1)
			continue
		}
		w.Uvarint(v<<1 | 1)
		w.Uvarint(uint64(j - i))
		prev := v + 1
		for _, d := range cloud[i:j] {
			w.Uvarint(d.Counter - prev)
			prev = d.Counter
		}
	}
	m.f.encodeFields(w)
	return w.buf
}

func hasCloud(cloud []Dot, n NodeID) bool {
	i, _ := slices.BinarySearchFunc(cloud, Dot{n, 0}, compareDots)
	return i < len(cloud) && cloud[i].Node == n
}

// DecodeORMapCompact decodes a compact form written by AppendCompact
// (CompactLatest) at the start of b with the node numbering dict and the
// field decoders in reg (nil: the built-in types), and returns the map and
// the bytes after it. Like DecodeORMap it accepts only what AppendCompact
// writes (re-encoding gives the same bytes) and never panics; errors wrap
// ErrMalformed.
func DecodeORMapCompact(b []byte, node NodeID, reg *Registry, dict Dict) (*ORMap, []byte, error) {
	return DecodeORMapCompactVersion(b, CompactLatest, node, reg, dict)
}

// DecodeORMapCompactVersion is DecodeORMapCompact for a compact form of
// layout v (an older layout is read to migrate what it stored; only
// CompactLatest re-encodes to the same bytes).
func DecodeORMapCompactVersion(b []byte, v CompactVersion, node NodeID, reg *Registry, dict Dict) (*ORMap, []byte, error) {
	if reg == nil {
		reg = NewRegistry()
	}
	if v != CompactV1 && v != CompactV2 {
		return nil, nil, fmt.Errorf("%w: unknown compact version %d", ErrMalformed, v)
	}
	r := &Reader{b: b, ext: dict, compact: v}
	var nf uint64
	var explicit []listed
	if v == CompactV1 {
		nf, explicit = readExplicitV1(r)
	} else {
		nf, explicit = readExplicitV2(r)
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

// listed is an explicit context entry of the compact form.
type listed struct {
	node  NodeID
	vv    uint64
	cloud []uint64
}

// readExplicitV1 reads a CompactV1 header and explicit context.
func readExplicitV1(r *Reader) (nf uint64, explicit []listed) {
	h := r.Uvarint()
	nf = h >> 1
	if r.err == nil && nf > uint64(len(r.b)/2) {
		r.Fail("field count %d exceeds input", nf)
	}
	if h&1 == 0 || r.err != nil {
		return nf, nil
	}
	n := r.Count(3)
	if r.err == nil && n == 0 {
		r.Fail("empty explicit context")
	}
	for i := 0; i < n && r.err == nil; i++ {
		e := listed{node: r.Node(), vv: r.Uvarint()}
		e.cloud = readCloud(r, e.vv, r.Count(1))
		explicit = appendListed(r, explicit, e)
	}
	return nf, explicit
}

// readExplicitV2 reads a CompactV2 header and explicit context.
func readExplicitV2(r *Reader) (nf uint64, explicit []listed) {
	h := r.Uvarint()
	nf = h >> 2
	if r.err == nil && nf > uint64(len(r.b)/2) {
		r.Fail("field count %d exceeds input", nf)
	}
	n := int(h & 3)
	if n == 3 {
		n += r.Count(2) // each entry takes at least 2 bytes
	}
	for i := 0; i < n && r.err == nil; i++ {
		e := listed{node: r.Node()}
		x := r.Uvarint()
		e.vv = x >> 1
		k := 0
		if x&1 == 1 {
			if k = r.Count(1); r.err == nil && k == 0 {
				r.Fail("empty cloud")
			}
		}
		e.cloud = readCloud(r, e.vv, k)
		explicit = appendListed(r, explicit, e)
	}
	return nf, explicit
}

// readCloud reads k cloud gaps after vector entry vv.
func readCloud(r *Reader, vv uint64, k int) []uint64 {
	if r.err == nil && vv > MaxDotCounter {
		r.Fail("version vector entry %d above %d", vv, uint64(MaxDotCounter))
	}
	if r.err == nil && k > 0 && vv == math.MaxUint64 {
		r.Fail("cloud beyond the largest counter")
	}
	var cloud []uint64
	prev := vv + 1
	for j := 0; j < k && r.err == nil; j++ {
		gap := r.Uvarint()
		if r.err == nil && (gap == 0 || gap > math.MaxUint64-prev) {
			r.Fail("bad cloud gap")
		}
		prev += gap
		if r.err == nil && prev > MaxDotCounter {
			r.Fail("cloud dot %d above %d", prev, uint64(MaxDotCounter))
		}
		cloud = append(cloud, prev)
	}
	return cloud
}

// appendListed appends e, checking that nodes increase.
func appendListed(r *Reader, explicit []listed, e listed) []listed {
	if r.err == nil && len(explicit) > 0 && e.node <= explicit[len(explicit)-1].node {
		r.Fail("explicit context nodes not increasing")
	}
	return append(explicit, e)
}
