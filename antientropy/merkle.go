package antientropy

import (
	"math/bits"
	"slices"
	"strings"
)

// tree is a Merkle tree over the keyspace in the style of Riak's TicTac
// trees: each key hashes to one of fanout^depth leaf segments; a segment's
// hash is the XOR of its keys' contributions h(key, digest), and an inner
// node's hash is the XOR of its children. XOR makes every update
// incremental: a key whose digest changes flips old^new along its path,
// depth+1 words, whatever the size of the keyspace.
type tree struct {
	fanout int
	shift  uint // bits per level (log2 fanout)
	depth  int
	levels [][]uint64 // levels[0] is the root, levels[depth] the segments
	segs   [][]leaf   // each segment's keys, sorted by key
	keys   int
}

type leaf struct {
	key string
	h   uint64
}

func newTree(fanout, depth int) *tree {
	t := &tree{fanout: fanout, shift: uint(bits.TrailingZeros(uint(fanout))), depth: depth}
	n := 1
	for l := 0; l <= depth; l++ {
		t.levels = append(t.levels, make([]uint64, n))
		n *= fanout
	}
	t.segs = make([][]leaf, len(t.levels[depth]))
	return t
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv64(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is splitmix64's finaliser, spreading FNV's weak low bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// segment is the leaf segment key belongs to.
func (t *tree) segment(key string) int {
	if t.depth == 0 {
		return 0
	}
	return int(mix(fnv64(fnvOffset, key)) >> (64 - t.shift*uint(t.depth)))
}

// contribution is key's term in its segment's XOR: 0 for an absent key
// (zero digest), never 0 otherwise.
func contribution(key string, digest [16]byte) uint64 {
	if digest == ([16]byte{}) {
		return 0
	}
	h := fnv64(fnv64(fnvOffset, key), "\x00")
	h = fnv64(h, string(digest[:]))
	if h = mix(h); h == 0 {
		h = 1
	}
	return h
}

func (t *tree) findLeaf(seg int, key string) (int, bool) {
	return slices.BinarySearchFunc(t.segs[seg], key, func(l leaf, k string) int { return strings.Compare(l.key, k) })
}

// update sets key's digest (zero: key absent) and reports whether any
// hash changed.
func (t *tree) update(key string, digest [16]byte) bool {
	seg := t.segment(key)
	nh := contribution(key, digest)
	i, ok := t.findLeaf(seg, key)
	var old uint64
	if ok {
		old = t.segs[seg][i].h
	}
	if old == nh {
		return false
	}
	switch {
	case !ok:
		t.segs[seg] = slices.Insert(t.segs[seg], i, leaf{key: key, h: nh})
		t.keys++
	case nh == 0:
		t.segs[seg] = slices.Delete(t.segs[seg], i, i+1)
		t.keys--
	default:
		t.segs[seg][i].h = nh
	}
	d := old ^ nh
	for l, idx := t.depth, seg; l >= 0; l-- {
		t.levels[l][idx] ^= d
		idx >>= t.shift
	}
	return true
}

// root is the hash of the whole keyspace.
func (t *tree) root() uint64 { return t.levels[0][0] }

// children returns node i's children hashes (level+1). The slice aliases
// the tree: copy before keeping it.
func (t *tree) children(level, i int) []uint64 {
	return t.levels[level+1][i*t.fanout : (i+1)*t.fanout]
}

// nodes is the number of nodes at level l.
func (t *tree) nodes(l int) int { return len(t.levels[l]) }
