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
// marked final with the number of messages of the answer, so A knows the
// walk is over, with nothing lost, when no request is pending and every
// announced message arrived.

// wantRequestBytes bounds a Want request: about 4,000 contributions, so
// the answer is a few hundred KiB of objects for small states.
const wantRequestBytes = 32 << 10

// request kinds, for counting the walk's round trips.
const (
	rtLeaves = 30
	rtWant   = 31
)

// outTree returns the initiator's tree session a response belongs to and
// counts the response.
func (c *Core) outTree(now time.Duration, from NodeID, session uint64) *outSession {
	s := c.out[from]
	if s == nil || s.id != session || !s.tree {
		return nil
	}
	s.last = now
	s.got++
	return s
}

// finalResponse books a final message's announcement.
func (s *outSession) finalResponse(final bool, parts uint32) {
	if final {
		s.pending--
		s.expect += int(parts)
	}
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
	if s == nil { // B: answer, always
		if level+1 == t.depth {
			c.respond(from, c.buildLeaves(m.Session, diff, true))
		} else {
			c.respond(from, c.buildTree(m.Session, level+1, diff, true))
		}
		return nil
	}
	if len(diff) > 0 {
		if level+1 == t.depth {
			c.request(s, c.buildLeaves(s.id, diff, false))
			s.markRT(rtLeaves)
		} else {
			c.request(s, c.buildTree(s.id, level+1, diff, false))
			s.markRT(level + 1)
		}
	}
	s.finalResponse(m.Final, m.Parts)
	c.maybeDone(s)
	return nil
}

// markRT records a kind of request; each kind is one round trip.
func (s *outSession) markRT(kind int) { s.rtKinds |= 1 << kind }

func (c *Core) maybeDone(s *outSession) {
	if s.pending <= 0 && s.got >= s.expect && c.out[s.peer] == s {
		s.roundTrips = 1 + bits.OnesCount64(s.rtKinds)
		c.complete(s)
	}
}

// request sends A's requests of a walk; each will be answered.
func (c *Core) request(s *outSession, envs []*pb.Envelope) {
	s.pending += len(envs)
	for _, e := range envs {
		c.Send(s.peer, e)
	}
}

// respond sends B's answer to one request: at least one message, the
// last marked final with the number of messages.
func (c *Core) respond(to NodeID, envs []*pb.Envelope) {
	if len(envs) == 0 {
		return
	}
	parts := uint32(len(envs))
	switch b := envs[len(envs)-1].Body.(type) {
	case *pb.Envelope_Tree:
		b.Tree.Final, b.Tree.Parts = true, parts
	case *pb.Envelope_Leaves:
		b.Leaves.Final, b.Leaves.Parts = true, parts
	case *pb.Envelope_Want:
		b.Want.Final, b.Want.Parts = true, parts
	case *pb.Envelope_Objects:
		b.Objects.Final, b.Objects.Parts = true, parts
	}
	for _, e := range envs {
		c.Send(to, e)
	}
}

// buildTree makes messages with our children hashes of nodes (at level),
// split to fit. A response is never empty: with no nodes it is one empty
// message.
func (c *Core) buildTree(session uint64, level int, nodes []uint64, response bool) []*pb.Envelope {
	per := max(1, (c.cfg.MaxMessageBytes-64)/(8*c.tree.fanout+5))
	var out []*pb.Envelope
	for first := 0; first < len(nodes) || (len(out) == 0 && response); first += per {
		part := nodes[first:min(first+per, len(nodes))]
		hs := make([]byte, 0, 8*c.tree.fanout*len(part))
		for _, n := range part {
			hs = appendHashes(hs, c.tree.children(level, int(n)))
		}
		out = append(out, &pb.Envelope{Body: &pb.Envelope_Tree{Tree: &pb.Tree{
			Session: session, Level: uint32(level), Nodes: appendIndices(nil, part), Hashes: hs, Response: response,
		}}})
	}
	return out
}

// buildSegments makes Leaves or Want messages for a segment set, split to
// fit; with nonEmpty, at least one message.
func (c *Core) buildSegments(session uint64, set *segmentSet, want, response, nonEmpty bool) []*pb.Envelope {
	limit := c.cfg.MaxMessageBytes - 64
	if want && !response {
		// Wanted objects are asked for in small requests: the peer answers
		// each as it comes, so its first objects are on the way (and being
		// merged here) while it reads the states for the next ones.
		limit = min(limit, wantRequestBytes)
	}
	var out []*pb.Envelope
	add := func(part *segmentSet) {
		b := part.encode()
		if want {
			out = append(out, &pb.Envelope{Body: &pb.Envelope_Want{Want: &pb.Want{Session: session, Segments: b, Response: response}}})
		} else {
			out = append(out, &pb.Envelope{Body: &pb.Envelope_Leaves{Leaves: &pb.Leaves{Session: session, Segments: b, Response: response}}})
		}
	}
	part := &segmentSet{}
	size := 8
	for i, seg := range set.segs {
		n := 6 + 8*len(set.hs[i])
		if n > limit {
			continue // one segment over the limit: MerkleDepth is too small for the keyspace
		}
		if size+n > limit && len(part.segs) > 0 {
			add(part)
			part, size = &segmentSet{}, 8
		}
		part.segs = append(part.segs, seg)
		part.hs = append(part.hs, set.hs[i])
		size += n
	}
	if len(part.segs) > 0 || (len(out) == 0 && nonEmpty) {
		add(part)
	}
	return out
}

// buildLeaves makes Leaves messages with our contributions of segments.
func (c *Core) buildLeaves(session uint64, segs []uint64, response bool) []*pb.Envelope {
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
	return c.buildSegments(session, set, false, response, response)
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
	if !m.Response { // B: push ours, want theirs, as one answer
		ours, theirs := c.compareLeaves(set)
		envs := c.buildObjects(m.Session, ours, true)
		c.respond(from, append(envs, c.buildSegments(m.Session, theirs, true, true, true)...))
		return nil
	}
	s := c.outTree(now, from, m.Session)
	if s == nil {
		return nil
	}
	ours, theirs := c.compareLeaves(set)
	if s.pushOK {
		c.sendAll(from, c.buildObjects(s.id, ours, false))
	}
	if len(theirs.segs) > 0 {
		c.request(s, c.buildSegments(s.id, theirs, true, false, false))
		s.markRT(rtWant)
	}
	s.finalResponse(m.Final, m.Parts)
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
	if !m.Response { // B: the objects, as one answer
		envs := c.buildObjects(m.Session, keys, true)
		if len(envs) == 0 {
			envs = []*pb.Envelope{{Body: &pb.Envelope_Objects{Objects: &pb.Objects{Session: m.Session, Response: true}}}}
		}
		c.respond(from, envs)
		return nil
	}
	s := c.outTree(now, from, m.Session)
	if s == nil {
		return nil
	}
	c.sendAll(from, c.buildObjects(s.id, keys, false))
	s.finalResponse(m.Final, m.Parts)
	c.maybeDone(s)
	return nil
}

// buildObjects makes Objects messages with keys' states, split to fit.
func (c *Core) buildObjects(session uint64, keys []string, response bool) []*pb.Envelope {
	limit := c.cfg.MaxMessageBytes - 64
	var out []*pb.Envelope
	var objs []byte
	flush := func() {
		out = append(out, &pb.Envelope{Body: &pb.Envelope_Objects{Objects: &pb.Objects{
			Session: session, Objects: objs, Response: response,
		}}})
		objs = nil
	}
	for _, k := range keys {
		st, ok := c.store.Get(k)
		if !ok || len(st) > c.cfg.MaxStateBytes {
			continue
		}
		if len(objs) > 0 && len(objs)+objectSize(k, st) > limit {
			flush()
		}
		objs = appendObject(objs, k, st)
	}
	if len(objs) > 0 {
		flush()
	}
	return out
}

func (c *Core) sendAll(to NodeID, envs []*pb.Envelope) {
	for _, e := range envs {
		c.Send(to, e)
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
	s.finalResponse(m.Final, m.Parts)
	c.maybeDone(s)
	return nil
}
