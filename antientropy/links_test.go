package antientropy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// periodicPeers ticks c for d and returns the peer of each periodic
// session it started, in order (each session is forgotten at once, so
// MaxSessions never holds one back).
func periodicPeers(c *Core, d time.Duration) []NodeID { return periodicPeersFrom(c, 0, d) }

// periodicPeersFrom is periodicPeers from virtual time from to to.
func periodicPeersFrom(c *Core, from, to time.Duration) []NodeID {
	var got []NodeID
	for now := from; now < to; now += 100 * time.Millisecond {
		c.Tick(now)
		for p := range c.out {
			got = append(got, p)
			delete(c.out, p)
		}
	}
	return got
}

// coreOf40 is a core "self" with members n00..n39 and a seeded rng.
func coreOf40(t *testing.T, cfg Config, seed uint64) *Core {
	t.Helper()
	c, err := New(cfg, "self", NewMemStore(), rand.New(rand.NewPCG(seed, seed+1)))
	if err != nil {
		t.Fatal(err)
	}
	var ms []NodeID
	for i := range 40 {
		ms = append(ms, NodeID(fmt.Sprintf("n%02d", i)))
	}
	c.SetMembers(0, ms)
	return c
}

// With links, periodic sessions go to a random link, and every
// RandomSyncEvery-th one to a random member; a link that is not a member
// or went down is not picked. Without links, or with RandomSyncEvery 1,
// every session is with a random member (the control).
func TestPeriodicSessionsPreferLinks(t *testing.T) {
	newCore := func(every int) *Core {
		cfg := testConfig()
		cfg.RandomSyncEvery = every
		c := coreOf40(t, cfg, 7)
		c.LinkUp("n03")
		c.LinkUp("n17")
		c.LinkUp("n29")
		c.LinkUp("x-not-a-member")
		c.LinkDown("n29")
		return c
	}
	links := []NodeID{"n03", "n17"}
	linked := func(p NodeID) bool { return slices.Contains(links, p) }

	c := newCore(4)
	got := periodicPeers(c, 60*time.Second)
	if len(got) < 40 {
		t.Fatalf("%d periodic sessions in 60 s; want about one a second", len(got))
	}
	others := 0
	for i, p := range got {
		if (i+1)%4 != 0 && !linked(p) {
			t.Fatalf("session %d went to %s; want a link (%v): %v", i+1, p, links, got)
		}
		if !linked(p) {
			others++
		}
	}
	if others == 0 {
		t.Fatalf("no session with a member outside the links in %d: %v", len(got), got)
	}

	ctl := newCore(1)
	got = periodicPeers(ctl, 60*time.Second)
	inLinks := 0
	for _, p := range got {
		if linked(p) {
			inLinks++
		}
		if p == "x-not-a-member" {
			t.Fatalf("session with a link that is no member")
		}
	}
	if inLinks > len(got)/4 {
		t.Fatalf("RandomSyncEvery 1: %d of %d sessions with the 2 links among 40 members; want random", inLinks, len(got))
	}
}

// With LinkedSyncs and no link that is a member, only every
// RandomSyncEvery-th periodic session runs (with a random member): a node
// whose overlay has not joined yet does not dial a random member every
// second. Once a link comes up the sessions go to it as before; without
// LinkedSyncs every session goes to a random member (the control).
func TestLinkedSyncsWaitForALink(t *testing.T) {
	run := func(linked bool) (*Core, []NodeID) {
		cfg := testConfig()
		cfg.RandomSyncEvery = 4
		cfg.LinkedSyncs = linked
		c := coreOf40(t, cfg, 9)
		c.LinkUp("x-not-a-member") // a link that is no member does not count
		return c, periodicPeers(c, 60*time.Second)
	}
	_, all := run(false)
	_, few := run(true)
	if len(all) < 40 {
		t.Fatalf("control: %d sessions in 60 s; want about one a second", len(all))
	}
	if len(few) == 0 || 4*len(few) > len(all)+8 {
		t.Fatalf("LinkedSyncs without a link: %d sessions in 60 s; want about a quarter of the control's %d", len(few), len(all))
	}
	c, _ := run(true)
	c.LinkUp("n05")
	got := periodicPeersFrom(c, 60*time.Second, 90*time.Second)
	onLink := 0
	for _, p := range got {
		if p == "n05" {
			onLink++
		}
	}
	if len(got) < 20 || onLink < len(got)/2 {
		t.Fatalf("with a link: %d sessions, %d to it: %v", len(got), onLink, got)
	}
}
