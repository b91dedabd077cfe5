package swim_test

import (
	"testing"

	"github.com/hearsay-mesh/hearsay/swim/pb"
	"google.golang.org/protobuf/proto"
)

// FuzzStep decodes arbitrary bytes into an envelope and feeds it to a
// core from a few senders, then ticks it: nothing may panic.
func FuzzStep(f *testing.F) {
	for _, env := range []*pb.Envelope{
		{Body: &pb.Envelope_Ping{Ping: &pb.Ping{Seq: 1, Target: "a", SuspectIncarnation: 1}}},
		{Body: &pb.Envelope_PingReq{PingReq: &pb.PingReq{Seq: 2, Target: "c", Nack: true}}},
		{Body: &pb.Envelope_Ack{Ack: &pb.Ack{Seq: 1}}, Updates: []*pb.Member{{Id: "c", Incarnation: 2, State: pb.State_STATE_SUSPECT, From: "b"}}},
		{Body: &pb.Envelope_PushPull{PushPull: &pb.PushPull{Join: true, Members: []*pb.Member{{Id: "b", Incarnation: 1, State: pb.State_STATE_ALIVE, Meta: []*pb.Meta{{Key: "k", Value: "v"}}}, {Id: "a", Incarnation: 5, State: pb.State_STATE_DEAD}}}}},
		{Body: &pb.Envelope_Fuse{Fuse: &pb.FuseMsg{Kind: pb.FuseKind_FUSE_CREATE, Group: "b/1", Members: []string{"a", "b", "c"}}}},
		{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{}}, Triggers: []*pb.FuseTrigger{{Group: "b/1", Reason: pb.FuseReason_FUSE_REASON_SIGNAL, Member: "b"}}},
	} {
		b, err := proto.Marshal(env)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newCore(t, "a")
		env := &pb.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return
		}
		for i, from := range []string{"b", "c", "b"} {
			_ = c.Step(0, membershipID(from), env)
			c.Tick(int64ToDur(i))
		}
		c.Ready()
		c.Members()
	})
}
