package hyparview

import (
	"math/rand/v2"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// entry is a node in one of the views, with its wire record (built once,
// shared read-only by every message that carries it).
type entry struct {
	node membership.Node
	hash uint64 // idHash(node.ID): lookups compare it before the string
	rec  *pb.Node
	// tried is when a NEIGHBOR request last went to this passive node
	// (valid if wasTried); a node is not asked again within a cycle.
	tried    time.Duration
	wasTried bool
	// wantsRoom marks a passive node that recently asked us for a link
	// and was refused for lack of room: it had a free slot, so it is the
	// first one to ask when we have one.
	wantsRoom bool
}

// view is a bounded list of nodes. Order is insertion order with
// swap-removal: deterministic, never a map's.
type view struct {
	e   []entry
	max int
}

func newView(max int) view { return view{e: make([]entry, 0, max), max: max} }

func (v *view) len() int    { return len(v.e) }
func (v *view) full() bool  { return len(v.e) >= v.max }
func (v *view) empty() bool { return len(v.e) == 0 }

func (v *view) index(id membership.NodeID) int {
	return v.indexHash(idHash(string(id)), string(id))
}

// indexHash finds the entry with ID id whose idHash is h.
func (v *view) indexHash(h uint64, id string) int {
	for i := range v.e {
		if v.e[i].hash == h && string(v.e[i].node.ID) == id {
			return i
		}
	}
	return -1
}

// idHash is FNV-1a over an ID: views compare it first, since IDs often
// share long prefixes.
func idHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (v *view) has(id membership.NodeID) bool { return v.index(id) >= 0 }

// add appends e; the caller makes room first.
func (v *view) add(e entry) { v.e = append(v.e, e) }

// removeAt takes out entry i, moving the last entry into its place.
func (v *view) removeAt(i int) entry {
	e := v.e[i]
	last := len(v.e) - 1
	v.e[i] = v.e[last]
	v.e[last] = entry{}
	v.e = v.e[:last]
	return e
}

func (v *view) remove(id membership.NodeID) (entry, bool) {
	i := v.index(id)
	if i < 0 {
		return entry{}, false
	}
	return v.removeAt(i), true
}

// sample returns up to k distinct random entries' records, skipping the
// node skip (may be empty).
func (v *view) sample(rng *rand.Rand, k int, skip membership.NodeID, out []*pb.Node) []*pb.Node {
	n := len(v.e)
	if k <= 0 || n == 0 {
		return out
	}
	// Partial Fisher-Yates over an index permutation held on the stack
	// for the small views this protocol uses.
	var buf [64]int32
	idx := buf[:0]
	if n > len(buf) {
		idx = make([]int32, 0, n)
	}
	for i := 0; i < n; i++ {
		idx = append(idx, int32(i))
	}
	taken := 0
	for i := 0; i < n && taken < k; i++ {
		j := i + rng.IntN(n-i)
		idx[i], idx[j] = idx[j], idx[i]
		e := &v.e[idx[i]]
		if e.node.ID == skip {
			continue
		}
		out = append(out, e.rec)
		taken++
	}
	return out
}

func (v *view) nodes() []membership.Node {
	out := make([]membership.Node, len(v.e))
	for i := range v.e {
		out[i] = v.e[i].node.Clone()
	}
	return out
}
