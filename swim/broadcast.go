package swim

import (
	"math"
	"sort"

	"github.com/hearsay-mesh/hearsay/swim/pb"
	"google.golang.org/protobuf/proto"
)

// bcast is one update awaiting dissemination. Its message is built once
// and never mutated, so sharing it among envelopes is safe.
type bcast struct {
	key     string
	member  *pb.Member
	trigger *pb.FuseTrigger
	size    int
	sent    int
	order   uint64 // larger is newer
}

// bqueue holds the pending updates; a newer update about the same member
// (or group) replaces the older one.
type bqueue struct {
	items []*bcast
	next  uint64
	// maxSize is the largest update any message can carry (GossipBytes);
	// a larger one is counted in oversized and not queued: it would sort
	// first forever, never sent and never retired, and keep the node
	// sending empty gossip five times a second. Push-pull carries it.
	maxSize   int
	oversized uint64
}

func (q *bqueue) len() int { return len(q.items) }

func (q *bqueue) addMember(m *pb.Member, limit int) {
	q.add(&bcast{key: "m" + m.Id, member: m, size: proto.Size(m) + 3}, limit)
}

func (q *bqueue) addTrigger(t *pb.FuseTrigger, limit int) {
	q.add(&bcast{key: "g" + t.Group, trigger: t, size: proto.Size(t) + 3}, limit)
}

func (q *bqueue) add(b *bcast, limit int) {
	if q.maxSize > 0 && b.size > q.maxSize {
		q.oversized++
		q.remove(b.key) // an older, smaller update about it is stale now
		return
	}
	q.next++
	b.order = q.next
	for i, x := range q.items {
		if x.key == b.key {
			q.items[i] = b
			return
		}
	}
	if len(q.items) >= limit {
		// Drop the most-sent (oldest among equals) to make room.
		worst := 0
		for i, x := range q.items {
			w := q.items[worst]
			if x.sent > w.sent || (x.sent == w.sent && x.order < w.order) {
				worst = i
			}
		}
		q.items[worst] = b
		return
	}
	q.items = append(q.items, b)
}

// remove drops the update with key, if queued.
func (q *bqueue) remove(key string) {
	for i, x := range q.items {
		if x.key == key {
			q.items = append(q.items[:i], q.items[i+1:]...)
			return
		}
	}
}

// take picks the least-sent, most recent updates that fit in budget
// bytes, counts one transmission for each, and drops those sent limit
// times.
func (q *bqueue) take(budget, limit int) ([]*pb.Member, []*pb.FuseTrigger) {
	if len(q.items) == 0 {
		return nil, nil
	}
	sort.Slice(q.items, func(i, j int) bool {
		a, b := q.items[i], q.items[j]
		if a.sent != b.sent {
			return a.sent < b.sent
		}
		return a.order > b.order
	})
	var ms []*pb.Member
	var ts []*pb.FuseTrigger
	kept := q.items[:0]
	for _, b := range q.items {
		if b.size <= budget {
			budget -= b.size
			b.sent++
			if b.member != nil {
				ms = append(ms, b.member)
			} else {
				ts = append(ts, b.trigger)
			}
		}
		if b.sent < limit {
			kept = append(kept, b)
		}
	}
	for i := len(kept); i < len(q.items); i++ {
		q.items[i] = nil
	}
	q.items = kept
	return ms, ts
}

// retransmitLimit is λ*ceil(log10(n+1)).
func (c *Core) retransmitLimit() int {
	return c.cfg.RetransmitMult * int(math.Ceil(math.Log10(float64(c.NumAlive()+1))))
}
