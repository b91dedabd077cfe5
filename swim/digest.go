package swim

import (
	"encoding/binary"
	"hash/fnv"
	"sort"

	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// A periodic push-pull starts with a digest of the member table instead of
// the table itself. In a quiet cluster every member holds the same table,
// so the exchange costs two small messages instead of two full states (at
// N=50 with 52-character peer IDs and addresses a full state is about
// 5 KB each way, which made push-pull most of SWIM's quiet bandwidth). A
// digest that differs falls back to the full exchange of the paper.

// stateDigest summarises the member table as this member would send it in
// a push-pull: every record's ID, addresses, incarnation, state and
// metadata (not who reported a suspicion). It is a sum of per-record
// hashes, so the order of the records does not matter, and it is never 0
// (0 on the wire means "no digest").
func (c *Core) stateDigest() uint64 {
	d := recordDigest(c.selfRecord())
	for _, id := range c.ids {
		d += recordDigest(c.record(c.members[id]))
	}
	if d == 0 {
		d = 1
	}
	return d
}

// recordDigest hashes one member record (FNV-1a, then a splitmix64
// finaliser so that sums of hashes of similar records do not cancel).
func recordDigest(m *pb.Member) uint64 {
	h := fnv.New64a()
	var b [9]byte
	h.Write([]byte(m.Id))
	h.Write(b[:1])
	addrs := m.Addrs
	if !sort.StringsAreSorted(addrs) {
		addrs = append([]string(nil), addrs...)
		sort.Strings(addrs)
	}
	for _, a := range addrs {
		h.Write([]byte(a))
		h.Write(b[:1])
	}
	binary.LittleEndian.PutUint64(b[:8], m.Incarnation)
	b[8] = byte(m.State)
	h.Write(b[:9])
	for _, kv := range m.Meta { // metaToPB sorts by key
		h.Write([]byte(kv.Key))
		h.Write([]byte{0})
		h.Write([]byte(kv.Value))
		h.Write([]byte{0})
	}
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
