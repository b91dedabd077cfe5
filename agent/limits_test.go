package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startAgent runs one agent on 127.0.0.1 (memory datastore, plumtree)
// until the test ends; cfg adjusts its configuration.
func startAgent(t *testing.T, dir string, cfg func(*Config)) *Agent {
	t.Helper()
	c := localConfig(dir)
	c.Datastore = DatastoreMemory
	if cfg != nil {
		cfg(&c)
	}
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// A write the keyspace accepts is one anti-entropy can carry: a 300 KiB
// value written before a node joined reaches it with broadcast catch-up
// off (anti-entropy used to skip states over 256 KiB while the keyspace
// took 1 MiB values, so such a write was acknowledged and never repaired),
// and a value too large for anti-entropy is refused at the write.
func TestEveryAcceptedWriteIsRepairable(t *testing.T) {
	dir := t.TempDir()
	noCatchUp := func(c *Config) { c.Plumtree.CatchUpSpan = 0 }
	a := startAgent(t, filepath.Join(dir, "a"), noCatchUp)
	ctx := context.Background()
	big := strings.Repeat("x", 300<<10)
	if _, err := a.Put(ctx, "big", big); err != nil {
		t.Fatalf("a 300 KiB value was refused: %v", err)
	}
	if _, err := a.Put(ctx, "small", "y"); err != nil {
		t.Fatal(err)
	}
	limit := a.cfg.AntiEntropy.MaxStateBytes
	if _, err := a.Put(ctx, "huge", strings.Repeat("x", limit+1)); err == nil {
		t.Fatalf("a value larger than anti-entropy's MaxStateBytes (%d) was accepted", limit)
	}
	b := startAgent(t, filepath.Join(dir, "b"), func(c *Config) { noCatchUp(c); c.Join = a.Addrs()[:1] })
	waitUntil(t, 30*time.Second, "both keys at the node that joined later", func() bool {
		v, err := b.Get(ctx, "big")
		if err != nil || v.Str != big {
			return false
		}
		_, err = b.Get(ctx, "small")
		return err == nil
	})
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ae := st.AntiEntropy; ae.ObjectsPulled+ae.ObjectsPushed == 0 {
		t.Fatalf("the keys did not come by anti-entropy: %+v", ae)
	}
}
