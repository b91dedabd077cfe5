package swim_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

func newCore(t *testing.T, id string) *swim.Core {
	t.Helper()
	c, err := swim.New(membership.Node{ID: membership.NodeID(id)}, swim.DefaultTestConfig(), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigPresetsValidAndBadFieldNamed(t *testing.T) {
	for name, c := range map[string]swim.Config{"lan": swim.DefaultLANConfig(), "local": swim.DefaultLocalConfig(), "test": swim.DefaultTestConfig()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := swim.DefaultLANConfig()
	c.ProbeTimeout = 2 * time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ProbeTimeout") {
		t.Fatalf("want ProbeTimeout named, got %v", err)
	}
	c = swim.DefaultLANConfig()
	c.Detector = "magic"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Detector") {
		t.Fatalf("want Detector named, got %v", err)
	}
}

// Lifeguard: "the timeout starts at max and shrinks logarithmically with
// each confirmation down to min after k".
func TestSuspicionTimeoutShrinks(t *testing.T) {
	min, max := 2*time.Second, 12*time.Second
	if got := swim.SuspicionTimeout(0, 3, min, max); got != max {
		t.Fatalf("n=0: %v, want max", got)
	}
	if got := swim.SuspicionTimeout(3, 3, min, max); got != min {
		t.Fatalf("n=k: %v, want min", got)
	}
	prev := max + 1
	for n := 0; n <= 5; n++ {
		got := swim.SuspicionTimeout(n, 3, min, max)
		if got > prev || got < min {
			t.Fatalf("n=%d: %v after %v", n, got, prev)
		}
		prev = got
	}
	if got := swim.SuspicionMin(1.5, 50, time.Second, 0); got < 2540*time.Millisecond || got > 2560*time.Millisecond {
		t.Fatalf("min at n=50: %v", got)
	}
}

func TestPhiGrowsWithWait(t *testing.T) {
	mean, std := 30*time.Millisecond, 10*time.Millisecond
	if p := swim.Phi(mean, mean, std); p < 0.29 || p > 0.31 {
		t.Fatalf("phi at the mean = %v, want log10(2)", p)
	}
	if a, b := swim.Phi(60*time.Millisecond, mean, std), swim.Phi(90*time.Millisecond, mean, std); !(b > a && a > 2) {
		t.Fatalf("phi not increasing: %v %v", a, b)
	}
}

func ack(seq uint64) *pb.Envelope {
	return &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: seq}}}
}

func TestJoinPingAck(t *testing.T) {
	a, b := newCore(t, "a"), newCore(t, "b")
	if err := a.Join(0, membership.Node{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	r := a.Ready()
	if len(r.Sends) != 1 || r.Sends[0].To != "b" {
		t.Fatalf("join sends %v", r.Sends)
	}
	if err := b.Step(time.Millisecond, "a", r.Sends[0].Msg); err != nil {
		t.Fatal(err)
	}
	rb := b.Ready()
	if len(rb.Events) != 1 || rb.Events[0].(membership.MemberEvent).Change != membership.MemberJoined {
		t.Fatalf("b events %v", rb.Events)
	}
	if err := a.Step(2*time.Millisecond, "b", rb.Sends[0].Msg); err != nil {
		t.Fatal(err)
	}
	if m, ok := a.Member("b"); !ok || m.State != membership.StateAlive {
		t.Fatalf("a's view of b: %+v", m)
	}
	// Run a's ticks until it pings b, and answer.
	var ping *pb.Ping
	var to membership.NodeID
	for now := 10 * time.Millisecond; ping == nil && now < 3*time.Second; now += 50 * time.Millisecond {
		a.Tick(now)
		for _, s := range a.Ready().Sends {
			if p := s.Msg.(*pb.Envelope).GetPing(); p != nil {
				ping, to = p, s.To
			}
		}
	}
	// The target is the receiver: the ping does not repeat its ID.
	if ping == nil || to != "b" || ping.Target != "" {
		t.Fatalf("no ping to b: %v to %q", ping, to)
	}
	if err := a.Step(3*time.Second, "b", ack(ping.Seq)); err != nil {
		t.Fatal(err)
	}
	if a.LocalHealth() != 0 || a.Stats().Probes == 0 {
		t.Fatalf("health %d stats %+v", a.LocalHealth(), a.Stats())
	}
}

// SWIM §4.2 and Lifeguard's buddy system: "a suspected member refutes by
// raising its incarnation", and a ping carrying the suspicion makes it do
// so at once, answering with the new record on the ack.
func TestBuddyPingRefutes(t *testing.T) {
	b := newCore(t, "b")
	inc := b.Incarnation()
	ping := &pb.Envelope{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 7, Target: "b", SuspectIncarnation: inc}}}
	if err := b.Step(0, "a", ping); err != nil {
		t.Fatal(err)
	}
	if b.Incarnation() != inc+1 || b.Stats().Refutations != 1 || b.LocalHealth() != 1 {
		t.Fatalf("inc %d refutations %d lhm %d", b.Incarnation(), b.Stats().Refutations, b.LocalHealth())
	}
	r := b.Ready()
	env := r.Sends[0].Msg.(*pb.Envelope)
	if env.GetAck().GetSeq() != 7 || len(env.Updates) == 0 || env.Updates[0].Incarnation != inc+1 || env.Updates[0].State != pb.State_STATE_ALIVE {
		t.Fatalf("ack %v", env)
	}
}

func TestSuspectAboutSelfRefutesDeadAboutOtherFails(t *testing.T) {
	a := newCore(t, "a")
	alive := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: []*pb.Member{
		{Id: "c", Incarnation: 3, State: pb.State_STATE_ALIVE},
		{Id: "a", Incarnation: 1, State: pb.State_STATE_SUSPECT, From: "c"},
	}}
	if err := a.Step(0, "c", alive); err != nil {
		t.Fatal(err)
	}
	if a.Incarnation() != 2 {
		t.Fatalf("did not refute: inc %d", a.Incarnation())
	}
	dead := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: []*pb.Member{{Id: "c", Incarnation: 2, State: pb.State_STATE_DEAD, From: "x"}}}
	_ = a.Step(time.Second, "x", dead)
	if m, _ := a.Member("c"); m.State != membership.StateAlive {
		t.Fatalf("stale death (inc 2 < 3) applied: %v", m.State)
	}
	dead.Updates[0].Incarnation = 3
	_ = a.Step(time.Second, "x", dead)
	if m, _ := a.Member("c"); m.State != membership.StateDead {
		t.Fatalf("death at current inc not applied: %v", m.State)
	}
	var changes []membership.MemberChange
	for _, e := range a.Ready().Events {
		changes = append(changes, e.(membership.MemberEvent).Change)
	}
	if len(changes) != 2 || changes[0] != membership.MemberJoined || changes[1] != membership.MemberFailed {
		t.Fatalf("events %v", changes)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	a := newCore(t, "a")
	bad := []*pb.Envelope{
		{},
		{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 1, Target: "someone-else"}}},
		{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 0, Target: "a"}}},
		{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: []*pb.Member{{Id: "c", Incarnation: 1, State: pb.State_STATE_ALIVE}, {Id: "d", Incarnation: 0, State: pb.State_STATE_ALIVE}}},
		{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: []*pb.Member{{Id: "c", Incarnation: 1, State: 9}}},
		{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Updates: []*pb.Member{{Id: "c", Incarnation: 1, State: pb.State_STATE_ALIVE, Meta: []*pb.Meta{{Key: "k", Value: strings.Repeat("x", 600)}}}}},
		{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "g", Members: []string{"b", "a"}}}},
		{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: 42, Group: "g"}}},
	}
	for i, env := range bad {
		if err := a.Step(0, "b", env); err == nil {
			t.Errorf("case %d accepted: %v", i, env)
		}
	}
	if len(a.Members()) != 1 || !a.Ready().Empty() || a.Incarnation() != 1 {
		t.Fatalf("bad input changed state: %v", a.Members())
	}
	if err := a.Step(0, "a", ack(1)); err == nil {
		t.Fatal("message from self accepted")
	}
}

func TestSetMetaBounded(t *testing.T) {
	a := newCore(t, "a")
	if err := a.SetMeta(0, map[string]string{"k": strings.Repeat("x", 1000)}); err == nil {
		t.Fatal("oversized meta accepted")
	}
	if err := a.SetMeta(0, map[string]string{"name": "a"}); err != nil || a.Incarnation() != 2 {
		t.Fatalf("SetMeta: %v inc %d", err, a.Incarnation())
	}
}

// A join whose contact does not answer is retried with growing intervals
// and never given up; the first full-state reply ends it.
func TestJoinRetriedUntilAnswered(t *testing.T) {
	a := newCore(t, "a")
	if err := a.Join(0, membership.Node{ID: "b"}); err != nil {
		t.Fatal(err)
	}
	a.Ready()
	joinsTo := func(r membership.Ready) (n int, last *pb.PushPull) {
		for _, s := range r.Sends {
			if p := s.Msg.(*pb.Envelope).GetPushPull(); p != nil && p.Join && !p.Reply {
				n, last = n+1, p
			}
		}
		return n, last
	}
	var at []time.Duration
	step := 50 * time.Millisecond
	now := time.Duration(0)
	for ; now < 120*time.Second; now += step {
		a.Tick(now)
		if n, _ := joinsTo(a.Ready()); n > 0 {
			at = append(at, now)
		}
	}
	if len(at) < 8 {
		t.Fatalf("%d join retries in 120 s (at %v); want at least 8: a join is never given up", len(at), at)
	}
	for i := 2; i < len(at); i++ {
		if at[i]-at[i-1] < at[i-1]-at[i-2]-step {
			t.Fatalf("join retry intervals shrink: %v", at)
		}
	}
	// b answers the next retry: no join push-pull after that.
	b := newCore(t, "b")
	for ; ; now += step {
		a.Tick(now)
		r := a.Ready()
		if n, _ := joinsTo(r); n == 0 {
			continue
		}
		for _, s := range r.Sends {
			if err := b.Step(now, "a", s.Msg); err != nil {
				t.Fatal(err)
			}
		}
		break
	}
	for _, s := range b.Ready().Sends {
		if s.To == "a" {
			if err := a.Step(now+step, "b", s.Msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.Ready()
	for end := now + 60*time.Second; now < end; now += step {
		a.Tick(now)
		if n, _ := joinsTo(a.Ready()); n > 0 {
			t.Fatalf("join push-pull at %v after the reply", now)
		}
	}
}

// With ConnectTimeout, a join retry is not sent while the last join
// push-pull to the same member still waits for its connection: the
// contact would answer every copy with its whole table once connected.
// The retry goes out once the connection is up (the push-pull went out
// and is late), or after a PeerDown (it was lost), or after ConnectTimeout.
func TestJoinRetryHeldWhileConnecting(t *testing.T) {
	joins := func(c *swim.Core) int {
		n := 0
		for _, s := range c.Ready().Sends {
			if p := s.Msg.(*pb.Envelope).GetPushPull(); p != nil && p.Join && !p.Reply {
				n++
			}
		}
		return n
	}
	cfg := swim.DefaultTestConfig()
	cfg.ConnectTimeout = 10 * cfg.JoinRetry
	run := func(name string, at func(c *swim.Core, now time.Duration)) (sent []time.Duration, held uint64) {
		c, err := swim.New(membership.Node{ID: membership.NodeID(name)}, cfg, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Join(0, membership.Node{ID: "seed"}); err != nil {
			t.Fatal(err)
		}
		if joins(c) != 1 {
			t.Fatal("no join push-pull")
		}
		step := cfg.TickInterval
		for now := step; now <= 40*cfg.JoinRetry; now += step {
			at(c, now)
			c.Tick(now)
			if joins(c) > 0 {
				sent = append(sent, now)
			}
		}
		return sent, c.Stats().JoinRetriesHeld
	}
	// No connection ever reported: held until ConnectTimeout, then sent.
	sent, held := run("a", func(*swim.Core, time.Duration) {})
	if held == 0 || len(sent) == 0 || sent[0] < cfg.ConnectTimeout {
		t.Fatalf("no connection: retries at %v, %d held; want the first at or after ConnectTimeout %v", sent, held, cfg.ConnectTimeout)
	}
	// The connection comes up at 2 JoinRetry: the next retry goes out.
	up := 2 * cfg.JoinRetry
	sent, _ = run("b", func(c *swim.Core, now time.Duration) {
		if now == up {
			c.PeerUp(now, "seed")
		}
	})
	if len(sent) == 0 || sent[0] < up || sent[0] > up+8*cfg.JoinRetry {
		t.Fatalf("connected at %v: retries at %v; want one soon after", up, sent)
	}
	// The dial is refused at 2 JoinRetry: the next retry goes out.
	sent, _ = run("c", func(c *swim.Core, now time.Duration) {
		if now == up {
			c.PeerDown(now, "seed")
		}
	})
	if len(sent) == 0 || sent[0] < up || sent[0] > up+8*cfg.JoinRetry {
		t.Fatalf("refused at %v: retries at %v; want one soon after", up, sent)
	}
}
