package plumtree

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// "New neighbours are added to the eagerPushPeers set" (paper, Section 3.2).
func TestNewNeighboursStartEager(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a", "b")
	id, err := c.Broadcast(0, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Ready()
	if got, want := kinds(r), []string{"a:gossip", "b:gossip"}; !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
	d := deliveredIn(r)
	if len(d) != 1 || d[0].ID != id || d[0].Hops != 0 || d[0].Origin != "self" {
		t.Fatalf("own delivery %+v", d)
	}
}

// "when a node receives a duplicate ... it moves the sender to lazyPushPeers
// and sends it a PRUNE" (Section 3.3).
func TestDuplicatePrunesSender(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a", "b", "c")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "p"))
	r := c.Ready()
	if got, want := kinds(r), []string{"b:gossip", "c:gossip"}; !slices.Equal(got, want) {
		t.Fatalf("forward %v, want %v", got, want)
	}
	if d := deliveredIn(r); len(d) != 1 || d[0].Hops != 1 || string(d[0].Payload) != "p" {
		t.Fatalf("delivered %+v", d)
	}
	mustStep(t, c, ms, "b", gossipMsg("o", 1, 2, "p"))
	r = c.Ready()
	if got, want := kinds(r), []string{"b:prune"}; !slices.Equal(got, want) {
		t.Fatalf("on duplicate %v, want %v", got, want)
	}
	if len(r.Events) != 0 {
		t.Fatal("duplicate delivered again")
	}
	if got := c.LazyPeers("o"); !slices.Equal(got, []membership.NodeID{"b"}) {
		t.Fatalf("lazy %v", got)
	}
	// The next message goes eagerly to a and c, lazily (at the tick) to b.
	c.Broadcast(2*ms, []byte("y"))
	if got, want := kinds(c.Ready()), []string{"a:gossip", "c:gossip"}; !slices.Equal(got, want) {
		t.Fatalf("after prune %v, want %v", got, want)
	}
}

func TestPruneMovesLinkToLazy(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a", "b")
	mustStep(t, c, 0, "a", pruneMsg("self"))
	c.Broadcast(ms, []byte("x"))
	if got, want := kinds(c.Ready()), []string{"b:gossip"}; !slices.Equal(got, want) {
		t.Fatalf("sends %v, want %v", got, want)
	}
	c.Tick(50 * ms)
	r := c.Ready()
	if got, want := kinds(r), []string{"a:ihave"}; !slices.Equal(got, want) {
		t.Fatalf("tick %v, want %v", got, want)
	}
}

// IHAVEs are batched: one message per lazy peer per tick, not one per payload.
func TestIHaveBatchedPerTick(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a")
	mustStep(t, c, 0, "a", pruneMsg("self"))
	for i := 0; i < 11; i++ {
		c.Broadcast(ms, []byte{byte(i)})
	}
	if n := len(c.Ready().Sends); n != 0 {
		t.Fatalf("%d sends before the tick", n)
	}
	c.Tick(50 * ms)
	r := c.Ready()
	if len(r.Sends) != 1 {
		t.Fatalf("%d sends at the tick, want 1", len(r.Sends))
	}
	if n := len(r.Sends[0].Msg.(*pb.Envelope).GetIhave().Entries); n != TestConfig().MaxIHaveBatch {
		t.Fatalf("first batch %d entries, want %d", n, TestConfig().MaxIHaveBatch)
	}
	c.Tick(100 * ms)
	r = c.Ready()
	if len(r.Sends) != 1 || len(r.Sends[0].Msg.(*pb.Envelope).GetIhave().Entries) != 3 {
		t.Fatalf("second batch %v", kinds(r))
	}
}

func TestLazyQueueBoundCounted(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a")
	mustStep(t, c, 0, "a", pruneMsg("self"))
	for i := 0; i < cfg.MaxLazyQueue+5; i++ {
		c.Broadcast(ms, nil)
	}
	if got := c.Stats().LazyDropped; got != 5 {
		t.Fatalf("LazyDropped %d, want 5", got)
	}
}

// "If the timer expires before the message is received, the node sends a
// GRAFT to the announcer and moves it to eagerPushPeers" (Section 3.4), and
// tries the next announcer when that one does not answer.
func TestMissingTimerGraftsThenNextAnnouncer(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b", "c")
	mustStep(t, c, 0, "a", pruneMsg("o"))
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, 0, "a", ihaveMsg("o", 1, 3))
	mustStep(t, c, 5*ms, "b", ihaveMsg("o", 1, 2))
	c.Tick(50 * ms)
	if s := c.Ready().Sends; len(s) != 0 {
		t.Fatalf("grafted before the timeout: %v", kinds(membership.Ready{Sends: s}))
	}
	now := 50 * ms
	var first []string
	for ; now < cfg.GraftTimeoutMax && first == nil; now += cfg.TickInterval {
		c.Tick(now)
		first = kinds(c.Ready())
	}
	if !slices.Equal(first, []string{"a:graft"}) {
		t.Fatalf("first timer %v, want a:graft", first)
	}
	if !slices.Contains(c.EagerPeers("o"), "a") {
		t.Fatal("grafted link not eager")
	}
	var second []string
	for start := now; now < start+cfg.GraftTimeoutMax && second == nil; now += cfg.TickInterval {
		c.Tick(now)
		second = kinds(c.Ready())
	}
	if !slices.Equal(second, []string{"b:graft"}) {
		t.Fatalf("second timer %v, want b:graft", second)
	}
	// b answers: delivered once; a's late answer is not a duplicate to
	// count, but its link is redundant now and pruned (pruneLateAnswer).
	mustStep(t, c, now, "b", gossipMsg("o", 1, 3, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 1 {
		t.Fatalf("delivered %d", len(d))
	}
	mustStep(t, c, now+ms, "a", gossipMsg("o", 1, 4, "p"))
	if got := kinds(c.Ready()); !slices.Equal(got, []string{"a:prune"}) {
		t.Fatalf("late answer to our own graft caused %v, want a:prune", got)
	}
	if c.Stats().RTTSamples != 1 {
		t.Fatalf("RTTSamples %d, want 1", c.Stats().RTTSamples)
	}
}

// The GRAFT timeout follows the measured RTT, within the Config bounds.
func TestTimeoutFollowsRTT(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a")
	before := c.timeout("a", 1)
	for i := 0; i < 20; i++ {
		c.rtts["a"] = c.rtts["a"]
		m := &missing{grafts: []graftSent{{peer: "a", at: 0}}}
		c.sampleRTT(10*ms, "a", m)
	}
	after := c.timeout("a", 1)
	if after >= before || after != cfg.GraftTimeoutMin {
		t.Fatalf("timeout %v before, %v after 10ms samples; want it to fall to the minimum %v", before, after, cfg.GraftTimeoutMin)
	}
	for i := 0; i < 50; i++ {
		c.sampleRTT(10*time.Second, "a", &missing{grafts: []graftSent{{peer: "a", at: 0}}})
	}
	if got := c.timeout("a", 1); got != cfg.GraftTimeoutMax {
		t.Fatalf("timeout %v with 10s RTT, want the maximum %v", got, cfg.GraftTimeoutMax)
	}
}

func TestGraftAnsweredFromCache(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a", "b")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 2, "p"))
	c.Ready()
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, ms, "b", graftMsg("o", 1))
	r := c.Ready()
	if len(r.Sends) != 1 || r.Sends[0].To != "b" {
		t.Fatalf("graft answer %v", kinds(r))
	}
	g := r.Sends[0].Msg.(*pb.Envelope).GetGossip()
	if g.Hops != 3 || string(g.Payload) != "p" {
		t.Fatalf("answer %v", g)
	}
	if !slices.Contains(c.EagerPeers("o"), "b") {
		t.Fatal("grafting peer not eager")
	}
	mustStep(t, c, ms, "b", graftMsg("o", 9))
	if c.Stats().GraftMisses != 1 {
		t.Fatal("graft for an unknown id not counted")
	}
}

// "if r < round - threshold: GRAFT the announcer, PRUNE the sender" (Section 3.8).
func TestOptimizationSwapsToShorterPath(t *testing.T) {
	cfg := TestConfig()
	cfg.OptimizationConfirm = 1 // the paper: swap on the first evidence
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 6, "p"))
	c.Ready()
	mustStep(t, c, ms, "b", ihaveMsg("o", 1, 2)) // via b: 3 hops, 3 fewer
	if got, want := kinds(c.Ready()), []string{"b:graft", "a:prune"}; !slices.Equal(got, want) {
		t.Fatalf("optimisation %v, want %v", got, want)
	}
	if !slices.Equal(c.EagerPeers("o"), []membership.NodeID{"b"}) {
		t.Fatalf("eager %v", c.EagerPeers("o"))
	}
	// One hop shorter is below the threshold of 2: nothing.
	c2 := newTestCore(t, cfg, "a", "b")
	mustStep(t, c2, 0, "b", pruneMsg("o"))
	mustStep(t, c2, 0, "a", gossipMsg("o", 1, 4, "p"))
	c2.Ready()
	mustStep(t, c2, ms, "b", ihaveMsg("o", 1, 2))
	if got := kinds(c2.Ready()); len(got) != 0 {
		t.Fatalf("below threshold %v", got)
	}
}

// With OptimizationConfirm 2 the swap waits for a second consecutive
// announcement with a shorter path; one without the advantage (closer to
// another origin's sender, farther from this one) resets the evidence, so a
// shared tree serving many senders does not oscillate.
func TestOptimizationHysteresis(t *testing.T) {
	c, step := hysteresisCore(t, false) // the shared tree: evidence from every origin
	if got := step("o", 1, 2); len(got) != 0 {
		t.Fatalf("swapped on the first evidence: %v", got)
	}
	if got := step("q", 1, 7); len(got) != 0 {
		t.Fatalf("swapped although b is farther from q: %v", got)
	}
	if got := step("o", 2, 2); len(got) != 0 {
		t.Fatalf("swapped although q's message reset the evidence: %v", got)
	}
	mustStep(t, c, 2*ms, "b", ihaveMsg("o", 2, 2)) // a repeat is no new evidence
	if got := kinds(c.Ready()); len(got) != 0 {
		t.Fatalf("a repeated announcement counted: %v", got)
	}
	if got, want := step("q", 2, 2), []string{"b:graft", "a:prune"}; !slices.Equal(got, want) {
		t.Fatalf("second consecutive evidence (another origin): %v, want %v", got, want)
	}
}

// hysteresisCore is a core with OptimizationConfirm 2, neighbours a
// (eager) and b (lazy in origin o's tree), and step, which delivers a
// message of origin from a at 6 hops, then has b announce it at viaB hops,
// and returns what the core sent.
func hysteresisCore(t *testing.T, perOrigin bool) (*Core, func(origin membership.NodeID, seq uint64, viaB uint32) []string) {
	cfg := TestConfig()
	cfg.PerOriginTrees = perOrigin
	cfg.OptimizationConfirm = 2
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	return c, func(origin membership.NodeID, seq uint64, viaB uint32) []string {
		mustStep(t, c, 0, "a", gossipMsg(origin, seq, 6, "p"))
		c.Ready()
		mustStep(t, c, ms, "b", ihaveMsg(origin, seq, viaB))
		return kinds(c.Ready())
	}
}

// With per-origin trees an origin that keeps sending gathers evidence in
// its own tree: another origin's announcement does not reset it, and the
// swap reshapes that origin's tree, not the template.
func TestOptimizationHysteresisPerOrigin(t *testing.T) {
	c, step := hysteresisCore(t, true)
	if got := step("o", 1, 2); len(got) != 0 { // o is young: the template's evidence
		t.Fatalf("swapped on the first evidence: %v", got)
	}
	if got := step("o", 2, 2); len(got) != 0 { // o's own tree: its first evidence
		t.Fatalf("swapped on o's first evidence in its own tree: %v", got)
	}
	if got := step("q", 1, 7); len(got) != 0 {
		t.Fatalf("swapped although b is farther from q: %v", got)
	}
	if got, want := step("o", 3, 2), []string{"b:graft", "a:prune"}; !slices.Equal(got, want) {
		t.Fatalf("o's second consecutive evidence: %v, want %v (q's announcement must not reset it)", got, want)
	}
	if !slices.Equal(c.EagerPeers("o"), []membership.NodeID{"b"}) || !slices.Equal(c.EagerPeers("fresh"), []membership.NodeID{"a"}) {
		t.Fatalf("after o's swap: o eager %v, template eager %v; want [b], [a]", c.EagerPeers("o"), c.EagerPeers("fresh"))
	}
}

func TestPerOriginTreesAreIndependent(t *testing.T) {
	cfg := TestConfig()
	cfg.PerOriginTrees = true
	c := newTestCore(t, cfg, "a", "b")
	c.trees.get("o2")
	mustStep(t, c, 0, "a", pruneMsg("o1"))
	if !slices.Equal(c.EagerPeers("o1"), []membership.NodeID{"b"}) {
		t.Fatalf("o1 eager %v", c.EagerPeers("o1"))
	}
	if got := c.EagerPeers("o2"); len(got) != 2 {
		t.Fatalf("o2 eager %v", got)
	}
	if got := c.EagerPeers("o3"); len(got) != 1 { // not forked yet: the shared template
		t.Fatalf("o3 eager %v", got)
	}
	mustStep(t, c, 0, "b", pruneMsg("o2"))
	if !slices.Equal(c.EagerPeers("o1"), []membership.NodeID{"b"}) || !slices.Equal(c.EagerPeers("o2"), []membership.NodeID{"a"}) {
		t.Fatalf("o1 %v o2 %v", c.EagerPeers("o1"), c.EagerPeers("o2"))
	}
	for i := 0; i < 3*cfg.MaxOriginTrees; i++ {
		c.trees.get(membership.NodeID("x" + string(rune('a'+i%26)) + strings.Repeat("y", i/26)))
	}
	if len(c.trees.byOrigin) > cfg.MaxOriginTrees || c.Stats().TreesEvicted == 0 {
		t.Fatalf("%d trees kept, %d evicted", len(c.trees.byOrigin), c.Stats().TreesEvicted)
	}
}

// With per-origin trees the template learns only from young origins (at
// most one message carried): a PRUNE for an origin's first message shapes
// it, one for an origin that keeps sending reshapes that origin's tree
// alone, and a new origin forks what the young ones left.
func TestPerOriginTemplateLearnsFromYoungOrigins(t *testing.T) {
	cfg := TestConfig()
	cfg.PerOriginTrees = true
	c := newTestCore(t, cfg, "a", "b", "c")
	mustStep(t, c, 0, "a", gossipMsg("o1", 1, 1, "x"))
	mustStep(t, c, ms, "b", pruneMsg("o1")) // o1 is young: template too
	if got := c.EagerPeers("fresh"); !slices.Equal(got, []membership.NodeID{"a", "c"}) {
		t.Fatalf("template after a young origin's prune: eager %v, want [a c]", got)
	}
	mustStep(t, c, 2*ms, "a", gossipMsg("o1", 2, 1, "y"))
	mustStep(t, c, 3*ms, "c", pruneMsg("o1")) // o1 has carried two: its tree only
	if got := c.EagerPeers("o1"); !slices.Equal(got, []membership.NodeID{"a"}) {
		t.Fatalf("o1 eager %v, want [a]", got)
	}
	if got := c.EagerPeers("fresh"); !slices.Equal(got, []membership.NodeID{"a", "c"}) {
		t.Fatalf("a mature origin's prune reached the template: eager %v, want [a c]", got)
	}
	// A new origin starts from the template.
	mustStep(t, c, 4*ms, "a", gossipMsg("o2", 1, 1, "z"))
	if got := c.EagerPeers("o2"); !slices.Equal(got, []membership.NodeID{"a", "c"}) {
		t.Fatalf("o2 forked %v, want [a c]", got)
	}
}

func TestNeighborDownForgetsPeer(t *testing.T) {
	c := newTestCore(t, TestConfig(), "a", "b")
	mustStep(t, c, 0, "a", pruneMsg("self"))
	c.Broadcast(0, nil)
	c.Ready()
	c.NeighborDown(ms, membership.Node{ID: "a"})
	c.Tick(50 * ms)
	if got := kinds(c.Ready()); len(got) != 0 {
		t.Fatalf("sent to a departed neighbour: %v", got)
	}
	if c.Stats().LazyDropped != 1 {
		t.Fatalf("queued IHAVE drop not counted")
	}
	c.NeighborUp(2*ms, membership.Node{ID: "a"})
	// With LazyNewLinks (the default) a returning neighbour starts lazy: b
	// is still eager and traffic has flowed. Per-origin trees (the
	// default) count it in the node's own tree and in the template.
	if !slices.Equal(c.LazyPeers("self"), []membership.NodeID{"a"}) || c.Stats().LazyNewLinks != 2 {
		t.Fatalf("returning neighbour: lazy %v, LazyNewLinks %d; want [a], 2", c.LazyPeers("self"), c.Stats().LazyNewLinks)
	}
}

// Without LazyNewLinks a returning neighbour starts eager, as in the paper
// ("new neighbours are added to the eagerPushPeers set").
func TestNewLinkEagerWithoutLazyNewLinks(t *testing.T) {
	cfg := TestConfig()
	cfg.LazyNewLinks = false
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "a", pruneMsg("self"))
	c.Broadcast(0, nil)
	c.Ready()
	c.NeighborDown(ms, membership.Node{ID: "a"})
	c.NeighborUp(2*ms, membership.Node{ID: "a"})
	if !slices.Equal(c.EagerPeers("self"), []membership.NodeID{"a", "b"}) {
		t.Fatalf("a returning neighbour is not eager: %v", c.EagerPeers("self"))
	}
}

// A new link starts lazy only in a tree that has carried traffic and has
// another eager link; a lazy new link that announces a missing message is
// grafted.
func TestLazyNewLinkGraftedWhenMessageMissing(t *testing.T) {
	cfg := TestConfig()
	cfg.AnnounceRecent = 0 // the IHAVE of recent messages to n has its own test
	c := newTestCore(t, cfg, "a")
	if c.NeighborUp(0, membership.Node{ID: "b"}); len(c.LazyPeers("o")) != 0 {
		t.Fatal("a link before any traffic started lazy")
	}
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "p"))
	c.Ready()
	c.NeighborUp(ms, membership.Node{ID: "n"})
	if !slices.Equal(c.LazyPeers("o"), []membership.NodeID{"n"}) {
		t.Fatalf("lazy %v, want [n]", c.LazyPeers("o"))
	}
	// a and b are gone: n is the only neighbour, lazy, and announces seq 2.
	c.NeighborDown(2*ms, membership.Node{ID: "a"})
	c.NeighborDown(2*ms, membership.Node{ID: "b"})
	mustStep(t, c, 3*ms, "n", ihaveMsg("o", 2, 1))
	var got []string
	for now := 50 * ms; now < cfg.GraftTimeoutMax && got == nil; now += cfg.TickInterval {
		c.Tick(now)
		got = kinds(c.Ready())
	}
	if !slices.Equal(got, []string{"n:graft"}) || !slices.Equal(c.EagerPeers("o"), []membership.NodeID{"n"}) {
		t.Fatalf("sent %v, eager %v; want n:graft and n eager", got, c.EagerPeers("o"))
	}
}

// A node whose parent went down takes new links lazy too, and grafts the
// next message at the first tick after a new neighbour announces it; a
// root left without another eager link takes a new link eager.
func TestOrphanTakesNewLinksLazy(t *testing.T) {
	cfg := TestConfig()
	cfg.AnnounceRecent, cfg.CatchUpSpan = 0, 0
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "p"))
	c.Ready()
	c.NeighborDown(ms, membership.Node{ID: "a"}) // the parent
	c.NeighborUp(2*ms, membership.Node{ID: "n"})
	if !slices.Equal(c.LazyPeers("o"), []membership.NodeID{"n"}) {
		t.Fatalf("orphan: lazy %v, want [n]", c.LazyPeers("o"))
	}
	mustStep(t, c, 3*ms, "n", ihaveMsg("o", 2, 1))
	c.Tick(cfg.TickInterval)
	if got := kinds(c.Ready()); !slices.Equal(got, []string{"n:graft"}) {
		t.Fatalf("orphan sent %v at the first tick, want n:graft", got)
	}
	// A root whose only eager link went down.
	r := newTestCore(t, cfg, "a")
	r.Broadcast(0, []byte("x"))
	r.Ready()
	r.NeighborDown(ms, membership.Node{ID: "a"})
	r.NeighborUp(2*ms, membership.Node{ID: "n"})
	if got := r.LazyPeers("self"); len(got) != 0 {
		t.Fatalf("root without eager links: lazy %v, want none", got)
	}
}

// The per-origin floors are bounded; the oldest raised is forgotten first.
func TestFloorsBounded(t *testing.T) {
	cfg := TestConfig()
	cfg.CacheSize = 1
	c := newTestCore(t, cfg, "a")
	for i := 0; i < 3*cfg.MaxFloors; i++ {
		mustStep(t, c, 0, "a", gossipMsg(membership.NodeID(fmt.Sprintf("o%d", i)), 1, 1, "p"))
		c.Ready()
	}
	if len(c.cache.floor) > cfg.MaxFloors {
		t.Fatalf("%d floors kept, bound %d", len(c.cache.floor), cfg.MaxFloors)
	}
	if got, want := c.Stats().FloorsEvicted, uint64(3*cfg.MaxFloors-1-cfg.MaxFloors); got != want {
		t.Fatalf("FloorsEvicted %d, want %d", got, want)
	}
	// The newest forgotten origin still has its floor: no second delivery.
	last := membership.NodeID(fmt.Sprintf("o%d", 3*cfg.MaxFloors-2))
	mustStep(t, c, 0, "a", gossipMsg(last, 1, 1, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 0 {
		t.Fatal("delivered twice although the floor was kept")
	}
}

// Tree lag is measured from normal traffic (a payload after its IHAVE) and
// the first timer waits at least that long.
func TestFirstTimerFollowsTreeLag(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b")
	base := c.firstTimeout("b")
	for i := uint64(1); i <= 20; i++ {
		now := time.Duration(i) * time.Second
		mustStep(t, c, now, "b", ihaveMsg("o", i, 1))
		mustStep(t, c, now+700*ms, "a", gossipMsg("o", i, 3, "p"))
		c.Ready()
	}
	if c.Stats().LagSamples != 20 {
		t.Fatalf("LagSamples %d, want 20", c.Stats().LagSamples)
	}
	if got := c.firstTimeout("b"); got < 700*ms || got <= base {
		t.Fatalf("first timeout %v (before %v) after 700ms lags", got, base)
	}
}

// A Tick long after the previous one (the node was descheduled) pushes
// the timers back, so payloads queued meanwhile get processed first.
func TestStalledTickDefersTimers(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	c.Tick(0)
	mustStep(t, c, ms, "b", ihaveMsg("o", 1, 1))
	c.Tick(5 * time.Second) // far beyond every timeout: a stall
	if got := kinds(c.Ready()); len(got) != 0 || c.Stats().Stalls != 1 {
		t.Fatalf("after a stall sent %v, Stalls %d", got, c.Stats().Stalls)
	}
	mustStep(t, c, 5*time.Second, "a", gossipMsg("o", 1, 2, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 1 || c.Stats().GraftsSent != 0 {
		t.Fatalf("delivered %d, grafts %d", len(d), c.Stats().GraftsSent)
	}
}

// A message is delivered at most once even after its cache entry expired.
func TestExactlyOnceAfterEviction(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "p"))
	c.Ready()
	c.Tick(cfg.CacheTTL + time.Second)
	c.Ready()
	if c.cache.len() != 0 {
		t.Fatal("entry not expired")
	}
	mustStep(t, c, cfg.CacheTTL+2*time.Second, "a", gossipMsg("o", 1, 1, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 0 {
		t.Fatal("delivered twice after eviction")
	}
	if c.Stats().StaleDropped != 1 {
		t.Fatal("stale drop not counted")
	}
}

func TestStepRejectsInvalidWithoutChange(t *testing.T) {
	cfg := TestConfig()
	bad := map[string]*pb.Envelope{
		"empty":         {},
		"nil gossip":    {Body: &pb.Envelope_Gossip{}},
		"no id":         {Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{Hops: 1}}},
		"no origin":     gossipMsg("", 1, 1, "p"),
		"seq 0":         gossipMsg("o", 0, 1, "p"),
		"hops 0":        gossipMsg("o", 1, 0, "p"),
		"oversize":      gossipMsg("o", 1, 1, strings.Repeat("x", cfg.MaxPayload+1)),
		"empty ihave":   {Body: &pb.Envelope_Ihave{Ihave: &pb.IHave{}}},
		"big ihave":     {Body: &pb.Envelope_Ihave{Ihave: &pb.IHave{Entries: make([]*pb.Announcement, cfg.MaxIHaveBatch+1)}}},
		"ihave bad id":  {Body: &pb.Envelope_Ihave{Ihave: &pb.IHave{Entries: []*pb.Announcement{ihaveMsg("o", 1, 1).GetIhave().Entries[0], {}}}}},
		"empty graft":   {Body: &pb.Envelope_Graft{Graft: &pb.Graft{}}},
		"big graft":     {Body: &pb.Envelope_Graft{Graft: &pb.Graft{Origins: make([][]byte, cfg.MaxGraftBatch+1)}}},
		"empty prune":   {Body: &pb.Envelope_Prune{Prune: &pb.Prune{}}},
		"prune blank":   {Body: &pb.Envelope_Prune{Prune: &pb.Prune{Origins: [][]byte{nil}}}},
		"big hops":      gossipMsg("o", 1, uint32(cfg.MaxHops+1), "p"),
		"graft bad ids": {Body: &pb.Envelope_Graft{Graft: &pb.Graft{Ids: []*pb.MessageID{{Origin: []byte("o")}}}}},
	}
	names := make([]string, 0, len(bad))
	for n := range bad {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		c := newTestCore(t, cfg, "a")
		before := c.Stats()
		if err := c.Step(0, "a", bad[name]); err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		after := c.Stats()
		after.Rejected--
		if after != before || c.Pending() != 0 || len(c.missing) != 0 || c.cache.len() != 0 {
			t.Errorf("%s: state changed", name)
		}
	}
	c := newTestCore(t, cfg, "a")
	if err := c.Step(0, "self", gossipMsg("o", 1, 1, "")); err == nil {
		t.Error("message from self accepted")
	}
	if err := c.Step(0, "a", nil); err == nil {
		t.Error("nil message accepted")
	}
	if _, err := c.Broadcast(0, make([]byte, cfg.MaxPayload+1)); err == nil {
		t.Error("oversize broadcast accepted")
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"TickInterval", func(c *Config) { c.TickInterval = 0 }},
		{"GraftTimeoutMax", func(c *Config) { c.GraftTimeoutMax = c.GraftTimeoutMin - 1 }},
		{"IHaveWaitRTTs", func(c *Config) { c.IHaveWaitRTTs = 0.5 }},
		{"MaxLazyQueue", func(c *Config) { c.MaxLazyQueue = 0 }},
		{"OptimizationThreshold", func(c *Config) { c.OptimizationThreshold = -1 }},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
	for _, cfg := range []Config{DefaultConfig(), WANConfig(), TestConfig()} {
		if err := cfg.Validate(); err != nil {
			t.Error(err)
		}
	}
}

// Unanswered GRAFTs back off: each retry waits about twice as long as the
// one before (up to GraftTimeoutMax), so MaxGraftAttempts spans seconds of a
// slow peer, not one burst; then the message is given up and counted.
func TestGraftRetriesBackOff(t *testing.T) {
	cfg := TestConfig()
	cfg.GraftTimeoutMin = 100 * ms
	cfg.GraftTimeoutMax = 2 * time.Second
	cfg.MaxGraftAttempts = 6
	c := newTestCore(t, cfg, "a")
	mustStep(t, c, 0, "a", pruneMsg("o"))
	mustStep(t, c, 0, "a", ihaveMsg("o", 1, 3))
	var at []time.Duration
	now := time.Duration(0)
	for ; now < 30*time.Second && c.Stats().MissingGaveUp == 0; now += cfg.TickInterval {
		c.Tick(now)
		for _, k := range kinds(c.Ready()) {
			if k == "a:graft" {
				at = append(at, now)
			}
		}
	}
	if len(at) != cfg.MaxGraftAttempts {
		t.Fatalf("%d GRAFTs before giving up, want %d (at %v)", len(at), cfg.MaxGraftAttempts, at)
	}
	if c.Stats().MissingGaveUp != 1 {
		t.Fatalf("MissingGaveUp %d, want 1", c.Stats().MissingGaveUp)
	}
	for i := 2; i < len(at); i++ {
		prev, gap := at[i-1]-at[i-2], at[i]-at[i-1]
		if gap < cfg.GraftTimeoutMax && gap < prev*3/2 {
			t.Fatalf("GRAFT gaps %v then %v: want each at least 1.5x the one before until %v (times %v)", prev, gap, cfg.GraftTimeoutMax, at)
		}
		if gap > cfg.GraftTimeoutMax+cfg.TickInterval {
			t.Fatalf("GRAFT gap %v beyond GraftTimeoutMax %v", gap, cfg.GraftTimeoutMax)
		}
	}
}

// A message whose announcers all went down is asked of a neighbour that is
// still up (it has most likely received it by now) instead of being given up.
func TestMissingAskedOfRemainingNeighbourWhenAnnouncersGone(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "a", pruneMsg("o"))
	mustStep(t, c, 0, "a", ihaveMsg("o", 1, 3))
	c.NeighborDown(ms, membership.Node{ID: "a"})
	var got []string
	for now := 2 * ms; now < 2*cfg.GraftTimeoutMax && got == nil; now += cfg.TickInterval {
		c.Tick(now)
		got = kinds(c.Ready())
	}
	if !slices.Equal(got, []string{"b:graft"}) {
		t.Fatalf("after the only announcer went down: %v, want b:graft", got)
	}
	mustStep(t, c, 3*cfg.GraftTimeoutMax, "b", gossipMsg("o", 1, 4, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 1 || !d[0].Repaired {
		t.Fatalf("delivered %+v, want one delivery marked Repaired", d)
	}
	mustStep(t, c, 3*cfg.GraftTimeoutMax, "b", gossipMsg("o", 2, 4, "q"))
	if d := deliveredIn(c.Ready()); len(d) != 1 || d[0].Repaired {
		t.Fatalf("pushed copy delivered %+v, want one delivery not marked Repaired", d)
	}
	if s := c.Stats(); s.MissingGaveUp != 0 {
		t.Fatalf("MissingGaveUp %d, want 0", s.MissingGaveUp)
	}
}

// The tree-lag estimate forgets: after a burst of slow deliveries and then
// quiet Ticks, the first timer is back near its RTT-based floor instead of
// staying at the slow value (samples are rare once the tree is fast).
func TestTreeLagForgets(t *testing.T) {
	cfg := TestConfig()
	cfg.TreeLagHalfLife = 2 * time.Second
	c := newTestCore(t, cfg, "a", "b")
	base := c.firstTimeout("b")
	now := time.Duration(0)
	for i := uint64(1); i <= 5; i++ {
		now = time.Duration(i) * time.Second
		c.Tick(now)
		mustStep(t, c, now, "b", ihaveMsg("o", i, 1))
		mustStep(t, c, now+900*ms, "a", gossipMsg("o", i, 3, "p"))
		c.Ready()
	}
	slow := c.firstTimeout("b")
	if slow < 900*ms {
		t.Fatalf("first timeout %v after 900ms lags, want at least 900ms", slow)
	}
	for end := now + 20*time.Second; now < end; now += cfg.TickInterval {
		c.Tick(now)
		c.Ready()
	}
	if got := c.firstTimeout("b"); got > base*9/8+cfg.TickInterval {
		t.Fatalf("first timeout %v after 20s without lag samples, want back near %v (was %v)", got, base, slow)
	}
}

// An IHAVE from a peer that is not a neighbour yet (the overlay link is
// known at its end first) is remembered, and the message is grafted from
// it when no neighbour can be asked, without making it part of the tree.
func TestIHaveFromNonNeighbourGrafted(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg)
	mustStep(t, c, 0, "x", ihaveMsg("o", 1, 2))
	var got []string
	now := time.Duration(0)
	for ; now < 2*cfg.GraftTimeoutMax && got == nil; now += cfg.TickInterval {
		c.Tick(now)
		got = kinds(c.Ready())
	}
	if !slices.Equal(got, []string{"x:graft"}) {
		t.Fatalf("got %v, want x:graft", got)
	}
	if e := c.EagerPeers("o"); len(e) != 0 {
		t.Fatalf("eager peers %v after grafting a non-neighbour, want none", e)
	}
	mustStep(t, c, now, "x", gossipMsg("o", 1, 3, "p"))
	if d := deliveredIn(c.Ready()); len(d) != 1 || !d[0].Repaired {
		t.Fatalf("delivered %+v, want one repaired delivery", d)
	}
}

// OptimizationInterval spaces a node's parent swaps: evidence that would
// swap again within the interval is ignored, and counts after it.
func TestOptimizationInterval(t *testing.T) {
	cfg := TestConfig()
	cfg.OptimizationConfirm = 1
	cfg.OptimizationInterval = 5 * time.Second
	c := newTestCore(t, cfg, "a", "b", "c")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	mustStep(t, c, 0, "c", pruneMsg("o"))
	swapAt := func(now time.Duration, seq uint64, via membership.NodeID) []string {
		mustStep(t, c, now, "a", gossipMsg("o", seq, 8, "p"))
		c.Ready()
		mustStep(t, c, now+ms, via, ihaveMsg("o", seq, 2))
		return kinds(c.Ready())
	}
	if got := swapAt(0, 1, "b"); !slices.Equal(got, []string{"b:graft", "a:prune"}) {
		t.Fatalf("first swap %v", got)
	}
	// a is lazy now; make it eager again so that it delivers at 8 hops.
	mustStep(t, c, time.Second, "a", graftMsg("o", 1))
	c.Ready()
	if got := swapAt(2*time.Second, 2, "c"); len(got) != 0 {
		t.Fatalf("swapped again 2s after the last swap: %v", got)
	}
	if got := swapAt(6*time.Second, 3, "c"); !slices.Contains(got, "c:graft") {
		t.Fatalf("no swap 6s after the last one: %v", got)
	}
}

// An idle core reports it can be ticked seldom; once busy again, Resume
// marks the skipped Ticks as chosen, so the next Tick is no stall and the
// new timer runs its normal course.
func TestBusyAndResume(t *testing.T) {
	cfg := TestConfig()
	c := newTestCore(t, cfg, "a", "b")
	mustStep(t, c, 0, "b", pruneMsg("o"))
	c.Tick(0)
	if c.Busy() {
		t.Fatal("busy with nothing queued or missing")
	}
	mustStep(t, c, time.Second, "b", ihaveMsg("o", 1, 1))
	if !c.Busy() {
		t.Fatal("not busy with a missing message")
	}
	c.Resume(time.Second)
	var got []string
	now := time.Second + cfg.TickInterval
	for ; now < 4*time.Second && got == nil; now += cfg.TickInterval {
		c.Tick(now)
		got = kinds(c.Ready())
	}
	if !slices.Equal(got, []string{"b:graft"}) || c.Stats().Stalls != 0 {
		t.Fatalf("after Resume: %v, Stalls %d; want b:graft within the normal timeout and no stall", got, c.Stats().Stalls)
	}
	if now-time.Second > cfg.GraftTimeoutMax {
		t.Fatalf("GRAFT %v after the IHAVE, beyond GraftTimeoutMax", now-time.Second)
	}
}

// A new neighbour is told of the messages delivered in the last
// AnnounceRecent but at least MaxTreeLag ago (oldest first), and grafts
// what it lacks: a node cut off while a message went by still gets it.
func TestNewNeighbourToldOfRecentMessages(t *testing.T) {
	cfg := TestConfig()
	cfg.AnnounceRecent = 5 * time.Second
	c := newTestCore(t, cfg, "a")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "old"))
	mustStep(t, c, 6*time.Second, "a", gossipMsg("o", 2, 1, "p"))
	mustStep(t, c, 7*time.Second, "a", gossipMsg("o", 3, 2, "q"))
	mustStep(t, c, 9*time.Second, "a", gossipMsg("o", 4, 2, "r")) // younger than MaxTreeLag (2 s)
	c.Ready()
	c.NeighborUp(10*time.Second, membership.Node{ID: "n"})
	c.Tick(10*time.Second + cfg.TickInterval)
	var ann []uint64
	for _, s := range c.Ready().Sends {
		if ih := s.Msg.(*pb.Envelope).GetIhave(); ih != nil && s.To == "n" {
			for _, e := range ih.Entries {
				ann = append(ann, e.Id.Seq)
			}
		}
	}
	if !slices.Equal(ann, []uint64{2, 3}) {
		t.Fatalf("new neighbour told of %v, want [2 3] (seq 1 is older than AnnounceRecent, seq 4 younger than MaxTreeLag)", ann)
	}
	if c.Stats().RecentAnnounced != 2 {
		t.Fatalf("RecentAnnounced %d, want 2", c.Stats().RecentAnnounced)
	}
	// The other side: a node that missed seq 2 and hears of it from a new
	// neighbour grafts it.
	d := newTestCore(t, cfg)
	d.NeighborUp(10*time.Second, membership.Node{ID: "x"})
	mustStep(t, d, 10*time.Second, "x", ihaveMsg("o", 2, 1))
	var got []string
	for now := 10 * time.Second; now < 13*time.Second && got == nil; now += cfg.TickInterval {
		d.Tick(now)
		got = kinds(d.Ready())
	}
	if !slices.Equal(got, []string{"x:graft"}) {
		t.Fatalf("node told of a missed message sent %v, want x:graft", got)
	}
}

// A neighbour that comes up is told, MaxTreeLag later, of the messages
// delivered in the CatchUpSpan before it came up, except those it sent;
// a neighbour that went down meanwhile is not.
func TestNewNeighbourCaughtUpAfterMaxTreeLag(t *testing.T) {
	cfg := TestConfig()
	cfg.CatchUpSpan = time.Second
	c := newTestCore(t, cfg, "a")
	mustStep(t, c, 0, "a", gossipMsg("o", 1, 1, "old"))
	mustStep(t, c, 9500*time.Millisecond, "a", gossipMsg("o", 2, 1, "p"))
	mustStep(t, c, 9600*time.Millisecond, "n", gossipMsg("o", 3, 2, "from n")) // not a neighbour yet
	mustStep(t, c, 9700*time.Millisecond, "a", gossipMsg("o", 4, 2, "q"))
	c.Ready()
	up := 10 * time.Second
	c.NeighborUp(up, membership.Node{ID: "n"})
	c.NeighborUp(up, membership.Node{ID: "m"})
	if !c.Busy() {
		t.Fatal("a catch-up is pending but the core says it is idle")
	}
	told := func(now time.Duration) []uint64 {
		c.Tick(now)
		var ann []uint64
		for _, s := range c.Ready().Sends {
			if ih := s.Msg.(*pb.Envelope).GetIhave(); ih != nil && s.To == "n" {
				for _, e := range ih.Entries {
					ann = append(ann, e.Id.Seq)
				}
			}
		}
		return ann
	}
	if ann := told(up + cfg.MaxTreeLag - cfg.TickInterval); ann != nil {
		t.Fatalf("new neighbour told of %v before MaxTreeLag", ann)
	}
	c.NeighborDown(up+cfg.MaxTreeLag-cfg.TickInterval, membership.Node{ID: "m"})
	if ann := told(up + cfg.MaxTreeLag); !slices.Equal(ann, []uint64{2, 4}) {
		t.Fatalf("new neighbour told of %v, want [2 4] (seq 1 is older than CatchUpSpan, seq 3 came from it)", ann)
	}
	if got := c.Stats().CatchUpAnnounced; got != 2 {
		t.Fatalf("CatchUpAnnounced %d, want 2 (none for m, which went down)", got)
	}
	if c.Busy() {
		t.Fatal("core still busy after the catch-up")
	}
}
