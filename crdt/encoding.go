package crdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// EncodingVersion is the first byte of every encoded object.
const EncodingVersion byte = 1

// Kind is the second byte of every encoded object: which type follows.
type Kind byte

// Kinds of encoded objects.
const (
	KindContext    Kind = 1
	KindGCounter   Kind = 2
	KindPNCounter  Kind = 3
	KindGSet       Kind = 4
	KindTwoPSet    Kind = 5
	KindLWW        Kind = 6
	KindMVRegister Kind = 7
	KindORSet      Kind = 8
	KindORMap      Kind = 9
)

// Decoding limits: a decoder refuses input beyond them.
const (
	// MaxNodeIDLen is the longest node ID accepted.
	MaxNodeIDLen = 256
	// MaxNesting is the deepest nesting of maps accepted.
	MaxNesting = 32
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("crdt: malformed encoding")

// Writer builds the body of an encoded object. Node IDs are written as
// indexes into a per-object dictionary, assigned in order of first use, so a
// node ID appears once per object. Embedded types use it in Encode.
//
// In the compact form (ORMap.AppendCompact) node IDs are numbers from a
// caller's Dict instead, and timestamps take a fixed 8-byte wall time.
type Writer struct {
	buf   []byte
	dict  map[NodeID]uint64
	nodes []NodeID
	ext   Dict // compact form: the caller's numbering (nil otherwise)
	// scratch holds the compact form's per-node maxima without another
	// allocation for keys written by a few nodes.
	scratch [4]Dot
}

func newWriter() *Writer { return &Writer{dict: map[NodeID]uint64{}} }

// Uvarint appends u.
func (w *Writer) Uvarint(u uint64) { w.buf = binary.AppendUvarint(w.buf, u) }

// Varint appends i (zig-zag).
func (w *Writer) Varint(i int64) { w.buf = binary.AppendVarint(w.buf, i) }

// String appends a length-prefixed string.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Node appends a node ID as a dictionary index.
func (w *Writer) Node(n NodeID) {
	if w.ext != nil {
		w.Uvarint(w.ext.Index(n))
		return
	}
	i, ok := w.dict[n]
	if !ok {
		i = uint64(len(w.nodes))
		w.dict[n] = i
		w.nodes = append(w.nodes, n)
	}
	w.Uvarint(i)
}

// Dot appends a dot.
func (w *Writer) Dot(d Dot) {
	w.Node(d.Node)
	w.Uvarint(d.Counter)
}

// Timestamp appends an HLC timestamp.
func (w *Writer) Timestamp(t Timestamp) {
	if w.ext != nil {
		w.compactTimestamp(t)
		return
	}
	w.Varint(t.Wall)
	w.Uvarint(uint64(t.Logical))
}

// tsLogical flags, in a compact timestamp's 8 bytes, that a logical
// counter follows. Unix nanoseconds need 61 bits, so walls below 2^62
// leave the two top bits free.
const (
	tsLogical = 1 << 62
	tsWallMax = 1 << 62 // walls at or above (or below 0) take the escape
	tsEscape  = 0x80
	tsTopBits = 3 << 62
)

// compactTimestamp writes t in CompactV2 (see compact.go): 8 bytes when
// the logical counter is 0, the common case.
func (w *Writer) compactTimestamp(t Timestamp) {
	if t.Wall < 0 || t.Wall >= tsWallMax {
		w.buf = append(w.buf, tsEscape)
		w.Varint(t.Wall)
		w.Uvarint(uint64(t.Logical))
		return
	}
	u := uint64(t.Wall)
	if t.Logical > 0 {
		u |= tsLogical
	}
	w.buf = binary.BigEndian.AppendUint64(w.buf, u)
	if t.Logical > 0 {
		w.Uvarint(uint64(t.Logical))
	}
}

// finish frames the body: version, kind, node dictionary, body.
func (w *Writer) finish(k Kind) []byte {
	out := make([]byte, 0, len(w.buf)+8+8*len(w.nodes))
	out = append(out, EncodingVersion, byte(k))
	out = binary.AppendUvarint(out, uint64(len(w.nodes)))
	for _, n := range w.nodes {
		out = binary.AppendUvarint(out, uint64(len(n)))
		out = append(out, n...)
	}
	return append(out, w.buf...)
}

// Reader decodes the body of an encoded object. Errors are sticky: after the
// first error every method returns zero values and Err reports it, so a
// decoder may read a whole structure and check Err once (but must check it
// before trusting a count it loops on; Count does this for you).
type Reader struct {
	b       []byte
	nodes   []NodeID
	nextNew int // dictionary entries must be first used in order
	err     error
	depth   int
	// ext is the caller's numbering when reading the compact form; the
	// context is then only known once every field is read, so dots are
	// checked against it at the end (see Covered).
	ext Dict
	// compact is the compact form's layout when ext is set.
	compact CompactVersion
}

// Covered reports whether a decoder should accept dot d under context ctx:
// ctx.Contains(d), except in the compact form, where the context is built
// after the fields and every dot is checked then. Decoders of plug-in
// field types must use it rather than ctx.Contains.
func (r *Reader) Covered(ctx *CausalContext, d Dot) bool {
	return r.ext != nil || ctx.Contains(d)
}

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records a decoding error (the first one wins).
func (r *Reader) Fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.Fail("bad or overlong uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || (n > 1 && r.b[n-1] == 0) {
		r.Fail("bad or overlong varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a collection length and checks it against the bytes left,
// given that each element takes at least minBytes bytes, so a hostile count
// cannot force a huge allocation.
func (r *Reader) Count(minBytes int) int {
	v := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if minBytes < 1 {
		minBytes = 1
	}
	if v > uint64(len(r.b)/minBytes) {
		r.Fail("count %d exceeds input", v)
		return 0
	}
	return int(v)
}

// String reads a length-prefixed string.
func (r *Reader) String() string {
	n := r.Count(1)
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Node reads a node dictionary index.
func (r *Reader) Node() NodeID {
	i := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if r.ext != nil {
		n, ok := r.ext.Node(i)
		if !ok || n == "" {
			r.Fail("node number %d not in the dictionary", i)
			return ""
		}
		return n
	}
	if i >= uint64(len(r.nodes)) || i > uint64(r.nextNew) {
		r.Fail("node index %d out of range or out of first-use order", i)
		return ""
	}
	if i == uint64(r.nextNew) {
		r.nextNew++
	}
	return r.nodes[i]
}

// MaxDotCounter is the largest dot counter (and version-vector entry) a
// decoder accepts. A node counts its dots one by one, so it never gets
// near; a counter at 2^64-1 made the context's dot count wrap (a join
// then looped over 2^64 dots) and the key's next local dot wrap to 0 (every
// later write to the key was lost).
const MaxDotCounter = 1 << 62

// Dot reads a dot; counters must be at least 1 and at most MaxDotCounter.
func (r *Reader) Dot() Dot {
	d := Dot{Node: r.Node(), Counter: r.Uvarint()}
	if r.err == nil && (d.Counter == 0 || d.Counter > MaxDotCounter) {
		r.Fail("dot counter %d out of range [1, %d]", d.Counter, uint64(MaxDotCounter))
	}
	return d
}

// Timestamp reads an HLC timestamp.
func (r *Reader) Timestamp() Timestamp {
	if r.err != nil {
		return Timestamp{}
	}
	var t Timestamp
	switch {
	case r.ext == nil:
		t.Wall = r.Varint()
		t.Logical = r.logical(r.Uvarint())
	case r.compact == CompactV1:
		if len(r.b) < 8 {
			r.Fail("short timestamp")
			return Timestamp{}
		}
		t.Wall = int64(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		t.Logical = r.logical(r.Uvarint())
	default:
		t = r.compactTimestamp()
	}
	if r.err != nil {
		return Timestamp{}
	}
	return t
}

// compactTimestamp reads what Writer.compactTimestamp writes, refusing
// every other form.
func (r *Reader) compactTimestamp() Timestamp {
	if len(r.b) < 1 {
		r.Fail("short timestamp")
		return Timestamp{}
	}
	if r.b[0]&0x80 != 0 {
		if r.b[0] != tsEscape {
			r.Fail("bad timestamp escape %#x", r.b[0])
			return Timestamp{}
		}
		r.b = r.b[1:]
		t := Timestamp{Wall: r.Varint()}
		t.Logical = r.logical(r.Uvarint())
		if r.err == nil && t.Wall >= 0 && t.Wall < tsWallMax {
			r.Fail("non-canonical escaped timestamp")
		}
		return t
	}
	if len(r.b) < 8 {
		r.Fail("short timestamp")
		return Timestamp{}
	}
	u := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	t := Timestamp{Wall: int64(u &^ tsTopBits)}
	if u&tsLogical != 0 {
		if t.Logical = r.logical(r.Uvarint()); r.err == nil && t.Logical == 0 {
			r.Fail("non-canonical zero logical counter")
		}
	}
	return t
}

// logical checks a logical counter read as a uvarint.
func (r *Reader) logical(l uint64) uint32 {
	if l > 1<<32-1 {
		r.Fail("logical clock overflow")
		return 0
	}
	return uint32(l)
}

// Enter and Leave bracket a nested structure; Enter fails beyond MaxNesting.
func (r *Reader) Enter() bool {
	r.depth++
	if r.depth > MaxNesting {
		r.Fail("nesting deeper than %d", MaxNesting)
	}
	return r.err == nil
}

// Leave ends a nested structure opened with Enter.
func (r *Reader) Leave() { r.depth-- }

// openReader checks the frame (version, kind) and reads the node dictionary.
func openReader(b []byte, k Kind) *Reader {
	r := &Reader{b: b}
	if len(b) < 2 {
		r.Fail("short input")
		return r
	}
	if b[0] != EncodingVersion {
		r.Fail("unknown version %d", b[0])
		return r
	}
	if Kind(b[1]) != k {
		r.Fail("kind %d, want %d", b[1], k)
		return r
	}
	r.b = b[2:]
	n := r.Count(2)
	seen := make(map[NodeID]bool, n)
	for range n {
		s := r.String()
		if r.err != nil {
			return r
		}
		if len(s) == 0 || len(s) > MaxNodeIDLen {
			r.Fail("node ID length %d", len(s))
			return r
		}
		if seen[NodeID(s)] {
			r.Fail("duplicate node ID in dictionary")
			return r
		}
		seen[NodeID(s)] = true
		r.nodes = append(r.nodes, NodeID(s))
	}
	return r
}

// close checks that the whole input was consumed.
func (r *Reader) close() error {
	if r.err == nil && len(r.b) != 0 {
		r.Fail("%d trailing bytes", len(r.b))
	}
	if r.err == nil && r.nextNew != len(r.nodes) {
		r.Fail("unused node IDs in dictionary")
	}
	return r.err
}

// writeContext writes a context: sorted version vector, sorted cloud.
func (w *Writer) writeContext(c *CausalContext) {
	vv := c.VersionVector()
	ns := make([]NodeID, 0, len(vv))
	for n := range vv {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	w.Uvarint(uint64(len(ns)))
	for _, n := range ns {
		w.Node(n)
		w.Uvarint(vv[n])
	}
	cl := c.Cloud()
	w.Uvarint(uint64(len(cl)))
	for _, d := range cl {
		w.Dot(d)
	}
}

// readContext reads a context written by writeContext. Non-canonical input
// (unsorted, duplicate or redundant entries) is rejected, so that decoding
// and re-encoding gives the same bytes.
func (r *Reader) readContext() *CausalContext {
	c := NewCausalContext()
	n := r.Count(2)
	var prev NodeID
	for i := range n {
		node := r.Node()
		v := r.Uvarint()
		if r.err != nil {
			return c
		}
		if v == 0 || (i > 0 && node <= prev) {
			r.Fail("non-canonical version vector")
			return c
		}
		if v > MaxDotCounter {
			r.Fail("version vector entry %d above %d", v, uint64(MaxDotCounter))
			return c
		}
		prev = node
		c.vv[node] = v
	}
	n = r.Count(2)
	var prevDot Dot
	for i := range n {
		d := r.Dot()
		if r.err != nil {
			return c
		}
		if (i > 0 && compareDots(prevDot, d) >= 0) || d.Counter <= c.vv[d.Node]+1 {
			r.Fail("non-canonical causal context cloud")
			return c
		}
		prevDot = d
		c.cloud[d] = struct{}{}
	}
	// A cloud dot adjacent to another cloud dot is fine; one adjacent to the
	// vector was rejected above, so the context is already normal.
	return c
}

// Encode returns the canonical encoding of the context.
func (c *CausalContext) Encode() []byte {
	w := newWriter()
	w.writeContext(c)
	return w.finish(KindContext)
}

// DecodeCausalContext decodes an encoding made by CausalContext.Encode.
func DecodeCausalContext(b []byte) (*CausalContext, error) {
	r := openReader(b, KindContext)
	c := r.readContext()
	if err := r.close(); err != nil {
		return nil, err
	}
	return c, nil
}

// writeDots writes a sorted dot list with a payload writer per entry.
func writeFun[V any](w *Writer, s dotFun[V], val func(V)) {
	w.Uvarint(uint64(len(s)))
	for _, e := range s {
		w.Dot(e.Dot)
		if val != nil {
			val(e.Val)
		}
	}
}

// readFun reads a dot list written by writeFun; dots must be strictly
// increasing and contained in ctx (a store never holds a dot its context
// has not seen).
func readFun[V any](r *Reader, ctx *CausalContext, val func() V) dotFun[V] {
	n := r.Count(2)
	if n == 0 {
		return nil
	}
	s := make(dotFun[V], 0, n)
	for range n {
		d := r.Dot()
		var v V
		if val != nil {
			v = val()
		}
		if r.err != nil {
			return nil
		}
		if len(s) > 0 && compareDots(s[len(s)-1].Dot, d) >= 0 {
			r.Fail("dots not strictly increasing")
			return nil
		}
		if !r.Covered(ctx, d) {
			r.Fail("dot not covered by causal context")
			return nil
		}
		s = append(s, entry[V]{d, v})
	}
	return s
}
