package antientropy

import (
	"fmt"
	"math/bits"
	"slices"
	"time"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
)

// The Merkle walk is a ping-pong between the initiator (A) and the
// responder (B). Each Tree message carries the sender's hashes of the
// children of some nodes; the receiver compares them with its own and
// answers with its hashes of the children of the children that differ,
// so every message descends one level and every round trip two. Whoever
// first compares leaf segments sends its Leaves (key contributions); the
// other side pushes the objects whose contributions the sender lacks and
// Wants the ones it lacks itself. B answers statelessly; every message of
// A is a request that B answers with one or more messages, the last one
// marked final, so A knows the walk is over when no request is pending.

// request kinds, for counting the walk's round trips.
const (
	rtLeaves = 30
	rtWant   = 31
)

// outTree returns the initiator's tree session a response belongs to.
func (c *Core) outTree(now time.Duration, from NodeID, session uint64) *outSession {
	s := c.out[from]
	if s == nil || s.id != session || !s.tree {
		return nil
	}
	s.last = now
	return s
}

func (c *Core) onTree(now time.Duration, from NodeID, m *pb.Tree) error {
	t := c.tree
	if int(m.Level) >= t.depth {
		return fmt.Errorf("antientropy: tree level %d, depth %d", m.Level, t.depth)
	}
	level := int(m.Level)
	nodes, err := decodeIndices(m.Nodes, uint64(t.nodes(level)))
	if err != nil {
		return err
	}
	hs, ok := decodeHashes(m.Hashes)
	if !ok || len(hs) != len(nodes)*t.fanout {
		return fmt.Errorf("antientropy: tree message with %d nodes and %d hashes", len(nodes), len(m.Hashes)/8)
	}
	var s *outSession
	if m.Response {
		if s = c.outTree(now, from, m.Session); s == nil {
			return nil
		}
	}
	var diff []uint64
	for i, n := range nodes {
		own := t.children(level, int(n))
		for k := range own {
			if own[k] != hs[i*t.fanout+k] {
				diff = append(diff, n*uint64(t.fanout)+uint64(k))
			}
		}
	}
	if s == nil { // B: answer, always, with a final message
		if level+1 == t.depth {
			c.sendLeaves(from, m.Session, diff, true)
		} else {
			c.sendTree(from, m.Session, level+1, diff, true)
		}
		return nil
	}
	if len(diff) > 0 {
		if level+1 == t.depth {
			s.pending += c.sendLeaves(from, s.id, diff, false)
			s.markRT(rtLeaves)
		} else {
			s.pending += c.sendTree(from, s.id, level+1, diff, false)
			s.markRT(level + 1)
		}
	}
	if m.Final {
		s.pending--
	}
	c.maybeDone(s)
	return nil
}

// markRT records a kind of request; each kind is one round trip.
func (s *outSession) markRT(kind int) { s.rtKinds |= 1 << kind }

func (c *Core) maybeDone(s *outSession) {
	if s.pending <= 0 && c.out[s.peer] == s {
		s.roundTrips = 1 + bits.OnesCount64(s.rtKinds)
		c.complete(s)
	}
}

// sendTree sends our children hashes of nodes (at level), split to fit;
// it returns the number of messages. A response is never empty: with no
// nodes it is one empty final message.
func (c *Core) sendTree(to NodeID, session uint64, level int, nodes []uint64, response bool) int {
	per := max(1, (c.cfg.MaxMessageBytes-64)/(8*c.tree.fanout+5))
	sent := 0
	for first := 0; first < len(nodes) || (sent == 0 && response); first += per {
		part := nodes[first:min(first+per, len(nodes))]
		hs := make([]byte, 0, 8*c.tree.fanout*len(part))
		for _, n := range part {
			hs = appendHashes(hs, c.tree.children(level, int(n)))
		}
		c.Send(to, &pb.Envelope{Body: &pb.Envelope_Tree{Tree: &pb.Tree{
			Session: session, Level: uint32(level), Nodes: appendIndices(nil, part), Hashes: hs,
			Final: response && first+per >= len(nodes), Response: response,
		}}})
		sent++
	}
	return sent
}

// sendSegments sends a segment set (Leaves or Want), split to fit.
func (c *Core) sendSegments(to NodeID, session uint64, set *segmentSet, want, response, final bool) int {
	limit := c.cfg.MaxMessageBytes - 64
	sent := 0
	send := func(part *segmentSet, last bool) {
		b := part.encode()
		f := final && last
		if want {
			c.Send(to, &pb.Envelope{Body: &pb.Envelope_Want{Want: &pb.Want{Session: session, Segments: b, Final: f, Response: response}}})
		} else {
			c.Send(to, &pb.Envelope{Body: &pb.Envelope_Leaves{Leaves: &pb.Leaves{Session: session, Segments: b, Final: f, Response: response}}})
		}
		sent++
	}
	part := &segmentSet{}
	size := 8
	for i, seg := range set.segs {
		n := 6 + 8*len(set.hs[i])
		if n > limit {
			continue // one segment over the limit: MerkleDepth is too small for the keyspace
		}
		if size+n > limit && len(part.segs) > 0 {
			send(part, false)
			part, size = &segmentSet{}, 8
		}
		part.segs = append(part.segs, seg)
		part.hs = append(part.hs, set.hs[i])
		size += n
	}
	if len(part.segs) > 0 || (sent == 0 && final) {
		send(part, true)
	}
	return sent
}

// sendLeaves sends our contributions of segments.
func (c *Core) sendLeaves(to NodeID, session uint64, segs []uint64, response bool) int {
	set := &segmentSet{segs: segs}
	for _, seg := range segs {
		ls := c.tree.segs[seg]
		hs := make([]uint64, len(ls))
		for i, l := range ls {
			hs[i] = l.h
		}
		slices.Sort(hs)
		set.hs = append(set.hs, hs)
	}
	return c.sendSegments(to, session, set, false, response, response)
}

// compareLeaves splits a peer's segment set against ours: our keys whose
// contribution the peer lacks, and the peer's contributions we lack.
func (c *Core) compareLeaves(set *segmentSet) (ours []string, theirs *segmentSet) {
	theirs = &segmentSet{}
	for i, seg := range set.segs {
		ls := c.tree.segs[seg]
		own := make([]uint64, len(ls))
		for j, l := range ls {
			own[j] = l.h
			if _, ok := slices.BinarySearch(set.hs[i], l.h); !ok {
				ours = append(ours, l.key)
			}
		}
		slices.Sort(own)
		var lack []uint64
		for _, h := range set.hs[i] {
			if _, ok := slices.BinarySearch(own, h); !ok {
				lack = append(lack, h)
			}
		}
		if len(lack) > 0 {
			theirs.segs = append(theirs.segs, seg)
			theirs.hs = append(theirs.hs, lack)
		}
	}
	return ours, theirs
}

func (c *Core) onLeaves(now time.Duration, from NodeID, m *pb.Leaves) error {
	set, err := decodeSegmentSet(m.Segments, uint64(c.tree.nodes(c.tree.depth)))
	if err != nil {
		return err
	}
	if !m.Response { // B: push ours, want theirs, last message final
		ours, theirs := c.compareLeaves(set)
		c.sendObjects(from, m.Session, ours, true, false)
		c.sendSegments(from, m.Session, theirs, true, true, true)
		return nil
	}
	s := c.outTree(now, from, m.Session)
	if s == nil {
		return nil
	}
	ours, theirs := c.compareLeaves(set)
	if s.pushOK {
		c.sendObjects(from, s.id, ours, false, false)
	}
	if len(theirs.segs) > 0 {
		s.pending += c.sendSegments(from, s.id, theirs, true, false, false)
		s.markRT(rtWant)
	}
	if m.Final {
		s.pending--
	}
	c.maybeDone(s)
	return nil
}

func (c *Core) onWant(now time.Duration, from NodeID, m *pb.Want) error {
	set, err := decodeSegmentSet(m.Segments, uint64(c.tree.nodes(c.tree.depth)))
	if err != nil {
		return err
	}
	var keys []string
	for i, seg := range set.segs {
		for _, l := range c.tree.segs[seg] {
			if _, ok := slices.BinarySearch(set.hs[i], l.h); ok {
				keys = append(keys, l.key)
			}
		}
	}
	if !m.Response { // B: the objects, last message final
		c.sendObjects(from, m.Session, keys, true, true)
		return nil
	}
	s := c.outTree(now, from, m.Session)
	if s == nil {
		return nil
	}
	c.sendObjects(from, s.id, keys, false, false)
	if m.Final {
		s.pending--
	}
	c.maybeDone(s)
	return nil
}

// sendObjects sends keys' states, split to fit. With final, the last
// message is marked final and at least one message is sent.
func (c *Core) sendObjects(to NodeID, session uint64, keys []string, response, final bool) {
	limit := c.cfg.MaxMessageBytes - 64
	var objs []byte
	flush := func(last bool) {
		c.Send(to, &pb.Envelope{Body: &pb.Envelope_Objects{Objects: &pb.Objects{
			Session: session, Objects: objs, Final: final && last, Response: response,
		}}})
		objs = nil
	}
	for _, k := range keys {
		st, ok := c.store.Get(k)
		if !ok || len(st) > c.cfg.MaxStateBytes {
			continue
		}
		if len(objs)+objectSize(k, st) > limit {
			flush(false)
		}
		objs = appendObject(objs, k, st)
	}
	if len(objs) > 0 || final {
		flush(true) // with final and nothing left, an empty closing message
	}
}

func (c *Core) onObjects(now time.Duration, from NodeID, m *pb.Objects) error {
	objs, err := decodeObjects(m.Objects, c.cfg.MaxKeyBytes, c.cfg.MaxStateBytes)
	if err != nil {
		return err
	}
	if !m.Response {
		in := c.in[inKey{from, m.Session}]
		if in == nil {
			return nil // pushes are accepted only inside a session we answer
		}
		in.last = now
		changed, err := c.mergeObjects(objs)
		c.stats.ObjectsPushed += uint64(len(objs))
		c.emitMerged(from, changed)
		return err
	}
	s := c.outTree(now, from, m.Session)
	if s == nil {
		return nil
	}
	changed, err := c.mergeObjects(objs)
	if err != nil {
		delete(c.out, from)
		return err
	}
	s.pulled += len(objs)
	s.changed = append(s.changed, changed...)
	c.stats.ObjectsPulled += uint64(len(objs))
	if m.Final {
		s.pending--
	}
	c.maybeDone(s)
	return nil
}
