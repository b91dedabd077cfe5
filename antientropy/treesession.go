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
// A is a numbered request that B answers with one or more messages, each
// repeating the request's number and its own place in the answer, the last
// one marked final with the number of messages of the answer, so A knows
// the walk is over when every part of every request's answer arrived (a
// repeated part counts once). B marks a final message incomplete when it
// left out something the request asked for (a state too large, a
// contribution it can no longer name); A, likewise, when it left a segment
// out of a request. Such a walk is lossy: A keeps what it merged but its
// clock does not take in B's dots (see complete). The one change B can
// account for is the one A's own push made: A pushes its version of a key
// both changed and then Wants B's old contribution, which B answers with
// the key's current state (inSession.replaced).

// wantRequestBytes bounds a Want request: about 4,000 contributions, so
// the answer is a few hundred KiB of objects for small states.
const wantRequestBytes = 32 << 10

// request kinds, for counting the walk's round trips.
const (
	rtLeaves = 30
	rtWant   = 31
)

// answering reports whether a walk request belongs to a session this node
// answers (its Sync came first), and keeps that session alive. Requests
// outside one are ignored: a Leaves request of about 128 KiB naming every
// segment asks for the whole store, and is answered only inside a session.
func (c *Core) answering(now time.Duration, from NodeID, session uint64) bool {
	in := c.in[inKey{from, session}]
	if in == nil {
		return false
	}
	in.last = now
	return true
}

// refuseWalk answers a walk request outside any session this node holds
// (never opened, or dropped: MaxInbound, PeerDown, SessionTimeout) with an
// empty final response marked incomplete: the initiator ends its walk at
// once, lossy, instead of waiting out SessionTimeout for answers that
// never come. The answer carries nothing, so a request from a stranger
// gets no data.
func (c *Core) refuseWalk(to NodeID, session uint64, req uint32, empty *pb.Envelope) {
	c.respond(to, []*pb.Envelope{empty}, req, true)
}

// walkRequest is one request of the initiator's walk awaiting its answer.
type walkRequest struct {
	parts uint32          // messages in the answer, once its final one came (0 before)
	got   map[uint32]bool // parts received
}

// outTree returns the initiator's tree session a response belongs to, or
// nil when it belongs to none, or repeats a part already received (a
// duplicated message must not count twice, or the walk would look over
// while a request is still unanswered).
func (c *Core) outTree(now time.Duration, from NodeID, session uint64, req, part uint32) *outSession {
	s := c.out[from]
	if s == nil || s.id != session || !s.tree {
		return nil
	}
	r := s.reqs[req]
	if r == nil || part == 0 || r.got[part] || (r.parts > 0 && part > r.parts) {
		return nil
	}
	r.got[part] = true
	s.last = now
	return s
}

// finalResponse books a response message's place in its request's answer;
// the request is answered once its final message and every part before it
// came. A responder that says it left something out makes the walk lossy.
func (s *outSession) finalResponse(req uint32, final bool, parts uint32, incomplete bool) {
	r := s.reqs[req]
	if final {
		r.parts = max(parts, 1)
		if incomplete {
			s.lossy = true
		}
	}
	if r.parts > 0 && uint32(len(r.got)) >= r.parts {
		delete(s.reqs, req)
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
		if s = c.outTree(now, from, m.Session, m.Request, m.Part); s == nil {
			return nil
		}
	} else if !c.answering(now, from, m.Session) {
		c.refuseWalk(from, m.Session, m.Request, &pb.Envelope{Body: &pb.Envelope_Tree{Tree: &pb.Tree{Session: m.Session, Level: m.Level, Nodes: appendIndices(nil, nil), Response: true}}})
		return nil
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
			envs, skipped := c.buildLeaves(m.Session, diff, true)
			c.respond(from, envs, m.Request, skipped)
		} else {
			c.respond(from, c.buildTree(m.Session, level+1, diff, true), m.Request, false)
		}
		return nil
	}
	if len(diff) > 0 {
		if level+1 == t.depth {
			envs, skipped := c.buildLeaves(s.id, diff, false)
			s.lossy = s.lossy || skipped
			c.request(s, envs)
			s.markRT(rtLeaves)
		} else {
			c.request(s, c.buildTree(s.id, level+1, diff, false))
			s.markRT(level + 1)
		}
	}
	s.finalResponse(m.Request, m.Final, m.Parts, m.Incomplete)
	c.maybeDone(s)
	return nil
}

// markRT records a kind of request; each kind is one round trip.
func (s *outSession) markRT(kind int) { s.rtKinds |= 1 << kind }

func (c *Core) maybeDone(s *outSession) {
	if len(s.reqs) == 0 && c.out[s.peer] == s {
		s.roundTrips = 1 + bits.OnesCount64(s.rtKinds)
		c.complete(s)
	}
}

// request sends A's requests of a walk, each its own request, to be
// answered with messages that repeat its number.
func (c *Core) request(s *outSession, envs []*pb.Envelope) {
	for _, e := range envs {
		s.nextReq++
		s.reqs[s.nextReq] = &walkRequest{got: map[uint32]bool{}}
		setWalk(e, s.nextReq, 0, 0, false, false)
		c.Send(s.peer, e)
	}
}

// respond sends B's answer to request req: every message numbered, the
// last one final with the count, and marked incomplete when B left out
// something the request asked for.
func (c *Core) respond(to NodeID, envs []*pb.Envelope, req uint32, incomplete bool) {
	parts := uint32(len(envs))
	for i, e := range envs {
		last := uint32(i+1) == parts
		setWalk(e, req, uint32(i+1), parts, last, last && incomplete)
		c.Send(to, e)
	}
}

// setWalk fills the walk's bookkeeping fields of a Tree, Leaves, Want or
// Objects message (parts and incomplete only on a final one).
func setWalk(e *pb.Envelope, req, part, parts uint32, final, incomplete bool) {
	if !final {
		parts = 0
	}
	switch b := e.Body.(type) {
	case *pb.Envelope_Tree:
		b.Tree.Request, b.Tree.Part, b.Tree.Final, b.Tree.Parts, b.Tree.Incomplete = req, part, final, parts, incomplete
	case *pb.Envelope_Leaves:
		b.Leaves.Request, b.Leaves.Part, b.Leaves.Final, b.Leaves.Parts, b.Leaves.Incomplete = req, part, final, parts, incomplete
	case *pb.Envelope_Want:
		b.Want.Request, b.Want.Part, b.Want.Final, b.Want.Parts, b.Want.Incomplete = req, part, final, parts, incomplete
	case *pb.Envelope_Objects:
		b.Objects.Request, b.Objects.Part, b.Objects.Final, b.Objects.Parts, b.Objects.Incomplete = req, part, final, parts, incomplete
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
// fit; with nonEmpty, at least one message. skipped says a segment was
// left out for being larger than a message (MerkleDepth too small for the
// keyspace): the walk cannot then account for all its keys.
func (c *Core) buildSegments(session uint64, set *segmentSet, want, response, nonEmpty bool) (out []*pb.Envelope, skipped bool) {
	limit := c.cfg.MaxMessageBytes - 64
	if want && !response {
		// Wanted objects are asked for in small requests: the peer answers
		// each as it comes, so its first objects are on the way (and being
		// merged here) while it reads the states for the next ones.
		limit = min(limit, wantRequestBytes)
	}
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
			skipped = true // one segment over the limit: MerkleDepth is too small for the keyspace
			continue
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
	return out, skipped
}

// buildLeaves makes Leaves messages with our contributions of segments
// (skipped as in buildSegments).
func (c *Core) buildLeaves(session uint64, segs []uint64, response bool) ([]*pb.Envelope, bool) {
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
		if !c.answering(now, from, m.Session) {
			c.refuseWalk(from, m.Session, m.Request, &pb.Envelope{Body: &pb.Envelope_Leaves{Leaves: &pb.Leaves{Session: m.Session, Segments: (&segmentSet{}).encode(), Response: true}}})
			return nil
		}
		ours, theirs := c.compareLeaves(set)
		envs, skipped := c.buildObjects(m.Session, ours, true)
		wants, _ := c.buildSegments(m.Session, theirs, true, true, true) // what B lacks is B's loss, not A's
		c.respond(from, append(envs, wants...), m.Request, skipped)
		return nil
	}
	s := c.outTree(now, from, m.Session, m.Request, m.Part)
	if s == nil {
		return nil
	}
	ours, theirs := c.compareLeaves(set)
	if s.pushOK {
		envs, _ := c.buildObjects(s.id, ours, false)
		c.sendAll(from, envs)
	}
	if len(theirs.segs) > 0 {
		envs, skipped := c.buildSegments(s.id, theirs, true, false, false)
		s.lossy = s.lossy || skipped
		c.request(s, envs)
		s.markRT(rtWant)
	}
	s.finalResponse(m.Request, m.Final, m.Parts, m.Incomplete)
	c.maybeDone(s)
	return nil
}

func (c *Core) onWant(now time.Duration, from NodeID, m *pb.Want) error {
	set, err := decodeSegmentSet(m.Segments, uint64(c.tree.nodes(c.tree.depth)))
	if err != nil {
		return err
	}
	if !m.Response { // B: the objects, as one answer
		if !c.answering(now, from, m.Session) {
			c.refuseWalk(from, m.Session, m.Request, &pb.Envelope{Body: &pb.Envelope_Objects{Objects: &pb.Objects{Session: m.Session, Response: true}}})
			return nil
		}
		keys, missing := c.wantedKeys(set, c.in[inKey{from, m.Session}])
		envs, skipped := c.buildObjects(m.Session, keys, true)
		if len(envs) == 0 {
			envs = []*pb.Envelope{{Body: &pb.Envelope_Objects{Objects: &pb.Objects{Session: m.Session, Response: true}}}}
		}
		// A contribution asked for that we can no longer name (the key
		// changed since our Leaves by something other than the
		// initiator's push: a write, another peer's merge): the initiator
		// must not take our dots into its clock on the strength of this walk.
		c.respond(from, envs, m.Request, skipped || missing > 0)
		return nil
	}
	keys, _ := c.wantedKeys(set, nil)
	s := c.outTree(now, from, m.Session, m.Request, m.Part)
	if s == nil {
		return nil
	}
	envs, _ := c.buildObjects(s.id, keys, false)
	c.sendAll(from, envs)
	s.finalResponse(m.Request, m.Final, m.Parts, m.Incomplete)
	c.maybeDone(s)
	return nil
}

// wantedKeys names the keys behind the contributions of a Want: those we
// hold now, and, through in.replaced, those the initiator's push in this
// walk changed since (their current state includes the old one). missing
// counts the contributions it cannot name.
func (c *Core) wantedKeys(set *segmentSet, in *inSession) (keys []string, missing int) {
	for i, seg := range set.segs {
		hit := make([]bool, len(set.hs[i]))
		for _, l := range c.tree.segs[seg] {
			if j, ok := slices.BinarySearch(set.hs[i], l.h); ok {
				keys = append(keys, l.key)
				hit[j] = true
			}
		}
		for j, h := range set.hs[i] {
			if hit[j] {
				continue
			}
			if k, ok := in.replacedKey(h); ok && !slices.Contains(keys, k) {
				keys = append(keys, k)
				continue
			}
			missing++
		}
	}
	return keys, missing
}

// replacedKey returns the key whose contribution h the initiator's push
// replaced in this session (in may be nil).
func (in *inSession) replacedKey(h uint64) (string, bool) {
	if in == nil {
		return "", false
	}
	k, ok := in.replaced[h]
	return k, ok
}

// buildObjects makes Objects messages with keys' states, split to fit.
// skipped says a key was left out: gone from the store, or its state
// larger than MaxStateBytes.
func (c *Core) buildObjects(session uint64, keys []string, response bool) (out []*pb.Envelope, skipped bool) {
	limit := c.cfg.MaxMessageBytes - 64
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
			skipped = true
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
	return out, skipped
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
		old := make([]uint64, len(objs))
		for i, o := range objs {
			if d := c.store.Digest(o.key); d != ([16]byte{}) {
				old[i] = contribution(o.key, d)
			}
		}
		changed, err := c.mergeObjects(objs)
		for i, o := range objs {
			if old[i] != 0 && c.store.Digest(o.key) != ([16]byte{}) && contribution(o.key, c.store.Digest(o.key)) != old[i] {
				if in.replaced == nil {
					in.replaced = map[uint64]string{}
				}
				in.replaced[old[i]] = o.key
			}
		}
		c.stats.ObjectsPushed += uint64(len(objs))
		c.emitMerged(from, changed)
		return err
	}
	s := c.outTree(now, from, m.Session, m.Request, m.Part)
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
	s.finalResponse(m.Request, m.Final, m.Parts, m.Incomplete)
	c.maybeDone(s)
	return nil
}
