package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
)

// memberProc is one member process.
type memberProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	rest   io.Reader      // stdout
	stdin  io.WriteCloser // only with procOpts.stdin
}

// procOpts are startProc's options.
type procOpts struct {
	stderr string // file that receives the process's stderr
	// stderrTap, when set, is also handed every stderr line as it comes
	// (from one goroutine; the slice is reused).
	stderrTap func(line []byte)
	stdin     bool // give the process a pipe as stdin (memberProc.stdin)
	// env is added to the bench's own environment for the process.
	env []string
}

func startProc(bin string, args []string, o procOpts) (*memberProc, error) {
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if len(o.env) > 0 {
		cmd.Env = append(os.Environ(), o.env...)
	}
	p := &memberProc{cmd: cmd, exited: make(chan struct{}), rest: out}
	if o.stdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	f, err := os.Create(o.stderr)
	if err != nil {
		return nil, err
	}
	// The child writes its stderr to the file itself, never to a pipe the
	// bench must drain: with 200 busy members the bench gets a small share
	// of the CPU, and a member blocked on a full stderr pipe stops
	// answering probes (docs/swim-bench.md, "The harness stalled the
	// agents"). The tap reads the file as it grows.
	cmd.Stderr = f
	var tail *os.File
	if o.stderrTap != nil {
		if tail, err = os.Open(o.stderr); err != nil {
			f.Close()
			return nil, err
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a ^C on the bench is not theirs
	if err := cmd.Start(); err != nil {
		f.Close()
		if tail != nil {
			tail.Close()
		}
		return nil, err
	}
	waited := make(chan struct{})
	tailed := make(chan struct{})
	if tail != nil {
		go func() {
			defer close(tailed)
			defer tail.Close()
			tailLines(tail, waited, o.stderrTap)
		}()
	} else {
		close(tailed)
	}
	go func() {
		cmd.Wait()
		f.Close()
		close(waited)
		<-tailed // every line was handed to the tap before exited
		close(p.exited)
	}()
	return p, nil
}

// explain adds to err, when the process has exited, how it ended and the
// last lines of its stderr (in dd/stderr.log): an RPC that fails with EOF
// says nothing about a member that died.
func (p *memberProc) explain(err error, dd string) error {
	if p == nil {
		return err
	}
	how := "exited"
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		// Alive but not answering on the bench's connection: does it
		// answer on a new one? Then SIGQUIT makes the Go runtime write
		// every goroutine's stack to stderr, which says where it hangs.
		how = "was not answering (" + freshAnswer(dd) + "); stopped with SIGQUIT"
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	}
	b, _ := os.ReadFile(filepath.Join(dd, "stderr.log"))
	keep := filepath.Join(os.TempDir(), fmt.Sprintf("hearsay-bench-member-%d.log", p.cmd.Process.Pid))
	if werr := os.WriteFile(keep, b, 0o644); werr != nil {
		keep = werr.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return fmt.Errorf("%w (the process %s: %v; its stderr is kept in %s; last lines:\n%s)", err, how, p.cmd.ProcessState, keep, strings.Join(lines, "\n"))
}

// freshAnswer says whether the agent in dd answers agent_info on a new
// connection, and how fast: it tells a member that hangs from a
// connection the bench holds that went stale.
func freshAnswer(dd string) string {
	cl, err := rpc.Dial(dd)
	if err != nil {
		return "no new connection: " + err.Error()
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	if _, err := cl.Info(ctx); err != nil {
		return "a new connection did not answer either: " + err.Error()
	}
	return fmt.Sprintf("a new connection answered agent_info in %v", time.Since(t0).Round(time.Millisecond))
}

// tailPoll is how often tailLines looks for more at the end of the file.
const tailPoll = 20 * time.Millisecond

// tailLines hands tap every line of r (without its newline; the slice is
// reused) as the file grows, until done is closed and the end is reached;
// an unfinished last line is handed over then.
func tailLines(r io.Reader, done <-chan struct{}, tap func([]byte)) {
	br := bufio.NewReaderSize(r, 64<<10)
	var partial []byte
	finishing := false
	for {
		chunk, err := br.ReadSlice('\n')
		switch err {
		case nil:
			if len(partial) > 0 {
				partial = append(partial, chunk...)
				tap(partial[:len(partial)-1])
				partial = partial[:0]
			} else {
				tap(chunk[:len(chunk)-1])
			}
			continue
		case bufio.ErrBufferFull:
			partial = append(partial, chunk...)
			continue
		}
		partial = append(partial, chunk...) // at the end: an unfinished line so far
		if finishing {
			if len(partial) > 0 {
				tap(partial)
			}
			return
		}
		select {
		case <-done:
			finishing = true // read what was written before the exit
		case <-time.After(tailPoll):
		}
	}
}

func (p *memberProc) stop() { stopProc(p.cmd, p.exited) }

// stopAll stops the started members in parallel (each stop waits for its
// process to exit) and returns when all have.
func stopAll(procs []*memberProc) {
	var wg sync.WaitGroup
	for _, p := range procs {
		if p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop() }()
		}
	}
	wg.Wait()
}

// hearsayCluster is N `hearsay agent` processes, polled over JSON-RPC.
type hearsayCluster struct {
	dir    string
	procs  []*memberProc
	ids    map[string]int
	cls    []*rpc.Client
	v      *pauseView
	cancel context.CancelFunc
	wg     sync.WaitGroup
	poll   time.Duration
}

func startHearsayCluster(ctx context.Context, cfg PauseConfig) (_ pauseCluster, err error) {
	dir, err := os.MkdirTemp("", "hearsay-bench-pause-")
	if err != nil {
		return nil, err
	}
	c := &hearsayCluster{dir: dir, ids: map[string]int{}, v: newPauseView(cfg.Nodes), poll: cfg.Poll,
		procs: make([]*memberProc, cfg.Nodes), cls: make([]*rpc.Client, cfg.Nodes)}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	var join string
	for i := range cfg.Nodes {
		dd := filepath.Join(dir, fmt.Sprintf("n%03d", i))
		if err := os.MkdirAll(dd, 0o700); err != nil {
			return nil, err
		}
		p, id, addr, err := startAgentProc(cfg.HearsayBin, []string{"agent"}, dd, join, "warn", nil, nil)
		if err != nil {
			return nil, fmt.Errorf("agent %d: %w", i, err)
		}
		c.procs[i] = p
		if i == 0 {
			join = addr
		}
		c.ids[id] = i
		if c.cls[i], err = rpc.Dial(dd); err != nil {
			return nil, err
		}
	}
	pctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	for i := range c.cls {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.pollLoop(pctx, i) }()
	}
	return c, nil
}

// startAgentProc starts `hearsay agent` (cmd: "agent", or another
// command taking the same flags) with its data in dd (memory
// datastore, JSON logs at logLevel, RPC on a free loopback port), joined
// through join if set, and reads its banner: peer ID and first
// 127.0.0.1 address (with /p2p/). The rest of its stdout is discarded.
func startAgentProc(bin string, cmd []string, dd, join, logLevel string, stderrTap func([]byte), env []string) (p *memberProc, id, addr string, err error) {
	args := append(slices.Clone(cmd), "--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir", dd, "--datastore", agent.DatastoreMemory, "--keep-identity",
		"--rpc-listen", "127.0.0.1:0", "--log-format", "json", "--log-level", logLevel)
	if join != "" {
		args = append(args, "--join", join)
	}
	p, err = startProc(bin, args, procOpts{stderr: filepath.Join(dd, "stderr.log"), stderrTap: stderrTap, env: env})
	if err != nil {
		return nil, "", "", err
	}
	// Read the banner: peer ID, addresses, rpc line.
	sc := bufio.NewScanner(p.rest)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "peer ID: "):
			id = strings.TrimPrefix(l, "peer ID: ")
		case strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") && addr == "":
			addr = l
		}
		if strings.HasPrefix(l, "rpc: ") {
			break
		}
	}
	go io.Copy(io.Discard, p.rest)
	if id == "" || addr == "" {
		p.stop()
		return nil, "", "", fmt.Errorf("printed no peer ID or address (see %s/stderr.log)", dd)
	}
	return p, id, addr, nil
}

func (c *hearsayCluster) view() *pauseView { return c.v }
func (c *hearsayCluster) pid(i int) int    { return c.procs[i].cmd.Process.Pid }

// pollOnce reads agent i's counters and, when its membership-event count
// moved, its member list, keeping the list only if the count did not
// move while it was read.
func (c *hearsayCluster) pollOnce(ctx context.Context, i int, last *uint64) {
	call := func(f func(context.Context) error) error {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return f(cctx)
	}
	var s1, s2 agent.Stats
	var ms []agent.Member
	if call(func(ctx context.Context) (err error) { s1, err = c.stats(ctx, i); return }) != nil {
		return
	}
	for try := 0; try < 5; try++ {
		if s1.MemberEvents == *last {
			c.setCounters(i, s1)
			return
		}
		if call(func(ctx context.Context) (err error) { ms, err = c.cls[i].Members(ctx); return }) != nil {
			return
		}
		if call(func(ctx context.Context) (err error) { s2, err = c.stats(ctx, i); return }) != nil {
			return
		}
		if s2.MemberEvents == s1.MemberEvents {
			now := time.Now()
			c.v.mu.Lock()
			for _, m := range ms {
				if j, ok := c.ids[m.ID]; ok && j != i {
					c.v.set(now, i, j, m.State)
				}
			}
			c.v.mu.Unlock()
			*last = s1.MemberEvents
			c.setCounters(i, s1)
			return
		}
		s1 = s2
	}
}

func (c *hearsayCluster) stats(ctx context.Context, i int) (agent.Stats, error) {
	var s agent.Stats
	err := c.cls[i].Call(ctx, "mesh_stats", nil, &s)
	return s, err
}

func (c *hearsayCluster) setCounters(i int, s agent.Stats) {
	c.v.mu.Lock()
	defer c.v.mu.Unlock()
	c.v.counts[i] = pauseCounters{ProbeSuspicions: s.Swim.Suspicions, Deaths: s.Swim.Deaths,
		Refutations: s.Swim.Refutations, Stalls: s.Swim.Stalls, Events: s.MemberEvents}
}

func (c *hearsayCluster) pollLoop(ctx context.Context, i int) {
	last := ^uint64(0)
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		c.pollOnce(ctx, i, &last)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (c *hearsayCluster) final(ctx context.Context) []pauseCounters {
	c.cancel()
	c.wg.Wait()
	// One last consistent read of each.
	for i := range c.cls {
		last := c.v.snapshot()[i].Events
		c.pollOnce(ctx, i, &last)
		if c.v.snapshot()[i].Events != last {
			last = ^uint64(0)
			c.pollOnce(ctx, i, &last)
		}
	}
	return c.v.snapshot()
}

func (c *hearsayCluster) close() {
	if c.cancel != nil {
		c.cancel()
		c.wg.Wait()
	}
	stopAll(c.procs)
	for _, cl := range c.cls {
		if cl != nil {
			cl.Close()
		}
	}
	os.RemoveAll(c.dir)
}

// memberlistCluster is N `memberlist-bench -member` processes, each
// printing its view as JSON lines.
type memberlistCluster struct {
	dir   string
	procs []*memberProc
	names map[string]int
	v     *pauseView
	wg    sync.WaitGroup
	// raw counters per member from its last stats line
	raw []mlStats
}

type mlStats struct {
	SuspectMsgs   uint64 `json:"suspect_msgs"`
	DeadMsgs      uint64 `json:"dead_msgs"`
	ProbeSuspects uint64 `json:"probe_suspects"`
	Refutes       uint64 `json:"refutes"`
}

type mlLine struct {
	T     int64    `json:"t"`
	Ready bool     `json:"ready"`
	Addr  string   `json:"addr"`
	Node  string   `json:"node"`
	State string   `json:"state"`
	Meta  string   `json:"meta"`
	Stats *mlStats `json:"stats"`
	Bytes *struct {
		Packet uint64 `json:"packet"`
		Stream uint64 `json:"stream"`
	} `json:"bytes"`
}

func startMemberlistCluster(ctx context.Context, cfg PauseConfig, bin string) (_ pauseCluster, err error) {
	dir, err := os.MkdirTemp("", "hearsay-bench-pause-ml-")
	if err != nil {
		return nil, err
	}
	c := &memberlistCluster{dir: dir, names: map[string]int{}, v: newPauseView(cfg.Nodes),
		procs: make([]*memberProc, cfg.Nodes), raw: make([]mlStats, cfg.Nodes)}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	for i := range cfg.Nodes {
		c.names[fmt.Sprintf("m%03d", i)] = i
	}
	var join string
	for i := range cfg.Nodes {
		p, dec, first, err := startMemberlistProc(bin, fmt.Sprintf("m%03d", i), join, dir, false, nil)
		if err != nil {
			return nil, fmt.Errorf("memberlist member %d: %w", i, err)
		}
		c.procs[i] = p
		if i == 0 {
			join = first.Addr
		}
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.read(i, dec) }()
	}
	return c, nil
}

// startMemberlistProc starts one `memberlist-bench -member` process
// (probe interval 1 s, timeout 500 ms), joined through join if set, and
// reads its Ready line. events selects -events (memberlist's own events,
// commands on stdin).
func startMemberlistProc(bin, name, join, dir string, events bool, env []string) (*memberProc, *json.Decoder, mlLine, error) {
	args := []string{"-member", "-name", name, "-probe-interval", "1s", "-probe-timeout", "500ms"}
	if join != "" {
		args = append(args, "-join", join)
	}
	if events {
		args = append(args, "-events")
	}
	p, err := startProc(bin, args, procOpts{stderr: filepath.Join(dir, name+".stderr"), stdin: events, env: env})
	if err != nil {
		return nil, nil, mlLine{}, err
	}
	dec := json.NewDecoder(p.rest)
	var first mlLine
	if err := dec.Decode(&first); err != nil || !first.Ready {
		p.stop()
		return nil, nil, mlLine{}, fmt.Errorf("did not start: %v (see %s)", err, filepath.Join(dir, name+".stderr"))
	}
	return p, dec, first, nil
}

func (c *memberlistCluster) read(i int, dec *json.Decoder) {
	for {
		var l mlLine
		if err := dec.Decode(&l); err != nil {
			return
		}
		c.v.mu.Lock()
		switch {
		case l.Stats != nil:
			c.raw[i] = *l.Stats
			c.v.counts[i] = pauseCounters{ProbeSuspicions: l.Stats.ProbeSuspects, Refutations: l.Stats.Refutes,
				Events: l.Stats.SuspectMsgs + l.Stats.DeadMsgs}
		case l.Node != "":
			if j, ok := c.names[l.Node]; ok && j != i {
				old := c.v.state[i][j]
				if c.v.set(time.Unix(0, l.T), i, j, l.State) {
					// Seen counts what the metrics count: moves from
					// alive to suspect, and moves to dead or left.
					c.v.seen[i]--
					if (old == "alive" && l.State == "suspect") || ((l.State == "dead" || l.State == "left") && old != "dead" && old != "left") {
						c.v.seen[i]++
					}
				}
			}
		}
		c.v.mu.Unlock()
	}
}

func (c *memberlistCluster) view() *pauseView { return c.v }
func (c *memberlistCluster) pid(i int) int    { return c.procs[i].cmd.Process.Pid }

// final asks every member for its last counters (SIGTERM) and waits for
// their output.
func (c *memberlistCluster) final(ctx context.Context) []pauseCounters {
	for _, p := range c.procs {
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	c.wg.Wait()
	return c.v.snapshot()
}

func (c *memberlistCluster) close() {
	stopAll(c.procs)
	c.wg.Wait()
	os.RemoveAll(c.dir)
}
