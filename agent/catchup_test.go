package agent

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
)

var (
	catchupKeys = flag.Int("catchup.keys", 20000, "keys written before the second agent joins (BenchmarkCatchUp)")
	catchupDS   = flag.String("catchup.datastore", DatastoreMemory, "datastore of both agents in BenchmarkCatchUp: memory, pebble or leveldb")
)

// catchupValue is the value BenchmarkCatchUp writes to key number k: every
// key has its own, so B's values can be checked.
func catchupValue(k int) string { return fmt.Sprintf("value-%07d-of-some-length", k) }

// BenchmarkCatchUp measures anti-entropy between two real agents over
// libp2p on 127.0.0.1: agent A holds -catchup.keys keys, agent B joins
// with none, and the benchmark times until B holds them all (keys merged
// per second is reported). The clock stops once B holds N keys and every
// one of them has A's value (checked on B's loop, inside the timed
// window). Run: go test ./agent -run '^$' -bench CatchUp -benchtime 1x -catchup.keys 100000
// (add -catchup.datastore pebble for synced on-disk stores).
func BenchmarkCatchUp(b *testing.B) {
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		mk := func(name string, join []string) (*Agent, context.CancelFunc, chan struct{}) {
			cfg := localConfig(filepath.Join(dir, name))
			cfg.Datastore = *catchupDS
			cfg.Join = join
			a, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { a.Run(ctx); close(done) }()
			return a, cancel, done
		}
		a, cancelA, doneA := mk("a", nil)
		ctx := context.Background()
		for k := 0; k < *catchupKeys; k++ {
			if _, err := a.Put(ctx, fmt.Sprintf("key/%07d", k), catchupValue(k)); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		bb, cancelB, doneB := mk("b", a.Addrs()[:1])
		tick := time.NewTicker(5 * time.Millisecond)
		for {
			var n int
			var bad error
			if err := bb.Do(ctx, func(time.Duration) {
				if n = bb.st.Len(); n == *catchupKeys {
					bad = checkCatchUp(bb, *catchupKeys)
				}
			}); err != nil {
				b.Fatal(err)
			}
			if bad != nil {
				b.Fatal(bad)
			}
			if n == *catchupKeys {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("after 5 minutes B holds %d of %d keys", n, *catchupKeys)
			}
			<-tick.C
		}
		took := time.Since(start)
		b.StopTimer()
		// Metadata at rest on B, read back from its datastore: every
		// stored key record plus the node dictionary, minus the values
		// (the keys are not in the records), per key. state-B/key is the
		// same for the canonical states anti-entropy sends.
		var fp store.Footprint
		var ferr error
		var values, states int64
		if err := bb.Do(ctx, func(time.Duration) {
			fp, ferr = bb.st.Footprint()
			for k := 0; k < *catchupKeys; k++ {
				st, _ := bb.st.State(fmt.Sprintf("key/%07d", k))
				values += int64(len(catchupValue(k)))
				states += int64(len(st))
			}
		}); err != nil || ferr != nil {
			b.Fatal(err, ferr)
		}
		if fp.Records != *catchupKeys {
			b.Fatalf("B's datastore holds %d key records, want %d", fp.Records, *catchupKeys)
		}
		b.ReportMetric(float64(fp.RecordBytes+fp.NodeBytes-values)/float64(*catchupKeys), "meta-B/key")
		b.ReportMetric(float64(states-values)/float64(*catchupKeys), "state-B/key")
		tick.Stop()
		b.ReportMetric(float64(*catchupKeys)/took.Seconds(), "keys/s")
		b.ReportMetric(took.Seconds(), "s-to-catch-up")
		cancelB()
		<-doneB
		cancelA()
		<-doneA
	}
}

// checkCatchUp verifies, on b's loop, that b holds exactly keys
// key/0000000 ... with A's values.
func checkCatchUp(b *Agent, n int) error {
	for k := 0; k < n; k++ {
		key := fmt.Sprintf("key/%07d", k)
		v, ok := b.st.Get(key)
		if !ok || v.Type != store.TypeRegister || v.Str != catchupValue(k) {
			return fmt.Errorf("B holds %d keys but %s is %+v (present %v), want %q", n, key, v, ok, catchupValue(k))
		}
	}
	return nil
}
