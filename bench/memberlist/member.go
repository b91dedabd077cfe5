package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/hashicorp/memberlist"
)

// Line is one JSON line the -member mode prints on stdout. Exactly one
// of its groups is set: Ready (first line), a state change (Node, State)
// or counters (Stats). T is the wall clock in Unix nanoseconds when the
// line was produced, so that a reader on the same machine can place it
// even when it is read late (the process was stopped).
type Line struct {
	T int64 `json:"t"`

	Ready bool   `json:"ready,omitempty"`
	Name  string `json:"name,omitempty"`
	Addr  string `json:"addr,omitempty"` // host:port to join through

	Node  string `json:"node,omitempty"`  // a state change of another member
	State string `json:"state,omitempty"` // alive, suspect, dead, left; -events: joined, updated, dead
	Inc   uint32 `json:"inc,omitempty"`
	Meta  string `json:"meta,omitempty"` // -events: the node's metadata

	// -events, in answer to "bytes" on stdin: payload bytes this member
	// has handed to the network (UDP packets, TCP stream writes).
	Bytes *MemberBytes `json:"bytes,omitempty"`

	Stats *MemberStats `json:"stats,omitempty"`
}

// MemberStats are one member's counters since it started.
type MemberStats struct {
	// SuspectMsgs and DeadMsgs count memberlist's own metrics
	// memberlist.msg.suspect and memberlist.msg.dead: one per member this
	// node moved from alive to suspect (whoever started the suspicion),
	// and one per member it moved to dead or left. They let the reader
	// check that polling saw every transition.
	SuspectMsgs uint64 `json:"suspect_msgs"`
	DeadMsgs    uint64 `json:"dead_msgs"`
	// ProbeSuspects counts this node's own failed probes that started a
	// suspicion (memberlist logs "Suspect X has failed, no acks
	// received").
	ProbeSuspects uint64 `json:"probe_suspects"`
	// Refutes counts suspicions or deaths about this node it refuted
	// (memberlist logs "Refuting a suspect/dead message").
	Refutes uint64 `json:"refutes"`
	// Incarnation is this node's incarnation number now.
	Incarnation uint32 `json:"incarnation"`
	// Polls is how many snapshots of the member table were taken.
	Polls uint64 `json:"polls"`
}

// MemberBytes are the payload bytes a member has sent since it started.
type MemberBytes struct {
	Packet uint64 `json:"packet"`
	Stream uint64 `json:"stream"`
}

// counterSink is a go-metrics sink that keeps the two counters it cares
// about; everything else is dropped.
type counterSink struct {
	metrics.BlackholeSink
	suspect, dead atomic.Uint64
}

func (s *counterSink) IncrCounter(key []string, val float32) {
	s.IncrCounterWithLabels(key, val, nil)
}

func (s *counterSink) IncrCounterWithLabels(key []string, _ float32, _ []metrics.Label) {
	n := len(key)
	if n < 3 || key[n-3] != "memberlist" || key[n-2] != "msg" {
		return
	}
	switch key[n-1] {
	case "suspect":
		s.suspect.Add(1)
	case "dead":
		s.dead.Add(1)
	}
}

// logCounter counts memberlist's log lines about suspicions and
// refutations; the rest of the log is dropped.
type logCounter struct {
	probeSuspects, refutes atomic.Uint64
}

func (l *logCounter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte("\n")) {
		switch {
		case bytes.Contains(line, []byte("has failed, no acks received")):
			l.probeSuspects.Add(1)
		case bytes.Contains(line, []byte("memberlist: Refuting a suspect message")),
			bytes.Contains(line, []byte("memberlist: Refuting a dead message")):
			l.refutes.Add(1)
		}
	}
	return len(p), nil
}

// tableReader reads memberlist's member table: the state of every known
// node. memberlist exposes no suspect state (Members() returns nodes
// whose public Node.State is never updated, and its EventDelegate has no
// suspect event), so this reads the unexported nodes slice under the
// unexported nodeLock, exactly as memberlist's own code does. Tied to
// memberlist v0.7.0's field names; newTableReader fails if they change.
type tableReader struct {
	lock  *sync.RWMutex
	nodes *[]unsafe.Pointer // []*nodeState
	inc   *atomic.Uint32
	// offsets inside nodeState
	nameOff, stateOff, incOff uintptr
}

func newTableReader(m *memberlist.Memberlist) (*tableReader, error) {
	v := reflect.ValueOf(m).Elem()
	field := func(name string) (reflect.Value, error) {
		f := v.FieldByName(name)
		if !f.IsValid() {
			return f, fmt.Errorf("memberlist.Memberlist has no field %s (not v0.7.0?)", name)
		}
		return f, nil
	}
	lock, err := field("nodeLock")
	if err != nil {
		return nil, err
	}
	nodes, err := field("nodes")
	if err != nil {
		return nil, err
	}
	inc, err := field("incarnation")
	if err != nil {
		return nil, err
	}
	if lock.Type() != reflect.TypeOf(sync.RWMutex{}) || inc.Type() != reflect.TypeOf(atomic.Uint32{}) ||
		nodes.Kind() != reflect.Slice || nodes.Type().Elem().Kind() != reflect.Pointer {
		return nil, fmt.Errorf("memberlist.Memberlist fields have unexpected types (not v0.7.0?)")
	}
	ns := nodes.Type().Elem().Elem() // nodeState
	st, ok := ns.FieldByName("State")
	if !ok || len(st.Index) != 1 || st.Type != reflect.TypeOf(memberlist.StateAlive) {
		return nil, fmt.Errorf("nodeState.State not found (not v0.7.0?)")
	}
	in, ok := ns.FieldByName("Incarnation")
	if !ok || in.Type.Kind() != reflect.Uint32 {
		return nil, fmt.Errorf("nodeState.Incarnation not found (not v0.7.0?)")
	}
	nd, ok := ns.FieldByName("Node")
	if !ok || nd.Type != reflect.TypeOf(memberlist.Node{}) {
		return nil, fmt.Errorf("nodeState.Node not found (not v0.7.0?)")
	}
	name, _ := nd.Type.FieldByName("Name")
	return &tableReader{
		lock:     (*sync.RWMutex)(unsafe.Pointer(lock.UnsafeAddr())),
		nodes:    (*[]unsafe.Pointer)(unsafe.Pointer(nodes.UnsafeAddr())),
		inc:      (*atomic.Uint32)(unsafe.Pointer(inc.UnsafeAddr())),
		nameOff:  nd.Offset + name.Offset,
		stateOff: st.Offset,
		incOff:   in.Offset,
	}, nil
}

type nodeView struct {
	state memberlist.NodeStateType
	inc   uint32
}

// read fills into with every known node's state.
func (r *tableReader) read(into map[string]nodeView) {
	r.lock.RLock()
	defer r.lock.RUnlock()
	for _, p := range *r.nodes {
		name := *(*string)(unsafe.Add(p, r.nameOff))
		into[name] = nodeView{
			state: *(*memberlist.NodeStateType)(unsafe.Add(p, r.stateOff)),
			inc:   *(*uint32)(unsafe.Add(p, r.incOff)),
		}
	}
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	}
	return "unknown"
}

// lineWriter prints Lines, one per line, flushed at once.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
	e  *json.Encoder
}

func newLineWriter(w io.Writer) *lineWriter {
	bw := bufio.NewWriter(w)
	return &lineWriter{w: bw, e: json.NewEncoder(bw)}
}

func (l *lineWriter) put(x Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if x.T == 0 {
		x.T = time.Now().UnixNano()
	}
	l.e.Encode(x)
	l.w.Flush()
}

// lineEvents prints memberlist's events about other members (-events).
type lineEvents struct {
	self string
	out  *lineWriter
}

func (e *lineEvents) put(n *memberlist.Node, state string) {
	if n.Name != e.self {
		e.out.put(Line{Node: n.Name, State: state, Meta: string(n.Meta)})
	}
}

func (e *lineEvents) NotifyJoin(n *memberlist.Node)   { e.put(n, "joined") }
func (e *lineEvents) NotifyLeave(n *memberlist.Node)  { e.put(n, "dead") }
func (e *lineEvents) NotifyUpdate(n *memberlist.Node) { e.put(n, "updated") }

// memberEvents is -member -events: for `hearsay bench swim --procs`.
// Other members' changes come from memberlist's EventDelegate (NotifyJoin,
// NotifyLeave, NotifyUpdate; no table polling, no periodic lines, so that
// an idle member does only memberlist's own work). Commands on stdin, one
// a line: "meta VALUE" sets this member's metadata and calls UpdateNode;
// "join ADDR" joins through ADDR as -join does; "bytes" prints a Bytes
// line. It exits on SIGTERM, SIGINT or the end of
// stdin, without leaving.
func memberEvents(o options, m *memberlist.Memberlist, del *delegate, ct *countingTransport, out *lineWriter, stop chan os.Signal) error {
	join := func(addr string) {
		go func() {
			for try := 0; try < 20; try++ {
				if _, err := m.Join([]string{addr}); err == nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	if o.join != "" {
		join(o.join)
	}
	cmds := make(chan string)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
	}()
	for {
		select {
		case <-stop:
			return nil
		case cmd, ok := <-cmds:
			if !ok {
				return nil
			}
			switch {
			case strings.HasPrefix(cmd, "meta "):
				val := []byte(strings.TrimPrefix(cmd, "meta "))
				del.meta.Store(&val)
				if err := m.UpdateNode(o.metaTimeout); err != nil {
					fmt.Fprintf(os.Stderr, "UpdateNode: %v\n", err)
				}
			case strings.HasPrefix(cmd, "join "):
				join(strings.TrimPrefix(cmd, "join "))
			case cmd == "bytes":
				out.put(Line{Bytes: &MemberBytes{Packet: ct.packetBytes.Load(), Stream: ct.streamBytes.Load()}})
			}
		}
	}
}

// runMember is the -member mode: one memberlist member in this process,
// for `hearsay bench pause`, which starts one such process per member
// and stops and resumes them with signals. It prints a Ready line, joins
// through -join (if set), then prints a line for every state change of
// another member it sees (polling its member table every -poll) and a
// Stats line every second and on SIGTERM or SIGINT, after which it shuts
// down without leaving and exits.
func runMember(o options) error {
	sink := &counterSink{}
	mc := metrics.DefaultConfig("")
	mc.EnableRuntimeMetrics = false
	mc.EnableHostname = false
	if _, err := metrics.NewGlobal(mc, sink); err != nil {
		return err
	}
	logs := &logCounter{}
	var nt *memberlist.NetTransport
	var err error
	for try := 0; try < 5; try++ { // with port 0, the UDP port picked after TCP may be taken
		nt, err = memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}, BindPort: o.port,
			Logger: log.New(io.Discard, "", 0)})
		if err == nil || o.port != 0 {
			break
		}
	}
	if err != nil {
		return err
	}
	out := newLineWriter(os.Stdout)
	c := memberlist.DefaultLANConfig()
	c.Name = o.name
	c.ProbeInterval = o.probeInterval
	c.ProbeTimeout = o.probeTimeout
	c.BindAddr = "127.0.0.1"
	c.AdvertiseAddr = "127.0.0.1"
	c.AdvertisePort = nt.GetAutoBindPort()
	c.Transport = nt
	c.LogOutput = logs
	var ct *countingTransport
	del := &delegate{}
	if o.events {
		ct = newCountingTransport(nt)
		c.Transport = ct
		c.Delegate = del
		c.Events = &lineEvents{self: o.name, out: out}
	}
	m, err := memberlist.Create(c)
	if err != nil {
		nt.Shutdown()
		return err
	}
	defer m.Shutdown() // no Leave
	out.put(Line{Ready: true, Name: o.name, Addr: m.LocalNode().Address()})

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if o.events {
		return memberEvents(o, m, del, ct, out, stop)
	}
	tr, err := newTableReader(m)
	if err != nil {
		return err
	}
	if o.join != "" {
		go func() {
			// Retry: the contact may be stopped or slow to start.
			for try := 0; try < 20; try++ {
				if _, err := m.Join([]string{o.join}); err == nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	var polls uint64
	stats := func() *MemberStats {
		return &MemberStats{SuspectMsgs: sink.suspect.Load(), DeadMsgs: sink.dead.Load(),
			ProbeSuspects: logs.probeSuspects.Load(), Refutes: logs.refutes.Load(),
			Incarnation: tr.inc.Load(), Polls: polls}
	}
	seen := map[string]nodeView{}
	cur := map[string]nodeView{}
	poll := time.NewTicker(o.poll)
	defer poll.Stop()
	every := time.NewTicker(time.Second)
	defer every.Stop()
	for {
		select {
		case <-stop:
			out.put(Line{Stats: stats()})
			return nil
		case <-every.C:
			out.put(Line{Stats: stats()})
		case <-poll.C:
			clear(cur)
			tr.read(cur)
			polls++
			for name, v := range cur {
				if name == o.name {
					continue
				}
				if old, ok := seen[name]; !ok || old.state != v.state {
					out.put(Line{Node: name, State: stateName(v.state), Inc: v.inc})
				}
				seen[name] = v
			}
		}
	}
}
