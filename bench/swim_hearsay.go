package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// metaKey is the metadata key the dissemination trials set.
const metaKey = "bench"

// swimCounter is a libp2p bandwidth Reporter that counts the bytes and
// writes the host's streams send, exactly and without libp2p's meters
// (whose totals advance once a second on a shared sweeper).
type swimCounter struct {
	swimBytes, swimWrites, allBytes atomic.Uint64
}

var _ metrics.Reporter = (*swimCounter)(nil)

func (c *swimCounter) LogSentMessageStream(n int64, p protocol.ID, _ peer.ID) {
	c.allBytes.Add(uint64(n))
	if p == protocol.ID(swim.Protocol) {
		c.swimBytes.Add(uint64(n))
		c.swimWrites.Add(1)
	}
}
func (c *swimCounter) LogSentMessage(int64)                                  {}
func (c *swimCounter) LogRecvMessage(int64)                                  {}
func (c *swimCounter) LogRecvMessageStream(int64, protocol.ID, peer.ID)      {}
func (c *swimCounter) GetBandwidthForPeer(peer.ID) metrics.Stats             { return metrics.Stats{} }
func (c *swimCounter) GetBandwidthForProtocol(protocol.ID) metrics.Stats     { return metrics.Stats{} }
func (c *swimCounter) GetBandwidthTotals() metrics.Stats                     { return metrics.Stats{} }
func (c *swimCounter) GetBandwidthByPeer() map[peer.ID]metrics.Stats         { return nil }
func (c *swimCounter) GetBandwidthByProtocol() map[protocol.ID]metrics.Stats { return nil }
func (c *swimCounter) Reset()                                                {}
func (c *swimCounter) TrimIdle(time.Time)                                    {}

// swimRecorder keeps what every agent's OnMember reported.
type swimRecorder struct {
	mu          sync.Mutex
	idx         map[membership.NodeID]int
	alive       [][]bool // observer x member
	last        [][]membership.MemberChange
	aliveCount  []int
	crashed     []bool
	deadAt      map[int]map[int]time.Time    // victim -> observer -> when
	metaAt      map[string]map[int]time.Time // meta value -> observer -> when
	left        int                          // crashed members reported left
	falseD      int                          // members declared failed that were not crashed
	alreadyDead int                          // live members holding a victim dead when it crashed
}

func newSwimRecorder(n int) *swimRecorder {
	r := &swimRecorder{idx: map[membership.NodeID]int{}, alive: make([][]bool, n), aliveCount: make([]int, n),
		crashed: make([]bool, n), deadAt: map[int]map[int]time.Time{}, metaAt: map[string]map[int]time.Time{}}
	r.last = make([][]membership.MemberChange, n)
	for i := range r.alive {
		r.alive[i] = make([]bool, n)
		r.last[i] = make([]membership.MemberChange, n)
	}
	return r
}

func (r *swimRecorder) setAlive(obs, m int, alive bool) {
	if r.alive[obs][m] == alive {
		return
	}
	r.alive[obs][m] = alive
	if alive {
		r.aliveCount[obs]++
	} else {
		r.aliveCount[obs]--
	}
}

func (r *swimRecorder) event(obs int, e membership.MemberEvent) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.idx[e.Node.ID]
	if !ok || m == obs {
		return
	}
	r.record(obs, m, e.Change, e.Meta[metaKey], now)
}

// record takes what observer obs reported about member m at now (meta:
// the value of metaKey it carried, if any); r.mu is held.
func (r *swimRecorder) record(obs, m int, change membership.MemberChange, meta string, now time.Time) {
	r.last[obs][m] = change
	switch change {
	case membership.MemberJoined, membership.MemberAlive, membership.MemberUpdated:
		r.setAlive(obs, m, true)
	case membership.MemberSuspect:
		r.setAlive(obs, m, false)
	case membership.MemberFailed:
		r.setAlive(obs, m, false)
		if !r.crashed[m] {
			r.falseD++
			return
		}
		firstAt(r.deadAt, m, obs, now)
		return
	case membership.MemberLeft:
		r.setAlive(obs, m, false)
		if r.crashed[m] {
			r.left++
		}
		return
	}
	if meta != "" {
		firstAt(r.metaAt, meta, obs, now)
	}
}

func firstAt[K comparable](m map[K]map[int]time.Time, k K, obs int, now time.Time) {
	at := m[k]
	if at == nil {
		at = map[int]time.Time{}
		m[k] = at
	}
	if _, ok := at[obs]; !ok {
		at[obs] = now
	}
}

// missing describes the live members that have not declared victim v
// failed: how many, by the last change they reported about it.
func (r *swimRecorder) missing(v int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	by := map[string]int{}
	for obs := range r.last {
		if obs == v || r.crashed[obs] {
			continue
		}
		if _, ok := r.deadAt[v][obs]; !ok {
			by[r.last[obs][v].String()]++
		}
	}
	return fmt.Sprintf("member %d: not failed at %v", v, by)
}

// viewsAlive counts the live members other than v that do not hold v
// failed or left.
func (r *swimRecorder) viewsAlive(v int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for obs := range r.last {
		if obs == v || r.crashed[obs] {
			continue
		}
		if c := r.last[obs][v]; c != membership.MemberFailed && c != membership.MemberLeft {
			n++
		} else {
			r.alreadyDead++
		}
	}
	return n
}

// alivePct is the mean share of the others each member sees alive.
func (r *swimRecorder) alivePct() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := 0
	for _, c := range r.aliveCount {
		sum += c
	}
	n := len(r.aliveCount)
	return 100 * float64(sum) / float64(n*(n-1))
}

func (r *swimRecorder) allAlive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.aliveCount {
		if c != len(r.aliveCount)-1 {
			return false
		}
	}
	return true
}

type swimNode struct {
	a      *agent.Agent
	bw     *swimCounter
	cancel context.CancelFunc
	done   chan error
}

func runHearsaySwim(ctx context.Context, cfg SwimConfig, n int, progress exp.Progress) (*swimResult, error) {
	what := fmt.Sprintf("hearsay N=%d: ", n)
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	dir, err := os.MkdirTemp("", "hearsay-bench-swim-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rec := newSwimRecorder(n)
	nodes := make([]*swimNode, n)
	defer func() {
		// All at once: each agent's leave can wait seconds on its neighbours.
		for _, nd := range nodes {
			if nd != nil && nd.cancel != nil {
				nd.cancel()
			}
		}
		for _, nd := range nodes {
			if nd != nil && nd.cancel != nil {
				<-nd.done
			}
		}
	}()
	for i := range nodes {
		ac := agent.DefaultConfig()
		ac.Datastore = agent.DatastoreMemory // 200 pebble stores in one process exhaust file descriptors
		ac.DataDir = filepath.Join(dir, fmt.Sprintf("n%03d", i))
		ac.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		ac.RPCListen = ""
		ac.Log = cfg.Log
		ac.Swim.ProbeInterval = cfg.ProbeInterval
		ac.Swim.ProbeTimeout = cfg.ProbeTimeout
		nd := &swimNode{bw: &swimCounter{}, done: make(chan error, 1)}
		ac.Bandwidth = nd.bw
		idx := i
		ac.OnMember = func(e membership.MemberEvent) { rec.event(idx, e) }
		if i > 0 {
			ac.Join = nodes[0].a.Addrs()[:1]
		}
		a, err := agent.New(ac)
		if err != nil {
			return nil, err
		}
		nd.a = a
		nodes[i] = nd
		rec.idx[membership.NodeID(a.ID().String())] = i
		progress.Report(i+1, n, what+"starting hosts")
	}
	var peak atomic.Uint64
	stopHeap := sync.OnceFunc(watchHeap(&peak))
	defer stopHeap()

	// Formation: every agent joins through agent 0 as its loop starts.
	res := &swimResult{Nodes: n}
	t0 := time.Now()
	for _, nd := range nodes {
		actx, cancel := context.WithCancel(ctx)
		nd.cancel = cancel
		go func() { nd.done <- nd.a.Run(actx) }()
	}
	progress.Report(0, 1, what+"forming")
	formed, err := pollUntil(ctx, 100*time.Millisecond, cfg.FormTimeout, rec.allAlive)
	if err != nil {
		return nil, err
	}
	res.Formed, res.FormS, res.FormAlivePct = formed, time.Since(t0).Seconds(), rec.alivePct()
	if err := runFor(ctx, cfg.Settle); err != nil {
		return nil, err
	}

	// Quiet bandwidth.
	progress.Report(0, 1, what+"quiet window")
	sb, wb, ab := swimBytes(nodes)
	rec.mu.Lock()
	false0 := rec.falseD
	rec.mu.Unlock()
	q0, cpu0 := time.Now(), processCPU()
	if err := runFor(ctx, cfg.Quiet); err != nil {
		return nil, err
	}
	res.QuietCPUS = (processCPU() - cpu0).Seconds()
	rec.mu.Lock()
	res.QuietFalseDeaths = rec.falseD - false0
	rec.mu.Unlock()
	res.QuietAlivePct = rec.alivePct()
	for _, nd := range nodes {
		res.Conns += len(nd.a.Host().Network().Conns())
	}
	sa, wa, aa := swimBytes(nodes)
	res.QuietS = time.Since(q0).Seconds()
	res.QuietBytes, res.QuietWrites, res.QuietAllBytes = sa-sb, wa-wb, aa-ab
	res.BytesPerMS = float64(res.QuietBytes) / float64(n) / res.QuietS

	// Metadata dissemination.
	for k := 0; k < cfg.MetaTrials; k++ {
		progress.Report(k, cfg.MetaTrials, what+"metadata updates")
		src := rng.IntN(n)
		val := fmt.Sprintf("trial-%d", k)
		u0 := time.Now()
		if err := nodes[src].a.SetMeta(ctx, map[string]string{metaKey: val}); err != nil {
			return nil, fmt.Errorf("set meta: %w", err)
		}
		if err := rec.awaitMeta(ctx, res, val, u0, n, cfg.MetaTimeout); err != nil {
			return nil, err
		}
	}

	// Crashes, one at a time, never the seed.
	order := rng.Perm(n - 1)
	for k := 0; k < cfg.Crashes; k++ {
		progress.Report(k, cfg.Crashes, what+"crashes")
		v := order[k] + 1
		rec.mu.Lock()
		rec.crashed[v] = true
		rec.mu.Unlock()
		// Members that already hold it dead (a false death not yet
		// undone) will not report it again: they are not waited for.
		want := rec.viewsAlive(v)
		c0 := time.Now()
		// Abrupt: the host goes first, so the leave that Run sends when
		// cancelled cannot get out.
		nodes[v].a.Host().Close()
		nodes[v].cancel()
		if err := rec.awaitDeath(ctx, res, v, want, c0, cfg.DetectTimeout); err != nil {
			return nil, err
		}
	}
	rec.mu.Lock()
	res.FalseDeaths, res.Left, res.AlreadyDead = rec.falseD, rec.left, rec.alreadyDead
	rec.mu.Unlock()
	stopHeap()
	res.PeakHeap = peak.Load()
	return res, nil
}

func swimBytes(nodes []*swimNode) (swimB, writes, all uint64) {
	for _, nd := range nodes {
		swimB += nd.bw.swimBytes.Load()
		writes += nd.bw.swimWrites.Load()
		all += nd.bw.allBytes.Load()
	}
	return swimB, writes, all
}

// awaitMeta waits until the n-1 other members reported metadata value val
// (set at u0), at most limit, and records each receiver's delay, the
// slowest (limit if some never reported) and how many missed it in res.
func (rec *swimRecorder) awaitMeta(ctx context.Context, res *swimResult, val string, u0 time.Time, n int, limit time.Duration) error {
	if _, err := pollUntil(ctx, 10*time.Millisecond, limit, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.metaAt[val]) >= n-1
	}); err != nil {
		return err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	last := time.Duration(0)
	for _, at := range rec.metaAt[val] {
		d := at.Sub(u0)
		res.MetaS = append(res.MetaS, d.Seconds())
		last = max(last, d)
	}
	if got := len(rec.metaAt[val]); got < n-1 {
		res.MetaMissed += n - 1 - got
		last = limit
	}
	res.MetaAllS = append(res.MetaAllS, last.Seconds())
	return nil
}

// awaitDeath waits until want members marked crashed member v dead (it
// crashed at c0), at most limit, and records the first and last marks in
// res (limit, and the members that never marked it, if not all did).
func (rec *swimRecorder) awaitDeath(ctx context.Context, res *swimResult, v, want int, c0 time.Time, limit time.Duration) error {
	ok, err := pollUntil(ctx, 10*time.Millisecond, limit, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.deadAt[v]) >= want
	})
	if err != nil {
		return err
	}
	rec.mu.Lock()
	first, last := limit, time.Duration(0)
	for _, at := range rec.deadAt[v] {
		first = min(first, at.Sub(c0))
		last = max(last, at.Sub(c0))
	}
	rec.mu.Unlock()
	if !ok {
		res.Undetected++
		last = limit
		res.Missing = append(res.Missing, rec.missing(v))
	}
	res.CrashS = append(res.CrashS, last.Seconds())
	res.CrashFirstS = append(res.CrashFirstS, first.Seconds())
	return nil
}
