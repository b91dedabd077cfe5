package antientropy

import "slices"

// dotLog remembers which key each recent dot changed, so a sync session
// can answer "which objects hold the dots you lack?" without scanning the
// keyspace. Per origin it is a window of consecutive counters starting at
// first; an empty key marks a counter the node never logged. Entries leave
// the log from the front of each origin's window: by pruning once every
// live member is known to hold them, or by eviction when the log is over
// its capacity (a peer that still lacks an evicted dot is then repaired by
// the Merkle path).
type dotLog struct {
	origins []*originLog // sorted by node
	entries int          // non-empty slots, all origins
	bytes   int          // key bytes held, all origins (for stats)
}

type originLog struct {
	node  NodeID
	first uint64   // counter of keys[0]
	keys  []string // keys[i] changed by dot first+i; "" = not logged
	n     int      // non-empty slots
	// floor is the highest counter dropped (pruned, evicted or pushed out
	// of the span): a dot at or below it is not logged again. Above it, a
	// dot that arrives after later ones (broadcast reorders) extends the
	// window back.
	floor uint64
}

func (l *dotLog) origin(node NodeID, create bool) *originLog {
	i, ok := slices.BinarySearchFunc(l.origins, node, func(o *originLog, n NodeID) int {
		switch {
		case o.node < n:
			return -1
		case o.node > n:
			return 1
		}
		return 0
	})
	if ok {
		return l.origins[i]
	}
	if !create {
		return nil
	}
	o := &originLog{node: node}
	l.origins = slices.Insert(l.origins, i, o)
	return o
}

// add records that dot d changed key. A counter at or below the origin's
// floor is ignored (it was pruned or evicted: peers are repaired another
// way); one below the window's start but above the floor (it arrived after
// later dots) extends the window back, unless the window would then span
// more than maxSpan slots. A counter so far ahead that the window would
// span more than maxSpan slots drops the window's front.
func (l *dotLog) add(d Dot, key string, maxSpan int) {
	o := l.origin(d.Node, true)
	if d.Counter <= o.floor {
		return
	}
	if o.n == 0 {
		o.first, o.keys = d.Counter, o.keys[:0]
	}
	if d.Counter < o.first {
		back := o.first - d.Counter
		if back+uint64(len(o.keys)) > uint64(maxSpan) {
			return
		}
		o.keys = append(make([]string, back, back+uint64(len(o.keys))), o.keys...)
		o.first = d.Counter
	}
	i := d.Counter - o.first
	if i >= uint64(maxSpan) {
		l.dropFront(o, d.Counter-uint64(maxSpan)+1)
		i = d.Counter - o.first
		if o.n == 0 {
			o.first, o.keys, i = d.Counter, o.keys[:0], 0
		}
	}
	for uint64(len(o.keys)) <= i {
		o.keys = append(o.keys, "")
	}
	if o.keys[i] == "" {
		o.n++
		l.entries++
		l.bytes += len(key)
	}
	o.keys[i] = key
}

// lookup returns the key dot d changed, if the log still has it.
func (l *dotLog) lookup(d Dot) (string, bool) {
	o := l.origin(d.Node, false)
	if o == nil || d.Counter < o.first || d.Counter-o.first >= uint64(len(o.keys)) {
		return "", false
	}
	k := o.keys[d.Counter-o.first]
	return k, k != ""
}

// dropFront removes every slot of o with counter < upTo.
func (l *dotLog) dropFront(o *originLog, upTo uint64) {
	if upTo <= o.first {
		return
	}
	k := upTo - o.first
	if k > uint64(len(o.keys)) {
		k = uint64(len(o.keys))
	}
	for _, key := range o.keys[:k] {
		if key != "" {
			o.n--
			l.entries--
			l.bytes -= len(key)
		}
	}
	o.keys = o.keys[k:]
	o.first = upTo
	o.floor = max(o.floor, upTo-1)
	// Skip leading holes so the window starts at a logged dot.
	for len(o.keys) > 0 && o.keys[0] == "" {
		o.keys = o.keys[1:]
		o.first++
	}
	if len(o.keys) == 0 {
		o.keys = nil
	} else if cap(o.keys) > 2*len(o.keys)+64 {
		o.keys = slices.Clone(o.keys)
	}
}

// prune drops, per origin, every entry with counter <= stable(origin).
func (l *dotLog) prune(stable func(NodeID) uint64) {
	for _, o := range l.origins {
		if s := stable(o.node); s >= o.first {
			l.dropFront(o, s+1)
		}
	}
	l.compact()
}

// evict drops the oldest entries of the longest windows until at most
// limit entries remain.
func (l *dotLog) evict(limit int) {
	for l.entries > limit {
		var big *originLog
		for _, o := range l.origins {
			if big == nil || o.n > big.n {
				big = o
			}
		}
		drop := l.entries - limit
		if drop > big.n {
			drop = big.n
		}
		// Find the counter just past the drop-th logged slot.
		seen, upTo := 0, big.first
		for i, key := range big.keys {
			if key != "" {
				seen++
			}
			if seen == drop {
				upTo = big.first + uint64(i) + 1
				break
			}
		}
		l.dropFront(big, upTo)
	}
	l.compact()
}

// compact forgets origins with no entries left.
func (l *dotLog) compact() {
	l.origins = slices.DeleteFunc(l.origins, func(o *originLog) bool { return o.n == 0 })
}
