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
	// announced is when the first IHAVE for it arrived, if one did before
	// the payload (hadIHave); viaGraft says a GRAFT answer delivered it, so
	// the tree's own copy, if it comes, measures the tree lag.
	announced time.Duration
	hadIHave  bool
	viaGraft  bool
}

// cache remembers delivered messages, bounded in count and age. Evicted
// IDs raise their origin's floor: every sequence number at or below it
// counts as delivered, so eviction never causes a second delivery. The
// floors are bounded too (maxFloors origins): the origin whose floor was
// raised longest ago loses it first (counted in floorsEvicted).
type cache struct {
	max   int
	ttl   time.Duration
	m     map[MessageID]*received
	order []MessageID // delivery order; order[head:] are live
	head  int

	maxFloors     int
	floor         map[membership.NodeID]floor
	floorClock    uint64
	floorLRU      []lruEntry // raises in order; stale ones skipped on eviction
	floorsEvicted uint64
}

type floor struct {
	seq   uint64
	stamp uint64 // last raise, for the LRU
}

func newCache(max, maxFloors int, ttl time.Duration) cache {
	return cache{max: max, ttl: ttl, maxFloors: maxFloors, m: map[MessageID]*received{}, floor: map[membership.NodeID]floor{}}
}

// get returns the entry for id, nil if not cached.
func (c *cache) get(id MessageID) *received { return c.m[id] }

// seen reports whether id was delivered (cached, or forgotten below the floor).
func (c *cache) seen(id MessageID) bool {
	if _, ok := c.m[id]; ok {
		return true
	}
	return id.Seq <= c.floor[id.Origin].seq
}

// stale reports whether id is not cached but below its origin's floor.
func (c *cache) stale(id MessageID) bool {
	_, ok := c.m[id]
	return !ok && id.Seq <= c.floor[id.Origin].seq
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
	c.raiseFloor(id)
	if c.head > 64 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

func (c *cache) len() int { return len(c.m) }

// raiseFloor remembers that every message of id's origin up to id.Seq was
// delivered, evicting the least recently raised floor beyond maxFloors.
func (c *cache) raiseFloor(id MessageID) {
	f, ok := c.floor[id.Origin]
	if !ok {
		for len(c.floor) >= c.maxFloors && c.evictFloor() {
		}
	}
	c.floorClock++
	f.seq = max(f.seq, id.Seq)
	f.stamp = c.floorClock
	c.floor[id.Origin] = f
	c.floorLRU = append(c.floorLRU, lruEntry{id.Origin, c.floorClock})
	if len(c.floorLRU) > 4*c.maxFloors+64 {
		kept := c.floorLRU[:0]
		for _, e := range c.floorLRU {
			if f, ok := c.floor[e.origin]; ok && f.stamp == e.stamp {
				kept = append(kept, e)
			}
		}
		c.floorLRU = kept
	}
}

// evictFloor forgets the least recently raised floor; false if none.
func (c *cache) evictFloor() bool {
	for len(c.floorLRU) > 0 {
		e := c.floorLRU[0]
		c.floorLRU = c.floorLRU[1:]
		if f, ok := c.floor[e.origin]; ok && f.stamp == e.stamp {
			delete(c.floor, e.origin)
			c.floorsEvicted++
			return true
		}
	}
	return false
}
