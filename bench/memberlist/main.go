// Command memberlist runs the `hearsay bench swim` scenario on
// hashicorp/memberlist: N instances in one process on 127.0.0.1, each with
// DefaultLANConfig except ProbeInterval and ProbeTimeout. It prints one
// JSON object (Result) on stdout.
//
// With -member it instead runs one memberlist member in this process (for
// `hearsay bench pause`, which runs one process per member and pauses
// them with SIGSTOP): see runMember in member.go.
//
// It is a separate module so that memberlist stays out of hearsay's
// dependencies; `hearsay bench swim` builds and runs it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Result is what the program prints. Durations are in seconds.
type Result struct {
	Nodes      int     `json:"nodes"`
	Formed     bool    `json:"formed"`         // every member saw every other alive within FormTimeout
	FormS      float64 `json:"form_s"`         // from the first Join to that moment (or the timeout)
	FormAlive  float64 `json:"form_alive_pct"` // mean share of the others a member saw alive then
	JoinErrors int     `json:"join_errors"`    // Join calls that failed

	QuietS      float64 `json:"quiet_s"`         // length of the quiet window
	QuietBytes  uint64  `json:"quiet_bytes"`     // UDP + TCP payload bytes written by all members in it
	PacketBytes uint64  `json:"packet_bytes"`    // of which UDP
	StreamBytes uint64  `json:"stream_bytes"`    // of which TCP
	BytesPerMS  float64 `json:"bytes_per_m_s"`   // QuietBytes / Nodes / QuietS
	QuietAlive  float64 `json:"quiet_alive_pct"` // FormAlive at the end of the window
	QuietCPUS   float64 `json:"quiet_cpu_s"`
	QuietFalse  int     `json:"quiet_false_deaths"` // NotifyLeave events in the window (nobody crashed)   // CPU seconds the process used in the window

	MetaS      []float64 `json:"meta_s"`      // per receiver: update to NotifyUpdate with the new meta
	MetaAllS   []float64 `json:"meta_all_s"`  // per trial: update to the last receiver (or timeout)
	MetaMissed int       `json:"meta_missed"` // receivers that had not seen it at the timeout

	CrashS      []float64 `json:"crash_s"`       // per crash: to the last live member's NotifyLeave
	CrashFirstS []float64 `json:"crash_first_s"` // per crash: to the first member's NotifyLeave
	Undetected  int       `json:"undetected"`    // crashes not known dead everywhere at the timeout
	FalseDeaths int       `json:"false_deaths"`  // NotifyLeave about a member that was not crashed
}

type options struct {
	nodes         int
	crashes       int
	metaTrials    int
	quiet         time.Duration
	settle        time.Duration
	formTimeout   time.Duration
	detectTimeout time.Duration
	metaTimeout   time.Duration
	probeInterval time.Duration
	probeTimeout  time.Duration
	seed          uint64
	verbose       bool

	// -member mode
	member bool
	name   string
	join   string
	port   int
	poll   time.Duration
	events bool
}

func main() {
	var o options
	flag.IntVar(&o.nodes, "nodes", 50, "members")
	flag.IntVar(&o.crashes, "crashes", 5, "members crashed one at a time")
	flag.IntVar(&o.metaTrials, "meta-trials", 5, "metadata updates")
	flag.DurationVar(&o.quiet, "quiet", 30*time.Second, "quiet window for bandwidth")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after formation")
	flag.DurationVar(&o.formTimeout, "form-timeout", 90*time.Second, "bound on formation")
	flag.DurationVar(&o.detectTimeout, "detect-timeout", 60*time.Second, "bound on one crash's detection")
	flag.DurationVar(&o.metaTimeout, "meta-timeout", 35*time.Second, "bound on one metadata update")
	flag.DurationVar(&o.probeInterval, "probe-interval", time.Second, "memberlist ProbeInterval")
	flag.DurationVar(&o.probeTimeout, "probe-timeout", 500*time.Millisecond, "memberlist ProbeTimeout")
	flag.Uint64Var(&o.seed, "seed", 1, "choice of crashed and updated members")
	flag.BoolVar(&o.verbose, "v", false, "progress on stderr")
	flag.BoolVar(&o.member, "member", false, "run one member in this process and print its view as JSON lines (bench pause)")
	flag.StringVar(&o.name, "name", "m000", "-member: this member's name")
	flag.StringVar(&o.join, "join", "", "-member: host:port of a member to join through")
	flag.IntVar(&o.port, "port", 0, "-member: port to bind on 127.0.0.1 (0: any)")
	flag.DurationVar(&o.poll, "poll", 10*time.Millisecond, "-member: how often the member table is read")
	flag.BoolVar(&o.events, "events", false, "-member: print memberlist's events (joined, updated, dead, with metadata) instead of polling the table; take commands on stdin (bench swim --procs)")
	flag.Parse()
	if o.member {
		if err := runMember(o); err != nil {
			fmt.Fprintf(os.Stderr, "memberlist member %s: %v\n", o.name, err)
			os.Exit(1)
		}
		return
	}
	if o.nodes < 2 || o.crashes < 0 || o.crashes > o.nodes-2 || o.metaTrials < 0 {
		fmt.Fprintf(os.Stderr, "memberlist bench: want nodes >= 2, 0 <= crashes <= nodes-2, meta-trials >= 0\n")
		os.Exit(2)
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "memberlist bench: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		os.Exit(1)
	}
}

// recorder keeps what every member's EventDelegate reported.
type recorder struct {
	mu      sync.Mutex
	crashed map[string]bool
	deadAt  map[string]map[string]time.Time // victim -> observer -> when
	metaAt  map[string]map[string]time.Time // meta value -> observer -> when
	falseD  int
}

func newRecorder() *recorder {
	return &recorder{crashed: map[string]bool{}, deadAt: map[string]map[string]time.Time{}, metaAt: map[string]map[string]time.Time{}}
}

func (r *recorder) leave(obs, who string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.crashed[who] {
		r.falseD++
		return
	}
	m := r.deadAt[who]
	if m == nil {
		m = map[string]time.Time{}
		r.deadAt[who] = m
	}
	if _, ok := m[obs]; !ok {
		m[obs] = now
	}
}

func (r *recorder) update(obs string, meta []byte) {
	if len(meta) == 0 {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.metaAt[string(meta)]
	if m == nil {
		m = map[string]time.Time{}
		r.metaAt[string(meta)] = m
	}
	if _, ok := m[obs]; !ok {
		m[obs] = now
	}
}

// events is one member's EventDelegate.
type events struct {
	self string
	rec  *recorder
}

func (e *events) NotifyJoin(n *memberlist.Node)   { e.rec.update(e.self, n.Meta) }
func (e *events) NotifyLeave(n *memberlist.Node)  { e.rec.leave(e.self, n.Name) }
func (e *events) NotifyUpdate(n *memberlist.Node) { e.rec.update(e.self, n.Meta) }

// delegate serves the member's metadata.
type delegate struct{ meta atomic.Pointer[[]byte] }

func (d *delegate) NodeMeta(limit int) []byte {
	if p := d.meta.Load(); p != nil && len(*p) <= limit {
		return *p
	}
	return nil
}
func (d *delegate) NotifyMsg([]byte)                {}
func (d *delegate) GetBroadcasts(int, int) [][]byte { return nil }
func (d *delegate) LocalState(bool) []byte          { return nil }
func (d *delegate) MergeRemoteState([]byte, bool)   {}

type member struct {
	name string
	m    *memberlist.Memberlist
	tr   *countingTransport
	del  *delegate
	down bool
}

func start(i int, rec *recorder, o options) (*member, error) {
	quiet := log.New(io.Discard, "", 0)
	var nt *memberlist.NetTransport
	var err error
	for try := 0; try < 5; try++ { // the UDP port picked after TCP may be taken
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}, BindPort: 0, Logger: quiet})
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	mb := &member{name: fmt.Sprintf("m%03d", i), tr: newCountingTransport(nt), del: &delegate{}}
	c := memberlist.DefaultLANConfig()
	c.Name = mb.name
	c.ProbeInterval = o.probeInterval
	c.ProbeTimeout = o.probeTimeout
	c.BindAddr = "127.0.0.1"
	c.AdvertiseAddr = "127.0.0.1"
	c.AdvertisePort = nt.GetAutoBindPort()
	c.Transport = mb.tr
	c.Delegate = mb.del
	c.Events = &events{self: mb.name, rec: rec}
	c.LogOutput = io.Discard
	mb.m, err = memberlist.Create(c)
	if err != nil {
		mb.tr.Shutdown()
		return nil, err
	}
	return mb, nil
}

func run(o options) (*Result, error) {
	say := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(os.Stderr, "memberlist N=%d: "+format+"\n", append([]any{o.nodes}, args...)...)
		}
	}
	rng := rand.New(rand.NewPCG(o.seed, 11))
	rec := newRecorder()
	res := &Result{Nodes: o.nodes}
	ms := make([]*member, o.nodes)
	defer func() {
		for _, mb := range ms {
			if mb != nil && !mb.down {
				mb.m.Shutdown()
			}
		}
	}()
	for i := range ms {
		mb, err := start(i, rec, o)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		ms[i] = mb
	}
	seed := ms[0].m.LocalNode().Address()

	// Formation: everyone joins through member 0 at once.
	t0 := time.Now()
	var joinErrs atomic.Int64
	for _, mb := range ms[1:] {
		go func() {
			if _, err := mb.m.Join([]string{seed}); err != nil {
				joinErrs.Add(1)
			}
		}()
	}
	res.Formed = poll(100*time.Millisecond, o.formTimeout, func() bool { return allAlive(ms) })
	res.FormS = time.Since(t0).Seconds()
	res.FormAlive = alivePct(ms)
	res.JoinErrors = int(joinErrs.Load())
	say("formed=%v in %.1fs", res.Formed, res.FormS)
	wait(o.settle)

	// Quiet bandwidth.
	before, pb, sb := totalBytes(ms)
	rec.mu.Lock()
	false0 := rec.falseD
	rec.mu.Unlock()
	q0, cpu0 := time.Now(), processCPU()
	wait(o.quiet)
	res.QuietCPUS = (processCPU() - cpu0).Seconds()
	rec.mu.Lock()
	res.QuietFalse = rec.falseD - false0
	rec.mu.Unlock()
	res.QuietAlive = alivePct(ms)
	after, pa, sa := totalBytes(ms)
	res.QuietS = time.Since(q0).Seconds()
	res.QuietBytes, res.PacketBytes, res.StreamBytes = after-before, pa-pb, sa-sb
	res.BytesPerMS = float64(res.QuietBytes) / float64(o.nodes) / res.QuietS
	say("quiet: %.1f B/s per member", res.BytesPerMS)

	// Metadata dissemination.
	for k := 0; k < o.metaTrials; k++ {
		mb := ms[rng.IntN(len(ms))]
		val := []byte("trial-" + strconv.Itoa(k))
		mb.del.meta.Store(&val)
		u0 := time.Now()
		if err := mb.m.UpdateNode(o.metaTimeout); err != nil {
			say("UpdateNode: %v", err)
		}
		want := o.nodes - 1
		poll(10*time.Millisecond, o.metaTimeout, func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return seen(rec.metaAt[string(val)], mb.name) >= want
		})
		rec.mu.Lock()
		last := time.Duration(0)
		got := 0
		for obs, at := range rec.metaAt[string(val)] {
			if obs == mb.name {
				continue
			}
			got++
			d := at.Sub(u0)
			res.MetaS = append(res.MetaS, d.Seconds())
			last = max(last, d)
		}
		rec.mu.Unlock()
		if got < want {
			res.MetaMissed += want - got
			last = o.metaTimeout
		}
		res.MetaAllS = append(res.MetaAllS, last.Seconds())
		say("meta trial %d: all in %.2fs", k, last.Seconds())
	}

	// Crashes, one at a time, never the seed.
	order := rng.Perm(o.nodes - 1)
	live := o.nodes
	for k := 0; k < o.crashes; k++ {
		v := ms[order[k]+1]
		rec.mu.Lock()
		rec.crashed[v.name] = true
		rec.mu.Unlock()
		c0 := time.Now()
		v.m.Shutdown() // no Leave: the others must detect it
		v.down = true
		live--
		want := live
		ok := poll(10*time.Millisecond, o.detectTimeout, func() bool {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return len(rec.deadAt[v.name]) >= want
		})
		rec.mu.Lock()
		first, last := o.detectTimeout, time.Duration(0)
		for _, at := range rec.deadAt[v.name] {
			first = min(first, at.Sub(c0))
			last = max(last, at.Sub(c0))
		}
		rec.mu.Unlock()
		if !ok {
			res.Undetected++
			last = o.detectTimeout
		}
		res.CrashS = append(res.CrashS, last.Seconds())
		res.CrashFirstS = append(res.CrashFirstS, first.Seconds())
		say("crash %d: first %.2fs, last %.2fs", k, first.Seconds(), last.Seconds())
	}
	rec.mu.Lock()
	res.FalseDeaths = rec.falseD
	rec.mu.Unlock()
	return res, nil
}

// seen counts observers other than self.
func seen(m map[string]time.Time, self string) int {
	n := len(m)
	if _, ok := m[self]; ok {
		n--
	}
	return n
}

func allAlive(ms []*member) bool {
	for _, mb := range ms {
		alive := 0
		for _, n := range mb.m.Members() {
			if n.State == memberlist.StateAlive {
				alive++
			}
		}
		if alive != len(ms) { // Members includes the local node
			return false
		}
	}
	return true
}

func alivePct(ms []*member) float64 {
	alive := 0
	for _, mb := range ms {
		for _, n := range mb.m.Members() {
			if n.State == memberlist.StateAlive && n.Name != mb.name {
				alive++
			}
		}
	}
	return 100 * float64(alive) / float64(len(ms)*(len(ms)-1))
}

func totalBytes(ms []*member) (all, packets, streams uint64) {
	for _, mb := range ms {
		packets += mb.tr.packetBytes.Load()
		streams += mb.tr.streamBytes.Load()
	}
	return packets + streams, packets, streams
}

// poll calls done every interval until it returns true (then poll does)
// or limit passes.
func poll(every, limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-t.C
	}
}

// wait lets the cluster run for d.
func wait(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}
