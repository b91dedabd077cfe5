package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/hearsay-mesh/hearsay/sim/exp"
	"github.com/hearsay-mesh/hearsay/swim"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// `hearsay bench swim --procs`: the same scenario with one OS process per
// member on both sides, so that N members are N schedulable processes (as
// in production) rather than N agents sharing one Go runtime.
//
// hearsay: `hearsay agent --datastore memory --keep-identity --log-level info --log-format
// json`; what each agent sees comes from its own "member" log lines
// (change, peer, incarnation, and the time the agent logged it), read
// from its stderr as they are written: no polling, so the bench adds
// nothing to the agents' idle CPU. memberlist: `memberlist-bench -member
// -events`, which prints memberlist's EventDelegate calls (NotifyJoin,
// NotifyUpdate, NotifyLeave) with the time they were made.
//
// Formation: member 0 is started, then the N-1 others are launched at
// the same instant, each joining through member 0 (`--join` / `-join`);
// it is timed from that launch, so it includes the processes' start-up,
// which is also reported alone. Crashes are SIGKILL. CPU is the sum of
// the members' utime+stime from /proc/PID/stat.

// procsSide is one implementation's member processes.
type procsSide interface {
	// launch starts member 0, then the others at once; it returns when
	// every member has said it is up (the launch time is before). With
	// join false the others start without joining anyone (joinAll joins
	// them later).
	launch(ctx context.Context, every time.Duration, join bool) error
	// joinAll has members 1..N-1, started with join false, join through
	// member 0 at the same instant, which it returns: when the joins were
	// released, after everything the harness needs for them was ready.
	// It returns once every member has been told.
	joinAll(ctx context.Context) (time.Time, error)
	// setMeta has member i set metaKey=val and returns when the update
	// was issued.
	setMeta(ctx context.Context, i int, val string) (time.Time, error)
	// sent is what the live members have sent so far (false: not known).
	sent(ctx context.Context) (sentCount, bool)
	procs() []*memberProc
	close()
}

// sentCount is what members sent: payload bytes of the SWIM protocol,
// the stream writes that carried them (0: not known), and the bytes of
// every protocol the implementation counts (0: not known).
type sentCount struct{ swim, writes, all uint64 }

// metaExpect says which of a member's records carry a metadata trial's
// value: those at incarnation inc or later.
type metaExpect struct {
	val string
	inc uint64
}

// hearsayProcs is N `hearsay agent` processes.
type hearsayProcs struct {
	bin, dir string
	keep     bool     // leave dir (each member's stderr.log) in place
	cmd      []string // "agent", or the bench's member command
	n        int
	rec      *swimRecorder
	ps       []*memberProc
	ids      []string
	cls      []*rpc.Client
	seed     string             // member 0's address
	env      []string           // added to each member's environment
	expect   map[int]metaExpect // guarded by rec.mu
}

// agentLogLine is the part of an agent's JSON log line that matters here.
type agentLogLine struct {
	Time        time.Time `json:"time"`
	Msg         string    `json:"msg"`
	Change      string    `json:"change"`
	Peer        string    `json:"peer"`
	Incarnation uint64    `json:"incarnation"`
}

var memberMsg = []byte(`"msg":"member"`)

func parseChange(s string) (membership.MemberChange, bool) {
	for _, c := range []membership.MemberChange{membership.MemberJoined, membership.MemberSuspect, membership.MemberAlive,
		membership.MemberFailed, membership.MemberLeft, membership.MemberUpdated} {
		if c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// tap is agent obs's stderr reader.
func (h *hearsayProcs) tap(obs int) func([]byte) {
	return func(line []byte) {
		if !bytes.Contains(line, memberMsg) {
			return
		}
		var l agentLogLine
		if json.Unmarshal(line, &l) != nil || l.Msg != "member" {
			return
		}
		ch, ok := parseChange(l.Change)
		if !ok {
			return
		}
		r := h.rec
		r.mu.Lock()
		defer r.mu.Unlock()
		m, ok := r.idx[membership.NodeID(l.Peer)]
		if !ok || m == obs {
			return
		}
		meta := ""
		if e, ok := h.expect[m]; ok && l.Incarnation >= e.inc &&
			(ch == membership.MemberJoined || ch == membership.MemberAlive || ch == membership.MemberUpdated) {
			meta = e.val
		}
		r.record(obs, m, ch, meta, l.Time)
	}
}

// newHearsayProcs prepares n members' data directories: in a temporary
// directory removed by close, or under keepDir (when not empty) as
// keepDir/hearsay-N/nIII, left in place with each member's stderr.log.
func newHearsayProcs(bin string, tick time.Duration, n int, rec *swimRecorder, keepDir string, env []string) (*hearsayProcs, error) {
	var dir string
	var err error
	if keepDir != "" {
		dir = filepath.Join(keepDir, fmt.Sprintf("hearsay-%d", n))
		if err = os.RemoveAll(dir); err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
	} else {
		dir, err = os.MkdirTemp("", "hearsay-bench-swim-procs-")
	}
	if err != nil {
		return nil, err
	}
	cmd := []string{"agent"}
	if tick > 0 {
		cmd = []string{"bench", "swim", "member", "--tick", tick.String()}
	}
	h := &hearsayProcs{bin: bin, cmd: cmd, dir: dir, keep: keepDir != "", n: n, rec: rec, env: env, ps: make([]*memberProc, n), ids: make([]string, n),
		cls: make([]*rpc.Client, n), expect: map[int]metaExpect{}}
	// Identities first, so that every peer ID is known before any agent
	// reports on it.
	for i := range n {
		key, err := transport.LoadOrCreateIdentity(h.dataDir(i), discardLog())
		if err != nil {
			h.close()
			return nil, err
		}
		id, err := peer.IDFromPrivateKey(key)
		if err != nil {
			h.close()
			return nil, err
		}
		h.ids[i] = id.String()
		rec.idx[membership.NodeID(h.ids[i])] = i
	}
	return h, nil
}

func (h *hearsayProcs) dataDir(i int) string { return filepath.Join(h.dir, fmt.Sprintf("n%03d", i)) }

func (h *hearsayProcs) start(i int, join string) (string, error) {
	p, id, addr, err := startAgentProc(h.bin, h.cmd, h.dataDir(i), join, "info", h.tap(i), h.env)
	if err != nil {
		return "", fmt.Errorf("agent %d: %w", i, err)
	}
	h.ps[i] = p
	if id != h.ids[i] {
		return "", fmt.Errorf("agent %d: peer ID %s; its identity file says %s", i, id, h.ids[i])
	}
	return addr, nil
}

func (h *hearsayProcs) launch(ctx context.Context, every time.Duration, join bool) error {
	seed, err := h.start(0, "")
	if err != nil {
		return err
	}
	h.seed = seed
	if !join {
		seed = ""
	}
	return launchRest(h.n, every, func(i int) error { _, err := h.start(i, seed); return err })
}

// joinAll calls mesh_join on members 1..N-1 at once, each with its own
// client made beforehand (mesh_join joins HyParView and SWIM, as --join
// at start-up does).
func (h *hearsayProcs) joinAll(ctx context.Context) (time.Time, error) {
	for i := 1; i < h.n; i++ {
		if err := h.client(i); err != nil {
			return time.Time{}, fmt.Errorf("agent %d: %w", i, err)
		}
	}
	// A call that fails is tried once more with a new client (retried),
	// as the other calls the harness makes: at N=200 a member's RPC
	// server sometimes closes a connection while the member is starved.
	// A second mesh_join through the same contact is harmless.
	return releaseAll(h.n, func(i int) error {
		return h.retried(ctx, i, "mesh_join", func() error { return h.cls[i].Join(ctx, h.seed) })
	})
}

// releaseAll runs join(i) for members 1..n-1, each in its own goroutine,
// all released at one instant (which it returns), and waits for them.
func releaseAll(n int, join func(i int) error) (time.Time, error) {
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); <-gate; errs[i] = join(i) }()
	}
	t0 := time.Now()
	close(gate)
	wg.Wait()
	return t0, errors.Join(errs...)
}

// launchRest starts members 1..n-1, one every `every` (0: all at once).
func launchRest(n int, every time.Duration, start func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 1; i < n; i++ {
		if every > 0 {
			time.Sleep(time.Until(t0.Add(time.Duration(i-1) * every)))
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = start(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (h *hearsayProcs) setMeta(ctx context.Context, i int, val string) (time.Time, error) {
	if err := h.client(i); err != nil {
		return time.Time{}, err
	}
	var ms []agent.Member
	if err := h.retried(ctx, i, "mesh_members", func() (err error) { ms, err = h.cls[i].Members(ctx); return err }); err != nil {
		return time.Time{}, err
	}
	inc, found := uint64(0), false
	for _, m := range ms {
		if m.ID == h.ids[i] {
			inc, found = m.Incarnation, true
		}
	}
	if !found {
		return time.Time{}, fmt.Errorf("agent %d is not in its own member list", i)
	}
	// SetMeta raises the incarnation by one: records at inc+1 or later
	// carry the new value.
	h.rec.mu.Lock()
	h.expect[i] = metaExpect{val: val, inc: inc + 1}
	h.rec.mu.Unlock()
	u0 := time.Now()
	// A retry may raise the incarnation twice: still inc+1 or later.
	// u0 stays the first attempt's time, so a retry only lengthens the
	// measured dissemination.
	if err := h.retried(ctx, i, "mesh_set_meta", func() error { return h.cls[i].SetMeta(ctx, map[string]string{metaKey: val}) }); err != nil {
		return u0, err
	}
	return u0, nil
}

// retried runs call once more with a new client (h.cls[i] replaced) if it
// fails while ctx is live, and says so on stderr. At N=200 on two cores a
// client the harness held since the quiet window sometimes waits for
// response headers until its 10 s timeout, the member's RPC server
// logging no request, while a new client gets agent_info answered in
// 22-81 ms (four runs in the metadata phase, 2026-12-05); the member is
// not what is measured there.
func (h *hearsayProcs) retried(ctx context.Context, i int, what string, call func() error) error {
	err := call()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return h.ps[i].explain(err, h.dataDir(i))
	}
	if err := h.renewClient(i, what, err); err != nil {
		return h.ps[i].explain(err, h.dataDir(i))
	}
	if err2 := call(); err2 != nil {
		return h.ps[i].explain(fmt.Errorf("%w; retried: %w", err, err2), h.dataDir(i))
	}
	return nil
}

// client makes member i's JSON-RPC client if it has none yet.
func (h *hearsayProcs) client(i int) error {
	if h.cls[i] != nil {
		return nil
	}
	cl, err := rpc.Dial(h.dataDir(i))
	if err != nil {
		return err
	}
	h.cls[i] = cl
	return nil
}

// renewClient replaces member i's client after what failed with err, and
// says so on stderr. Each index is touched by one goroutine at a time.
func (h *hearsayProcs) renewClient(i int, what string, err error) error {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	fmt.Fprintf(os.Stderr, "bench: member %d: %s failed (%v); retrying with a new client\n", i, what, err)
	if h.cls[i] != nil {
		h.cls[i].Close()
	}
	cl, derr := rpc.Dial(h.dataDir(i))
	if derr != nil {
		h.cls[i] = nil
		return fmt.Errorf("%w; new client: %w", err, derr)
	}
	h.cls[i] = cl
	return nil
}

// sent reads every live agent's transport counters over JSON-RPC
// (mesh_stats), 16 at a time: frame bytes and flushes on
// /hearsay/swim/1.0.0, and frame bytes on all of hearsay's protocols. A
// failed call is tried once more with a new client (renewClient; each
// goroutine owns its member's index), and no member is stopped for it.
func (h *hearsayProcs) sent(ctx context.Context) (sentCount, bool) {
	h.rec.mu.Lock()
	crashed := slices.Clone(h.rec.crashed)
	h.rec.mu.Unlock()
	var (
		mu  sync.Mutex
		sum sentCount
		ok  = true
		wg  sync.WaitGroup
		sem = make(chan struct{}, 16)
	)
	for i, p := range h.ps {
		if p == nil || crashed[i] {
			continue
		}
		if h.client(i) != nil {
			return sentCount{}, false
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			var st agent.Stats
			err := h.cls[i].Call(ctx, "mesh_stats", nil, &st)
			if err != nil && ctx.Err() == nil {
				if err = h.renewClient(i, "mesh_stats", err); err == nil {
					err = h.cls[i].Call(ctx, "mesh_stats", nil, &st)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ok = false
				return
			}
			for proto, ps := range st.Transport.Protocols {
				sum.all += ps.SentBytes
				if proto == protocol.ID(swim.Protocol) {
					sum.swim += ps.SentBytes
					sum.writes += ps.Flushes
				}
			}
		}(i)
	}
	wg.Wait()
	return sum, ok
}

func (h *hearsayProcs) procs() []*memberProc { return h.ps }

func (h *hearsayProcs) close() {
	stopAll(h.ps)
	for _, cl := range h.cls {
		if cl != nil {
			cl.Close()
		}
	}
	if !h.keep {
		os.RemoveAll(h.dir)
	}
}

// memberlistProcs is N `memberlist-bench -member -events` processes.
type memberlistProcs struct {
	bin, dir string
	n        int
	rec      *swimRecorder
	ps       []*memberProc
	bytesCh  []chan uint64
	seed     string   // member 0's address
	env      []string // added to each member's environment
	wg       sync.WaitGroup
}

func newMemberlistProcs(bin string, n int, rec *swimRecorder, env []string) (*memberlistProcs, error) {
	dir, err := os.MkdirTemp("", "hearsay-bench-swim-procs-ml-")
	if err != nil {
		return nil, err
	}
	m := &memberlistProcs{bin: bin, dir: dir, n: n, rec: rec, env: env, ps: make([]*memberProc, n), bytesCh: make([]chan uint64, n)}
	for i := range n {
		rec.idx[membership.NodeID(mlName(i))] = i
		m.bytesCh[i] = make(chan uint64, 1)
	}
	return m, nil
}

func mlName(i int) string { return fmt.Sprintf("m%03d", i) }

func (m *memberlistProcs) start(i int, join string) (string, error) {
	p, dec, first, err := startMemberlistProc(m.bin, mlName(i), join, m.dir, true, m.env)
	if err != nil {
		return "", fmt.Errorf("memberlist member %d: %w", i, err)
	}
	m.ps[i] = p
	m.wg.Add(1)
	go func() { defer m.wg.Done(); m.read(i, dec) }()
	return first.Addr, nil
}

func (m *memberlistProcs) read(obs int, dec *json.Decoder) {
	for {
		var l mlLine
		if err := dec.Decode(&l); err != nil {
			return
		}
		if l.Bytes != nil {
			select {
			case m.bytesCh[obs] <- l.Bytes.Packet + l.Bytes.Stream:
			default:
			}
			continue
		}
		var ch membership.MemberChange
		switch l.State {
		case "joined":
			ch = membership.MemberJoined
		case "updated":
			ch = membership.MemberUpdated
		case "dead":
			ch = membership.MemberFailed
		default:
			continue
		}
		r := m.rec
		r.mu.Lock()
		if sub, ok := r.idx[membership.NodeID(l.Node)]; ok && sub != obs {
			r.record(obs, sub, ch, l.Meta, time.Unix(0, l.T))
		}
		r.mu.Unlock()
	}
}

func (m *memberlistProcs) launch(ctx context.Context, every time.Duration, join bool) error {
	seed, err := m.start(0, "")
	if err != nil {
		return err
	}
	m.seed = seed
	if !join {
		seed = ""
	}
	return launchRest(m.n, every, func(i int) error { _, err := m.start(i, seed); return err })
}

// joinAll writes "join ADDR" to members 1..N-1 at once; each then joins
// as -join at start-up does (retried 20 times 500 ms apart).
func (m *memberlistProcs) joinAll(ctx context.Context) (time.Time, error) {
	return releaseAll(m.n, func(i int) error {
		_, err := io.WriteString(m.ps[i].stdin, "join "+m.seed+"\n")
		return err
	})
}

func (m *memberlistProcs) setMeta(_ context.Context, i int, val string) (time.Time, error) {
	u0 := time.Now()
	_, err := io.WriteString(m.ps[i].stdin, "meta "+val+"\n")
	return u0, err
}

func (m *memberlistProcs) sent(ctx context.Context) (sentCount, bool) {
	var sum sentCount
	m.rec.mu.Lock()
	crashed := slices.Clone(m.rec.crashed)
	m.rec.mu.Unlock()
	for i, p := range m.ps {
		if p == nil || crashed[i] {
			continue
		}
		if _, err := io.WriteString(p.stdin, "bytes\n"); err != nil {
			return sentCount{}, false
		}
		select {
		case b := <-m.bytesCh[i]:
			sum.swim += b
		case <-time.After(5 * time.Second):
			return sentCount{}, false
		case <-ctx.Done():
			return sentCount{}, false
		}
	}
	return sum, true
}

func (m *memberlistProcs) procs() []*memberProc { return m.ps }

func (m *memberlistProcs) close() {
	stopAll(m.ps)
	m.wg.Wait()
	os.RemoveAll(m.dir)
}

// procStat is a process's CPU time (utime+stime) and resident set, from
// /proc/PID/stat.
func procStat(pid int) (cpu time.Duration, rss uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which is in parentheses: field 3
	// (state) is f[0], utime (14) f[11], stime (15) f[12], rss (24) f[21].
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	pages, err3 := strconv.ParseUint(f[21], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, 0, err
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, pages * uint64(os.Getpagesize()), nil
}

// procsCPU sums procStat over the live members.
func procsCPU(ps []*memberProc) (cpu time.Duration, rss uint64, n int) {
	for _, p := range ps {
		if p == nil || p.cmd.Process == nil {
			continue
		}
		c, r, err := procStat(p.cmd.Process.Pid)
		if err != nil {
			continue
		}
		cpu += c
		rss += r
		n++
	}
	return cpu, rss, n
}

// runSwimProcs runs the scenario on one implementation's member processes.
func runSwimProcs(ctx context.Context, cfg SwimConfig, impl string, n int, mlBin string, progress exp.Progress) (_ *swimResult, err error) {
	what := fmt.Sprintf("%s N=%d (processes): ", impl, n)
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	rec := newSwimRecorder(n)
	var side procsSide
	if impl == ImplHearsay {
		side, err = newHearsayProcs(cfg.HearsayBin, cfg.MemberTick, n, rec, cfg.KeepDir, cfg.memberEnv())
	} else {
		side, err = newMemberlistProcs(mlBin, n, rec, cfg.memberEnv())
	}
	if err != nil {
		return nil, err
	}
	defer side.close()
	res := &swimResult{Nodes: n, Procs: true}

	// Formation.
	progress.Report(0, 1, what+"starting and forming")
	t0 := time.Now()
	if err := side.launch(ctx, cfg.LaunchEvery, !cfg.JoinAfterUp); err != nil {
		return nil, err
	}
	res.StartS = time.Since(t0).Seconds()
	if cfg.JoinAfterUp {
		progress.Report(0, 1, what+"joining")
		if t0, err = side.joinAll(ctx); err != nil {
			return nil, err
		}
		res.JoinCallsS = time.Since(t0).Seconds()
	}
	formed, err := pollUntil(ctx, 50*time.Millisecond, cfg.FormTimeout-time.Since(t0), rec.allAlive)
	if err != nil {
		return nil, err
	}
	res.Formed, res.FormS, res.FormAlivePct = formed, time.Since(t0).Seconds(), rec.alivePct()
	if err := runFor(ctx, cfg.Settle); err != nil {
		return nil, err
	}

	// Quiet window: CPU of every member process, and bytes where known.
	progress.Report(0, 1, what+"quiet window")
	rec.mu.Lock()
	false0 := rec.falseD
	rec.mu.Unlock()
	b0, bok := side.sent(ctx)
	q0, cpu0, harness0 := time.Now(), time.Duration(0), processCPU()
	cpu0, _, _ = procsCPU(side.procs())
	if err := runFor(ctx, cfg.Quiet); err != nil {
		return nil, err
	}
	cpu1, rss, live := procsCPU(side.procs())
	res.QuietS = time.Since(q0).Seconds()
	res.QuietCPUS = (cpu1 - cpu0).Seconds()
	res.HarnessCPUS = (processCPU() - harness0).Seconds()
	if live > 0 {
		res.RSSMB = float64(rss) / float64(live) / (1 << 20)
	}
	b1, bok1 := side.sent(ctx)
	if bok && bok1 {
		res.QuietBytes, res.QuietWrites, res.QuietAllBytes = b1.swim-b0.swim, b1.writes-b0.writes, b1.all-b0.all
		res.BytesPerMS = float64(res.QuietBytes) / float64(n) / res.QuietS
	} else {
		res.NoBytes = true
	}
	rec.mu.Lock()
	res.QuietFalseDeaths = rec.falseD - false0
	rec.mu.Unlock()
	res.QuietAlivePct = rec.alivePct()

	// Metadata.
	for k := 0; k < cfg.MetaTrials; k++ {
		progress.Report(k, cfg.MetaTrials, what+"metadata updates")
		src := rng.IntN(n)
		val := fmt.Sprintf("trial-%d", k)
		u0, err := side.setMeta(ctx, src, val)
		if err != nil {
			return nil, fmt.Errorf("set meta on member %d: %w", src, err)
		}
		if err := rec.awaitMeta(ctx, res, val, u0, n, cfg.MetaTimeout); err != nil {
			return nil, err
		}
	}

	// Crashes: SIGKILL, one at a time, never member 0.
	order := rng.Perm(n - 1)
	for k := 0; k < cfg.Crashes; k++ {
		progress.Report(k, cfg.Crashes, what+"crashes")
		v := order[k] + 1
		rec.mu.Lock()
		rec.crashed[v] = true
		rec.mu.Unlock()
		want := rec.viewsAlive(v)
		c0 := time.Now()
		if err := side.procs()[v].cmd.Process.Kill(); err != nil {
			return nil, fmt.Errorf("SIGKILL member %d: %w", v, err)
		}
		if err := rec.awaitDeath(ctx, res, v, want, c0, cfg.DetectTimeout); err != nil {
			return nil, err
		}
	}
	rec.mu.Lock()
	res.FalseDeaths, res.Left, res.AlreadyDead = rec.falseD, rec.left, rec.alreadyDead
	rec.mu.Unlock()
	return res, nil
}
