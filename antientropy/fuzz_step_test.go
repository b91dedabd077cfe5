package antientropy

import (
	"fmt"
	"testing"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
	"google.golang.org/protobuf/proto"
)

// FuzzStep feeds arbitrary envelopes to a core in the middle of sessions
// (as initiator and responder): Step may refuse them but never panics.
func FuzzStep(f *testing.F) {
	nw := newNet(f, 2, testConfig(), 3)
	for i := 0; i < 20; i++ {
		nw.write(1, fmt.Sprintf("k%d", i), "v")
	}
	nw.tracing = true
	nw.sync(0, 1)
	for _, m := range nw.trace {
		raw, _ := proto.Marshal(m.m)
		f.Add(raw, m.from == "n0")
	}
	f.Fuzz(func(t *testing.T, raw []byte, toInitiator bool) {
		nw := newNet(t, 2, testConfig(), 3)
		for i := 0; i < 5; i++ {
			nw.write(0, fmt.Sprintf("k%d", i), "v")
			nw.write(1, fmt.Sprintf("k%d", i+3), "w")
		}
		nw.nodes[0].core.SyncWith(0, "n1")
		nw.nodes[0].core.Ready()
		env := &pb.Envelope{}
		if proto.Unmarshal(raw, env) != nil {
			return
		}
		to, from := nw.nodes[1], NodeID("n0")
		if toInitiator {
			to, from = nw.nodes[0], "n1"
		}
		_ = to.core.Step(0, from, env)
		to.core.Ready()
	})
}
