package bench

import (
	"context"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

// TestProfileIdleAgent is a harness, not a check: it starts N-1 `hearsay
// agent` processes (as `hearsay bench swim --procs` does) and one agent
// in this test process configured as `hearsay agent` is (default config,
// memory datastore, libp2p Prometheus metrics on), all joined through
// member 0, lets the cluster settle and then idles for the window, so
// that a CPU profile of the window (HEARSAY_PROFILE_OUT, if set) shows
// where one idle member of an N-member cluster spends its CPU. It runs
// only when HEARSAY_PROFILE_BIN names a hearsay binary:
//
//	go build -o /tmp/hearsay ./cmd/hearsay
//	go test -c -o /tmp/bench.test ./bench
//	HEARSAY_PROFILE_BIN=/tmp/hearsay HEARSAY_PROFILE_N=200 HEARSAY_PROFILE_OUT=/tmp/idle.pprof \
//	  /tmp/bench.test -test.run TestProfileIdleAgent -test.v -test.timeout 10m
//	go tool pprof -top /tmp/bench.test /tmp/idle.pprof
//
// HEARSAY_PROFILE_N (default 50) is the cluster size with this agent,
// HEARSAY_PROFILE_SETTLE (default 30s) and HEARSAY_PROFILE_WINDOW
// (default 60s) the waits; HEARSAY_PROFILE_TICK, if set, is this agent's
// SWIM, plumtree and anti-entropy tick interval. It logs this agent's CPU per second over the
// window beside the mean of the member processes'.
func TestProfileIdleAgent(t *testing.T) {
	bin := os.Getenv("HEARSAY_PROFILE_BIN")
	if bin == "" {
		t.Skip("HEARSAY_PROFILE_BIN not set")
	}
	n, settle, window := 50, 30*time.Second, 60*time.Second
	if s := os.Getenv("HEARSAY_PROFILE_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("HEARSAY_PROFILE_N=%q", s)
		}
	}
	for env, d := range map[string]*time.Duration{"HEARSAY_PROFILE_SETTLE": &settle, "HEARSAY_PROFILE_WINDOW": &window} {
		if s := os.Getenv(env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				t.Fatalf("%s=%q: %v", env, s, err)
			}
			*d = v
		}
	}
	rec := newSwimRecorder(n)
	h, err := newHearsayProcs(bin, 0, n-1, rec, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	seed := ""
	if n > 1 {
		if seed, err = h.start(0, ""); err != nil {
			t.Fatal(err)
		}
		if err := launchRest(n-1, 0, func(i int) error { _, err := h.start(i, seed); return err }); err != nil {
			t.Fatal(err)
		}
	}
	ac := agent.DefaultConfig()
	ac.Datastore = agent.DatastoreMemory
	ac.DataDir = t.TempDir()
	ac.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	ac.RPCListen = ""
	ac.Log = slog.New(slog.NewJSONHandler(discardWriter{}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ac.Metrics = prometheus.NewRegistry()
	if seed != "" {
		ac.Join = []string{seed}
	}
	if s := os.Getenv("HEARSAY_PROFILE_TICK"); s != "" {
		// An experiment: this agent's SWIM, plumtree and anti-entropy tick
		// interval (the member processes keep theirs).
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("HEARSAY_PROFILE_TICK=%q: %v", s, err)
		}
		ac.Swim.TickInterval, ac.Plumtree.TickInterval, ac.AntiEntropy.TickInterval = d, d, d
	}
	a, err := agent.New(ac)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// Settled: this agent sees all n members alive (at most settle).
	formed, err := pollUntil(ctx, 100*time.Millisecond, settle, func() bool {
		st, err := a.Stats(ctx)
		return err == nil && st.Members >= n
	})
	if err != nil {
		t.Fatal(err)
	}
	if !formed {
		t.Logf("N=%d: not every member seen alive within %v; profiling anyway", n, settle)
	}
	st, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("N=%d: this agent sees %d members alive, %d active and %d passive HyParView peers", n, st.Members, st.ActivePeers, st.PassivePeers)
	for _, i := range []int{0, n / 2} {
		if i >= n-1 {
			continue
		}
		// Member processes 0 (the seed) and one in the middle, as they
		// see themselves.
		cl, err := rpc.Dial(h.dataDir(i))
		if err != nil {
			t.Fatal(err)
		}
		var ms agent.Stats
		if err := cl.Call(ctx, "mesh_stats", nil, &ms); err != nil {
			t.Fatal(err)
		}
		cl.Close()
		t.Logf("member %d: %d members alive; swim %+v; transport %+v", i, ms.Members, ms.Swim, ms.Transport)
	}
	if out := os.Getenv("HEARSAY_PROFILE_OUT"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	c0, p0 := processCPU(), time.Now()
	pc0, _, _ := procsCPU(h.ps)
	// The measurement itself: CPU used over a fixed span of idling. This
	// wait is the quantity measured, not a synchronisation.
	select {
	case <-time.After(window):
	case err := <-done:
		t.Fatalf("agent stopped during the window: %v", err)
	}
	c1, el := processCPU(), time.Since(p0)
	pc1, rss, live := procsCPU(h.ps)
	st1, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	per := func(a, b uint64) float64 { return float64(b-a) / el.Seconds() }
	for p, ps := range st1.Transport.Protocols {
		p0 := st.Transport.Protocols[p]
		t.Logf("%s: %.2f frames/s sent, %.2f received", p, per(p0.Sent, ps.Sent), per(p0.Received, ps.Received))
	}
	s0, s1 := st.Swim, st1.Swim
	t.Logf("swim per second: probes %.2f, pings %.2f, ping-reqs %.2f, acks %.2f, gossips %.2f, push-pulls %.2f, updates %.2f, suspicions %.2f, refutations %.2f, checks %.2f",
		per(s0.Probes, s1.Probes), per(s0.Pings, s1.Pings), per(s0.PingReqs, s1.PingReqs), per(s0.Acks, s1.Acks), per(s0.Gossips, s1.Gossips),
		per(s0.PushPulls, s1.PushPulls), per(s0.Updates, s1.Updates), per(s0.Suspicions, s1.Suspicions), per(s0.Refutations, s1.Refutations), per(s0.Checks, s1.Checks))
	t.Logf("hyparview: %+v -> %+v", st.HyParView, st1.HyParView)
	t.Logf("libp2p connections: %d; member events in the window: %d", len(a.Host().Network().Conns()), st1.MemberEvents-st.MemberEvents)
	t.Logf("idle CPU over %v: this agent %.2f ms/s; the %d member processes %.2f ms/s each (RSS %.0f MB each)",
		el.Round(time.Second), 1000*(c1-c0).Seconds()/el.Seconds(), live,
		1000*(pc1-pc0).Seconds()/el.Seconds()/float64(max(live, 1)), float64(rss)/float64(max(live, 1))/(1<<20))
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
