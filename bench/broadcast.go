package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/hearsay-mesh/hearsay/plumtree"
)

// BroadcastConfig sets up `hearsay bench broadcast`.
type BroadcastConfig struct {
	Nodes     int           // agents per protocol
	Protocols []string      // "plumtree", "gossipsub"
	Messages  int           // measured messages
	Warmup    int           // messages sent first and not measured (trees and meshes form)
	Size      int           // payload bytes
	Rate      float64       // messages per second, from random senders
	Dial      int           // GossipSub: random peers each host dials
	Settle    time.Duration // how long to wait for stragglers after the last send
	// OverlayFull bounds how long plumtree's run waits, once the overlay
	// is connected, for every node's active view to be full before the
	// first message (0: start once connected). HyParView keeps changing
	// links until then, and each change costs GRAFTs.
	OverlayFull time.Duration
	Seed        uint64 // choice of senders and GossipSub dials
	Plumtree    plumtree.Config
	// FixedTicks is agent.Config's: SWIM and anti-entropy ticked every
	// TickInterval instead of at their deadlines.
	FixedTicks bool
	// ClosedLoop publishes the measured messages one after another, each
	// stamped when its Publish starts, as the bench did before 2026-12-08:
	// a sender whose loop is busy delays every later message, and the
	// delay is in no latency (coordinated omission). Default (false): each
	// message is stamped with its scheduled time and published then, in a
	// goroutine of its own, so a busy sender's wait is in that message's
	// latency and the offered rate is the one asked for.
	ClosedLoop bool
	Log        *slog.Logger
}

// maxPublishing bounds the publishes in flight at once (open loop): past
// it the schedule slips, and the run's worst publish lag says by how much.
const maxPublishing = 4096

// DefaultBroadcastConfig is the comparison: 50 hosts, 200 messages
// of 1 KB at 20 per second.
func DefaultBroadcastConfig() BroadcastConfig {
	return BroadcastConfig{Nodes: 50, Protocols: []string{agent.BroadcastPlumtree, agent.BroadcastGossipSub},
		Messages: 200, Warmup: 50, Size: 1024, Rate: 20, Dial: 8, Settle: 10 * time.Second, OverlayFull: 20 * time.Second, Seed: 1,
		Plumtree: plumtree.DefaultConfig()}
}

// Validate names the first bad field.
func (c BroadcastConfig) Validate() error {
	switch {
	case c.Nodes < 2:
		return fmt.Errorf("bench: Nodes = %d; want >= 2", c.Nodes)
	case c.OverlayFull < 0:
		return fmt.Errorf("bench: OverlayFull = %v; want >= 0", c.OverlayFull)
	case c.Messages < 1:
		return fmt.Errorf("bench: Messages = %d; want >= 1", c.Messages)
	case c.Warmup < 0:
		return fmt.Errorf("bench: Warmup = %d; want >= 0", c.Warmup)
	case c.Size < payloadHeader || c.Size > 512<<10:
		return fmt.Errorf("bench: Size = %d; want %d..%d bytes", c.Size, payloadHeader, 512<<10)
	case c.Rate <= 0:
		return fmt.Errorf("bench: Rate = %v; want > 0 messages per second", c.Rate)
	case c.Dial < 1 || c.Dial >= c.Nodes:
		return fmt.Errorf("bench: Dial = %d; want 1..Nodes-1", c.Dial)
	case len(c.Protocols) == 0:
		return fmt.Errorf("bench: Protocols is empty")
	}
	if err := c.Plumtree.Validate(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, p := range c.Protocols {
		if p != agent.BroadcastPlumtree && p != agent.BroadcastGossipSub {
			return fmt.Errorf("bench: protocol %q; want plumtree or gossipsub", p)
		}
	}
	return nil
}

// protoRun is one protocol's measurements.
type protoRun struct {
	name        string
	res         result
	payloadsIn  uint64 // payload messages received by all nodes
	control     uint64 // control messages sent by all nodes
	bytes       uint64 // bytes sent on the broadcast protocol's streams
	otherBytes  uint64 // bytes on every other protocol (overlay, identify...)
	drops       uint64 // messages dropped by a full queue
	peakHeap    uint64
	wall        time.Duration
	sendLagMax  time.Duration
	setupTook   time.Duration
	notFinished bool
	tree        treeCounts      // plumtree only: what the missing-message path did
	missing     string          // the undelivered (message, node) pairs, when notFinished
	repaired    []time.Duration // latencies of the deliveries by GRAFT (plumtree), sorted
	// fullViews nodes had a full active view after fullTook (plumtree,
	// BroadcastConfig.OverlayFull).
	fullViews int
	fullTook  time.Duration
}

// treeCounts are plumtree counters summed over all nodes, for the note under
// the table that says how many deliveries took the IHAVE -> GRAFT path.
type treeCounts struct {
	grafts, graftMisses, optimizations, stalls, gaveUp, prunes, transportDrops, lazyDropped, lagSamples, catchUps uint64
	// The overlay under the tree (HyParView): links made and lost, and
	// one-sided links undone.
	neighborUps, neighborDowns, oneSidedUndone uint64
	// Why links were lost: evicted for room, or failed (PeerDown from the
	// transport or SWIM).
	evictions, failures, splices uint64
	// SWIM beside it: failed probes, suspicions, deaths and stalled ticks.
	probeFailures, suspicions, deaths, swimStalls uint64
}

func (t treeCounts) minus(o treeCounts) treeCounts {
	return treeCounts{t.grafts - o.grafts, t.graftMisses - o.graftMisses, t.optimizations - o.optimizations,
		t.stalls - o.stalls, t.gaveUp - o.gaveUp, t.prunes - o.prunes, t.transportDrops - o.transportDrops, t.lazyDropped - o.lazyDropped,
		t.lagSamples - o.lagSamples, t.catchUps - o.catchUps, t.neighborUps - o.neighborUps, t.neighborDowns - o.neighborDowns, t.oneSidedUndone - o.oneSidedUndone,
		t.evictions - o.evictions, t.failures - o.failures, t.splices - o.splices,
		t.probeFailures - o.probeFailures, t.suspicions - o.suspicions, t.deaths - o.deaths, t.swimStalls - o.swimStalls}
}

// Broadcast runs the comparison and returns its table.
func Broadcast(ctx context.Context, cfg BroadcastConfig, progress exp.Progress) ([]*exp.Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var runs []*protoRun
	for _, p := range cfg.Protocols {
		r, err := runBroadcast(ctx, cfg, p, progress)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		runs = append(runs, r)
	}
	t := &exp.Table{
		Title: fmt.Sprintf("broadcast: %d hosts on 127.0.0.1, %d messages of %d B from random senders at %.0f/s (after %d warm-up messages)",
			cfg.Nodes, cfg.Messages, cfg.Size, cfg.Rate, cfg.Warmup),
		Columns: []string{"protocol", "reliability", "RMR", "control/delivery", "bytes/delivery", "p50 ms", "p99 ms", "max ms", "dup deliveries", "queue drops", "peak heap MB"},
	}
	for _, r := range runs {
		recv := r.res.delivered - cfg.Messages // deliveries at non-origin nodes
		rmr, ctl, bpd := 0.0, 0.0, 0.0
		if recv > 0 {
			rmr = float64(r.payloadsIn)/float64(recv) - 1
			ctl = float64(r.control) / float64(recv)
			bpd = float64(r.bytes) / float64(recv)
		}
		t.Add(r.name, fmt.Sprintf("%.4f%%", 100*float64(r.res.delivered)/float64(r.res.possible)),
			rmr, ctl, bpd,
			ms(percentile(r.res.latencies, 0.5)), ms(percentile(r.res.latencies, 0.99)), ms(percentile(r.res.latencies, 1)),
			r.res.dupes, r.drops, float64(r.peakHeap)/(1<<20))
	}
	for _, r := range runs {
		t.Notes = append(t.Notes, fmt.Sprintf("%s: setup %.1fs, run %.1fs, worst publish lag %.0fms, other protocols' bytes %d", r.name,
			r.setupTook.Seconds(), r.wall.Seconds(), ms(r.sendLagMax), r.otherBytes))
		if r.name == agent.BroadcastPlumtree {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: then %d of %d active views full after %.1fs more (waited up to %v)",
				r.name, r.fullViews, cfg.Nodes, r.fullTook.Seconds(), cfg.OverlayFull))
			c := r.tree
			rp := r.repaired
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %d of %d deliveries by GRAFT (%.2f%%), their latency p50 %.1f ms, max %.1f ms",
				r.name, len(rp), len(r.res.latencies), 100*float64(len(rp))/float64(max(1, len(r.res.latencies))),
				ms(percentile(rp, 0.5)), ms(percentile(rp, 1))))
			t.Notes = append(t.Notes, fmt.Sprintf("%s: GRAFTs %d, GRAFTed IDs not in cache %d, missing given up %d, PRUNEs %d, optimisations %d, stalled ticks %d, IHAVE queue drops %d, transport drops %d, tree-lag samples %d, catch-up IHAVEs to new neighbours %d",
				r.name, c.grafts, c.graftMisses, c.gaveUp, c.prunes, c.optimizations, c.stalls, c.lazyDropped, c.transportDrops, c.lagSamples, c.catchUps))
			t.Notes = append(t.Notes, fmt.Sprintf("%s: overlay during the run: %d links made, %d lost (%d evicted for room, %d failed, %d splices), %d one-sided links undone (HyParView); SWIM: %d failed probes, %d suspicions, %d deaths, %d stalled ticks (all nodes)",
				r.name, c.neighborUps, c.neighborDowns, c.evictions, c.failures, c.splices, c.oneSidedUndone, c.probeFailures, c.suspicions, c.deaths, c.swimStalls))
		}
		if r.notFinished {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: not every message reached every node within the settle time: %s", r.name, r.missing))
		}
	}
	t.Notes = append(t.Notes, "RMR = payload messages received / deliveries at non-origin nodes - 1; bytes are libp2p stream bytes of the broadcast protocol (sent)")
	return []*exp.Table{t}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// node is one agent of a run.
type node struct {
	a      *agent.Agent
	bw     *protoCounter
	tracer *gsTracer
	cancel context.CancelFunc
	done   chan error
}

func runBroadcast(ctx context.Context, cfg BroadcastConfig, proto string, progress exp.Progress) (*protoRun, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	dir, err := os.MkdirTemp("", "hearsay-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	total := cfg.Warmup + cfg.Messages
	col := newCollector(cfg.Nodes, total)
	setup := time.Now()
	nodes := make([]*node, cfg.Nodes)
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.cancel()
				<-n.done
			}
		}
	}()
	for i := range nodes {
		ac := agent.DefaultConfig()
		ac.DataDir = filepath.Join(dir, fmt.Sprintf("n%02d", i))
		ac.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		ac.RPCListen = ""
		ac.Log = cfg.Log
		ac.Broadcast = proto
		ac.Plumtree = cfg.Plumtree
		ac.FixedTicks = cfg.FixedTicks
		ac.Datastore = agent.DatastoreMemory
		n := &node{bw: newProtoCounter(), done: make(chan error, 1)}
		ac.Bandwidth = n.bw
		if proto == agent.BroadcastGossipSub {
			n.tracer = &gsTracer{}
			ac.GossipSubTracer = n.tracer
		}
		idx := i
		ac.OnDeliver = func(d agent.Delivery) {
			col.record(idx, d.Payload, d.Hops == 0 && d.Origin == nodes[idx].a.ID(), d.Repaired)
		}
		if proto == agent.BroadcastPlumtree && i > 0 {
			ac.Join = nodes[0].a.Addrs()[:1]
		}
		a, err := agent.New(ac)
		if err != nil {
			return nil, err
		}
		n.a = a
		actx, cancel := context.WithCancel(ctx)
		n.cancel = cancel
		nodes[i] = n
		go func() { n.done <- a.Run(actx) }()
		progress.Report(i+1, cfg.Nodes, proto+": starting hosts")
	}
	if proto == agent.BroadcastGossipSub {
		if err := dialRandom(ctx, nodes, cfg.Dial, rng); err != nil {
			return nil, err
		}
	}
	if err := waitOverlay(ctx, nodes, proto); err != nil {
		return nil, err
	}
	r := &protoRun{name: proto, setupTook: time.Since(setup)}
	if proto == agent.BroadcastPlumtree && cfg.OverlayFull > 0 {
		r.fullViews, r.fullTook = waitFullViews(ctx, nodes, cfg.OverlayFull)
	}

	// Publish: warm-up first, then the measured messages, at the rate.
	start := time.Now()
	every := time.Duration(float64(time.Second) / cfg.Rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var before snapshot
	var peak atomic.Uint64
	stopHeap := watchHeap(&peak)
	senders := make([]int, total) // the node that published each message
	pub := newPublisher(ctx)
	for k := 0; k < total; k++ {
		if k == cfg.Warmup {
			if err := waitMessages(ctx, col, cfg.Warmup, cfg.Nodes, cfg.Settle); err != nil {
				cfg.Log.Warn("warm-up did not reach every node", "err", err)
			}
			before = takeSnapshot(ctx, nodes, proto)
			start = time.Now()
			tick.Reset(every)
		}
		si := rng.IntN(len(nodes))
		senders[k] = si
		sender := nodes[si]
		measured := k >= cfg.Warmup
		want := start.Add(time.Duration(k-cfg.Warmup) * every)
		if measured && !cfg.ClosedLoop {
			// Open loop: on the schedule, stamped with it.
			if err := pub.at(want, sender.a.Publish, makePayload(cfg.Size, k, want)); err != nil {
				_ = pub.wait() // none left running when the hosts close
				return nil, err
			}
			if lag := time.Since(want); lag > r.sendLagMax {
				r.sendLagMax = lag
			}
			progress.Report(k+1, total, proto+": publishing")
			continue
		}
		if lag := time.Since(want); measured && lag > r.sendLagMax {
			r.sendLagMax = lag
		}
		if err := sender.a.Publish(ctx, makePayload(cfg.Size, k, time.Now())); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		progress.Report(k+1, total, proto+": publishing")
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := pub.wait(); err != nil {
		return nil, err
	}
	settle := time.NewTimer(cfg.Settle)
	select {
	case <-col.allDone:
	case <-settle.C:
		r.notFinished = true
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	settle.Stop()
	r.wall = time.Since(start)
	stopHeap()
	r.peakHeap = peak.Load()
	after := takeSnapshot(ctx, nodes, proto)
	d := after.minus(before)
	r.payloadsIn, r.control, r.drops = d.payloadsIn, d.control, d.drops
	r.bytes, r.otherBytes = d.bytes, d.otherBytes
	r.tree = d.tree
	if r.notFinished {
		pairs, n := col.missing(cfg.Nodes, total, 8)
		r.missing = fmt.Sprintf("%d deliveries missing (message index @ node, warm-up < %d): %v; published by node %d",
			n, cfg.Warmup, pairs, senders[pairs[0][0]])
	}
	full := col.result(cfg.Nodes, total)
	// Keep only the measured messages.
	col.mu.Lock()
	r.res = result{possible: cfg.Nodes * cfg.Messages, dupes: full.dupes}
	for k := cfg.Warmup; k < total; k++ {
		r.res.delivered += col.perMsg[k]
	}
	col.mu.Unlock()
	r.res.latencies, r.repaired = col.latenciesFrom(cfg.Warmup)
	return r, nil
}

// dialRandom has every host connect to d random others.
func dialRandom(ctx context.Context, nodes []*node, d int, rng *rand.Rand) error {
	for i, n := range nodes {
		dialed := 0
		for _, j := range rng.Perm(len(nodes)) {
			if dialed == d {
				break
			}
			if j == i {
				continue
			}
			dialed++
			h := n.a.Host()
			o := nodes[j].a.Host()
			if err := h.Connect(ctx, peer.AddrInfo{ID: o.ID(), Addrs: o.Addrs()}); err != nil {
				return fmt.Errorf("dial: %w", err)
			}
		}
	}
	return nil
}

// waitFullViews waits up to limit until every node's HyParView active view
// is full, and returns how many were full and how long it waited.
func waitFullViews(ctx context.Context, nodes []*node, limit time.Duration) (int, time.Duration) {
	t0 := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		full := 0
		for _, n := range nodes {
			if p, err := n.a.Peers(ctx); err == nil && len(p.Active) >= p.ActiveMax {
				full++
			}
		}
		if full == len(nodes) || time.Since(t0) >= limit {
			return full, time.Since(t0)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return full, time.Since(t0)
		}
	}
}

// waitOverlay waits until every node has broadcast neighbours.
func waitOverlay(ctx context.Context, nodes []*node, proto string) error {
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := 0
		links := map[string][]string{} // plumtree: the active views, by peer ID
		for _, n := range nodes {
			if proto == agent.BroadcastGossipSub {
				if n.a.GossipSubMesh() > 0 {
					ready++
				}
				continue
			}
			p, err := n.a.Peers(ctx)
			if err == nil && len(p.Active) > 0 {
				ready++
				for _, q := range p.Active {
					links[n.a.ID().String()] = append(links[n.a.ID().String()], q.ID)
				}
			}
		}
		// For plumtree, also one connected overlay: a message broadcast
		// while a node is still outside it never reaches that node.
		if ready == len(nodes) && (proto == agent.BroadcastGossipSub || connected(links, nodes[0].a.ID().String()) == len(nodes)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d nodes have neighbours, or the overlay is not connected, after 30s", ready, len(nodes))
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// connected counts the nodes reachable from start over the active-view
// links (taken as undirected: either end listing the link carries traffic).
func connected(links map[string][]string, start string) int {
	adj := map[string][]string{}
	for a, bs := range links {
		for _, b := range bs {
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	seen := map[string]bool{start: true}
	queue := []string{start}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, y := range adj[x] {
			if !seen[y] {
				seen[y] = true
				queue = append(queue, y)
			}
		}
	}
	return len(seen)
}

// waitMessages waits until the first k messages reached every node.
func waitMessages(ctx context.Context, col *collector, k, nodes int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		col.mu.Lock()
		done := true
		for i := 0; i < k; i++ {
			if col.perMsg[i] < nodes {
				done = false
				break
			}
		}
		col.mu.Unlock()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not all of the first %d messages arrived within %v", k, limit)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// snapshot is the counters summed over all nodes at one instant.
type snapshot struct {
	payloadsIn, control, drops, bytes, otherBytes uint64
	tree                                          treeCounts
}

func (s snapshot) minus(o snapshot) snapshot {
	return snapshot{s.payloadsIn - o.payloadsIn, s.control - o.control, s.drops - o.drops, s.bytes - o.bytes, s.otherBytes - o.otherBytes, s.tree.minus(o.tree)}
}

func takeSnapshot(ctx context.Context, nodes []*node, proto string) snapshot {
	var s snapshot
	for _, n := range nodes {
		var bp protocol.ID
		if proto == agent.BroadcastGossipSub {
			s.payloadsIn += n.tracer.payloadsIn.Load()
			s.control += n.tracer.control.Load()
			s.drops += n.tracer.dropped.Load()
			bp = "/meshsub/"
		} else {
			st, err := n.a.BroadcastStats(ctx)
			if err == nil {
				p := st.Plumtree
				s.payloadsIn += p.GossipReceived
				s.control += p.IHaveSent + p.GraftsSent + p.PrunesSent
				s.drops += p.LazyDropped + p.MissingDropped + st.TransportDrops
				s.tree.grafts += p.GraftsSent
				s.tree.graftMisses += p.GraftMisses
				s.tree.optimizations += p.Optimizations
				s.tree.stalls += p.Stalls
				s.tree.gaveUp += p.MissingGaveUp
				s.tree.prunes += p.PrunesSent
				s.tree.transportDrops += st.TransportDrops
				s.tree.lazyDropped += p.LazyDropped
				s.tree.lagSamples += p.LagSamples
				s.tree.catchUps += p.CatchUpAnnounced
			}
			if as, err := n.a.Stats(ctx); err == nil {
				s.tree.neighborUps += as.HyParView.NeighborUps
				s.tree.neighborDowns += as.HyParView.NeighborDowns
				s.tree.oneSidedUndone += as.HyParView.OneSidedUndone
				s.tree.evictions += as.HyParView.Evictions
				s.tree.failures += as.HyParView.Failures
				s.tree.splices += as.HyParView.Splices
				s.tree.probeFailures += as.Swim.ProbeFailures
				s.tree.suspicions += as.Swim.Suspicions
				s.tree.deaths += as.Swim.Deaths
				s.tree.swimStalls += as.Swim.Stalls
			}
			bp = "/hearsay/plumtree/"
		}
		for id, st := range n.bw.GetBandwidthByProtocol() {
			if len(id) >= len(bp) && string(id[:len(bp)]) == string(bp) {
				s.bytes += uint64(st.TotalOut)
			} else {
				s.otherBytes += uint64(st.TotalOut)
			}
		}
	}
	return s
}

// watchHeap samples the heap in use every 50 ms into peak until stopped.
func watchHeap(peak *atomic.Uint64) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}
