package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testAgents starts n in-process agents on 127.0.0.1 with the given
// broadcast protocol; agents after the first join through it.
func testAgents(t *testing.T, n int, broadcast string, onDeliver func(i int, d Delivery)) []*Agent {
	t.Helper()
	dir := t.TempDir()
	agents := make([]*Agent, n)
	for i := range agents {
		cfg := localConfig(filepath.Join(dir, fmt.Sprint(i)))
		cfg.Broadcast = broadcast
		cfg.OnDeliver = func(d Delivery) { onDeliver(i, d) }
		if i > 0 && broadcast == BroadcastPlumtree {
			cfg.Join = agents[0].Addrs()[:1]
		}
		agents[i] = runAgent(t, cfg)
	}
	if broadcast == BroadcastGossipSub {
		for i, a := range agents {
			for _, b := range agents[i+1:] {
				if err := a.Host().Connect(context.Background(), b.Host().Peerstore().PeerInfo(b.ID())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return agents
}

// runAgent starts an agent from cfg (memory datastore) until the test ends.
func runAgent(t *testing.T, cfg Config) *Agent {
	t.Helper()
	cfg.Datastore = DatastoreMemory
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Run(ctx); err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return a
}

// waitUntil polls cond every 20 ms until it holds or the deadline passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(limit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}

func TestBroadcastReachesEveryAgentOnce(t *testing.T) {
	for _, proto := range []string{BroadcastPlumtree, BroadcastGossipSub} {
		t.Run(proto, func(t *testing.T) {
			const n, msgs = 6, 10
			var mu sync.Mutex
			got := map[string]int{} // "node/payload" -> deliveries
			agents := testAgents(t, n, proto, func(i int, d Delivery) {
				mu.Lock()
				got[fmt.Sprintf("%d/%s", i, d.Payload)]++
				mu.Unlock()
			})
			ctx := context.Background()
			waitUntil(t, 10*time.Second, "every agent to have a broadcast neighbour (a GossipSub mesh peer)", func() bool {
				for _, a := range agents {
					if proto == BroadcastGossipSub {
						if a.GossipSubMesh() == 0 {
							return false
						}
						continue
					}
					p, err := a.Peers(ctx)
					if err != nil || len(p.Active) == 0 {
						return false
					}
				}
				return true
			})
			for k := 0; k < msgs; k++ {
				if err := agents[k%n].Publish(ctx, []byte(fmt.Sprintf("m%d", k))); err != nil {
					t.Fatal(err)
				}
			}
			waitUntil(t, 15*time.Second, "every message at every agent", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) == n*msgs
			})
			mu.Lock()
			defer mu.Unlock()
			for key, c := range got {
				if c != 1 {
					t.Errorf("%s delivered %d times, want once", key, c)
				}
			}
		})
	}
}

// localConfig is an agent's configuration on 127.0.0.1 with an ephemeral
// port, no RPC endpoint, a quiet log and its data under dir.
func localConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.RPCListen = ""
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// restartIDs builds an agent from cfg, closes it, builds it again from
// the same cfg and returns the peer IDs of the two.
func restartIDs(t *testing.T, cfg Config) (before, after peer.ID) {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before = a.ID()
	a.closeNet()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.closeNet()
	return before, b.ID()
}

func TestIdentityPersistsAcrossRestart(t *testing.T) {
	if id, again := restartIDs(t, localConfig(t.TempDir())); again != id {
		t.Fatalf("peer ID changed across restart: %s then %s", id, again)
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Broadcast = "carrier-pigeon"
	if err := cfg.Validate(); err == nil || !contains(err.Error(), "Broadcast") {
		t.Fatalf("bad Broadcast: got %v, want an error naming Broadcast", err)
	}
	cfg = DefaultConfig()
	cfg.Join = []string{"/ip4/127.0.0.1/tcp/1"}
	if err := cfg.Validate(); err == nil || !contains(err.Error(), "Join") {
		t.Fatalf("join without /p2p/: got %v, want an error naming Join", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestMembersSeeEachOtherThenDetectACrash(t *testing.T) {
	const n = 5
	dir := t.TempDir()
	agents := make([]*Agent, n)
	cancels := make([]context.CancelFunc, n)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	for i := range agents {
		cfg := localConfig(filepath.Join(dir, fmt.Sprint(i)))
		cfg.Swim = swim.DefaultLocalConfig()
		if i > 0 {
			cfg.Join = agents[0].Addrs()[:1]
		}
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = a
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		t.Cleanup(cancel)
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	states := func(a *Agent) map[string]string {
		ms, err := a.Members(context.Background())
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, m := range ms {
			out[m.ID] = m.State
		}
		return out
	}
	waitUntil(t, 20*time.Second, "every agent to see all 5 alive", func() bool {
		for _, a := range agents {
			st := states(a)
			alive := 0
			for _, s := range st {
				if s == "alive" {
					alive++
				}
			}
			if alive != n {
				return false
			}
		}
		return true
	})
	// Crash agent 4: close its network under it, with no goodbye.
	victim := agents[4].ID().String()
	agents[4].closeNet()
	waitUntil(t, 30*time.Second, "the others to declare the crashed agent dead", func() bool {
		for _, a := range agents[:4] {
			if states(a)[victim] != "dead" {
				return false
			}
		}
		return true
	})
	// A graceful stop is seen as "left", not "dead".
	leaver := agents[3].ID().String()
	cancels[3]()
	waitUntil(t, 20*time.Second, "the others to see the leaver as left", func() bool {
		for _, a := range agents[:3] {
			if states(a)[leaver] != "left" {
				return false
			}
		}
		return true
	})
}

// TestDurableDatastoresKeepWritesAcrossRestart writes through the agent,
// closes it, and opens it again on the same data directory, for each
// durable datastore.
func TestDurableDatastoresKeepWritesAcrossRestart(t *testing.T) {
	for _, kind := range []string{DatastorePebble, DatastoreLevelDB} {
		t.Run(kind, func(t *testing.T) {
			cfg := localConfig(t.TempDir())
			cfg.Datastore = kind
			run := func(f func(a *Agent)) {
				a, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { a.Run(ctx); close(done) }()
				f(a)
				cancel()
				<-done
			}
			ctx := context.Background()
			run(func(a *Agent) {
				if _, err := a.Put(ctx, "k", "v"); err != nil {
					t.Fatal(err)
				}
				if _, err := a.Inc(ctx, "n", 7); err != nil {
					t.Fatal(err)
				}
			})
			run(func(a *Agent) {
				v, err := a.Get(ctx, "k")
				if err != nil || v.Str != "v" {
					t.Fatalf("k after restart: %+v %v", v, err)
				}
				n, err := a.Get(ctx, "n")
				if err != nil || n.Int != 7 {
					t.Fatalf("n after restart: %+v %v", n, err)
				}
			})
		})
	}
}

// JoinPeer (the mesh_join RPC) joins SWIM as well as the overlay, as --join
// does at start-up: both members then list each other alive.
func TestJoinPeerJoinsSWIM(t *testing.T) {
	agents := testAgents(t, 2, BroadcastGossipSub, func(int, Delivery) {})
	ctx := context.Background()
	if err := agents[1].JoinPeer(ctx, agents[0].Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	sees := func(a *Agent, id string) bool {
		ms, err := a.Members(ctx)
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.ID == id && m.State == "alive" {
				return true
			}
		}
		return false
	}
	waitUntil(t, 20*time.Second, "both SWIM members alive at each other", func() bool {
		return sees(agents[0], agents[1].ID().String()) && sees(agents[1], agents[0].ID().String())
	})
}

// A command given up by its caller (ctx ended while it waited in the
// loop's queue) never runs: a Put that returned "context canceled" must
// not be applied afterwards (it was, and read results were written after
// Do returned: a data race).
func TestDoGivenUpNeverRuns(t *testing.T) {
	a := testAgents(t, 1, BroadcastPlumtree, func(int, Delivery) {})[0]
	bg := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	go a.Do(bg, func(time.Duration) { close(started); <-release })
	<-started // the loop is busy
	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error, 1)
	go func() { _, err := a.Put(ctx, "k", "v"); errc <- err }()
	waitUntil(t, 5*time.Second, "the Put queued behind the busy loop", func() bool { return len(a.cmds) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
	close(release)
	if v, err := a.Get(bg, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the given-up Put was applied: %+v %v", v, err)
	}
}

// With the memory datastore a restart is a new replica, so it comes back
// under a new peer ID (and writes no identity file): under its old one it
// issued its dots again from 1, its peers already held those dots and
// never asked for the new writes, and the two sides stayed apart.
func TestMemoryDatastoreRestartsUnderANewID(t *testing.T) {
	dir := t.TempDir()
	cfg := localConfig(dir)
	cfg.Datastore = DatastoreMemory
	if id, again := restartIDs(t, cfg); again == id {
		t.Fatalf("a memory-datastore agent kept its peer ID %s across a restart", id)
	}
	if _, err := os.Stat(filepath.Join(dir, transport.IdentityFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a memory-datastore agent wrote an identity file: %v", err)
	}
}

// Joining through the node's own address is refused with a clear error
// (it went to HyParView and SWIM as a contact, as --join at start-up
// already refuses).
func TestJoinPeerRefusesOwnAddress(t *testing.T) {
	a := testAgents(t, 1, BroadcastPlumtree, func(int, Delivery) {})[0]
	if err := a.JoinPeer(context.Background(), a.Addrs()[0]); err == nil || !contains(err.Error(), "own address") {
		t.Fatalf("JoinPeer(own address): %v", err)
	}
}

// After Leave, JoinPeer refuses with a clear error instead of answering
// true while SWIM stays left (peers held the node left for good).
func TestJoinPeerAfterLeaveIsRefused(t *testing.T) {
	agents := testAgents(t, 2, BroadcastPlumtree, func(int, Delivery) {})
	ctx := context.Background()
	if err := agents[1].Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agents[1].JoinPeer(ctx, agents[0].Addrs()[0]); err == nil || !contains(err.Error(), "left") {
		t.Fatalf("JoinPeer after Leave: %v", err)
	}
}
