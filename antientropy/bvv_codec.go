package antientropy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
)

// Limits the decoders enforce on untrusted bytes.
const (
	maxNodeIDBytes = 256
	maxBitmapBytes = maxGapBits / 8
	maxSpans       = 1 << 16
)

var errTruncated = errors.New("antientropy: truncated encoding")

// reader decodes uvarints and byte strings and never panics.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("antientropy: "+format, args...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		if n == 0 {
			r.err = errTruncated
		} else {
			r.fail("uvarint overflow")
		}
		return 0
	}
	if n != uvarintLen(v) {
		r.fail("non-minimal uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) {
		r.fail("length %d over limit %d", n, limit)
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errTruncated
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// count reads a count of items that need at least minBytes each.
func (r *reader) count(minBytes, limit int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(limit) || n*uint64(minBytes) > uint64(len(r.b)) {
		r.fail("count %d too large for %d bytes left", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// appendBitmap writes the words little-endian without trailing zero bytes.
func appendBitmap(b []byte, words []uint64) []byte {
	n := len(words) * 8
	for n > 0 && byte(words[(n-1)/8]>>(8*((n-1)%8))) == 0 {
		n--
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i := 0; i < n; i++ {
		b = append(b, byte(words[i/8]>>(8*(i%8))))
	}
	return b
}

// fits reports whether every counter s holds is at most 2^64-1: a
// decoded base near the top with a bitmap beyond it would wrap, and the
// counting and enumerating of missing dots would then disagree (a peer
// could make a node enumerate 2^64 dots).
func (s *span) fits() bool {
	if len(s.bits) == 0 {
		return true
	}
	last := s.bits[len(s.bits)-1]
	if last == 0 {
		return true // not normalised; the decoders refuse it anyway
	}
	top := uint64(64*(len(s.bits)-1) + 63 - bits.LeadingZeros64(last)) // highest set bit
	return s.base <= math.MaxUint64-1-top
}

func readBitmap(r *reader) []uint64 {
	bm := r.bytes(maxBitmapBytes)
	if r.err != nil || len(bm) == 0 {
		return nil
	}
	if bm[len(bm)-1] == 0 {
		r.fail("bitmap has a trailing zero byte")
		return nil
	}
	if bm[0]&1 != 0 {
		r.fail("bitmap not normalised: first bit set")
		return nil
	}
	words := make([]uint64, (len(bm)+7)/8)
	for i, x := range bm {
		words[i/8] |= uint64(x) << (8 * (i % 8))
	}
	return words
}

func appendSpanBody(b []byte, s *span) []byte {
	b = binary.AppendUvarint(b, s.base)
	return appendBitmap(b, s.bits)
}

// Encode returns the canonical encoding: uvarint origin count, then per
// origin in increasing ID order: uvarint ID length, ID bytes, uvarint base,
// uvarint bitmap length, bitmap bytes (bit i is dot base+1+i).
func (c *Clock) Encode() []byte { return c.AppendEncode(nil) }

// AppendEncode appends the encoding to b.
func (c *Clock) AppendEncode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(c.spans)))
	for i := range c.spans {
		s := &c.spans[i]
		b = binary.AppendUvarint(b, uint64(len(s.node)))
		b = append(b, s.node...)
		b = appendSpanBody(b, s)
	}
	return b
}

// Size is the length of Encode's result.
func (c *Clock) Size() int { return len(c.Encode()) }

// Hash is a 128-bit FNV-1a digest of the encoding; equal clocks have
// equal hashes. It is cached until the clock changes.
func (c *Clock) Hash() [16]byte {
	if c.hash == nil {
		h := fnv.New128a()
		h.Write(c.Encode())
		var out [16]byte
		h.Sum(out[:0])
		c.hash = &out
	}
	return *c.hash
}

// DecodeClock decodes a clock. It accepts only canonical encodings and
// returns an error, never panics, on any other input.
func DecodeClock(b []byte) (*Clock, error) {
	r := &reader{b: b}
	c := readClock(r)
	if err := r.done(); err != nil {
		return nil, err
	}
	return c, nil
}

func readClock(r *reader) *Clock {
	n := r.count(3, maxSpans)
	c := &Clock{spans: make([]span, 0, n)}
	for i := 0; i < n && r.err == nil; i++ {
		id := NodeID(r.bytes(maxNodeIDBytes))
		s := span{node: id, base: r.uvarint(), bits: readBitmap(r)}
		if r.err != nil {
			break
		}
		if !s.fits() {
			r.fail("span of %q runs past the largest counter", id)
		} else if id == "" {
			r.fail("empty node ID")
		} else if i > 0 && id <= c.spans[i-1].node {
			r.fail("node IDs not strictly increasing")
		} else if s.empty() {
			r.fail("empty span for %q", id)
		}
		c.spans = append(c.spans, s)
	}
	if r.err != nil {
		return nil
	}
	return c
}

// spanList is a list of per-origin spans (possibly empty ones) sent
// relative to a reference clock that both sides know: an origin present in
// the reference is named by its index there instead of by its ID.
type spanList []span

// appendSpanList encodes l (sorted by node) against ref: uvarint count,
// then per span uvarint tag (0: ID follows as in a clock; i+1: ref's i-th
// origin), uvarint base, bitmap.
func appendSpanList(b []byte, l spanList, ref *Clock) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for i := range l {
		s := &l[i]
		if k, ok := ref.find(s.node); ok {
			b = binary.AppendUvarint(b, uint64(k)+1)
		} else {
			b = binary.AppendUvarint(b, 0)
			b = binary.AppendUvarint(b, uint64(len(s.node)))
			b = append(b, s.node...)
		}
		b = appendSpanBody(b, s)
	}
	return b
}

func decodeSpanList(b []byte, ref *Clock) (spanList, error) {
	if len(b) == 0 {
		return nil, nil
	}
	r := &reader{b: b}
	n := r.count(3, maxSpans)
	l := make(spanList, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		tag := r.uvarint()
		var id NodeID
		switch {
		case r.err != nil:
		case tag == 0:
			id = NodeID(r.bytes(maxNodeIDBytes))
			if _, ok := ref.find(id); ok || id == "" {
				r.fail("span names %q inline although the reference has it", id)
			}
		case tag-1 < uint64(len(ref.spans)):
			id = ref.spans[tag-1].node
		default:
			r.fail("span reference %d out of range", tag)
		}
		s := span{node: id, base: r.uvarint(), bits: readBitmap(r)}
		switch {
		case r.err != nil:
		case !s.fits():
			r.fail("span of %q runs past the largest counter", id)
		case i > 0 && id <= l[i-1].node:
			r.fail("span list not strictly increasing")
		}
		l = append(l, s)
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return l, nil
}

// toClock turns a span list into a clock (empty spans dropped).
func (l spanList) toClock() *Clock {
	c := &Clock{}
	for i := range l {
		if !l[i].empty() {
			c.spans = append(c.spans, l[i].clone())
		}
	}
	return c
}
