package bench

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"
)

// payloadHeader is what every benchmark payload starts with: the send
// time (Unix nanoseconds) and the message's index.
const payloadHeader = 16

func makePayload(size int, index int, now time.Time) []byte {
	if size < payloadHeader {
		size = payloadHeader
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b, uint64(now.UnixNano()))
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	for i := payloadHeader; i < size; i++ {
		b[i] = byte(i * 31)
	}
	return b
}

// collector records deliveries from every node's loop goroutine.
type collector struct {
	mu        sync.Mutex
	sent      int
	perMsg    []int // deliveries per message index (origin included)
	perNode   []map[int]bool
	latencies []latency // receivers only
	dupes     int       // a message delivered twice to a node (must stay 0)
	allDone   chan struct{}
	expect    int
}

func newCollector(nodes, messages int) *collector {
	c := &collector{perMsg: make([]int, messages), perNode: make([]map[int]bool, nodes), allDone: make(chan struct{})}
	for i := range c.perNode {
		c.perNode[i] = map[int]bool{}
	}
	c.expect = nodes * messages
	return c
}

func (c *collector) record(node int, payload []byte, origin, repaired bool) {
	if len(payload) < payloadHeader {
		return
	}
	at := time.Now()
	sentAt := time.Unix(0, int64(binary.LittleEndian.Uint64(payload)))
	idx := int(binary.LittleEndian.Uint64(payload[8:]))
	c.mu.Lock()
	defer c.mu.Unlock()
	if idx < 0 || idx >= len(c.perMsg) {
		return
	}
	if c.perNode[node][idx] {
		c.dupes++
		return
	}
	c.perNode[node][idx] = true
	c.perMsg[idx]++
	if !origin {
		c.latencies = append(c.latencies, latency{idx: idx, d: at.Sub(sentAt), repaired: repaired})
	}
	c.expect--
	if c.expect == 0 {
		close(c.allDone)
	}
}

// result summarises one protocol's run.
type result struct {
	delivered, possible int
	latencies           []time.Duration
	dupes               int
}

func (c *collector) result(nodes, messages int) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := result{possible: nodes * messages, dupes: c.dupes}
	for _, n := range c.perMsg {
		r.delivered += n
	}
	return r
}

type latency struct {
	idx      int
	d        time.Duration
	repaired bool // delivered by plumtree's GRAFT path
}

// latenciesFrom returns the sorted latencies of messages from index first
// on, and separately those of the deliveries that took the GRAFT path.
func (c *collector) latenciesFrom(first int) (all, repaired []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.latencies {
		if l.idx >= first {
			all = append(all, l.d)
			if l.repaired {
				repaired = append(repaired, l.d)
			}
		}
	}
	slices.Sort(all)
	slices.Sort(repaired)
	return all, repaired
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

// missing lists the (message index, node) pairs not delivered yet, in
// message order, at most limit of them, and how many there are in all.
func (c *collector) missing(nodes, messages, limit int) (pairs [][2]int, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for idx := 0; idx < messages; idx++ {
		if c.perMsg[idx] == nodes {
			continue
		}
		for n := 0; n < nodes; n++ {
			if !c.perNode[n][idx] {
				total++
				if len(pairs) < limit {
					pairs = append(pairs, [2]int{idx, n})
				}
			}
		}
	}
	return pairs, total
}
