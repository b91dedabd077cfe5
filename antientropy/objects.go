package antientropy

import (
	"encoding/binary"
	"slices"
)

// Packed encodings carried in bytes fields of the wire messages. Packing
// by hand instead of as repeated protobuf messages saves 3-4 bytes per
// object and per index, which is most of the metadata on the Merkle path.

// object is one key and its encoded CRDT state.
type object struct {
	key   string
	state []byte
}

// objectSize is an object's packed size: the self-delimiting (key, state)
// pair that any sender must transmit.
func objectSize(key string, state []byte) int {
	return uvarintLen(uint64(len(key))) + len(key) + uvarintLen(uint64(len(state))) + len(state)
}

func appendObject(b []byte, key string, state []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(state)))
	return append(b, state...)
}

// decodeObjects unpacks objects; keys must be non-empty and at most
// maxKey bytes, states at most maxState bytes.
func decodeObjects(b []byte, maxKey, maxState int) ([]object, error) {
	r := &reader{b: b}
	var out []object
	for len(r.b) > 0 && r.err == nil {
		k := r.bytes(maxKey)
		s := r.bytes(maxState)
		if r.err == nil && len(k) == 0 {
			r.fail("empty key")
		}
		out = append(out, object{key: string(k), state: s})
	}
	return out, r.done()
}

// appendIndices packs a strictly increasing list: the first value, then
// each gap minus one.
func appendIndices(b []byte, xs []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for i, x := range xs {
		if i == 0 {
			b = binary.AppendUvarint(b, x)
		} else {
			b = binary.AppendUvarint(b, x-xs[i-1]-1)
		}
	}
	return b
}

// readIndices reads a packed list whose values must all be below limit.
func readIndices(r *reader, limit uint64) []uint64 {
	n := r.count(1, 1<<24)
	xs := make([]uint64, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		v := r.uvarint()
		if i > 0 {
			if v >= limit || xs[i-1]+1+v < xs[i-1] {
				r.fail("index gap out of range")
				break
			}
			v += xs[i-1] + 1
		}
		if v >= limit {
			r.fail("index %d out of range %d", v, limit)
			break
		}
		xs = append(xs, v)
	}
	return xs
}

func decodeIndices(b []byte, limit uint64) ([]uint64, error) {
	r := &reader{b: b}
	xs := readIndices(r, limit)
	return xs, r.done()
}

func appendHashes(b []byte, hs []uint64) []byte {
	for _, h := range hs {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	return b
}

func decodeHashes(b []byte) ([]uint64, bool) {
	if len(b)%8 != 0 {
		return nil, false
	}
	hs := make([]uint64, len(b)/8)
	for i := range hs {
		hs[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return hs, true
}

// segmentSet is a packed list of segments with, for each, a sorted list
// of 64-bit contributions: the leaves of a Merkle path exchange.
type segmentSet struct {
	segs []uint64
	hs   [][]uint64 // hs[i] sorted, for segs[i]
}

// count is how many contributions the set lists.
func (s *segmentSet) count() int {
	n := 0
	for _, hs := range s.hs {
		n += len(hs)
	}
	return n
}

func (s *segmentSet) size() int {
	n := 8
	for i := range s.segs {
		n += 3 + 3 + 8*len(s.hs[i])
	}
	return n
}

func (s *segmentSet) encode() []byte {
	b := appendIndices(nil, s.segs)
	for _, hs := range s.hs {
		b = binary.AppendUvarint(b, uint64(len(hs)))
		b = appendHashes(b, hs)
	}
	return b
}

func decodeSegmentSet(b []byte, nsegs uint64) (*segmentSet, error) {
	r := &reader{b: b}
	s := &segmentSet{segs: readIndices(r, nsegs)}
	for range s.segs {
		n := r.count(8, 1<<20)
		if r.err != nil {
			break
		}
		hs, _ := decodeHashes(r.b[:8*n])
		r.b = r.b[8*n:]
		if !slices.IsSorted(hs) {
			r.fail("contributions not sorted")
		}
		s.hs = append(s.hs, hs)
	}
	return s, r.done()
}
