package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
)

// buildBinary compiles cmd/hearsay once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func hearsayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hearsay-e2e-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "hearsay")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// proc is one agent process started by a test.
type proc struct {
	cmd     *exec.Cmd
	dataDir string
	addr    string // its first /ip4/127.0.0.1/tcp multiaddr, with /p2p/
	id      string
	client  *rpc.Client
	rpcLine string
	exited  chan struct{}
	err     error
}

// startAgent runs `hearsay agent` on 127.0.0.1 with random ports and waits
// until it has printed its addresses and its RPC endpoint answers.
func startAgent(t *testing.T, bin, dataDir string, join ...string) *proc {
	t.Helper()
	args := []string{"agent", "--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir", dataDir,
		"--rpc-listen", "127.0.0.1:0", "--log-format", "json", "--log-level", e2eLogLevel()}
	for _, j := range join {
		args = append(args, "--join", j)
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dataDir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, dataDir: dataDir, exited: make(chan struct{})}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	deadline := time.After(30 * time.Second)
	for p.addr == "" || !strings.HasPrefix(lastRPC(p), "rpc") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("agent in %s exited before it was ready: %v", dataDir, p.err)
			}
			switch {
			case strings.HasPrefix(l, "peer ID: "):
				p.id = strings.TrimPrefix(l, "peer ID: ")
			case strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") && p.addr == "":
				p.addr = l
			case strings.HasPrefix(l, "rpc: "):
				p.rpcLine = l
			}
		case <-deadline:
			t.Fatalf("agent in %s not ready after 30s", dataDir)
		}
	}
	cl, err := rpc.Dial(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	p.client = cl
	return p
}

func lastRPC(p *proc) string { return p.rpcLine }

func (p *proc) kill(sig syscall.Signal) {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(sig)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) peers(t *testing.T) (agent.Peers, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ps, err := p.client.Peers(ctx)
	if err != nil {
		return agent.Peers{}, false
	}
	return ps, true
}

// overlayState counts connected components of the undirected graph of
// active views over live agents, and the free active-view slots summed
// over all agents.
func overlayState(t *testing.T, ps []*proc) (components, free int, views map[string]agent.Peers) {
	views = map[string]agent.Peers{}
	for _, p := range ps {
		v, ok := p.peers(t)
		if !ok {
			return -1, 0, nil
		}
		views[p.id] = v
		free += v.ActiveMax - len(v.Active)
	}
	adj := map[string][]string{}
	for id, v := range views {
		for _, n := range v.Active {
			adj[id] = append(adj[id], n.ID)
			adj[n.ID] = append(adj[n.ID], id)
		}
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.id] {
			continue
		}
		components++
		stack := []string{p.id}
		seen[p.id] = true
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, y := range adj[x] {
				if _, live := views[y]; live && !seen[y] {
					seen[y] = true
					stack = append(stack, y)
				}
			}
		}
	}
	return components, free, views
}

// e2eLogLevel is the agents' log level: warn, or HEARSAY_E2E_LOG_LEVEL
// (debug, to see why a link went one-sided in stderr.log).
func e2eLogLevel() string {
	if l := os.Getenv("HEARSAY_E2E_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

// oneSided lists the active links held by one end only ("A -> B": A has B
// active, B is alive and does not have A), with short IDs.
func oneSided(views map[string]agent.Peers) []string {
	short := func(id string) string { return id[len(id)-6:] }
	var out []string
	for id, v := range views {
		for _, n := range v.Active {
			w, live := views[n.ID]
			if !live {
				continue
			}
			back := false
			for _, m := range w.Active {
				back = back || m.ID == id
			}
			if !back {
				out = append(out, short(id)+" -> "+short(n.ID))
			}
		}
	}
	return out
}

// logOneSided logs the one-sided active links of views, if any, and with
// HEARSAY_E2E_DUMP set the stderr.log of the agents at their ends. Right
// after the overlay forms some are links still being set up; after the
// recovery wait they are the lasting kind plumtree loses broadcasts on.
func logOneSided(t *testing.T, ps []*proc, views map[string]agent.Peers) {
	t.Helper()
	links := oneSided(views)
	if len(links) == 0 {
		return
	}
	t.Logf("one-sided active links: %v", links)
	if os.Getenv("HEARSAY_E2E_DUMP") == "" {
		return
	}
	for _, p := range ps {
		for _, l := range links {
			if strings.HasPrefix(l, p.id[len(p.id)-6:]) || strings.HasSuffix(l, p.id[len(p.id)-6:]) {
				b, _ := os.ReadFile(filepath.Join(p.dataDir, "stderr.log"))
				t.Logf("--- %s stderr.log:\n%s", p.id[len(p.id)-6:], b)
				break
			}
		}
	}
}

// waitFor polls cond every 50 ms until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		<-tick.C
	}
}

// TestTwentyAgentsFormOneOverlay is issue 2's real-agent check: 20
// processes on 127.0.0.1 joined through one seed form one connected
// overlay within 5 s (checked from their state over RPC); after 5 are
// killed with SIGKILL the rest get back to full active views.
func TestTwentyAgentsFormOneOverlay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	bin := hearsayBinary(t)
	root := t.TempDir()
	seed := startAgent(t, bin, filepath.Join(root, "a00"))
	ps := []*proc{seed}
	started := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 1; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			dir := filepath.Join(root, fmt.Sprintf("a%02d", i))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Error(err)
				return
			}
			p := startAgent(t, bin, dir, seed.addr)
			mu.Lock()
			ps = append(ps, p)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	allUp := time.Since(started)
	var comps, free int
	took, ok := waitFor(5*time.Second, func() bool {
		comps, free, _ = overlayState(t, ps)
		return comps == 1
	})
	t.Logf("20 agents started in %v; one connected overlay %v later (components=%d, free active slots=%d)", allUp, took, comps, free)
	if _, _, views := overlayState(t, ps); views != nil {
		logOneSided(t, ps, views)
	}
	if !ok {
		t.Fatalf("after 5s: %d components, want 1", comps)
	}
	// Kill 5 agents (not the seed) with SIGKILL.
	for _, p := range ps[1:6] {
		p.kill(syscall.SIGKILL)
	}
	// Active views are symmetric, so the slots in use sum to an even
	// number: with 15 survivors and 5 slots each (75, odd), one slot must
	// stay free. "Full" therefore means no more than that parity slot free.
	rest := append([]*proc{ps[0]}, ps[6:]...)
	var parity int
	took, ok = waitFor(60*time.Second, func() bool {
		var views map[string]agent.Peers
		comps, free, views = overlayState(t, rest)
		parity = 0
		for _, v := range views {
			parity = (len(rest) * v.ActiveMax) % 2
			break
		}
		return comps == 1 && free <= parity
	})
	t.Logf("after SIGKILL of 5: %d components, %d free active slots (%d unavoidable by parity), after %v", comps, free, parity, took)
	if _, _, views := overlayState(t, rest); views != nil {
		logOneSided(t, rest, views)
	}
	if !ok {
		_, _, views := overlayState(t, rest)
		for id, v := range views {
			t.Logf("%s: active %d passive %d", id[len(id)-6:], len(v.Active), len(v.Passive))
		}
		t.Fatalf("the 15 survivors did not get back to one overlay of full active views within 60s")
	}
	// A graceful stop exits 0.
	ps[0].kill(syscall.SIGTERM)
	if ps[0].err != nil {
		t.Fatalf("SIGTERM: agent exited with %v, want 0", ps[0].err)
	}
}
