package antientropy

import (
	"fmt"
	"slices"
	"time"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
)

// outSession is a session this node started (the initiator, A).
type outSession struct {
	id        uint64
	peer      NodeID
	last      time.Duration // last progress
	sent      *Clock        // the clock the responder answers against
	fullSent  bool
	replied   bool
	tree      bool
	have      *Clock                  // responder's spans where it had dots we lacked
	peerClock *Clock                  // responder's whole clock at reply time
	seq       []Dot                   // pull sequence: have minus sent
	next      uint64                  // next pull position expected
	reqs      map[uint32]*walkRequest // Merkle requests not fully answered yet
	nextReq   uint32                  // the last Merkle request's number
	// lossy: the Merkle walk could not carry everything (a segment or a
	// state too large, a key that changed under the walk), so the clock
	// must not take in the responder's dots when it ends (see complete).
	lossy      bool
	pushOK     bool // the responder lacks some of our dots
	pulled     int  // objects merged
	roundTrips int
	rtKinds    uint64   // Merkle request kinds sent (see markRT)
	changed    []string // keys changed, reported in Merged
}

// inKey names a session this node answers.
type inKey struct {
	peer NodeID
	id   uint64
}

// inSession is a session this node answers (the responder, B): kept to
// decode the initiator's pushes and to learn its clock from the Ack.
type inSession struct {
	last time.Duration
	sent *Clock // the initiator's clock
	have *Clock // our spans the initiator lacked
	want spanList
	seq  []Dot // push sequence, built on the first push
	next uint64
	// replaced maps the contribution a key had before the initiator's
	// push in this Merkle walk changed it to that key: the initiator's
	// Want, which follows its push, names the old contribution, and the
	// key's current state (which includes it) answers it.
	replaced map[uint64]string
}

func (c *Core) startSession(now time.Duration, peer NodeID) {
	if _, busy := c.out[peer]; busy {
		return
	}
	c.nextID++
	s := &outSession{id: c.nextID, peer: peer, last: now, sent: c.snapshot(), roundTrips: 1}
	c.out[peer] = s
	c.stats.SessionsStarted++
	c.sendSync(s, false)
}

func (c *Core) sendSync(s *outSession, forceFull bool) {
	h := s.sent.Hash()
	m := &pb.Sync{Session: s.id, ClockHash: h[:]}
	if p := c.peers[s.peer]; forceFull || p == nil || p.confirmed != h {
		m.Clock = s.sent.Encode()
		s.fullSent = true
	}
	c.Send(s.peer, &pb.Envelope{Body: &pb.Envelope_Sync{Sync: m}})
}

func (c *Core) reply(to NodeID, m *pb.Reply) {
	c.Send(to, &pb.Envelope{Body: &pb.Envelope_Reply{Reply: m}})
}

// onSync answers a session: B's side of the first round trip.
func (c *Core) onSync(now time.Duration, from NodeID, m *pb.Sync) error {
	if len(m.ClockHash) != 16 {
		return fmt.Errorf("antientropy: sync clock hash of %d bytes", len(m.ClockHash))
	}
	h := [16]byte(m.ClockHash)
	var theirs *Clock
	if len(m.Clock) > 0 {
		k, err := DecodeClock(m.Clock)
		if err != nil {
			return err
		}
		if k.Hash() != h {
			return fmt.Errorf("antientropy: sync clock does not match its hash")
		}
		theirs = k
	} else if p := c.peers[from]; p != nil && p.acked != nil && p.acked.Hash() == h {
		theirs = p.acked
	} else if c.clock.Hash() == h {
		theirs = c.snapshot()
	}
	if theirs == nil {
		c.stats.NeedClock++
		c.reply(from, &pb.Reply{Session: m.Session, Status: pb.Status_NEED_CLOCK})
		return nil
	}
	c.ack(from, theirs)
	if p := c.peers[from]; p != nil && theirs.Equal(c.snapshot()) {
		p.confirmed = h // they hold our clock, and we know theirs
	}
	mine := c.snapshot()
	if mine.Hash() == h {
		c.reply(from, &pb.Reply{Session: m.Session, Status: pb.Status_IN_SYNC})
		return nil
	}
	var have, want spanList
	for i := range mine.spans {
		s := &mine.spans[i]
		if s.countMissing(theirs.get(s.node)) > 0 {
			have = append(have, *s)
		}
	}
	for i := range theirs.spans {
		t := &theirs.spans[i]
		own := mine.get(t.node)
		if t.countMissing(own) > 0 {
			if own == nil {
				want = append(want, span{node: t.node})
			} else {
				want = append(want, *own)
			}
		}
	}
	r := &pb.Reply{Session: m.Session, Have: appendSpanList(nil, have, theirs)}
	if len(want) > 0 {
		r.Want = appendSpanList(nil, want, theirs)
	}
	haveClock := have.toClock()
	// Can the log name the key of every missing dot?
	var keys []string
	n := haveClock.CountMissing(theirs)
	if n <= uint64(c.cfg.MaxLogAnswer) {
		keys = make([]string, 0, n)
		haveClock.Missing(theirs, func(d Dot) bool {
			k, ok := c.log.lookup(d)
			if ok {
				keys = append(keys, k)
			}
			return ok
		})
	}
	in := &inSession{last: now, sent: theirs, have: haveClock, want: want}
	c.addIn(inKey{from, m.Session}, in)
	if uint64(len(keys)) == n && n > 0 {
		r.Status, r.Dots = pb.Status_DELTA, n
		c.reply(from, r)
		c.sendDots(from, m.Session, false, keys)
		return nil
	}
	if n == 0 {
		r.Status = pb.Status_DELTA
		c.reply(from, r)
		return nil
	}
	r.Status = pb.Status_TREE
	r.Fanout, r.Depth = uint32(c.tree.fanout), uint32(c.tree.depth)
	r.Tree = appendHashes(nil, c.tree.children(0, 0))
	c.reply(from, r)
	return nil
}

func (c *Core) addIn(k inKey, s *inSession) {
	if _, ok := c.in[k]; ok {
		c.dropIn(k)
	}
	for len(c.inOrder) >= c.cfg.MaxInbound {
		c.dropIn(c.inOrder[0])
	}
	c.in[k] = s
	c.inOrder = append(c.inOrder, k)
}

func (c *Core) dropIn(k inKey) {
	delete(c.in, k)
	if i := slices.Index(c.inOrder, k); i >= 0 {
		c.inOrder = slices.Delete(c.inOrder, i, i+1)
	}
}

// onReply is A's side: the responder's answer to our Sync.
func (c *Core) onReply(now time.Duration, from NodeID, m *pb.Reply) error {
	s := c.out[from]
	if s == nil || s.id != m.Session {
		return nil // a late answer to an abandoned session
	}
	if s.replied {
		return nil // duplicate
	}
	s.last = now
	switch m.Status {
	case pb.Status_IN_SYNC:
		c.stats.InSync++
		c.ack(from, s.sent)
		c.peers[from].confirmedIfMember(s.sent.Hash())
		if h := s.sent.Hash(); h == c.clock.Hash() {
			c.quiet++
			c.quietAt = h
		}
		c.finish(s, "in-sync")
		return nil
	case pb.Status_NEED_CLOCK:
		if s.fullSent {
			return fmt.Errorf("antientropy: NEED_CLOCK for a full clock")
		}
		s.roundTrips++
		c.sendSync(s, true)
		return nil
	case pb.Status_DELTA, pb.Status_TREE:
	default:
		return fmt.Errorf("antientropy: reply status %v", m.Status)
	}
	have, err := decodeSpanList(m.Have, s.sent)
	if err != nil {
		return err
	}
	want, err := decodeSpanList(m.Want, s.sent)
	if err != nil {
		return err
	}
	s.replied = true
	s.have = have.toClock()
	// The responder's whole clock: ours, with its spans where they differ.
	pc := s.sent.Clone()
	for _, l := range []spanList{have, want} {
		for i := range l {
			j, ok := pc.find(l[i].node)
			switch {
			case ok && l[i].empty():
				pc.spans = slices.Delete(pc.spans, j, j+1)
			case ok:
				pc.spans[j] = l[i].clone()
			case !l[i].empty():
				pc.spans = slices.Insert(pc.spans, j, l[i].clone())
			}
		}
	}
	pc.hash = nil
	s.peerClock = pc
	c.ack(from, pc)
	if len(want) > 0 {
		s.pushOK = true
		c.push(s, want)
	}
	if m.Status == pb.Status_TREE {
		if int(m.Fanout) != c.tree.fanout || int(m.Depth) != c.tree.depth {
			delete(c.out, from)
			return fmt.Errorf("antientropy: peer tree %dx%d, ours %dx%d", m.Fanout, m.Depth, c.tree.fanout, c.tree.depth)
		}
		s.tree = true
		c.stats.TreeSessions++
		s.reqs = map[uint32]*walkRequest{0: {got: map[uint32]bool{}}} // the Sync, request 0: its answer is the Reply's tree
		return c.onTree(now, from, &pb.Tree{Session: s.id, Level: 0, Nodes: appendIndices(nil, []uint64{0}), Hashes: m.Tree, Response: true, Final: true, Parts: 1, Request: 0, Part: 1})
	}
	c.stats.DeltaSessions++
	n := s.have.CountMissing(s.sent)
	if n != m.Dots || n > uint64(c.cfg.MaxLogAnswer) {
		delete(c.out, from)
		return fmt.Errorf("antientropy: reply announces %d dots, spans give %d", m.Dots, n)
	}
	s.seq = make([]Dot, 0, n)
	s.have.Missing(s.sent, func(d Dot) bool { s.seq = append(s.seq, d); return true })
	if n == 0 {
		c.complete(s)
	}
	return nil
}

func (p *peerInfo) confirmedIfMember(h [16]byte) {
	if p != nil {
		p.confirmed = h
	}
}

// push sends the responder the objects for the dots it lacks, if our log
// can name all their keys (else its own sessions will repair it).
func (c *Core) push(s *outSession, want spanList) {
	var keys []string
	ok := true
	for i := range want {
		own := s.sent.get(want[i].node)
		if own == nil {
			continue
		}
		own.missing(&want[i], func(n uint64) bool {
			k, found := c.log.lookup(Dot{want[i].node, n})
			keys = append(keys, k)
			ok = found && len(keys) <= c.cfg.MaxLogAnswer
			return ok
		})
		if !ok {
			return
		}
	}
	c.sendDots(s.peer, s.id, true, keys)
}

// complete ends a session whose pulls (or Merkle walk) are done: the
// clock takes in the responder's spans and the Ack tells it so. A lossy
// walk merged what it got but claims nothing: no join, no Ack, so neither
// side believes this node holds dots it may lack; a later session (or the
// next walk) carries the rest.
func (c *Core) complete(s *outSession) {
	if s.lossy {
		c.stats.LossyWalks++
		c.emitMerged(s.peer, s.changed)
		c.quiet = 0
		c.finish(s, "tree")
		return
	}
	if c.clock.Join(s.have) {
		c.snap = nil
	}
	after := s.sent.Clone()
	after.Join(s.have)
	h := c.clock.Hash()
	c.Send(s.peer, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Session: s.id}}})
	if p := c.peers[s.peer]; p != nil && after.Hash() == h {
		p.confirmed = h
	}
	path := "delta"
	if s.tree {
		path = "tree"
	}
	c.emitMerged(s.peer, s.changed)
	c.quiet = 0 // a difference: keep the fast cadence
	c.finish(s, path)
}

func (c *Core) finish(s *outSession, path string) {
	delete(c.out, s.peer)
	c.Emit(SessionDone{Peer: s.peer, Path: path, Pulled: s.pulled, RoundTrips: s.roundTrips})
}

// onAck is B's side: the initiator merged everything we sent.
func (c *Core) onAck(now time.Duration, from NodeID, m *pb.Ack) error {
	k := inKey{from, m.Session}
	in := c.in[k]
	if in == nil {
		return nil
	}
	c.dropIn(k)
	theirs := in.sent.Clone()
	theirs.Join(in.have)
	c.ack(from, theirs)
	return nil
}
