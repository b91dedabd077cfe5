package agent

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func joinsSent(t *testing.T, a *Agent) uint64 {
	t.Helper()
	s, err := a.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.HyParView.JoinsSent
}

// The overlay's join waits for SWIM's reply, and then goes out (through
// the only member there is, the contact) long before OverlayJoinWait.
func TestOverlayJoinWaitsForSWIMReply(t *testing.T) {
	dir := t.TempDir()
	seed := runAgent(t, localConfig(filepath.Join(dir, "seed")))
	cfg := localConfig(filepath.Join(dir, "joiner"))
	cfg.OverlayJoinWait = time.Hour
	j := runAgent(t, cfg)
	if err := j.JoinPeer(context.Background(), seed.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if n := joinsSent(t, j); n != 0 {
		t.Fatalf("HyParView sent %d JOINs before SWIM's join was answered", n)
	}
	waitUntil(t, 20*time.Second, "the joiner's overlay link to the seed, after SWIM's reply", func() bool {
		p, err := j.Peers(context.Background())
		return err == nil && len(p.Active) == 1 && p.Active[0].ID == seed.ID().String()
	})
	if n := joinsSent(t, j); n != 1 {
		t.Fatalf("HyParView sent %d JOINs, want 1", n)
	}
}

// A contact that never answers SWIM still gets the overlay's JOIN once
// OverlayJoinWait has passed (SWIM knows no other member), and with
// OverlayJoinWait 0 it gets it at once, as before.
func TestOverlayJoinFallsBackToTheContact(t *testing.T) {
	nobody := "/ip4/127.0.0.1/tcp/1/p2p/" + newPeerID(t).String() // nothing listens on port 1
	dir := t.TempDir()
	for _, wait := range []time.Duration{0, 2 * time.Second} {
		cfg := localConfig(filepath.Join(dir, wait.String()))
		cfg.OverlayJoinWait = wait
		j := runAgent(t, cfg)
		if err := j.JoinPeer(context.Background(), nobody); err != nil {
			t.Fatal(err)
		}
		n := joinsSent(t, j)
		if wait == 0 && n != 1 {
			t.Fatalf("OverlayJoinWait 0: %d JOINs right after the join, want 1", n)
		}
		if wait > 0 && n != 0 {
			t.Fatalf("OverlayJoinWait %v: %d JOINs before the wait ran out", wait, n)
		}
		waitUntil(t, 10*time.Second, "the overlay's JOIN to the contact", func() bool { return joinsSent(t, j) >= 1 })
	}
}

// A node whose HyParView lost every neighbour and every backup at once
// (here: evicted by hand, with no failed-node memory to probe and no join
// contact, as the seed has none) finds the overlay again through the
// members SWIM holds alive, a JoinTimeout (5 s) later. Without the refill
// it waits for a peer to ask it, which the peers, told DISCONNECT, put off
// for a whole shuffle cycle (an hour here).
func TestBareNodeRelinksThroughSWIMMembers(t *testing.T) {
	dir := t.TempDir()
	cfg := localConfig(filepath.Join(dir, "seed"))
	cfg.HyParView.FailedSize = 0
	cfg.HyParView.ShuffleInterval = time.Hour
	seed := runAgent(t, cfg)
	for _, name := range []string{"b", "c"} {
		c := localConfig(filepath.Join(dir, name))
		c.HyParView.ShuffleInterval = time.Hour
		c.Join = seed.Addrs()[:1]
		runAgent(t, c)
	}
	active := func() int {
		p, err := seed.Peers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Active)
	}
	waitUntil(t, 20*time.Second, "the seed's links to both joiners", func() bool { return active() == 2 })
	var passive, failed int
	err := seed.Do(context.Background(), func(now time.Duration) {
		for _, n := range seed.hv.Active() {
			seed.hv.Evict(now, n.ID)
		}
		passive, failed = seed.hv.PassiveLen(), len(seed.hv.Failed())
	})
	if err != nil {
		t.Fatal(err)
	}
	if passive != 0 || failed != 0 {
		t.Fatalf("after evicting its neighbours the seed still knows %d passive and %d failed nodes; the test needs none", passive, failed)
	}
	waitUntil(t, 15*time.Second, "the bare seed's links back to both joiners", func() bool { return active() == 2 })
}
