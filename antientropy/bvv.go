package antientropy

import (
	"errors"
	"math/bits"
	"slices"
	"sort"
)

// maxGapBits bounds how far beyond an origin's base a dot may lie, so that
// one odd dot cannot make a bitmap of gigabytes. 1<<22 bits is 512 KiB.
const maxGapBits = 1 << 22

// errGap is returned for a dot further than maxGapBits beyond its base.
var errGap = errors.New("antientropy: dot too far beyond its origin's base")

// span is one origin's part of a bitmap version vector: every dot with
// counter <= base, plus the dots base+1+i for each set bit i of bits.
// Normalised: bit 0 is clear (else base would absorb it) and the last word
// is non-zero.
type span struct {
	node NodeID
	base uint64
	bits []uint64
}

func (s *span) has(c uint64) bool {
	if c <= s.base {
		return true
	}
	i := c - s.base - 1
	w := i / 64
	return w < uint64(len(s.bits)) && s.bits[w]&(1<<(i%64)) != 0
}

func (s *span) empty() bool { return s.base == 0 && len(s.bits) == 0 }

// add inserts counter c; it reports whether the span changed.
func (s *span) add(c uint64) (bool, error) {
	if c == 0 || s.has(c) {
		return false, nil
	}
	i := c - s.base - 1
	if i >= maxGapBits {
		return false, errGap
	}
	w := int(i / 64)
	if w >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
	}
	s.bits[w] |= 1 << (i % 64)
	s.normalize()
	return true, nil
}

// normalize shifts the run of set bits at the bottom into base and trims
// trailing zero words.
func (s *span) normalize() {
	t := 0
	for t/64 < len(s.bits) {
		w := s.bits[t/64] >> (t % 64)
		ones := bits.TrailingZeros64(^w)
		if ones == 0 {
			break
		}
		if t%64+ones > 64 {
			ones = 64 - t%64
		}
		t += ones
		if t%64 != 0 {
			break
		}
	}
	if t > 0 {
		s.base += uint64(t)
		s.bits = shiftRight(s.bits, t)
	}
	for len(s.bits) > 0 && s.bits[len(s.bits)-1] == 0 {
		s.bits = s.bits[:len(s.bits)-1]
	}
	if len(s.bits) == 0 {
		s.bits = nil
	}
}

// shiftRight returns b shifted right by n bits (a new slice when n > 0).
func shiftRight(b []uint64, n int) []uint64 {
	wd, bd := n/64, uint(n%64)
	if wd >= len(b) {
		return nil
	}
	out := make([]uint64, len(b)-wd)
	for i := range out {
		out[i] = b[i+wd] >> bd
		if bd > 0 && i+wd+1 < len(b) {
			out[i] |= b[i+wd+1] << (64 - bd)
		}
	}
	return out
}

// join adds every dot of o (same node) to s.
func (s *span) join(o *span) {
	nb := max(s.base, o.base)
	a := shiftRight(s.bits, int(min(nb-s.base, uint64(len(s.bits))*64)))
	if nb == s.base {
		a = s.bits
	}
	b := o.bits
	if nb > o.base {
		b = shiftRight(o.bits, int(min(nb-o.base, uint64(len(o.bits))*64)))
	}
	if len(b) > len(a) {
		a, b = b, a
	}
	out := slices.Clone(a)
	for i := range b {
		out[i] |= b[i]
	}
	s.base, s.bits = nb, out
	s.normalize()
}

// missing calls fn for each counter in s but not in o (o may be nil), in
// increasing order, until fn returns false.
func (s *span) missing(o *span, fn func(uint64) bool) bool {
	var ob uint64
	if o != nil {
		ob = o.base
	}
	for c := ob + 1; c <= s.base; c++ {
		if o != nil && o.has(c) {
			continue
		}
		if !fn(c) {
			return false
		}
	}
	for w, word := range s.bits {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			word &= word - 1
			c := s.base + 1 + uint64(w)*64 + uint64(i)
			if c <= ob || (o != nil && o.has(c)) {
				continue
			}
			if !fn(c) {
				return false
			}
		}
	}
	return true
}

// countMissing is how many counters of s are not in o (o may be nil).
func (s *span) countMissing(o *span) uint64 {
	var n, ob uint64
	if o != nil {
		ob = o.base
	}
	if s.base > ob {
		n = s.base - ob
		if o != nil {
			// o's bits inside (ob, s.base] are present in o: subtract them.
			for w, word := range o.bits {
				for word != 0 {
					i := bits.TrailingZeros64(word)
					word &= word - 1
					c := ob + 1 + uint64(w)*64 + uint64(i)
					if c > s.base {
						break
					}
					n--
				}
			}
		}
	}
	for w, word := range s.bits {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			word &= word - 1
			c := s.base + 1 + uint64(w)*64 + uint64(i)
			if c > ob && (o == nil || !o.has(c)) {
				n++
			}
		}
	}
	return n
}

func (s *span) clone() span {
	return span{node: s.node, base: s.base, bits: slices.Clone(s.bits)}
}

func (s *span) equal(o *span) bool {
	return s.node == o.node && s.base == o.base && slices.Equal(s.bits, o.bits)
}

// Clock is a bitmap version vector (Gonçalves, Almeida, Baquero, Fonte,
// DAIS 2015): the set of dots a replica has seen, kept per origin node as a
// base counter (all dots up to it) plus a bitmap of the dots beyond it. The
// zero value is an empty clock. Clocks are normalised after every change,
// so equal dot sets have equal representations and encodings.
type Clock struct {
	spans []span // sorted by node, no empty span
	hash  *[16]byte
}

// NewClock returns an empty clock.
func NewClock() *Clock { return &Clock{} }

func (c *Clock) find(n NodeID) (int, bool) {
	i := sort.Search(len(c.spans), func(i int) bool { return c.spans[i].node >= n })
	return i, i < len(c.spans) && c.spans[i].node == n
}

func (c *Clock) get(n NodeID) *span {
	if i, ok := c.find(n); ok {
		return &c.spans[i]
	}
	return nil
}

// Contains reports whether dot d is in the clock.
func (c *Clock) Contains(d Dot) bool {
	s := c.get(d.Node)
	return d.Counter == 0 || (s != nil && s.has(d.Counter))
}

// Base is the largest n such that node's dots 1..n are all in the clock.
func (c *Clock) Base(node NodeID) uint64 {
	if s := c.get(node); s != nil {
		return s.base
	}
	return 0
}

// Max is the largest counter of node's dots in the clock (0 if none).
func (c *Clock) Max(node NodeID) uint64 {
	s := c.get(node)
	if s == nil {
		return 0
	}
	if len(s.bits) == 0 {
		return s.base
	}
	last := s.bits[len(s.bits)-1]
	return s.base + uint64(len(s.bits)-1)*64 + uint64(64-bits.LeadingZeros64(last))
}

// Add inserts d and reports whether the clock changed. A dot more than
// 4,194,304 counters beyond its origin's base is refused with an error.
func (c *Clock) Add(d Dot) (bool, error) {
	if d.Counter == 0 || !d.Node.Valid() {
		return false, nil
	}
	i, ok := c.find(d.Node)
	if !ok {
		if d.Counter-1 >= maxGapBits {
			return false, errGap
		}
		c.spans = slices.Insert(c.spans, i, span{node: d.Node})
	}
	changed, err := c.spans[i].add(d.Counter)
	if changed {
		c.hash = nil
	}
	if c.spans[i].empty() {
		c.spans = slices.Delete(c.spans, i, i+1)
	}
	return changed, err
}

// Join adds every dot of o to c and reports whether c changed.
func (c *Clock) Join(o *Clock) bool {
	changed := false
	for k := range o.spans {
		if c.joinSpan(&o.spans[k]) {
			changed = true
		}
	}
	return changed
}

// joinSpan adds one origin's dots.
func (c *Clock) joinSpan(o *span) bool {
	if o.empty() {
		return false
	}
	i, ok := c.find(o.node)
	if !ok {
		c.spans = slices.Insert(c.spans, i, o.clone())
		c.hash = nil
		return true
	}
	if o.countMissing(&c.spans[i]) == 0 {
		return false
	}
	c.spans[i].join(o)
	c.hash = nil
	return true
}

// Clone returns an independent copy.
func (c *Clock) Clone() *Clock {
	n := &Clock{spans: make([]span, len(c.spans)), hash: c.hash}
	for i := range c.spans {
		n.spans[i] = c.spans[i].clone()
	}
	return n
}

// Equal reports whether c and o hold the same dots.
func (c *Clock) Equal(o *Clock) bool {
	return slices.EqualFunc(c.spans, o.spans, func(a, b span) bool { return a.equal(&b) })
}

// Nodes lists the origins with at least one dot, sorted.
func (c *Clock) Nodes() []NodeID {
	ns := make([]NodeID, len(c.spans))
	for i := range c.spans {
		ns[i] = c.spans[i].node
	}
	return ns
}

// Len is the number of origins.
func (c *Clock) Len() int { return len(c.spans) }

// CountMissing is how many dots of c are not in o.
func (c *Clock) CountMissing(o *Clock) uint64 {
	var n uint64
	for i := range c.spans {
		n += c.spans[i].countMissing(o.get(c.spans[i].node))
	}
	return n
}

// Missing calls fn for every dot of c not in o, by origin then counter,
// until fn returns false.
func (c *Clock) Missing(o *Clock, fn func(Dot) bool) {
	for i := range c.spans {
		s := &c.spans[i]
		if !s.missing(o.get(s.node), func(n uint64) bool { return fn(Dot{s.node, n}) }) {
			return
		}
	}
}

// Dots calls fn for every dot in c (by origin, then counter).
func (c *Clock) Dots(fn func(Dot) bool) { c.Missing(NewClock(), fn) }
