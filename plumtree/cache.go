package plumtree

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// received is what the cache keeps about a delivered message.
type received struct {
	payload []byte
	hops    int               // hops of the copy that delivered it
	parent  membership.NodeID // who sent that copy ("" for own broadcasts)
	at      time.Duration     // when it was delivered
	// grafted lists the peers asked for it by GRAFT while it was missing:
	// their late answers are expected, not a reason to prune.
	grafted []membership.NodeID
}

// cache remembers delivered messages, bounded in count and age. Evicted
// IDs raise their origin's floor: every sequence number at or below it
// counts as delivered, so eviction never causes a second delivery.
type cache struct {
	max   int
	ttl   time.Duration
	m     map[MessageID]*received
	order []MessageID // delivery order; order[head:] are live
	head  int
	floor map[membership.NodeID]uint64
}

func newCache(max int, ttl time.Duration) cache {
	return cache{max: max, ttl: ttl, m: map[MessageID]*received{}, floor: map[membership.NodeID]uint64{}}
}

// get returns the entry for id, nil if not cached.
func (c *cache) get(id MessageID) *received { return c.m[id] }

// seen reports whether id was delivered (cached, or forgotten below the floor).
func (c *cache) seen(id MessageID) bool {
	if _, ok := c.m[id]; ok {
		return true
	}
	return id.Seq <= c.floor[id.Origin]
}

// stale reports whether id is not cached but below its origin's floor.
func (c *cache) stale(id MessageID) bool {
	_, ok := c.m[id]
	return !ok && id.Seq <= c.floor[id.Origin]
}

// add records a delivered message and returns how many entries it evicted.
func (c *cache) add(id MessageID, r *received) int {
	c.m[id] = r
	c.order = append(c.order, id)
	n := 0
	for len(c.m) > c.max {
		c.evictOldest()
		n++
	}
	return n
}

// expire evicts entries older than the TTL and returns how many.
func (c *cache) expire(now time.Duration) int {
	n := 0
	for c.head < len(c.order) {
		r := c.m[c.order[c.head]]
		if r != nil && now-r.at < c.ttl {
			break
		}
		c.evictOldest()
		n++
	}
	return n
}

func (c *cache) evictOldest() {
	id := c.order[c.head]
	c.head++
	delete(c.m, id)
	if id.Seq > c.floor[id.Origin] {
		c.floor[id.Origin] = id.Seq
	}
	if c.head > 64 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

func (c *cache) len() int { return len(c.m) }
