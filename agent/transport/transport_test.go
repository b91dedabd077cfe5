package transport_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// streamCount counts streams of proto in direction dir on all of h's
// connections to p.
func streamCount(n *node, p peer.ID, proto protocol.ID, dir network.Direction) int {
	c := 0
	for _, conn := range n.h.Network().ConnsToPeer(p) {
		for _, s := range conn.GetStreams() {
			if s.Protocol() == proto && s.Stat().Direction == dir {
				c++
			}
		}
	}
	return c
}

func TestManyMessagesReuseOneStream(t *testing.T) {
	a, b, c := newNode(t, testConfig()), newNode(t, testConfig()), newNode(t, testConfig())
	a.learn(b.h)
	a.learn(c.h)
	b.learn(a.h)
	// One message each way first, so that a's dial completes before b
	// sends and there is a single connection (simultaneous dials may
	// leave two, each with its own streams).
	for _, to := range []*node{b, c} {
		if err := a.tr.Send(to.h.ID(), protoA, msg("hello")); err != nil {
			t.Fatal(err)
		}
		recv(t, to)
	}
	const n = 2000
	for i := range n {
		for _, to := range []*node{b, c} {
			if err := a.tr.Send(to.h.ID(), protoA, msg(payload(i))); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if i%10 == 0 {
			if err := a.tr.Send(b.h.ID(), protoB, msg(payload(i))); err != nil {
				t.Fatalf("send protoB %d: %v", i, err)
			}
		}
	}
	// b replies on the same protocol: it opens its own stream to a.
	for i := range 100 {
		if err := b.tr.Send(a.h.ID(), protoA, msg(payload(i))); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}

	// Per (peer, protocol) stream, frames arrive in order.
	for _, rcv := range []*node{b, c} {
		next := map[protocol.ID]int{}
		want := n
		if rcv == b {
			want += n / 10
		}
		for range want {
			in := recv(t, rcv)
			if in.From != a.h.ID() {
				t.Fatalf("message from %s, want %s", in.From, a.h.ID())
			}
			got := string(in.Msg.(*wrapperspb.BytesValue).Value)
			if exp := payload(next[in.Proto]); got != exp {
				t.Fatalf("%s: got %q, want %q", in.Proto, got, exp)
			}
			step := 1
			if in.Proto == protoB {
				step = 10
			}
			next[in.Proto] += step
		}
	}
	for i := range 100 {
		in := recv(t, a)
		if got := string(in.Msg.(*wrapperspb.BytesValue).Value); got != payload(i) {
			t.Fatalf("reply: got %q, want %q", got, payload(i))
		}
	}

	if conns := a.h.Network().ConnsToPeer(b.h.ID()); len(conns) != 1 {
		t.Fatalf("a has %d connections to b, want 1", len(conns))
	}
	for _, tc := range []struct {
		to    *node
		proto protocol.ID
		dir   network.Direction
		want  int
	}{
		{b, protoA, network.DirOutbound, 1},
		{b, protoA, network.DirInbound, 1}, // b's replies
		{b, protoB, network.DirOutbound, 1},
		{c, protoA, network.DirOutbound, 1},
		{c, protoA, network.DirInbound, 0},
	} {
		if got := streamCount(a, tc.to.h.ID(), tc.proto, tc.dir); got != tc.want {
			t.Errorf("a->%s %s %v streams = %d, want %d", tc.to.h.ID(), tc.proto, tc.dir, got, tc.want)
		}
	}
	st := a.tr.Stats().Protocols[protoA]
	if st.Sent != 2*n+2 || st.Received != 100 || st.DroppedQueueFull != 0 || st.DroppedSendFailed != 0 {
		t.Errorf("a stats %+v, want Sent=%d Received=100 and no drops", st, 2*n+2)
	}
	wantBytes := 2 * frameSize(t, msg("hello"))
	for i := range n {
		wantBytes += 2 * frameSize(t, msg(payload(i)))
	}
	if st.SentBytes != uint64(wantBytes) {
		t.Errorf("a sent %d bytes on %s, want %d (the frames, length prefixes included)", st.SentBytes, protoA, wantBytes)
	}
	if st.Flushes == 0 || st.Flushes > st.Sent {
		t.Errorf("a flushed %d times for %d frames", st.Flushes, st.Sent)
	}
}

// frameSize is the bytes WriteFrame writes for m.
func frameSize(t *testing.T, m proto.Message) int {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return len(frameOf(t, b))
}

func TestBadPeerStreamResetOthersServed(t *testing.T) {
	cfg := testConfig()
	cfg.MaxFrameSize = 1024
	v, good := newNode(t, cfg), newNode(t, cfg)
	raw := newHost(t, t.TempDir()) // a bare host that writes raw bytes
	t.Cleanup(func() { raw.Close() })
	good.learn(v.h)
	v.learn(good.h)
	raw.Peerstore().AddAddrs(v.h.ID(), v.h.Addrs(), time.Hour)

	bad := map[string][]byte{
		"undecodable": {0x03, 0x0a, 0x05, 'x'}, // BytesValue says 5 bytes, has 1
		"oversized":   {0x81, 0x08},            // length 1025 > 1024
		"bad varint":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"truncated":   {0x05, 'a'},
	}
	i := 0
	for name, frame := range bad {
		// The well-behaved peer keeps being served in between.
		if err := good.tr.Send(v.h.ID(), protoA, msg(payload(i))); err != nil {
			t.Fatal(err)
		}
		if got := string(recv(t, v).Msg.(*wrapperspb.BytesValue).Value); got != payload(i) {
			t.Fatalf("good peer: got %q", got)
		}
		i++

		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		s, err := raw.NewStream(ctx, v.h.ID(), protoA)
		cancel()
		if err != nil {
			t.Fatalf("%s: open raw stream: %v", name, err)
		}
		if _, err := s.Write(frame); err != nil {
			t.Fatalf("%s: write: %v", name, err)
		}
		if name == "truncated" {
			_ = s.CloseWrite() // EOF in the middle of the frame
		}
		_ = s.SetReadDeadline(time.Now().Add(waitFor))
		_, err = s.Read(make([]byte, 1))
		if !errors.Is(err, network.ErrReset) {
			t.Fatalf("%s: read on raw stream returned %v, want a stream reset", name, err)
		}
		_ = s.Reset()
	}
	if got := v.tr.Stats().Protocols[protoA].BadFrames; got != uint64(len(bad)) {
		t.Errorf("BadFrames = %d, want %d", got, len(bad))
	}
	// Still serving the good peer, both ways.
	if err := good.tr.Send(v.h.ID(), protoA, msg("after")); err != nil {
		t.Fatal(err)
	}
	if got := string(recv(t, v).Msg.(*wrapperspb.BytesValue).Value); got != "after" {
		t.Fatalf("good peer after bad input: got %q", got)
	}
	if err := v.tr.Send(good.h.ID(), protoA, msg("back")); err != nil {
		t.Fatal(err)
	}
	if got := string(recv(t, good).Msg.(*wrapperspb.BytesValue).Value); got != "back" {
		t.Fatalf("reply to good peer: got %q", got)
	}
	logs := v.logs.String()
	for _, want := range []string{"bad frame", "peer=" + raw.ID().String(), "protocol=" + string(protoA), "reason="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestPeerUpAndDownOnHostClose(t *testing.T) {
	a, b := newNode(t, testConfig()), newNode(t, testConfig())
	a.learn(b.h)
	if err := a.tr.Send(b.h.ID(), protoA, msg("hi")); err != nil {
		t.Fatal(err)
	}
	recv(t, b)
	waitEvent(t, a, "PeerUp(b) on a", isUp(b.h.ID()))
	waitEvent(t, b, "PeerUp(a) on b", isUp(a.h.ID()))

	b.tr.Close()
	b.h.Close()
	ev := waitEvent(t, a, "PeerDown(b) on a", isDown(b.h.ID())).(transport.PeerDown)
	if !errors.Is(ev.Reason, transport.ErrConnClosed) {
		t.Errorf("PeerDown reason = %v, want ErrConnClosed", ev.Reason)
	}
}

func TestSendToUnreachablePeerReportsDown(t *testing.T) {
	a, b := newNode(t, testConfig()), newNode(t, testConfig())
	// a knows no address for b.
	if err := a.tr.Send(b.h.ID(), protoA, msg("lost")); err != nil {
		t.Fatalf("Send must only enqueue, got %v", err)
	}
	ev := waitEvent(t, a, "PeerDown(b) after failed dial", isDown(b.h.ID())).(transport.PeerDown)
	if ev.Reason == nil {
		t.Error("PeerDown without a reason")
	}
	if got := a.tr.Stats().Protocols[protoA].DroppedSendFailed; got != 1 {
		t.Errorf("DroppedSendFailed = %d, want 1", got)
	}
}

func TestSendErrors(t *testing.T) {
	cfg := testConfig()
	cfg.MaxFrameSize = 16
	a := newNode(t, cfg)
	if err := a.tr.Send(a.h.ID(), protoA, msg("x")); !errors.Is(err, transport.ErrSelf) {
		t.Errorf("send to self: %v", err)
	}
	other := newHost(t, t.TempDir())
	defer other.Close()
	if err := a.tr.Send(other.ID(), "/nope/1", msg("x")); !errors.Is(err, transport.ErrUnknownProtocol) {
		t.Errorf("unknown protocol: %v", err)
	}
	if err := a.tr.Send(other.ID(), protoA, msg(strings.Repeat("x", 64))); !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if got := a.tr.Stats().Protocols[protoA].RejectedTooLarge; got != 1 {
		t.Errorf("RejectedTooLarge = %d, want 1", got)
	}
	// A nil message, typed or not, went out as an empty frame.
	var typedNil *wrapperspb.BytesValue
	for _, m := range []proto.Message{nil, typedNil} {
		if err := a.tr.Send(other.ID(), protoA, m); !errors.Is(err, transport.ErrNilMessage) {
			t.Errorf("nil message %T: %v", m, err)
		}
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	cfg := testConfig()
	cfg.QueueLen = 4
	cfg.MaxFrameSize = 1 << 20
	a := newNode(t, cfg)
	// A peer that accepts the stream but never reads: the stream's flow
	// control window fills, the writer blocks, the queue fills.
	sink := newHost(t, t.TempDir())
	release := make(chan struct{})
	t.Cleanup(func() { close(release); sink.Close() })
	sink.SetStreamHandler(protoA, func(network.Stream) { <-release })
	a.learn(sink)

	big := msg(strings.Repeat("z", 512<<10))
	full := 0
	for range 100 { // 50 MiB, more than yamux's largest window
		err := a.tr.Send(sink.ID(), protoA, big)
		switch {
		case errors.Is(err, transport.ErrQueueFull):
			full++
		case err != nil:
			t.Fatal(err)
		}
	}
	if full == 0 {
		t.Fatal("no ErrQueueFull with a stalled peer")
	}
	if got := a.tr.Stats().Protocols[protoA].DroppedQueueFull; got != uint64(full) {
		t.Errorf("DroppedQueueFull = %d, want %d (one per ErrQueueFull)", got, full)
	}
}

func TestDisconnectFlushesQueued(t *testing.T) {
	a, b := newNode(t, testConfig()), newNode(t, testConfig())
	a.learn(b.h)
	const n = 500
	for i := range n {
		if err := a.tr.Send(b.h.ID(), protoA, msg(payload(i))); err != nil {
			t.Fatal(err)
		}
	}
	// b's owner drains concurrently, as the agent's loop would.
	got := make(chan int, 1)
	go func() {
		c := 0
		for c < n {
			select {
			case <-b.tr.Inbound():
				c++
			case <-time.After(waitFor):
				got <- c
				return
			}
		}
		got <- c
	}()
	if err := a.tr.Disconnect(b.h.ID()); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if c := <-got; c != n {
		t.Fatalf("b received %d of %d messages queued before Disconnect", c, n)
	}
	waitEvent(t, a, "PeerDown(b) after Disconnect", isDown(b.h.ID()))
	if st := a.tr.Stats().Protocols[protoA]; st.Sent != n || st.DroppedSendFailed != 0 {
		t.Errorf("stats %+v, want Sent=%d and no drops", st, n)
	}
}

// ownGoroutines lists live goroutines running transport code.
func ownGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "hearsay/agent/transport.") && !strings.Contains(g, "_test.") {
			out = append(out, g)
		}
	}
	return out
}

func TestCloseStopsAllGoroutines(t *testing.T) {
	a, b, c := newNode(t, testConfig()), newNode(t, testConfig()), newNode(t, testConfig())
	a.learn(b.h)
	a.learn(c.h)
	b.learn(a.h)
	for i := range 200 {
		_ = a.tr.Send(b.h.ID(), protoA, msg(payload(i)))
		_ = a.tr.Send(c.h.ID(), protoB, msg(payload(i)))
		_ = b.tr.Send(a.h.ID(), protoA, msg(payload(i)))
	}
	recv(t, b)
	recv(t, c)
	recv(t, a)
	// Close with undrained inbound channels and busy streams.
	for _, n := range []*node{a, b, c} {
		if err := n.tr.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-n.tr.Events(); ok {
			// Buffered events may not be delivered after Close; the
			// channel must be closed, though, so drain to the end.
			for range n.tr.Events() {
			}
		}
		for range n.tr.Inbound() {
		}
	}
	if g := ownGoroutines(); len(g) != 0 {
		t.Fatalf("%d transport goroutines alive after Close:\n%s", len(g), strings.Join(g, "\n\n"))
	}
	if err := a.tr.Send(b.h.ID(), protoA, msg("late")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}

// A peer that was down when we dialed and is back on the same address is
// reached by the next Send, not refused for the swarm's dial backoff
// (5 s after one failure, growing to 5 min): SWIM and HyParView pace
// their own retries, and the backoff turned one failed dial into minutes
// of failed probes.
func TestRedialAfterFailedDialIgnoresBackoff(t *testing.T) {
	a := newNode(t, testConfig())
	dirB := t.TempDir()
	hb := newHost(t, dirB)
	id, addrs := hb.ID(), hb.Addrs()
	hb.Close()
	// The addresses it had; nothing listens there now.
	a.tr.AddAddrs(peer.AddrInfo{ID: id, Addrs: addrs}, peerstore.PermanentAddrTTL)
	if err := a.tr.Send(id, protoA, msg("lost")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, a, "PeerDown(b) after a refused dial", isDown(id))

	cfg := transport.TestHostConfig(dirB) // same identity
	cfg.ListenAddrs = []string{addrs[0].String()}
	hb2, err := transport.NewHost(cfg, newLogger(io.Discard))
	if err != nil {
		t.Fatalf("restart b on %s: %v", addrs[0], err)
	}
	logs := &syncBuffer{}
	trb, err := transport.New(hb2, testConfig(), newLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	trb.Register(protoA, newBytes)
	b := &node{h: hb2, tr: trb, logs: logs}
	t.Cleanup(func() { trb.Close(); hb2.Close() })
	if hb2.ID() != id {
		t.Fatalf("restarted b has ID %s, want %s", hb2.ID(), id)
	}
	if err := a.tr.Send(id, protoA, msg("found")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("a's stats %+v\na's logs:\n%s", a.tr.Stats(), a.logs.String())
		}
	})
	if in := recv(t, b); string(in.Msg.(*wrapperspb.BytesValue).Value) != "found" {
		t.Fatalf("b got %v", in.Msg)
	}
}
