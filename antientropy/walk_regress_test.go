package antientropy

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
)

// Regression tests for the Merkle walk's bookkeeping (found in review,
// 2026-12-07).

// unionStore is a grow-only set per key (a real join, unlike MemStore's
// LWW register): state is the sorted elements joined by "\n".
type unionStore struct{ m map[string][]string }

func newUnionStore() *unionStore { return &unionStore{m: map[string][]string{}} }

func (u *unionStore) Get(k string) ([]byte, bool) {
	s, ok := u.m[k]
	return []byte(strings.Join(s, "\n")), ok
}

func (u *unionStore) Merge(k string, st []byte) (bool, error) {
	if len(st) == 0 {
		return false, fmt.Errorf("unionStore: empty state")
	}
	cur := u.m[k]
	changed := false
	for _, e := range strings.Split(string(st), "\n") {
		if !slices.Contains(cur, e) {
			cur = append(cur, e)
			changed = true
		}
	}
	slices.Sort(cur)
	u.m[k] = cur
	return changed, nil
}

func (u *unionStore) Digest(k string) [16]byte {
	s, ok := u.m[k]
	if !ok {
		return [16]byte{}
	}
	h := fnv.New128a()
	h.Write([]byte(strings.Join(s, "\n")))
	var d [16]byte
	h.Sum(d[:0])
	d[0] |= 1
	return d
}

func (u *unionStore) Range(fn func(string, [16]byte) bool) {
	for k := range u.m {
		if !fn(k, u.Digest(k)) {
			return
		}
	}
}

func newUnionNet(t *testing.T, cfg Config) (*net, []*unionStore) {
	var us []*unionStore
	nw := newNetStores(t, 2, cfg, 7, func(i int, _ *MemStore) Store {
		u := newUnionStore()
		us = append(us, u)
		return u
	})
	return nw, us
}

func (nw *net) writeUnion(u *unionStore, i int, key, elem string) {
	n := nw.nodes[i]
	d := n.core.NextDot()
	u.Merge(key, []byte(elem))
	if err := n.core.Wrote(nw.now, key, d); err != nil {
		nw.t.Fatal(err)
	}
}

// On the Merkle path the initiator pushes its version of a key both sides
// changed, then Wants the responder's (old) contribution for it; the push
// has changed that contribution by then. The responder must still answer
// with the key (its current state includes the old one): before, it found
// nothing, the walk completed, and the initiator took the responder's dot
// into its clock without its effect, so the states stayed apart for good.
func TestWalkPushThenWantKeepsBothSidesChanges(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLogAnswer = 0 // force the Merkle path (as after a prune/eviction)
	nw, us := newUnionNet(t, cfg)
	nw.writeUnion(us[0], 0, "K", "from-n0")
	nw.writeUnion(us[1], 1, "K", "from-n1")
	nw.sync(0, 1)
	a, b := nw.nodes[0].core, nw.nodes[1].core
	if a.clock.Contains(Dot{"n1", 1}) && !slices.Contains(us[0].m["K"], "from-n1") {
		t.Errorf("n0's clock claims n1:1 but its K is %q", us[0].m["K"])
	}
	// Further sessions never repair it.
	for i := 0; i < 4; i++ {
		nw.sync(1, 0)
		nw.sync(0, 1)
	}
	if a.clock.Equal(b.clock) && !slices.Equal(us[0].m["K"], us[1].m["K"]) {
		t.Errorf("equal clocks, divergent states forever: n0 K=%q n1 K=%q", us[0].m["K"], us[1].m["K"])
	}
}

// A duplicated final response of one Merkle request must count once: it
// made the walk look complete while another request was unanswered, and
// the clock took in dots never pulled.
func TestWalkCountsADuplicatedResponseOnce(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLogAnswer = 0
	nw := newNet(t, 2, cfg, 11)
	for i := 0; i < 6000; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), "v")
	}
	a := nw.nodes[0]
	a.core.SyncWith(nw.now, "n1")
	nw.collect(a)
	dup := false
	for steps := 0; len(nw.queue) > 0 && steps < 100000; steps++ {
		m := nw.queue[0]
		nw.queue = nw.queue[1:]
		to := nw.node(m.to)
		if err := to.core.Step(nw.now, m.from, m.m); err != nil {
			t.Fatal(err)
		}
		if !dup && m.to == "n0" {
			if o, ok := m.m.(*pb.Envelope).Body.(*pb.Envelope_Objects); ok && o.Objects.Final && a.core.out["n1"] != nil && len(a.core.out["n1"].reqs) > 0 {
				dup = true // the network delivers this message twice
				if err := to.core.Step(nw.now, m.from, m.m); err != nil {
					t.Fatal(err)
				}
			}
		}
		nw.collect(to)
	}
	if !dup {
		t.Fatal("the scenario did not arise (no final response while another request was pending)")
	}
	missing := 0
	for i := 0; i < 6000; i++ {
		if _, ok := a.store.Get(fmt.Sprintf("k%d", i)); !ok {
			missing++
		}
	}
	if a.core.clock.Contains(Dot{"n1", 6000}) && missing > 0 {
		t.Errorf("n0's clock claims all of n1's 6000 dots but %d keys were never pulled", missing)
	}
}

// A segment whose Want list exceeds wantRequestBytes (about 4,090
// contributions) is left out of the request; the walk must then not let
// the initiator's clock take in every dot (it did).
func TestWalkWithAnOversizedSegmentClaimsNothing(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLogAnswer = 0
	cfg.MerkleFanout, cfg.MerkleDepth = 2, 2 // 4 segments: a small keyspace config
	nw := newNet(t, 2, cfg, 13)
	const n = 20000
	for i := 0; i < n; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), "v")
	}
	nw.sync(0, 1)
	a := nw.nodes[0]
	if a.core.clock.Contains(Dot{"n1", n}) && a.store.Len() < n {
		t.Errorf("n0's clock claims all %d dots of n1 but holds %d keys", n, a.store.Len())
	}
	if a.core.Stats().LossyWalks == 0 {
		t.Error("the walk that left a segment out was not counted as lossy")
	}
}

// A clock or span list whose span runs past counter 2^64-1 is refused: it
// decoded before, and its missing dots then counted 4 but enumerated about
// 2^64, which one Sync and one Dots push turned into an unbounded
// allocation on the responder.
func TestDecodeClockRefusesWrappingSpan(t *testing.T) {
	b := []byte{1, 1, 'x', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0x3e} // base 2^64-1, bits 1..5
	if k, err := DecodeClock(b); err == nil {
		t.Fatalf("decoded a span past 2^64-1: Max(x) = %d", k.Max("x"))
	}
	if _, err := decodeSpanList([]byte{1, 0, 1, 'x', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0x3e}, NewClock()); err == nil {
		t.Fatal("decoded a span list with a span past 2^64-1")
	}
	// The largest counters that fit still decode: base 2^64-7, bits 1..5 (counters base+2..base+6).
	ok := []byte{1, 1, 'x', 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0x3e}
	k, err := DecodeClock(ok)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Contains(Dot{"x", 1<<64 - 1}) {
		t.Fatal("the top counter is not in the clock")
	}
}

// Merkle walk requests are answered with data only inside a session the
// requester opened with a Sync (a Leaves request naming every segment asks
// for the whole store, and any peer could send one); outside one, the
// answer is a single empty final message marked incomplete, so a walk whose
// session the responder dropped ends at once instead of hanging.
func TestWalkRequestsOutsideASessionGetNoData(t *testing.T) {
	cfg := testConfig()
	nw := newNet(t, 2, cfg, 19)
	for i := 0; i < 50; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), "v")
	}
	b := nw.nodes[1].core
	b.Ready() // drop what the writes queued
	all := make([]uint64, b.tree.nodes(b.tree.depth))
	for i := range all {
		all[i] = uint64(i)
	}
	set := &segmentSet{segs: all, hs: make([][]uint64, len(all))}
	reqs := []*pb.Envelope{
		{Body: &pb.Envelope_Leaves{Leaves: &pb.Leaves{Session: 99, Segments: set.encode(), Request: 1}}},
		{Body: &pb.Envelope_Tree{Tree: &pb.Tree{Session: 99, Level: 0, Nodes: appendIndices(nil, []uint64{0}), Hashes: make([]byte, 8*b.tree.fanout), Request: 2}}},
		{Body: &pb.Envelope_Want{Want: &pb.Want{Session: 99, Segments: set.encode(), Request: 3}}},
	}
	for _, r := range reqs {
		if err := b.Step(0, "n0", r); err != nil {
			t.Fatal(err)
		}
		sends := b.Ready().Sends
		if len(sends) != 1 {
			t.Fatalf("%T outside a session was answered with %d messages, want 1", r.Body, len(sends))
		}
		switch x := sends[0].Msg.(*pb.Envelope).Body.(type) {
		case *pb.Envelope_Tree:
			if !x.Tree.Final || !x.Tree.Incomplete || len(x.Tree.Hashes) > 0 {
				t.Fatalf("Tree refusal %+v", x.Tree)
			}
		case *pb.Envelope_Leaves:
			if !x.Leaves.Final || !x.Leaves.Incomplete || len(x.Leaves.Segments) > 8 {
				t.Fatalf("Leaves refusal %+v", x.Leaves)
			}
		case *pb.Envelope_Objects:
			if !x.Objects.Final || !x.Objects.Incomplete || len(x.Objects.Objects) > 0 {
				t.Fatalf("Want refusal %+v", x.Objects)
			}
		default:
			t.Fatalf("%T answered with %T", r.Body, x)
		}
	}
}

// A walk whose responder session is evicted by MaxInbound (another peer's
// Sync) mid-walk ends at once, lossy: the responder ignored the rest of
// its requests, and the initiator waited out SessionTimeout.
func TestWalkEndsWhenTheResponderDropsItsSession(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLogAnswer = 0 // Merkle path
	cfg.MaxInbound = 1
	nw := newNet(t, 3, cfg, 5)
	for i := 0; i < 200; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), "v")
	}
	for _, n := range nw.nodes {
		n.core.Ready()
	}
	a, b, c := nw.nodes[0], nw.nodes[1], nw.nodes[2]
	a.core.SyncWith(nw.now, b.id)
	nw.collect(a)
	// deliver n0's Sync to n1
	m := nw.queue[0]
	nw.queue = nw.queue[1:]
	if err := b.core.Step(nw.now, m.from, m.m); err != nil {
		t.Fatal(err)
	}
	nw.collect(b)
	// n2 opens a session with n1 before n0's walk goes on
	c.core.SyncWith(nw.now, b.id)
	nw.run()
	if s := a.core.out[b.id]; s != nil {
		t.Fatalf("n0's walk with n1 hangs: %d requests unanswered, %d of 200 keys pulled", len(s.reqs), a.store.Len())
	}
	if a.core.Stats().LossyWalks != 1 || a.core.clock.Contains(Dot{"n1", 1}) {
		t.Fatalf("the cut walk: %d lossy, clock claims n1's dots %v", a.core.Stats().LossyWalks, a.core.clock.Contains(Dot{"n1", 1}))
	}
	// A later session repairs everything.
	a.core.SyncWith(nw.now, b.id)
	nw.run()
	if a.store.Len() != 200 {
		t.Fatalf("after a second session n0 holds %d of 200 keys", a.store.Len())
	}
}
