package swim_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// dialRun ticks a core whose every ping is answered at once over a new or
// existing connection, and records each ping: its time and whether its
// target had been reached before.
type dialRun struct {
	a       *swim.Core
	reached map[membership.NodeID]bool
	pings   int
	firsts  []time.Duration
	firstTo []membership.NodeID
}

func newDialRun(t *testing.T, dialInterval time.Duration, seed uint64) *dialRun {
	t.Helper()
	cfg := swim.DefaultTestConfig()
	cfg.ConnectTimeout = 10 * time.Second
	cfg.DialInterval = dialInterval
	a := connCoreWith(t, cfg, rand.New(rand.NewPCG(seed, 7)))
	// connCoreWith's gossip came from b (over a connection since closed):
	// b alone was reached.
	return &dialRun{a: a, reached: map[membership.NodeID]bool{"b": true}}
}

func (r *dialRun) run(t *testing.T, to time.Duration) {
	t.Helper()
	for now := 10 * time.Millisecond; now <= to; now += 10 * time.Millisecond {
		r.a.Tick(now)
		for _, s := range r.a.Ready().Sends {
			p := s.Msg.(*pb.Envelope).GetPing()
			if p == nil {
				continue
			}
			r.pings++
			if !r.reached[s.To] {
				r.reached[s.To] = true
				r.firsts = append(r.firsts, now)
				r.firstTo = append(r.firstTo, s.To)
			}
			r.a.PeerUp(now, s.To)
			if err := r.a.Step(now, s.To, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: p.Seq}}}); err != nil {
				t.Fatal(err)
			}
		}
		r.a.Ready()
	}
}

// With DialInterval a node contacts members it never reached at most
// once per DialInterval (jitter: at least half of it apart), probes the
// members it reached in the periods between, so that it never idles,
// and still reaches every member in the end. A member whose connection
// closed (b) counts as reached. Without DialInterval (the control) the
// round-robin reaches the four unreached members in its first round.
func TestDialIntervalPacesFirstContacts(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		ctl := newDialRun(t, 0, seed)
		ctl.run(t, 6*time.Second)
		if len(ctl.firsts) != 4 {
			t.Fatalf("seed %d: control reached %v in 6 s; want c, d, e and f", seed, ctl.firstTo)
		}

		const every = 4 * time.Second
		r := newDialRun(t, every, seed)
		r.run(t, 40*time.Second)
		if len(r.firsts) != 4 {
			t.Fatalf("seed %d: first contacts %v at %v in 40 s; want c, d, e and f", seed, r.firstTo, r.firsts)
		}
		for i := 1; i < len(r.firsts); i++ {
			if gap := r.firsts[i] - r.firsts[i-1]; gap < every/2 {
				t.Fatalf("seed %d: first contacts at %v: %v apart; want at least %v", seed, r.firsts, gap, every/2)
			}
		}
		if r.pings < 38 {
			t.Fatalf("seed %d: %d probes in 40 s; want one a period", seed, r.pings)
		}
		if got := r.a.Stats().FirstContacts; got != 4 {
			t.Fatalf("seed %d: Stats.FirstContacts %d; want 4", seed, got)
		}
	}
}

// A suspect's final probe is not deferred by the dial budget, and a link
// counts as reached.
func TestDialIntervalLinksAndSuspects(t *testing.T) {
	cfg := swim.DefaultTestConfig()
	cfg.ConnectTimeout = 10 * time.Second
	cfg.DialInterval = time.Hour
	a := connCoreWith(t, cfg, rand.New(rand.NewPCG(9, 9)))
	a.LinkUp("c")
	seen := map[membership.NodeID]bool{}
	for now := 10 * time.Millisecond; now <= 10*time.Second; now += 10 * time.Millisecond {
		a.Tick(now)
		for _, s := range a.Ready().Sends {
			if p := s.Msg.(*pb.Envelope).GetPing(); p != nil {
				seen[s.To] = true
				a.PeerUp(now, s.To)
				if err := a.Step(now, s.To, &pb.Envelope{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: p.Seq}}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// One first contact is allowed at a random point of the first
	// DialInterval (an hour): b and c at least, and at most one other.
	if !seen["b"] || !seen["c"] || len(seen) > 3 {
		t.Fatalf("probed %v in 10 s; want b (reached), c (linked) and at most one first contact", seen)
	}
}

// A relay asked to ping a member it never reached, with its dial budget
// spent, nacks at once instead of dialing; a member it reached is pinged
// as usual.
func TestRelayDeclinesFirstContactWithoutBudget(t *testing.T) {
	cfg := swim.DefaultTestConfig()
	cfg.ConnectTimeout = 10 * time.Second
	cfg.DialInterval = time.Hour // the budget's first use lies somewhere in the first hour
	a := connCoreWith(t, cfg, rand.New(rand.NewPCG(11, 12)))
	a.PeerUp(0, "d")
	req := func(target string, seq uint64) (pings, nacks []membership.NodeID) {
		if err := a.Step(10*time.Millisecond, "b", &pb.Envelope{Body: &pb.Envelope_PingReq{PingReq: &pb.PingReq{Seq: seq, Target: target, Nack: true}}}); err != nil {
			t.Fatal(err)
		}
		for _, s := range a.Ready().Sends {
			env := s.Msg.(*pb.Envelope)
			if env.GetPing() != nil {
				pings = append(pings, s.To)
			}
			if n := env.GetNack(); n != nil && n.Seq == seq {
				nacks = append(nacks, s.To)
			}
		}
		return pings, nacks
	}
	if pings, nacks := req("c", 7); len(pings) != 0 || len(nacks) != 1 || nacks[0] != "b" {
		t.Fatalf("ping-req for c (never reached): pings %v, nacks %v; want no ping and a nack to b", pings, nacks)
	}
	if pings, nacks := req("d", 8); len(pings) != 1 || pings[0] != "d" || len(nacks) != 0 {
		t.Fatalf("ping-req for d (connected): pings %v, nacks %v; want a ping to d and no nack yet", pings, nacks)
	}
	if got := a.Stats().RelaysDeclined; got != 1 {
		t.Fatalf("RelaysDeclined %d; want 1", got)
	}
}
