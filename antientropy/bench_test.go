package antientropy

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

var catchUpKeys = flag.Int("catchup.keys", 100_000, "keys BenchmarkCatchUp transfers")

// BenchmarkCatchUp measures the core's catch-up path with real
// encodings: node B, empty, pulls keys objects of ~40 bytes from node A
// in one session, through the dot-key log ("delta") or the Merkle walk
// ("tree"). Messages are encoded and decoded as on a stream. Reports
// keys merged per second (wall clock, and per CPU second of the whole
// process, GC included, which is the fairer figure on a shared machine)
// and the largest message. Run with -catchup.keys 1000000 for the docs.
func BenchmarkCatchUp(b *testing.B) {
	for _, path := range []string{"delta", "tree"} {
		for _, n := range []int{*catchUpKeys} {
			b.Run(fmt.Sprintf("%s/keys=%d", path, n), func(b *testing.B) {
				cfg := DefaultConfig()
				if path == "tree" {
					cfg.MaxLogAnswer = 0
				}
				var elapsed, cpu time.Duration
				maxMsg := 0
				for it := 0; it < b.N; it++ {
					b.StopTimer()
					nw := newNet(b, 2, cfg, 1)
					for i := 0; i < n; i++ {
						nw.write(0, fmt.Sprintf("user/%08d/profile", i), "some value of twenty")
					}
					b.StartTimer()
					start, cpu0 := time.Now(), cpuTime()
					nw.nodes[1].core.SyncWith(0, nw.nodes[0].id)
					// Deliver through encode/decode.
					queue := []msg{}
					pump := func(n *node) {
						for _, s := range n.core.Ready().Sends {
							raw, err := proto.Marshal(s.Msg)
							if err != nil {
								b.Fatal(err)
							}
							maxMsg = max(maxMsg, len(raw))
							to := nw.node(s.To)
							m := to.core.NewMessage()
							if err := proto.Unmarshal(raw, m); err != nil {
								b.Fatal(err)
							}
							queue = append(queue, msg{n.id, s.To, m})
						}
					}
					pump(nw.nodes[1])
					for len(queue) > 0 {
						m := queue[0]
						queue = queue[1:]
						to := nw.node(m.to)
						if err := to.core.Step(0, m.from, m.m); err != nil {
							b.Fatal(err)
						}
						pump(to)
					}
					elapsed += time.Since(start)
					cpu += cpuTime() - cpu0
					b.StopTimer()
					if nw.nodes[1].store.Len() != n {
						b.Fatalf("merged %d of %d keys", nw.nodes[1].store.Len(), n)
					}
				}
				b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "keys/s")
				if cpu > 0 {
					b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "keys/cpu-s")
				}
				b.ReportMetric(float64(maxMsg), "max-msg-bytes")
			})
		}
	}
}
