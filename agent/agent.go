package agent

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/swim"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Agent is one running hearsay node.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	host  host.Host
	tr    *transport.Transport
	self  membership.Node
	start time.Time

	hv  *hyparview.HyParView
	sw  *swim.Core
	ae  *antientropy.Core
	pt  *plumtree.Core // nil with GossipSub
	gs  *gossip        // nil with plumtree
	ids idCache        // peer ID <-> node ID conversions (loop only)
	// stopGossip ends GossipSub's goroutines.
	stopGossip context.CancelFunc
	ds         ds.Batching
	st         *store.Store
	watchers   []chan struct{}
	cores      []membership.Core
	byProto    map[protocol.ID]membership.Core

	cmds chan func(now time.Duration)
	done chan struct{}

	delivered    uint64 // broadcasts delivered to this node
	memberEvents uint64 // SWIM membership changes seen
	syncs        uint64 // anti-entropy sessions completed
	clockDirty   bool   // the anti-entropy clock changed since it was saved
	clockSaved   time.Time
	peersDirty   bool // the overlay's views changed since they were saved
	peersSaved   time.Time
	fuseLog      []FuseEvent
	fuseSeq      uint64
	rng          *rand.Rand    // the agent's own choices (overlay.go), not the cores'
	overlay      *overlayJoin  // a HyParView join waiting for SWIM's
	shortSince   time.Duration // since when HyParView's views are short (refillPassive); < 0: they are not
}

// New builds an agent: identity, host, transport and cores. It does not
// start the loop; call Run.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: data dir: %w", err)
	}
	hcfg := transport.DefaultHostConfig(cfg.DataDir)
	hcfg.ListenAddrs = cfg.Listen
	hcfg.EphemeralIdentity = cfg.Datastore == DatastoreMemory && !cfg.KeepIdentity
	hcfg.Bandwidth = cfg.Bandwidth
	if cfg.Metrics != nil {
		hcfg.Metrics = cfg.Metrics
	}
	h, err := transport.NewHost(hcfg, cfg.Log)
	if err != nil {
		return nil, err
	}
	tr, err := transport.New(h, cfg.Transport, cfg.Log)
	if err != nil {
		h.Close()
		return nil, err
	}
	a := &Agent{
		shortSince: -1,
		cfg:        cfg,
		log:        cfg.Log.With("self", h.ID().String()),
		host:       h,
		tr:         tr,
		start:      time.Now(),
		byProto:    map[protocol.ID]membership.Core{},
		cmds:       make(chan func(time.Duration), 64),
		done:       make(chan struct{}),
		rng:        newRand(),
	}
	a.self = nodeOf(peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
	if err := a.openStore(); err != nil {
		a.closeNet()
		return nil, err
	}
	a.hv, err = hyparview.New(a.self, cfg.HyParView, newRand())
	if err != nil {
		a.closeNet()
		return nil, err
	}
	a.addCore(a.hv)
	a.sw, err = swim.New(a.self, cfg.Swim, newRand())
	if err != nil {
		a.closeNet()
		return nil, err
	}
	a.addCore(a.sw)
	if err := a.startAntiEntropy(); err != nil {
		a.closeNet()
		return nil, err
	}
	if cfg.Broadcast == BroadcastPlumtree {
		pcfg := cfg.Plumtree
		// Message IDs are (origin, seq); start seq from the clock so a
		// restarted node's new messages are not mistaken for old ones.
		a.pt, err = plumtree.New(nodeID(h.ID()), pcfg, newRand())
		if err != nil {
			a.closeNet()
			return nil, err
		}
		a.pt.SetSeq(uint64(time.Now().UnixMicro()))
		a.addCore(a.pt)
	}
	if cfg.Broadcast == BroadcastGossipSub {
		// Start before any connection exists: a peer that connects before
		// our GossipSub handler is registered is marked as not speaking it.
		ctx, cancel := context.WithCancel(context.Background())
		a.stopGossip = cancel
		if err := a.startGossipSub(ctx); err != nil {
			cancel()
			a.closeNet()
			return nil, err
		}
	}
	return a, nil
}

func newRand() *rand.Rand {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic("agent: crypto/rand failed: " + err.Error())
	}
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))
}

func (a *Agent) addCore(c membership.Core) {
	p := protocol.ID(c.Protocol())
	a.cores = append(a.cores, c)
	a.byProto[p] = c
	a.tr.Register(p, c.NewMessage)
}

// Host is the agent's libp2p host.
func (a *Agent) Host() host.Host { return a.host }

// ID is the agent's libp2p peer ID.
func (a *Agent) ID() peer.ID { return a.host.ID() }

// Addrs are the agent's full multiaddrs (with /p2p/), ready for --join.
func (a *Agent) Addrs() []string {
	info := peer.AddrInfo{ID: a.host.ID(), Addrs: a.host.Addrs()}
	mas, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		return nil
	}
	out := make([]string, len(mas))
	for i, m := range mas {
		out[i] = m.String()
	}
	return out
}

func (a *Agent) now() time.Duration { return time.Since(a.start) }

// Run drives the node until ctx is cancelled, then leaves gracefully
// (DISCONNECT to every neighbour, queued frames flushed) and returns nil.
func (a *Agent) Run(ctx context.Context) error {
	defer close(a.done)
	defer a.closeNet()
	for _, j := range a.cfg.Join {
		info, err := parseJoin(j)
		if err != nil {
			return err
		}
		if info.ID == a.host.ID() {
			continue
		}
		a.tr.AddAddrs(info, peerstore.PermanentAddrTTL)
		a.joinMesh(a.now(), nodeOf(info))
	}
	if len(a.cfg.Join) == 0 {
		a.rejoin()
	}
	a.flush()
	return a.loop(ctx)
}

func (a *Agent) loop(ctx context.Context) error {
	every := make([]time.Duration, len(a.cores))
	idle := make([]time.Duration, len(a.cores))
	busy := make([]func() bool, len(a.cores))
	sleepers := make([]sleeper, len(a.cores))
	at := make([]func() (time.Time, bool), len(a.cores))
	for i, c := range a.cores {
		every[i] = c.TickInterval()
		if s, ok := c.(sleeper); ok {
			sleepers[i], busy[i], idle[i] = s, s.Busy, idleTick
		}
		if s, ok := c.(scheduler); ok && !a.cfg.FixedTicks {
			at[i] = func() (time.Time, bool) {
				d, ok := s.NextDeadline()
				return a.start.Add(d), ok
			}
		}
	}
	plan := newTickPlan(time.Now(), every, idle, busy, at)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due, woken []int
	arm := func() {
		if woken = plan.woken(woken); len(woken) > 0 {
			now := a.now()
			for _, i := range woken {
				sleepers[i].Resume(now)
			}
		}
		if d, ok := plan.wait(time.Now()); ok {
			timer.Reset(d)
		}
	}
	arm()
	inbound, events := a.tr.Inbound(), a.tr.Events()
	for {
		var (
			kind string
			t0   time.Time
		)
		select {
		case <-ctx.Done():
			a.leave()
			return nil
		case <-timer.C:
			kind, t0 = "tick", time.Now()
			due = plan.due(time.Now(), due)
			for _, i := range due {
				a.cores[i].Tick(a.now())
			}
			a.refillPassive(a.now())
			a.maybeSaveClock()
			a.maybeSavePeers()
		case in, ok := <-inbound:
			if !ok {
				return a.transportClosed()
			}
			kind, t0 = "message "+string(in.Proto), time.Now()
			a.step(in)
		case ev, ok := <-events:
			if !ok {
				return a.transportClosed()
			}
			kind, t0 = "transport event", time.Now()
			switch e := ev.(type) {
			case transport.PeerDown:
				a.log.Debug("peer down", "peer", e.Peer.String(), "reason", e.Reason, "timed_out", e.TimedOut())
				now := a.now()
				for _, c := range a.cores {
					if c == membership.Core(a.sw) && e.TimedOut() {
						// No evidence: SWIM's own ConnectTimeout
						// ends a probe waiting for this peer without
						// a verdict (swim/conns.go).
						continue
					}
					c.PeerDown(now, nodeID(e.Peer))
				}
			case transport.StreamUp:
				// SWIM's probes of a member wait for its stream: the
				// connection and identify (swim.Config.ConnectTimeout).
				if membership.ProtocolID(e.Protocol) == swim.Protocol {
					a.sw.PeerUp(a.now(), nodeID(e.Peer))
				}
			}
		case f := <-a.cmds:
			kind, t0 = "command", time.Now()
			f(a.now())
		}
		a.flush()
		if a.overlay != nil {
			a.maybeJoinOverlay(a.now())
			a.flush()
		}
		arm() // a step may have made an idle core busy
		if d := time.Since(t0); d > slowStep {
			a.log.Warn("slow loop step", "kind", kind, "took", d)
		}
	}
}

// transportClosed ends the loop when the transport closed under it: the
// clock is saved first (leave, which also saves it, is not reached).
func (a *Agent) transportClosed() error {
	if a.clockDirty {
		if err := a.saveClock(); err != nil {
			a.log.Error("saving the anti-entropy clock", "err", err)
		}
	}
	return errors.New("agent: transport closed")
}

// slowStep is how long one turn of the loop (a step, the flush of its
// sends, the timer) may take before it is logged: every turn delays
// every other message, tick and RPC command.
const slowStep = 250 * time.Millisecond

// sleeper is a core that can be ticked seldom while it has nothing to do
// (plumtree between messages); see tickPlan.
type sleeper interface {
	Busy() bool
	Resume(now time.Duration)
}

// scheduler is a core that says when its next Tick has work (SWIM,
// anti-entropy); it is ticked then rather than every TickInterval.
type scheduler interface {
	NextDeadline() (time.Duration, bool)
}

// idleTick is how often an idle sleeper is ticked (plumtree expires its
// received-message cache on Tick).
const idleTick = time.Second

// maybeSaveClock persists the anti-entropy clock at most once a second
// when remote merges changed it (local writes save it before they are
// acknowledged).
func (a *Agent) maybeSaveClock() {
	if !a.clockDirty || time.Since(a.clockSaved) < time.Second {
		return
	}
	a.clockSaved = time.Now()
	if err := a.saveClock(); err != nil {
		a.log.Error("saving the anti-entropy clock", "err", err)
	}
}

func (a *Agent) step(in transport.Inbound) {
	c, ok := a.byProto[in.Proto]
	if !ok {
		return
	}
	if err := c.Step(a.now(), a.ids.node(in.From), in.Msg); err != nil {
		a.log.Warn("rejected message", "peer", in.From.String(), "protocol", string(in.Proto), "err", err)
	}
}

// flush drains every core's outputs until none is left.
func (a *Agent) flush() {
	for round := 0; round < 100; round++ {
		busy := false
		for _, c := range a.cores {
			r := c.Ready()
			if r.Empty() {
				continue
			}
			busy = true
			p := protocol.ID(c.Protocol())
			for _, s := range r.Sends {
				a.send(p, s)
			}
			for _, ev := range r.Events {
				a.route(ev)
			}
		}
		if !busy {
			return
		}
	}
	a.log.Error("cores keep producing outputs; flush stopped after 100 rounds")
}

func (a *Agent) send(p protocol.ID, s membership.Send) {
	pid, err := a.ids.peer(s.To)
	if err != nil {
		a.log.Error("a core addressed a message to an invalid node ID", "protocol", string(p), "to", string(s.To), "err", err)
		return
	}
	if len(a.host.Peerstore().Addrs(pid)) == 0 && a.host.Network().Connectedness(pid) != 1 {
		n, ok := a.hv.Lookup(s.To)
		if !ok {
			var m swim.MemberInfo
			m, ok = a.sw.Member(s.To)
			n = m.Node
		}
		if ok {
			if info, err := addrInfoOf(n); err == nil {
				a.tr.AddAddrs(info, peerstore.AddressTTL)
			}
		}
	}
	if err := a.tr.Send(pid, p, s.Msg); err != nil {
		a.log.Debug("send failed", "peer", pid.String(), "protocol", string(p), "err", err)
		if !errors.Is(err, transport.ErrQueueFull) {
			now := a.now()
			for _, c := range a.cores {
				c.PeerDown(now, s.To)
			}
		}
	}
}

// route hands an event to the layers above.
func (a *Agent) route(ev membership.Event) {
	a.routeSync(a.now(), ev)
	if a.routeBroadcast(a.now(), ev) || a.routeMembership(a.now(), ev) {
		return
	}
	switch e := ev.(type) {
	case membership.NeighborUp:
		a.peersDirty = true
		a.sw.LinkUp(e.Node.ID) // SWIM gossips over open links first (swim/links.go)
		pid, _ := peerID(e.Node.ID)
		a.host.ConnManager().Protect(pid, "hyparview-active")
		a.log.Info("neighbor up", "peer", pid.String())
	case membership.NeighborDown:
		a.peersDirty = true
		a.sw.LinkDown(e.Node.ID)
		pid, _ := peerID(e.Node.ID)
		a.host.ConnManager().Unprotect(pid, "hyparview-active")
		a.log.Info("neighbor down", "peer", pid.String(), "failed", e.Failed)
	}
}

// leave says goodbye to the neighbours and flushes what was queued.
func (a *Agent) leave() {
	active := a.hv.Active()
	a.savePeers()
	if err := a.sw.Leave(a.now()); err != nil {
		a.log.Warn("swim leave", "err", err)
	}
	a.hv.Leave(a.now())
	a.flush()
	for _, n := range active {
		pid, err := peerID(n.ID)
		if err != nil {
			continue
		}
		if err := a.tr.Disconnect(pid); err != nil {
			a.log.Debug("disconnect", "peer", pid.String(), "err", err)
		}
	}
	if a.clockDirty {
		if err := a.saveClock(); err != nil {
			a.log.Error("saving the anti-entropy clock", "err", err)
		}
	}
	a.log.Info("left the overlay", "neighbors", len(active))
}

func (a *Agent) closeNet() {
	if a.stopGossip != nil {
		a.stopGossip()
	}
	if a.ds != nil {
		if err := a.ds.Close(); err != nil {
			a.log.Error("closing the datastore", "err", err)
		}
		a.ds = nil
	}
	a.tr.Close()
	a.host.Close()
}

// Do runs f on the agent's loop and waits for it; it fails if the agent
// stopped or ctx ends first. When it fails, f has not run and never will:
// a command still queued when ctx ends is given up, and one the loop has
// started is waited for (a loop turn is short), so a caller told "deadline
// exceeded" never finds its write applied, nor its result variables
// written after it returned.
func (a *Agent) Do(ctx context.Context, f func(now time.Duration)) error {
	const (
		queued = iota
		running
		abandoned
	)
	var state atomic.Int32
	fin, t0 := make(chan struct{}), time.Now()
	cmd := func(now time.Duration) {
		if !state.CompareAndSwap(queued, running) {
			return // given up by the caller
		}
		if d := time.Since(t0); d > slowStep {
			a.log.Warn("command waited for the loop", "took", d)
		}
		f(now)
		close(fin)
	}
	select {
	case a.cmds <- cmd:
	case <-a.done:
		return errors.New("agent: stopped")
	case <-ctx.Done():
		a.log.Warn("command given up before the loop took it", "waited", time.Since(t0), "err", ctx.Err())
		return ctx.Err()
	}
	select {
	case <-fin:
		return nil
	case <-a.done:
		if state.CompareAndSwap(queued, abandoned) {
			return errors.New("agent: stopped")
		}
		<-fin
		return nil
	case <-ctx.Done():
		if state.CompareAndSwap(queued, abandoned) {
			a.log.Warn("command given up before the loop ran it", "waited", time.Since(t0), "err", ctx.Err())
			return ctx.Err()
		}
		<-fin // running: its effects and results are the caller's
		return nil
	}
}
