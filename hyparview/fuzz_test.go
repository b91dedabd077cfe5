package hyparview

import (
	"testing"
	"time"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
)

// fuzzCore is a core with every list populated, so that arbitrary messages
// reach every branch.
func fuzzCore(t *testing.T) *HyParView {
	cfg := testConfig()
	h := connected(t, cfg, "a", "b")
	step(t, h, "a", solicited(h, []*pb.Node{nodeRec("p1"), nodeRec("p2"), nodeRec("p3")}))
	h.Join(0, membership.Node{ID: "c"})
	h.PeerDown(0, "p3")
	h.Tick(time.Hour)
	h.Ready()
	return h
}

// FuzzStep decodes arbitrary bytes into an envelope and feeds it to Step:
// it must never panic, a rejected message must change nothing, and the
// active view must stay within its bound and never hold self.
func FuzzStep(f *testing.F) {
	for _, env := range []*pb.Envelope{
		joinMsg(nodeRec("a")),
		forwardJoinMsg(nodeRec("j"), 3),
		neighborMsg(nodeRec("a"), true),
		neighborReplyMsg(true),
		disconnectMsg(),
		shuffleMsg(nodeRec("o"), 2, []*pb.Node{nodeRec("o"), nodeRec("self")}, 0),
		shuffleReplyMsg([]*pb.Node{nodeRec("x")}, 0),
	} {
		b, _ := proto.Marshal(env)
		f.Add(b, "a")
	}
	f.Fuzz(func(t *testing.T, data []byte, from string) {
		env := &pb.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return
		}
		h := fuzzCore(t)
		before := snap(h)
		if err := h.Step(time.Hour, membership.NodeID(from), env); err != nil {
			if after := snap(h); after.Pending != before.Pending || after.Out != before.Out ||
				len(after.Active) != len(before.Active) || len(after.Passive) != len(before.Passive) {
				t.Fatalf("rejected message changed state: %v", err)
			}
			return
		}
		h.Tick(2 * time.Hour)
		h.PeerDown(2*time.Hour, membership.NodeID(from))
		if h.ActiveLen() > h.cfg.ActiveSize || h.passive.len() > h.cfg.PassiveSize {
			t.Fatalf("views over their bounds: %d/%d", h.ActiveLen(), h.passive.len())
		}
		if h.IsActive(h.self.ID) || h.passive.has(h.self.ID) {
			t.Fatal("self in a view")
		}
		for _, s := range h.Ready().Sends {
			if s.To == h.self.ID || s.To == "" {
				t.Fatalf("send to %q", s.To)
			}
		}
	})
}

// FuzzDecode checks that any frame the envelope decodes re-encodes to an
// equal message.
func FuzzDecode(f *testing.F) {
	b, _ := proto.Marshal(shuffleMsg(nodeRec("o"), 2, []*pb.Node{{Id: []byte("p"), Addrs: []string{"/ip4/1.2.3.4/tcp/5"}}}, 0))
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		env := &pb.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return
		}
		out, err := proto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		again := &pb.Envelope{}
		if err := proto.Unmarshal(out, again); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(env, again) {
			t.Fatal("re-encoded envelope differs")
		}
	})
}
