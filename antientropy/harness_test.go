package antientropy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
)

// net is a tiny synchronous network for tests: FIFO per link, optional
// loss, byte counts per direction. The simulator runs the big scenarios.
type net struct {
	t        testing.TB
	now      time.Duration
	nodes    []*node
	queue    []msg
	rng      *rand.Rand
	loss     float64
	bytes    map[[2]NodeID]int // encoded bytes sent, by (from, to)
	msgs     map[[2]NodeID]int
	events   []membership.Event
	trace    []msg // every message sent, when tracing
	tracing  bool
	errs     []error // Step errors, when tolerated
	tolerate bool
}

type node struct {
	id    NodeID
	core  *Core
	store *MemStore
}

type msg struct {
	from, to NodeID
	m        proto.Message
}

func newNet(t testing.TB, n int, cfg Config, seed uint64) *net {
	return newNetStores(t, n, cfg, seed, nil)
}

// newNetStores is newNet where wrap (if not nil) chooses the Store the
// core of node i sees over its MemStore.
func newNetStores(t testing.TB, n int, cfg Config, seed uint64, wrap func(i int, m *MemStore) Store) *net {
	nw := &net{t: t, rng: rand.New(rand.NewPCG(seed, 1)), bytes: map[[2]NodeID]int{}, msgs: map[[2]NodeID]int{}}
	var ids []NodeID
	for i := 0; i < n; i++ {
		ids = append(ids, NodeID(fmt.Sprintf("n%d", i)))
	}
	for i, id := range ids {
		st := NewMemStore()
		var cs Store = st
		if wrap != nil {
			cs = wrap(i, st)
		}
		c, err := New(cfg, id, cs, rand.New(rand.NewPCG(seed, uint64(i)+2)))
		if err != nil {
			t.Fatal(err)
		}
		c.SetMembers(0, ids)
		nw.nodes = append(nw.nodes, &node{id: id, core: c, store: st})
	}
	return nw
}

func (nw *net) node(id NodeID) *node {
	for _, n := range nw.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// write puts a value at node i with its next dot (no broadcast).
func (nw *net) write(i int, key, value string) Dot {
	n := nw.nodes[i]
	d := n.core.NextDot()
	n.store.Put(key, []byte(value), d)
	if err := n.core.Wrote(nw.now, key, d); err != nil {
		nw.t.Fatal(err)
	}
	return d
}

// collect moves every queued output of node n onto the network.
func (nw *net) collect(n *node) {
	r := n.core.Ready()
	for _, s := range r.Sends {
		k := [2]NodeID{n.id, s.To}
		nw.bytes[k] += proto.Size(s.Msg)
		nw.msgs[k]++
		if nw.tracing {
			nw.trace = append(nw.trace, msg{n.id, s.To, s.Msg})
		}
		if nw.loss > 0 && nw.rng.Float64() < nw.loss {
			continue
		}
		nw.queue = append(nw.queue, msg{n.id, s.To, s.Msg})
	}
	nw.events = append(nw.events, r.Events...)
}

// run delivers messages until none are left.
func (nw *net) run() {
	for _, n := range nw.nodes {
		nw.collect(n)
	}
	for steps := 0; len(nw.queue) > 0; steps++ {
		if steps > 1_000_000 {
			nw.t.Fatal("network does not quiesce")
		}
		m := nw.queue[0]
		nw.queue = nw.queue[1:]
		to := nw.node(m.to)
		if err := to.core.Step(nw.now, m.from, m.m); err != nil && nw.tolerate {
			nw.errs = append(nw.errs, err)
		} else if err != nil {
			nw.t.Fatalf("%s <- %s: %v", m.to, m.from, err)
		}
		nw.collect(to)
	}
}

// sync runs one session from node a to node b to its end.
func (nw *net) sync(a, b int) {
	nw.now += time.Millisecond
	nw.nodes[a].core.SyncWith(nw.now, nw.nodes[b].id)
	nw.run()
}

// tick advances time by d in TickInterval steps, delivering as it goes.
func (nw *net) tick(d time.Duration) {
	end := nw.now + d
	for nw.now < end {
		nw.now += nw.nodes[0].core.TickInterval()
		for _, n := range nw.nodes {
			n.core.Tick(nw.now)
			nw.collect(n)
		}
		nw.run()
	}
}

func (nw *net) resetBytes() {
	clear(nw.bytes)
	clear(nw.msgs)
}

// converged reports whether every store and clock is equal.
func (nw *net) converged() error {
	a := nw.nodes[0]
	for _, b := range nw.nodes[1:] {
		if !slices.Equal(a.store.Keys(), b.store.Keys()) {
			return fmt.Errorf("%s has %d keys, %s has %d", a.id, a.store.Len(), b.id, b.store.Len())
		}
		for _, k := range a.store.Keys() {
			x, _ := a.store.Get(k)
			y, _ := b.store.Get(k)
			if string(x) != string(y) {
				return fmt.Errorf("key %q differs between %s and %s", k, a.id, b.id)
			}
		}
		if a.core.Root() != b.core.Root() {
			return fmt.Errorf("roots differ: %s %x, %s %x", a.id, a.core.Root(), b.id, b.core.Root())
		}
		if !a.core.clock.Equal(b.core.clock) {
			return fmt.Errorf("clocks differ: %s %x, %s %x", a.id, a.core.clock.Encode(), b.id, b.core.clock.Encode())
		}
	}
	return nil
}

func testConfig() Config {
	c := DefaultConfig()
	c.MerkleDepth = 2
	return c
}

// batchMem is a MemStore with MergeBatch, all or nothing: every state is
// decoded before any is merged. fail makes it refuse every batch.
type batchMem struct {
	*MemStore
	batches int
	fail    bool
}

func (b *batchMem) MergeBatch(objs []Object) ([]bool, error) {
	if b.fail {
		return nil, fmt.Errorf("batchMem: refused")
	}
	for _, o := range objs {
		if _, _, _, err := DecodeLWW(o.State); err != nil {
			return nil, fmt.Errorf("batchMem: key %q: %w", o.Key, err)
		}
	}
	b.batches++
	changed := make([]bool, len(objs))
	for i, o := range objs {
		before := b.Digest(o.Key)
		if _, err := b.Merge(o.Key, o.State); err != nil {
			panic(err) // decoded above
		}
		changed[i] = b.Digest(o.Key) != before
	}
	return changed, nil
}

var _ BatchStore = (*batchMem)(nil)
