package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
)

// Sim is a simulated network of nodes. It is not safe for concurrent use:
// one goroutine drives it.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	now     time.Duration
	seq     uint64
	q       agenda
	factory Factory

	nodes []node
	ids   []membership.NodeID
	index map[membership.NodeID]int32

	protocols []membership.ProtocolID
	protoIdx  map[membership.ProtocolID]int16

	group []int32                  // partition group per node; equal groups can talk
	fifo  map[uint64]time.Duration // last arrival per directed link
	// fifoCap is the size of fifo at which entries that constrain
	// nothing (last arrival already past) are dropped; see pruneFIFO.
	fifoCap int

	// With Config.Connect: connections by node pair (connKey), and when
	// each node's connection setups are done (it does one at a time).
	conns  map[uint64]conn
	hsBusy []time.Duration

	trace    traceHash
	stats    Stats
	observer Observer
	events   uint64
}

type node struct {
	proc   Process
	cores  []membership.Core
	protos []int16 // global protocol index of each core
	alive  bool
	paused bool
	held   []event // deliveries and link-downs that arrived while paused
	epoch  uint32
	// life counts the node's processes (a Crash ends one, Start begins
	// the next); unlike epoch, Pause and Resume leave it alone. A message
	// sent to one process is lost if it arrives at the next, and a
	// link-down reaches the process that sent, even across a pause.
	life     uint32
	restarts uint32
	// With Config.Deadlines, per core: the tick scheduled (-1: none; a
	// popped tick at another time is stale) and the last tick.
	due, last []time.Duration
}

// scheduler is a core that reports when its next Tick has work.
type scheduler interface {
	NextDeadline() (time.Duration, bool)
}

// maxDeadlineWait bounds the wait of a deadline-driven core, as in the
// agent.
const maxDeadlineWait = time.Second

// New builds a simulation of n nodes made by factory.
func New(cfg Config, n int, factory Factory) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if factory == nil {
		return nil, fmt.Errorf("sim: nil factory")
	}
	s := &Sim{
		cfg:      cfg,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		factory:  factory,
		index:    make(map[membership.NodeID]int32, n),
		protoIdx: map[membership.ProtocolID]int16{},
		fifo:     map[uint64]time.Duration{},
		conns:    map[uint64]conn{},
		fifoCap:  minFIFOCap,
		trace:    newTraceHash(),
	}
	for i := 0; i < n; i++ {
		s.AddNode()
	}
	return s, nil
}

// NodeName is the ID the simulator gives the node at index i.
func NodeName(i int) membership.NodeID { return membership.NodeID(fmt.Sprintf("n%d", i)) }

// AddNode creates one more node, alive, and returns its index. Its cores'
// first ticks are spread at random over one tick interval.
func (s *Sim) AddNode() int {
	i := len(s.nodes)
	id := NodeName(i)
	s.ids = append(s.ids, id)
	s.index[id] = int32(i)
	s.group = append(s.group, 0)
	s.hsBusy = append(s.hsBusy, 0)
	s.nodes = append(s.nodes, node{})
	s.start(i)
	return i
}

func (s *Sim) nodeRand(i int, restarts uint32) *rand.Rand {
	return rand.New(rand.NewPCG(s.cfg.Seed^uint64(i)*0xbf58476d1ce4e5b9, uint64(restarts)+1))
}

func (s *Sim) start(i int) {
	nd := &s.nodes[i]
	nd.proc = s.factory(s.ids[i], i, s.nodeRand(i, nd.restarts))
	nd.cores = nd.proc.Cores()
	nd.protos = make([]int16, len(nd.cores))
	for c, core := range nd.cores {
		p := core.Protocol()
		idx, ok := s.protoIdx[p]
		if !ok {
			idx = int16(len(s.protocols))
			s.protocols = append(s.protocols, p)
			s.protoIdx[p] = idx
			s.stats.grow(len(s.protocols))
		}
		nd.protos[c] = idx
	}
	nd.alive = true
	nd.epoch++
	nd.life++
	s.startTicks(i, true)
}

// startTicks schedules the first tick of each of node i's cores, at a
// random phase within one interval or, without phase, at once.
func (s *Sim) startTicks(i int, phase bool) {
	nd := &s.nodes[i]
	if s.cfg.Deadlines {
		nd.due = make([]time.Duration, len(nd.cores))
		nd.last = make([]time.Duration, len(nd.cores))
	}
	for c, core := range nd.cores {
		iv := core.TickInterval()
		if iv <= 0 {
			continue
		}
		var at time.Duration
		if phase {
			at = time.Duration(s.rng.Int64N(int64(iv)))
		}
		if s.cfg.Deadlines {
			nd.due[c], nd.last[c] = s.now+at, s.now
		}
		s.push(event{at: s.now + at, kind: evTick, node: int32(i), core: int16(c), epoch: nd.epoch})
	}
}

// reschedule moves the next tick of node i's deadline-driven cores to
// their current deadlines (Config.Deadlines).
func (s *Sim) reschedule(i int) {
	nd := &s.nodes[i]
	if !s.cfg.Deadlines || !nd.alive || nd.paused {
		return
	}
	for c, core := range nd.cores {
		sc, ok := core.(scheduler)
		iv := core.TickInterval()
		if !ok || iv <= 0 {
			continue
		}
		lo, hi := nd.last[c]+iv/10, nd.last[c]+maxDeadlineWait
		at, ok := sc.NextDeadline()
		switch {
		case !ok || at > hi:
			at = hi
		case at < lo:
			at = lo
		}
		at = max(at, s.now)
		if at != nd.due[c] {
			nd.due[c] = at
			s.push(event{at: at, kind: evTick, node: int32(i), core: int16(c), epoch: nd.epoch})
		}
	}
}

func (s *Sim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.q.push(e)
}

// Now is the virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// N is the number of nodes (alive or not).
func (s *Sim) N() int { return len(s.nodes) }

// ID is node i's identity.
func (s *Sim) ID(i int) membership.NodeID { return s.ids[i] }

// Index finds a node by ID; ok is false for an unknown ID.
func (s *Sim) Index(id membership.NodeID) (int, bool) {
	i, ok := s.index[id]
	return int(i), ok
}

// Process returns node i's current process (a new one after a restart).
func (s *Sim) Process(i int) Process { return s.nodes[i].proc }

// Alive reports whether node i is running.
func (s *Sim) Alive(i int) bool { return s.nodes[i].alive }

// Rand is the network's own seeded source, for experiments that need
// random choices (which sender, which nodes to crash) within the same
// deterministic stream.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// SetObserver installs an observer of deliveries (nil removes it).
func (s *Sim) SetObserver(o Observer) { s.observer = o }

// Events is how many events have been processed.
func (s *Sim) Events() uint64 { return s.events }

// At schedules f to run at virtual time t (or now, if t is past).
func (s *Sim) At(t time.Duration, f func()) {
	if t < s.now {
		t = s.now
	}
	s.push(event{at: t, kind: evAction, act: f})
}

// Invoke runs f on node i now (to call a command on its cores) and then
// routes the outputs. It does nothing on a crashed or paused node.
func (s *Sim) Invoke(i int, f func(now time.Duration)) {
	if !s.nodes[i].alive || s.nodes[i].paused {
		return // a crashed or paused process runs nothing
	}
	f(s.now)
	s.drain(i)
}

// Run processes every event up to and including virtual time t, then
// leaves the clock at t.
func (s *Sim) Run(t time.Duration) {
	for s.q.len() > 0 && s.q.peek() <= t {
		s.step()
	}
	if t > s.now {
		s.now = t
	}
}

// RunFor advances the clock by d.
func (s *Sim) RunFor(d time.Duration) { s.Run(s.now + d) }

// RunUntil processes events until cond returns true (checked after every
// event) or the clock passes limit; it reports whether cond was met.
func (s *Sim) RunUntil(limit time.Duration, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if s.q.len() == 0 || s.q.peek() > limit {
			if limit > s.now {
				s.now = limit
			}
			return cond()
		}
		s.step()
	}
}

func (s *Sim) step() {
	e := s.q.pop()
	s.now = e.at
	s.events++
	switch e.kind {
	case evAction:
		e.act()
	case evTick:
		nd := &s.nodes[e.node]
		if !nd.alive || nd.epoch != e.epoch || nd.paused {
			return // a paused node's ticks restart on Resume
		}
		core := nd.cores[e.core]
		if s.cfg.Deadlines {
			if _, ok := core.(scheduler); ok {
				if nd.due[e.core] != e.at {
					return // stale: the deadline moved
				}
				nd.due[e.core], nd.last[e.core] = -1, s.now
				core.Tick(s.now)
				s.drain(int(e.node))
				return
			}
		}
		core.Tick(s.now)
		s.drain(int(e.node))
		s.push(event{at: s.now + core.TickInterval(), kind: evTick, node: e.node, core: e.core, epoch: e.epoch})
	case evDeliver:
		s.deliver(e)
	case evLinkDown:
		nd := &s.nodes[e.node]
		if !nd.alive || nd.life != e.life {
			return // the process that sent is gone
		}
		if nd.paused {
			nd.held = append(nd.held, e)
			return
		}
		s.trace.linkDown(s.now, e.node, e.from)
		peer := s.ids[e.from]
		for _, c := range nd.cores {
			c.PeerDown(s.now, peer)
		}
		s.drain(int(e.node))
	case evConnUp:
		s.connUp(e)
	}
}

// reachable reports whether a message from a can arrive at b now.
func (s *Sim) reachable(a, b int32) bool {
	return s.nodes[b].alive && s.group[a] == s.group[b]
}

func (s *Sim) deliver(e event) {
	st := &s.stats.PerProtocol[e.core]
	if !s.reachable(e.from, e.node) || s.nodes[e.node].life != e.life {
		st.Unreachable++
		from := &s.nodes[e.from]
		if s.cfg.LinkDownDelay > 0 && from.alive {
			s.push(event{at: s.now + s.cfg.LinkDownDelay, kind: evLinkDown, node: e.from, from: e.node, life: from.life})
		}
		return
	}
	nd := &s.nodes[e.node]
	if nd.paused {
		nd.held = append(nd.held, e)
		return
	}
	c := -1
	for k, p := range nd.protos {
		if p == e.core {
			c = k
			break
		}
	}
	if c < 0 {
		st.NoHandler++
		return
	}
	if e.wire != nil {
		m := nd.cores[c].NewMessage()
		if err := proto.Unmarshal(e.wire, m); err != nil {
			st.DecodeFailed++
			return
		}
		e.msg = m
	}
	st.Delivered++
	s.trace.deliver(s.now, e.from, e.node, e.core, e.msg, s.cfg.TraceContent)
	if s.observer != nil {
		s.observer.Delivered(s.now, int(e.from), int(e.node), s.protocols[e.core], e.msg)
	}
	if err := nd.cores[c].Step(s.now, s.ids[e.from], e.msg); err != nil {
		st.Rejected++
	}
	s.drain(int(e.node))
}

// drain routes a node's queued outputs until its cores have none left.
func (s *Sim) drain(i int) {
	nd := &s.nodes[i]
	for round := 0; ; round++ {
		if round > 1000 {
			panic(fmt.Sprintf("sim: node %d keeps producing outputs (a routing loop?)", i))
		}
		busy := false
		for c, core := range nd.cores {
			r := core.Ready()
			if r.Empty() {
				continue
			}
			busy = true
			for _, snd := range r.Sends {
				s.send(int32(i), nd.protos[c], snd)
			}
			for _, ev := range r.Events {
				nd.proc.Route(s.now, ev)
			}
		}
		if !busy {
			s.reschedule(i)
			return
		}
	}
}

func (s *Sim) send(from int32, proto16 int16, snd membership.Send) {
	st := &s.stats.PerProtocol[proto16]
	st.Sent++
	if s.cfg.CountBytes {
		st.Bytes += uint64(proto.Size(snd.Msg))
	}
	to, ok := s.index[snd.To]
	if !ok || to == from {
		st.NoRoute++
		return
	}
	var wire []byte
	if s.cfg.Wire {
		b, err := proto.Marshal(snd.Msg)
		if err != nil {
			st.EncodeFailed++
			return
		}
		wire = b
	}
	if s.cfg.Loss > 0 && s.rng.Float64() < s.cfg.Loss {
		st.Lost++
		return
	}
	copies := 1
	if s.cfg.Duplicate > 0 && s.rng.Float64() < s.cfg.Duplicate {
		copies = 2
		st.Duplicated++
	}
	ready := s.connReady(from, to)
	for k := 0; k < copies; k++ {
		at := ready + s.cfg.Latency.Sample(s.rng, int(from), int(to))
		if s.cfg.Reorder == 0 || s.rng.Float64() >= s.cfg.Reorder {
			key := uint64(from)<<32 | uint64(uint32(to))
			if last := s.fifo[key]; at < last {
				at = last
			}
			s.fifo[key] = at
			if len(s.fifo) >= s.fifoCap {
				s.pruneFIFO()
			}
		}
		s.push(event{at: at, kind: evDeliver, node: to, from: from, core: proto16, msg: snd.Msg, wire: wire, life: s.nodes[to].life})
	}
}

// minFIFOCap is the smallest fifo size that triggers a prune.
const minFIFOCap = 1 << 12

// pruneFIFO drops the links whose last arrival is not in the future: a
// message sent now arrives at now or later anyway, so they order nothing.
// Without it the map held every directed link ever used (SWIM probes
// random members: up to n^2 entries over a long run at 10,000 nodes). The
// next prune waits until the map has doubled, so the cost per send stays
// constant on average. Which entries go does not depend on map order, so
// runs stay deterministic.
func (s *Sim) pruneFIFO() {
	for k, last := range s.fifo {
		if last <= s.now {
			delete(s.fifo, k)
		}
	}
	s.fifoCap = max(2*len(s.fifo), minFIFOCap)
}
