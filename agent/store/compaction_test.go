package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// TestCompactionSchedulerCompacts writes enough through OpenPebble, with a
// flush after each batch, to pile up L0 files, and checks that the
// tickerless scheduler lets pebble compact them: a scheduler that never
// granted would leave every flushed file in L0.
func TestCompactionSchedulerCompacts(t *testing.T) {
	ds, err := OpenPebble(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	db := ds.(*pebbleds.Datastore).DB
	ctx := context.Background()
	val := make([]byte, 512)
	const flushes = 10 // below pebble's L0StopWritesThreshold (12): no write stall
	for f := 0; f < flushes; f++ {
		b, err := ds.Batch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 500; i++ {
			// Keys overlap across batches, so L0 files overlap and
			// must be compacted to be read efficiently.
			if err := b.Put(ctx, datastore.NewKey(fmt.Sprintf("k%05d", (i*7919+f)%2000)), val); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		m := db.Metrics()
		l0 := m.Levels[0].TablesCount
		if m.Compact.Count > 0 && l0 < flushes/2 {
			t.Logf("compactions %d, L0 files %d after %d flushes", m.Compact.Count, l0, flushes)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d flushes: %d compactions, %d files still in L0", flushes, m.Compact.Count, l0)
		}
		<-tick.C
	}
}
