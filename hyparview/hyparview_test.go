package hyparview

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

func testConfig() Config {
	c := DefaultConfig()
	c.ActiveSize = 3
	c.PassiveSize = 4
	c.ShuffleActive = 2
	c.ShufflePassive = 2
	c.HealProbability = 1
	return c
}

func newTest(t testing.TB, cfg Config) *HyParView {
	t.Helper()
	h, err := New(membership.Node{ID: "self", Addrs: []string{"/ip4/10.0.0.1/tcp/1"}}, cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func nodeRec(id string) *pb.Node { return &pb.Node{Id: []byte(id)} }

func step(t testing.TB, h *HyParView, from string, env *pb.Envelope) membership.Ready {
	t.Helper()
	if err := h.Step(0, membership.NodeID(from), env); err != nil {
		t.Fatalf("step from %s: %v", from, err)
	}
	return h.Ready()
}

// connected returns a core whose active view holds ids (each asked with
// high priority) and whose outputs are drained.
func connected(t testing.TB, cfg Config, ids ...string) *HyParView {
	h := newTest(t, cfg)
	for _, id := range ids {
		step(t, h, id, neighborMsg(nodeRec(id), true))
	}
	return h
}

func ids(ns []membership.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n.ID)
	}
	return out
}

// sent summarises the sends as "to:kind" strings.
func sent(r membership.Ready) []string {
	var out []string
	for _, s := range r.Sends {
		out = append(out, string(s.To)+":"+kind(s.Msg.(*pb.Envelope)))
	}
	return out
}

func kind(e *pb.Envelope) string {
	switch k := e.Kind.(type) {
	case *pb.Envelope_Join:
		return "join"
	case *pb.Envelope_ForwardJoin:
		return "forwardjoin"
	case *pb.Envelope_Neighbor:
		if k.Neighbor.HighPriority {
			return "neighbor-high"
		}
		return "neighbor-low"
	case *pb.Envelope_NeighborReply:
		if k.NeighborReply.Accepted {
			return "accept"
		}
		return "reject"
	case *pb.Envelope_Disconnect:
		return "disconnect"
	case *pb.Envelope_Shuffle:
		return "shuffle"
	case *pb.Envelope_ShuffleReply:
		return "shufflereply"
	}
	return "?"
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestConfigValidateNamesField(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := SimConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.PRWL = 9
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "PRWL") {
		t.Fatalf("PRWL > ARWL: %v", err)
	}
	c = DefaultConfig()
	c.ShuffleInterval = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ShuffleInterval") {
		t.Fatalf("zero ShuffleInterval: %v", err)
	}
}

// Paper §4.1: "the contact node adds the new node to its active view ...
// and sends FORWARDJOIN to all other nodes in its active view".
func TestJoinAddsAndForwards(t *testing.T) {
	cfg := testConfig()
	cfg.SpliceJoins = false
	h := connected(t, cfg, "a", "b")
	r := step(t, h, "j", joinMsg(nodeRec("j")))
	got := sent(r)
	for _, want := range []string{"a:forwardjoin", "b:forwardjoin", "j:neighbor-high"} {
		if !has(got, want) {
			t.Fatalf("sends %v, missing %s", got, want)
		}
	}
	if !h.IsActive("j") || len(r.Events) != 1 || !reflect.DeepEqual(r.Events[0], membership.NeighborUp{Node: membership.Node{ID: "j"}}) {
		t.Fatalf("active %v events %v", ids(h.Active()), r.Events)
	}
	for _, s := range r.Sends {
		if fj, ok := s.Msg.(*pb.Envelope).Kind.(*pb.Envelope_ForwardJoin); ok && fj.ForwardJoin.Ttl != uint32(testConfig().ARWL) {
			t.Fatalf("FORWARDJOIN ttl %d", fj.ForwardJoin.Ttl)
		}
	}
}

func TestForwardJoinWalk(t *testing.T) {
	cfg := testConfig()
	// TTL 0: the joiner is taken into the active view.
	h := connected(t, cfg, "a", "b")
	r := step(t, h, "a", forwardJoinMsg(nodeRec("j"), 0))
	if !h.IsActive("j") || !has(sent(r), "j:neighbor-high") {
		t.Fatalf("ttl 0: active %v sends %v", ids(h.Active()), sent(r))
	}
	// TTL == PRWL: passive, and forwarded (not back to the sender).
	h = connected(t, cfg, "a", "b")
	r = step(t, h, "a", forwardJoinMsg(nodeRec("j"), cfg.PRWL))
	if h.IsActive("j") || !has(ids(h.Passive()), "j") {
		t.Fatalf("ttl PRWL: active %v passive %v", ids(h.Active()), ids(h.Passive()))
	}
	if got := sent(r); len(got) != 1 || got[0] != "b:forwardjoin" {
		t.Fatalf("ttl PRWL: sends %v", got)
	}
	if ttl := r.Sends[0].Msg.(*pb.Envelope).GetForwardJoin().Ttl; ttl != uint32(cfg.PRWL-1) {
		t.Fatalf("forwarded ttl %d", ttl)
	}
	// Only the sender as neighbour: accept.
	h = connected(t, cfg, "a")
	step(t, h, "a", forwardJoinMsg(nodeRec("j"), 5))
	if !h.IsActive("j") {
		t.Fatalf("lone neighbour: active %v", ids(h.Active()))
	}
}

func TestNeighborPriority(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b", "c")
	// Low priority with a full view: refused, remembered as wanting room.
	r := step(t, h, "x", neighborMsg(nodeRec("x"), false))
	if got := sent(r); len(got) != 1 || got[0] != "x:reject" || h.IsActive("x") {
		t.Fatalf("low priority when full: sends %v active %v", got, ids(h.Active()))
	}
	if !has(ids(h.Passive()), "x") {
		t.Fatalf("refused requester not kept as a candidate: %v", ids(h.Passive()))
	}
	// High priority: accepted, a random neighbour evicted with DISCONNECT.
	r = step(t, h, "y", neighborMsg(nodeRec("y"), true))
	got := sent(r)
	if !h.IsActive("y") || h.ActiveLen() != cfg.ActiveSize || !has(got, "y:accept") || len(got) != 2 {
		t.Fatalf("high priority: active %v sends %v", ids(h.Active()), got)
	}
	var down, up int
	for _, ev := range r.Events {
		switch e := ev.(type) {
		case membership.NeighborDown:
			down++
			if e.Failed || !has(got, string(e.Node.ID)+":disconnect") || !has(ids(h.Passive()), string(e.Node.ID)) {
				t.Fatalf("eviction of %v: sends %v passive %v", e, got, ids(h.Passive()))
			}
		case membership.NeighborUp:
			up++
		}
	}
	if down != 1 || up != 1 {
		t.Fatalf("events %v", r.Events)
	}
	// Low priority with room: accepted.
	h = connected(t, cfg, "a")
	r = step(t, h, "z", neighborMsg(nodeRec("z"), false))
	if !h.IsActive("z") || !has(sent(r), "z:accept") {
		t.Fatalf("low priority with room: active %v", ids(h.Active()))
	}
}

func TestDisconnectMovesToPassive(t *testing.T) {
	h := connected(t, testConfig(), "a", "b")
	r := step(t, h, "a", disconnectMsg())
	if h.IsActive("a") || !has(ids(h.Passive()), "a") {
		t.Fatalf("active %v passive %v", ids(h.Active()), ids(h.Passive()))
	}
	if len(r.Events) != 1 || r.Events[0].(membership.NeighborDown).Failed {
		t.Fatalf("events %v", r.Events)
	}
	// A DISCONNECT from a non-neighbour changes nothing.
	r = step(t, h, "q", disconnectMsg())
	if !r.Empty() {
		t.Fatalf("stale disconnect produced %v", sent(r))
	}
}

func TestShuffleForwardOrReply(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b")
	in := []*pb.Node{nodeRec("o"), nodeRec("p1"), nodeRec("p2")}
	// TTL left and another neighbour: forward with TTL-1.
	r := step(t, h, "a", shuffleMsg(nodeRec("o"), 3, in, 0))
	if got := sent(r); len(got) != 1 || got[0] != "b:shuffle" || r.Sends[0].Msg.(*pb.Envelope).GetShuffle().Ttl != 2 {
		t.Fatalf("forward: %v", got)
	}
	if len(h.Passive()) != 0 {
		t.Fatalf("a forwarding node integrated: %v", ids(h.Passive()))
	}
	// TTL runs out: reply to the origin, integrate the list.
	r = step(t, h, "a", shuffleMsg(nodeRec("o"), 1, in, 0))
	if got := sent(r); len(got) != 1 || got[0] != "o:shufflereply" {
		t.Fatalf("reply: %v", got)
	}
	if p := ids(h.Passive()); len(p) != 3 || !has(p, "o") || !has(p, "p1") || !has(p, "p2") {
		t.Fatalf("integrated %v", p)
	}
}

// Paper §4.4: the receiver of a shuffle reply "will use, as victims,
// the identifiers it has sent in the shuffle", then random ones.
func TestShuffleReplyEvictsSentFirst(t *testing.T) {
	cfg := testConfig()
	cfg.ActiveSize = 1 // full: no promotion takes nodes out of the passive view
	h := connected(t, cfg, "a")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2"), nodeRec("p3"), nodeRec("p4")}))
	if len(h.Passive()) != cfg.PassiveSize {
		t.Fatalf("passive %v", ids(h.Passive()))
	}
	h.Tick(time.Hour) // starts a shuffle carrying some passive nodes
	r := h.Ready()
	var carried []string
	for _, s := range r.Sends {
		if sh := s.Msg.(*pb.Envelope).GetShuffle(); sh != nil && sh.Ttl > 0 {
			for _, n := range sh.Nodes[1:] {
				if string(n.Id) != "a" {
					carried = append(carried, string(n.Id))
				}
			}
		}
	}
	if len(carried) != cfg.ShufflePassive {
		t.Fatalf("shuffle carried %v", carried)
	}
	step(t, h, "z", solicited(h, []*pb.Node{nodeRec("n1"), nodeRec("n2")}))
	p := ids(h.Passive())
	for _, c := range carried {
		if has(p, c) {
			t.Fatalf("carried node %s kept while n1,n2 came in: %v", c, p)
		}
	}
	if !has(p, "n1") || !has(p, "n2") {
		t.Fatalf("passive %v", p)
	}
}

func TestPeerDownPromotesPassive(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2")}))
	h.PeerDown(time.Second, "a")
	r := h.Ready()
	if len(r.Events) != 1 || !r.Events[0].(membership.NeighborDown).Failed {
		t.Fatalf("events %v", r.Events)
	}
	// Active view empty: high priority to up to ActiveSize candidates.
	got := sent(r)
	if len(got) != 2 || !strings.HasSuffix(got[0], ":neighbor-high") {
		t.Fatalf("sends %v", got)
	}
	// One fails, the other accepts.
	first, second := r.Sends[0].To, r.Sends[1].To
	h.PeerDown(2*time.Second, first)
	h.Ready()
	if err := h.Step(2*time.Second, second, neighborReplyMsg(true)); err != nil {
		t.Fatal(err)
	}
	r = h.Ready()
	if !h.IsActive(second) || len(r.Events) != 1 {
		t.Fatalf("active %v events %v", ids(h.Active()), r.Events)
	}
	if f := ids(h.Failed()); !has(f, "a") || !has(f, string(first)) {
		t.Fatalf("failed memory %v", f)
	}
}

func TestRejectionTriesNextCandidate(t *testing.T) {
	cfg := testConfig()
	cfg.ActiveSize = 2
	h := connected(t, cfg, "a")
	h.Tick(0) // arm the timer, nothing to ask yet
	h.Ready()
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2")}))
	h.Tick(cfg.TickInterval)
	r := h.Ready()
	var asked membership.NodeID
	for _, s := range r.Sends {
		if kind(s.Msg.(*pb.Envelope)) == "neighbor-low" {
			asked = s.To
		}
	}
	if asked == "" {
		t.Fatalf("no low-priority request with a free slot: %v", sent(r))
	}
	if err := h.Step(cfg.TickInterval, asked, neighborReplyMsg(false)); err != nil {
		t.Fatal(err)
	}
	r = h.Ready()
	if got := sent(r); len(got) != 1 || got[0] == string(asked)+":neighbor-low" || !strings.HasSuffix(got[0], ":neighbor-low") {
		t.Fatalf("after rejection by %s: %v", asked, got)
	}
}

func TestRejoinWithBackoff(t *testing.T) {
	cfg := testConfig()
	h := newTest(t, cfg)
	h.Join(0, membership.Node{ID: "c1", Addrs: []string{"/ip4/10.0.0.2/tcp/1"}})
	if got := sent(h.Ready()); len(got) != 1 || got[0] != "c1:join" {
		t.Fatalf("join: %v", got)
	}
	if n, ok := h.Lookup("c1"); !ok || len(n.Addrs) != 1 {
		t.Fatalf("contact not remembered: %v %v", n, ok)
	}
	h.PeerDown(10*time.Millisecond, "c1")
	h.Ready()
	var joins []time.Duration
	for now := time.Duration(0); now < 10*time.Minute; now += cfg.TickInterval {
		h.Tick(now)
		for _, s := range h.Ready().Sends {
			if kind(s.Msg.(*pb.Envelope)) == "join" {
				joins = append(joins, now)
			}
		}
	}
	if len(joins) < 4 {
		t.Fatalf("JOIN retries at %v", joins)
	}
	for i := 2; i < len(joins); i++ {
		if joins[i]-joins[i-1] < joins[i-1]-joins[i-2] && joins[i]-joins[i-1] < cfg.JoinBackoffMax*3/4 {
			t.Fatalf("no backoff: retries at %v", joins)
		}
	}
	// A neighbour ends the retries.
	step(t, h, "c1", neighborMsg(nodeRec("c1"), true))
	for now := 10 * time.Minute; now < 20*time.Minute; now += cfg.TickInterval {
		h.Tick(now)
		for _, s := range h.Ready().Sends {
			if kind(s.Msg.(*pb.Envelope)) == "join" {
				t.Fatalf("JOIN at %v with a neighbour", now)
			}
		}
	}
}

// The partition-heal mechanism: a failed node is probed with a TTL-0
// shuffle once per cycle; when it answers, it gets a high-priority
// NEIGHBOR (HealProbability 1 here).
func TestProbeOfFailedNodeHeals(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b", "c")
	h.Tick(0)
	h.Ready()
	h.PeerDown(time.Second, "c")
	h.Ready()
	var probe bool
	for now := time.Second; now < 3*cfg.ShuffleInterval && !probe; now += cfg.TickInterval {
		h.Tick(now)
		for _, s := range h.Ready().Sends {
			if sh := s.Msg.(*pb.Envelope).GetShuffle(); sh != nil && s.To == "c" && sh.Ttl == 0 {
				probe = true
			}
		}
	}
	if !probe {
		t.Fatal("no probe of the failed node within 3 cycles")
	}
	if err := h.Step(time.Minute, "c", solicited(h, nil)); err != nil {
		t.Fatal(err)
	}
	if got := sent(h.Ready()); !has(got, "c:neighbor-high") {
		t.Fatalf("answered probe: %v", got)
	}
	if len(h.Failed()) != 0 {
		t.Fatalf("failed memory %v", ids(h.Failed()))
	}
}

func TestLeaveDisconnectsAll(t *testing.T) {
	h := connected(t, testConfig(), "a", "b")
	h.Leave(time.Second)
	r := h.Ready()
	if got := sent(r); len(got) != 2 || !has(got, "a:disconnect") || !has(got, "b:disconnect") {
		t.Fatalf("sends %v", got)
	}
	if len(r.Events) != 2 || h.ActiveLen() != 0 {
		t.Fatalf("events %v", r.Events)
	}
	h.Tick(time.Hour)
	if !h.Ready().Empty() {
		t.Fatal("a node that left still acts")
	}
}

type snapshot struct {
	Active, Passive, Failed, Reserve []membership.Node
	Pending                          int
	Out                              int
}

func snap(h *HyParView) snapshot {
	return snapshot{h.Active(), h.Passive(), h.Failed(), h.Reserve(), len(h.pending), h.Pending()}
}

func TestMalformedChangesNothing(t *testing.T) {
	cfg := testConfig()
	long := make([]*pb.Node, cfg.MaxNodesPerMessage+1)
	for i := range long {
		long[i] = nodeRec("n" + string(rune('a'+i%26)))
	}
	cases := []struct {
		name string
		from string
		env  *pb.Envelope
		want error
	}{
		{"empty envelope", "a", &pb.Envelope{}, ErrUnknownMessage},
		{"empty sender", "", disconnectMsg(), ErrBadNode},
		{"self as sender", "self", disconnectMsg(), ErrBadNode},
		{"join without node", "j", &pb.Envelope{Kind: &pb.Envelope_Join{Join: &pb.Join{}}}, ErrBadNode},
		{"join for another node", "j", joinMsg(nodeRec("k")), ErrSenderMismatch},
		{"join with empty id", "j", joinMsg(nodeRec("")), ErrBadNode},
		{"forwardjoin of self", "a", forwardJoinMsg(nodeRec("self"), 2), ErrSelfReference},
		{"forwardjoin ttl too big", "a", forwardJoinMsg(nodeRec("j"), cfg.MaxTTL+1), ErrBadTTL},
		{"neighbor for another", "x", neighborMsg(nodeRec("y"), true), ErrSenderMismatch},
		{"neighbor nil body", "x", &pb.Envelope{Kind: &pb.Envelope_Neighbor{}}, ErrUnknownMessage},
		{"shuffle origin self", "a", shuffleMsg(nodeRec("self"), 2, nil, 0), ErrSelfReference},
		{"shuffle too many", "a", shuffleMsg(nodeRec("o"), 2, long, 0), ErrTooMany},
		{"shuffle bad entry", "a", shuffleMsg(nodeRec("o"), 2, []*pb.Node{nodeRec("p"), {}}, 0), ErrBadNode},
		{"reply too many", "a", shuffleReplyMsg(long, 0), ErrTooMany},
		{"address too long", "j", joinMsg(&pb.Node{Id: []byte("j"), Addrs: []string{strings.Repeat("x", cfg.MaxAddrBytes+1)}}), ErrBadNode},
		{"id too long", "a", forwardJoinMsg(&pb.Node{Id: make([]byte, cfg.MaxIDBytes+1)}, 1), ErrBadNode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := connected(t, cfg, "a", "b")
			step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1")}))
			before := snap(h)
			err := h.Step(time.Second, membership.NodeID(c.from), c.env)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if after := snap(h); !reflect.DeepEqual(before, after) {
				t.Fatalf("state changed: %+v -> %+v", before, after)
			}
		})
	}
}

// After a mass failure most passive nodes are dead: a request to one fails
// (PeerDown) and the next candidate is asked at once, with high priority
// while the active view is empty, and the dead node leaves the passive
// view for good.
func TestDeadCandidateNextAskedAtOnce(t *testing.T) {
	cfg := testConfig()
	cfg.ActiveSize = 1
	h := connected(t, cfg, "a")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2"), nodeRec("p3")}))
	h.PeerDown(time.Second, "a")
	r := h.Ready()
	if got := sent(r); len(got) != 1 || !strings.HasSuffix(got[0], ":neighbor-high") {
		t.Fatalf("after losing the only neighbour: %v", got)
	}
	dead := r.Sends[0].To
	h.PeerDown(time.Second+50*time.Millisecond, dead)
	got := sent(h.Ready())
	if len(got) != 1 || !strings.HasSuffix(got[0], ":neighbor-high") || strings.HasPrefix(got[0], string(dead)+":") {
		t.Fatalf("after %s failed: %v", dead, got)
	}
	if has(ids(h.Passive()), string(dead)) {
		t.Fatalf("dead %s still passive: %v", dead, ids(h.Passive()))
	}
	// A shuffle that carries the dead node does not bring it back.
	step(t, h, "p9", solicited(h, []*pb.Node{nodeRec(string(dead))}))
	if has(ids(h.Passive()), string(dead)) {
		t.Fatalf("dead %s re-entered the passive view from a shuffle", dead)
	}
}

// After a heal, only the first answered probe within FailedTTL may turn
// into a heal link: the other answers put their node back into the
// passive view without evicting anyone.
func TestOneHealLinkPerFailedTTL(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b")
	for _, id := range []string{"c", "d"} {
		step(t, h, id, neighborMsg(nodeRec(id), false))
		h.PeerDown(time.Second, membership.NodeID(id))
	}
	h.Ready()
	if len(h.Failed()) != 2 {
		t.Fatalf("failed memory %v", ids(h.Failed()))
	}
	if err := h.Step(2*time.Second, "c", solicited(h, nil)); err != nil {
		t.Fatal(err)
	}
	if got := sent(h.Ready()); !has(got, "c:neighbor-high") {
		t.Fatalf("first answered probe: %v", got)
	}
	if err := h.Step(3*time.Second, "d", solicited(h, nil)); err != nil {
		t.Fatal(err)
	}
	if got := sent(h.Ready()); len(got) != 0 || !has(ids(h.Passive()), "d") {
		t.Fatalf("second answered probe: sends %v passive %v", got, ids(h.Passive()))
	}
}

// A node with no neighbour and nothing to ask probes its failed memory
// every tick, not once per cycle, so it rejoins within a tick of a heal.
func TestIsolatedProbesEveryTick(t *testing.T) {
	cfg := testConfig()
	cfg.FailedSize = 4
	h := connected(t, cfg, "a")
	h.Tick(0)
	h.PeerDown(0, "a")
	h.Ready()
	probes := 0
	for now := cfg.TickInterval; now <= cfg.ShuffleInterval/2; now += cfg.TickInterval {
		h.Tick(now)
		for _, s := range h.Ready().Sends {
			if sh := s.Msg.(*pb.Envelope).GetShuffle(); sh != nil && sh.Ttl == 0 {
				probes++
			}
		}
	}
	if want := int(cfg.ShuffleInterval / 2 / cfg.TickInterval); probes < want {
		t.Fatalf("%d probes in half a cycle, want >= %d", probes, want)
	}
}

// A shuffle whose first hop is reported down is resent through another
// active neighbour: a node whose neighbours crashed silently tests one
// more link per LinkDownDelay instead of one per cycle.
func TestShuffleRetriedAfterFirstHopFails(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b", "c")
	h.Tick(0)
	h.Ready()
	var to membership.NodeID
	var at time.Duration
	for now := cfg.TickInterval; now < 2*cfg.ShuffleInterval && to == ""; now += cfg.TickInterval {
		h.Tick(now)
		for _, s := range h.Ready().Sends {
			if sh := s.Msg.(*pb.Envelope).GetShuffle(); sh != nil && int(sh.Ttl) == cfg.ShuffleTTL {
				to, at = s.To, now
			}
		}
	}
	if to == "" {
		t.Fatal("no shuffle within 2 cycles")
	}
	h.PeerDown(at+50*time.Millisecond, to)
	var retry membership.NodeID
	for _, s := range h.Ready().Sends {
		if sh := s.Msg.(*pb.Envelope).GetShuffle(); sh != nil && int(sh.Ttl) == cfg.ShuffleTTL {
			retry = s.To
		}
	}
	if retry == "" || retry == to || !h.IsActive(retry) {
		t.Fatalf("shuffle to %s failed; retried to %q (active %v)", to, retry, ids(h.Active()))
	}
	if h.Stats().ShuffleRetries != 1 {
		t.Fatalf("ShuffleRetries %d", h.Stats().ShuffleRetries)
	}
}

// TestSpliceForRequesterWithTwoFreeSlots: a full node takes in a
// low-priority requester that has two or more free slots by handing one
// of its neighbours over to it, so nobody loses a link and the requester
// gains two; a requester with one free slot is still refused.
func TestSpliceForRequesterWithTwoFreeSlots(t *testing.T) {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b", "c")
	one := neighborMsg(nodeRec("x"), false)
	one.GetNeighbor().FreeSlots = 1
	if got := sent(step(t, h, "x", one)); len(got) != 1 || got[0] != "x:reject" {
		t.Fatalf("requester with one free slot: sends %v, want a refusal", got)
	}
	two := neighborMsg(nodeRec("y"), false)
	two.GetNeighbor().FreeSlots = 2
	r := step(t, h, "y", two)
	got := sent(r)
	if !h.IsActive("y") || h.ActiveLen() != cfg.ActiveSize || !has(got, "y:accept") {
		t.Fatalf("splice: active %v sends %v", ids(h.Active()), got)
	}
	var z string
	for _, s := range r.Sends {
		if kind(s.Msg.(*pb.Envelope)) == "forwardjoin" {
			z = string(s.To)
			fj := s.Msg.(*pb.Envelope).GetForwardJoin()
			if string(fj.Node.Id) != "y" || fj.Ttl != 0 {
				t.Fatalf("hand-over to %s: %v, want FORWARDJOIN(y, ttl 0)", z, fj)
			}
		}
	}
	if z == "" || !has(got, z+":disconnect") || h.IsActive(membership.NodeID(z)) {
		t.Fatalf("the handed-over neighbour %q must get DISCONNECT then FORWARDJOIN: sends %v", z, got)
	}
	if h.Stats().Splices != 1 {
		t.Fatalf("Splices = %d", h.Stats().Splices)
	}
	// At the handed-over neighbour, the FORWARDJOIN with TTL 0 after the
	// DISCONNECT links it to the requester.
	zc := connected(t, cfg, "h", "p", "q")
	step(t, zc, "h", disconnectMsg())
	r = step(t, zc, "h", forwardJoinMsg(nodeRec("y"), 0))
	if !zc.IsActive("y") || !has(sent(r), "y:neighbor-high") {
		t.Fatalf("hand-over target: active %v sends %v", ids(zc.Active()), sent(r))
	}
}

// A node whose neighbour and whole passive view die falls back on the
// nodes its passive view dropped earlier (the reserve), with high
// priority while it has no neighbour: without them it would be cut off.
func TestReserveUsedWhenPassiveViewIsDead(t *testing.T) {
	cfg := testConfig()
	cfg.ReserveSize = 3
	h := connected(t, cfg, "a")
	// Six new nodes into a passive view of 4: two are dropped into the
	// reserve.
	var recs []*pb.Node
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		recs = append(recs, nodeRec(id))
	}
	step(t, h, "a", solicited(h, recs))
	reserve := ids(h.Reserve())
	if len(h.Passive()) != 4 || len(reserve) != 2 {
		t.Fatalf("passive %v reserve %v", ids(h.Passive()), reserve)
	}
	dead := map[membership.NodeID]bool{"a": true}
	for _, id := range ids(h.Passive()) {
		dead[membership.NodeID(id)] = true
	}
	// Every request to a dead node fails; the next candidates are asked,
	// passive ones first, then the reserve.
	now := time.Second
	h.PeerDown(now, "a")
	var askedReserve []string
	for round := 0; round < 10; round++ {
		r := h.Ready()
		if len(r.Sends) == 0 {
			break
		}
		for _, s := range r.Sends {
			if kind(s.Msg.(*pb.Envelope)) != "neighbor-high" {
				continue
			}
			if dead[s.To] {
				h.PeerDown(now, s.To)
				continue
			}
			askedReserve = append(askedReserve, string(s.To))
		}
	}
	if len(askedReserve) != 2 || !has(reserve, askedReserve[0]) || !has(reserve, askedReserve[1]) {
		t.Fatalf("asked from the reserve %v; reserve was %v", askedReserve, reserve)
	}
	if err := h.Step(now, membership.NodeID(askedReserve[0]), neighborReplyMsg(true)); err != nil {
		t.Fatal(err)
	}
	if !h.IsActive(membership.NodeID(askedReserve[0])) {
		t.Fatalf("active %v", ids(h.Active()))
	}
	if got := h.Stats().ReserveRequests; got != 2 {
		t.Fatalf("ReserveRequests = %d, want 2", got)
	}
	if len(h.Reserve()) != 0 {
		t.Fatalf("reserve not drained: %v", ids(h.Reserve()))
	}
}

// With ReserveSize 0 nothing is kept.
func TestReserveDisabled(t *testing.T) {
	cfg := testConfig()
	cfg.ReserveSize = 0
	h := connected(t, cfg, "a")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2"), nodeRec("p3"), nodeRec("p4"), nodeRec("p5")}))
	if r := h.Reserve(); len(r) != 0 {
		t.Fatalf("reserve %v", ids(r))
	}
}

// takeAndEvict builds a core with ActiveSize 2 holding y, which takes j
// from a FORWARDJOIN (confirming with a high-priority NEIGHBOR) and then
// evicts j, with DISCONNECT, to take x. The victim is drawn at random, so
// it tries seeds until the victim is j; the outputs are drained.
func takeAndEvict(t *testing.T) *HyParView {
	t.Helper()
	cfg := testConfig()
	cfg.ActiveSize = 2
	for seed := uint64(1); seed < 100; seed++ {
		h, err := New(membership.Node{ID: "self"}, cfg, rand.New(rand.NewPCG(seed, 7)))
		if err != nil {
			t.Fatal(err)
		}
		step(t, h, "y", neighborMsg(nodeRec("y"), true))
		if got := sent(step(t, h, "y", forwardJoinMsg(nodeRec("j"), 0))); !has(got, "j:neighbor-high") || !h.IsActive("j") {
			t.Fatalf("FORWARDJOIN(j, 0): active %v sends %v, want j taken and confirmed", ids(h.Active()), got)
		}
		if got := sent(step(t, h, "x", neighborMsg(nodeRec("x"), true))); has(got, "j:disconnect") {
			return h
		}
	}
	t.Fatal("no seed made j the victim")
	return nil
}

// The joiner answers our confirmation (accepted: it took us), then reads
// the DISCONNECT we sent after it and drops us. Its acceptance must not be
// taken for the answer to a request we sent it later, which it refuses:
// that made a link only we held (the real agents' start-up, where many
// nodes join at once, showed it as an odd sum of active-view sizes).
func TestStaleConfirmAcceptanceMakesNoLink(t *testing.T) {
	h := takeAndEvict(t)
	// x drops us: the free slot goes to j, the only passive node not
	// tried this cycle, with a low-priority request (y is still active).
	if got := sent(step(t, h, "x", disconnectMsg())); !has(got, "j:neighbor-low") {
		t.Fatalf("after x's DISCONNECT: sends %v, want a request to j", got)
	}
	// j answers, in order: the confirmation (accepted), then, having read
	// our DISCONNECT and filled its view, the request (refused).
	if got := sent(step(t, h, "j", neighborReplyMsg(true))); h.IsActive("j") || len(got) != 0 {
		t.Fatalf("the confirmation's acceptance: active %v sends %v, want j not taken, nothing sent (j dropped us)", ids(h.Active()), got)
	}
	step(t, h, "j", neighborReplyMsg(false))
	if h.IsActive("j") || !has(ids(h.Passive()), "j") {
		t.Fatalf("after j refused: active %v passive %v, want j passive", ids(h.Active()), ids(h.Passive()))
	}
}

// A request we sent is overtaken: j is taken in from a FORWARDJOIN (our
// request stops being pending) and evicted again. j's acceptance of the
// request, read before our DISCONNECT, is stale too.
func TestStaleRequestAcceptanceAfterDisconnectMakesNoLink(t *testing.T) {
	cfg := testConfig()
	cfg.ActiveSize = 2
	for seed := uint64(1); seed < 100; seed++ {
		h, err := New(membership.Node{ID: "self"}, cfg, rand.New(rand.NewPCG(seed, 9)))
		if err != nil {
			t.Fatal(err)
		}
		step(t, h, "y", neighborMsg(nodeRec("y"), true))
		// j asks while we are full (refused, remembered as wanting room),
		// then y's DISCONNECT makes room: j is asked first.
		step(t, h, "z", neighborMsg(nodeRec("z"), true))
		low := neighborMsg(nodeRec("j"), false)
		low.GetNeighbor().FreeSlots = 1
		step(t, h, "j", low)
		if got := sent(step(t, h, "z", disconnectMsg())); !has(got, "j:neighbor-low") {
			t.Fatalf("after z's DISCONNECT: sends %v, want a request to j", got)
		}
		step(t, h, "y", forwardJoinMsg(nodeRec("j"), 0))
		if !h.IsActive("j") {
			t.Fatalf("FORWARDJOIN(j, 0): active %v", ids(h.Active()))
		}
		if got := sent(step(t, h, "x", neighborMsg(nodeRec("x"), true))); !has(got, "j:disconnect") {
			continue // y was the victim: try another seed
		}
		// x leaves: we have room again. j answers the request (accepted)
		// and the confirmation (accepted), then reads our DISCONNECT.
		step(t, h, "x", disconnectMsg())
		step(t, h, "j", neighborReplyMsg(true))
		step(t, h, "j", neighborReplyMsg(true))
		if h.IsActive("j") {
			t.Fatalf("active %v: took j on answers it gave before reading our DISCONNECT", ids(h.Active()))
		}
		return
	}
	t.Fatal("no seed made j the victim")
}

// A link only one end holds (here: a PeerDown that only we saw) is undone
// when the other end shuffles over it: only an active neighbour sends a
// SHUFFLE with TTL left, so we answer DISCONNECT. Probes (TTL 0) and
// shuffles from neighbours we hold get none.
func TestShuffleOverOneSidedLinkGetsDisconnect(t *testing.T) {
	cfg := testConfig()
	us := connected(t, cfg, "b", "c")
	them, err := New(membership.Node{ID: "b"}, cfg, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	step(t, them, "self", neighborMsg(nodeRec("self"), true))
	us.PeerDown(0, "b") // a write to b failed; b's side of the link is fine
	us.Ready()
	if us.IsActive("b") || !them.IsActive("self") {
		t.Fatalf("set-up: we hold %v, b holds %v", ids(us.Active()), ids(them.Active()))
	}
	them.Tick(them.nextShuffle)
	var shuffle *pb.Envelope
	for _, s := range them.Ready().Sends {
		if s.To == "self" && kind(s.Msg.(*pb.Envelope)) == "shuffle" {
			shuffle = s.Msg.(*pb.Envelope)
		}
	}
	if shuffle == nil {
		t.Fatal("b did not shuffle over its only link")
	}
	got := sent(step(t, us, "b", shuffle))
	if !has(got, "b:disconnect") {
		t.Fatalf("SHUFFLE over a link we do not hold: sends %v, want DISCONNECT to b", got)
	}
	if err := them.Step(0, "self", disconnectMsg()); err != nil {
		t.Fatal(err)
	}
	if them.IsActive("self") {
		t.Fatalf("b still holds us after our DISCONNECT: %v", ids(them.Active()))
	}
	if got := sent(step(t, us, "d", shuffleMsg(nodeRec("d"), 0, []*pb.Node{nodeRec("d")}, 0))); has(got, "d:disconnect") {
		t.Fatalf("a probe (TTL 0) got %v", got)
	}
	if got := sent(step(t, us, "c", shuffleMsg(nodeRec("c"), 3, []*pb.Node{nodeRec("c")}, 0))); has(got, "c:disconnect") {
		t.Fatalf("a shuffle from an active neighbour got %v", got)
	}
}

// A node with a free active slot among nodes that all refuse it (their
// active views are full) asks each known node at most once per
// ShuffleInterval: refused nodes that cycle through the full passive view
// and the reserve must not be asked again at once (a real 50-agent cluster
// spun at two thousand refused requests a second).
func TestRefusedNodesNotReaskedThroughReserve(t *testing.T) {
	cfg := testConfig() // ActiveSize 3, PassiveSize 4
	cfg.ReserveSize = 8
	h := connected(t, cfg, "a", "b")
	var recs []*pb.Node
	for i := range 10 {
		recs = append(recs, nodeRec("p"+string(rune('0'+i))))
	}
	step(t, h, "a", solicited(h, recs))
	asked := map[membership.NodeID]int{}
	// refuseAll answers every low-priority request at now with a refusal
	// and returns how many there were.
	refuseAll := func(now time.Duration) int {
		h.Tick(now)
		requests := 0
		for round := 0; round < 1000; round++ {
			progressed := false
			for _, s := range h.Ready().Sends {
				if kind(s.Msg.(*pb.Envelope)) != "neighbor-low" {
					continue
				}
				progressed = true
				requests++
				asked[s.To]++
				if err := h.Step(now, s.To, neighborReplyMsg(false)); err != nil {
					t.Fatal(err)
				}
			}
			if !progressed {
				break
			}
		}
		return requests
	}
	now := time.Second
	// ActiveSize refusals in a row, then a pause of a ShuffleInterval.
	if n := refuseAll(now); n != cfg.ActiveSize {
		t.Fatalf("first round: %d requests; want %d (then a pause)", n, cfg.ActiveSize)
	}
	if n := refuseAll(now + cfg.ShuffleInterval/2); n != 0 {
		t.Fatalf("%d requests during the pause", n)
	}
	for id, n := range asked {
		if n > 1 {
			t.Fatalf("%s asked %d times within one ShuffleInterval (asked: %v)", id, n, asked)
		}
	}
	// After it, another round; the next pause is twice as long.
	now += cfg.ShuffleInterval + time.Millisecond
	if n := refuseAll(now); n != cfg.ActiveSize {
		t.Fatalf("second round: %d requests; want %d", n, cfg.ActiveSize)
	}
	if n := refuseAll(now + cfg.ShuffleInterval + time.Millisecond); n != 0 {
		t.Fatalf("%d requests one ShuffleInterval into a doubled pause", n)
	}
	// A lost neighbour ends the back-off: its slot is asked for at once.
	h.PeerDown(now+cfg.ShuffleInterval+2*time.Millisecond, "a")
	if n := refuseAll(now + cfg.ShuffleInterval + 2*time.Millisecond); n == 0 {
		t.Fatal("no request after losing a neighbour during the back-off")
	}
}

// A SWIM verdict about an active neighbour drops it as a link failure does
// and tells it with DISCONNECT (a member declared dead by mistake must not
// keep a link we no longer hold); about a passive node it sends nothing.
func TestEvictDisconnectsActiveNeighbour(t *testing.T) {
	h := connected(t, testConfig(), "a", "b")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1")}))
	h.Evict(time.Second, "a")
	r := h.Ready()
	if !has(sent(r), "a:disconnect") {
		t.Fatalf("sends after Evict(a): %v; want a DISCONNECT to a", sent(r))
	}
	if h.IsActive("a") {
		t.Fatalf("a still active: %v", ids(h.Active()))
	}
	var down bool
	for _, ev := range r.Events {
		if nd, ok := ev.(membership.NeighborDown); ok && nd.Node.ID == "a" && nd.Failed {
			down = true
		}
	}
	if !down {
		t.Fatalf("no NeighborDown{a, Failed} in %v", r.Events)
	}
	h.Evict(time.Second, "p1")
	if r := h.Ready(); has(sent(r), "p1:disconnect") {
		t.Fatalf("DISCONNECT sent to a passive node: %v", sent(r))
	}
}

// solicited is a ShuffleReply that answers a shuffle h sent: its nonce is
// registered as outstanding (replies to nothing of h's are ignored).
func solicited(h *HyParView, nodes []*pb.Node) *pb.Envelope {
	v := uint64(len(h.nonces))<<1 | 1<<40 | 1
	h.nonces = append(h.nonces, nonce{v: v, at: 1 << 60}) // never expires in a test
	return shuffleReplyMsg(nodes, v)
}

// A ShuffleReply that answers no shuffle or probe of this node is ignored:
// one unsolicited reply of 64 nodes replaced the whole passive view (and
// a few more the reserve) with nodes of the sender's choosing.
func TestUnsolicitedShuffleReplyIsIgnored(t *testing.T) {
	h := connected(t, testConfig(), "a", "b")
	before := ids(h.Passive())
	step(t, h, "z", shuffleReplyMsg([]*pb.Node{nodeRec("evil1"), nodeRec("evil2")}, 12345))
	if got := ids(h.Passive()); len(got) != len(before) {
		t.Fatalf("passive view %v after an unsolicited reply, was %v", got, before)
	}
	if h.Stats().UnsolicitedReplies != 1 {
		t.Fatalf("UnsolicitedReplies = %d", h.Stats().UnsolicitedReplies)
	}
	// A reply to a shuffle h sent is taken, once.
	h.Tick(time.Hour) // a shuffle goes out
	if len(h.nonces) == 0 {
		t.Fatal("the shuffle registered no nonce")
	}
	v := h.nonces[len(h.nonces)-1].v
	step(t, h, "z", shuffleReplyMsg([]*pb.Node{nodeRec("n1")}, v))
	if !h.passive.has("n1") {
		t.Fatal("the reply to our own shuffle was not integrated")
	}
	step(t, h, "z", shuffleReplyMsg([]*pb.Node{nodeRec("n2")}, v))
	if h.passive.has("n2") {
		t.Fatal("a second reply with the same nonce was integrated")
	}
}
