package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestAtRestNoLogAndCompactRecords writes registers, shared counters and
// sets on three real agents (libp2p on 127.0.0.1, plumtree), waits until
// they hold equal states, then until every agent's anti-entropy dot-key log
// is empty (every live member has acked every dot), and checks the
// metadata each agent stores per key (records plus node dictionary, minus
// the user data) is at most 16 bytes (issue 6).
func TestAtRestNoLogAndCompactRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("three agents twice, about 10 s")
	}
	for _, ds := range []string{DatastoreMemory, DatastorePebble} {
		t.Run(ds, func(t *testing.T) { testAtRest(t, ds) })
	}
}

// atRestAgents starts n agents on datastore ds; agents after the first
// join through it.
func atRestAgents(t *testing.T, n int, ds string) []*Agent {
	dir := t.TempDir()
	agents := make([]*Agent, n)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after every cancel below
	for i := range agents {
		cfg := localConfig(filepath.Join(dir, fmt.Sprint(i)))
		cfg.Datastore = ds
		if i > 0 {
			cfg.Join = agents[0].Addrs()[:1]
		}
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = a
		ctx, cancel := context.WithCancel(context.Background())
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
		t.Cleanup(cancel)
	}
	return agents
}

func testAtRest(t *testing.T, ds string) {
	// over: registers of each agent that the next agent then overwrites
	// (a register written by A then by B keeps A's context entry).
	const n, regs, ctrs, sets, over = 3, 40, 10, 10, 20
	agents := atRestAgents(t, n, ds)
	ctx := context.Background()
	waitUntil(t, 20*time.Second, "every agent to see the others alive", func() bool {
		for _, a := range agents {
			if s, err := a.Stats(ctx); err != nil || s.Members < n-1 {
				return false
			}
		}
		return true
	})
	start := time.Now()
	userBytes := 0 // values and set elements of one replica
	for i, a := range agents {
		for k := range regs {
			// An overwritten value is as long as the one replacing it.
			v := fmt.Sprintf("value-%d-%03d-of-some-length", i, k)
			userBytes += len(v)
			if _, err := a.Put(ctx, fmt.Sprintf("reg/%d/%03d", i, k), v); err != nil {
				t.Fatal(err)
			}
		}
		for k := range ctrs {
			if _, err := a.Inc(ctx, fmt.Sprintf("ctr/%03d", k), int64(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		for k := range sets {
			e1, e2 := fmt.Sprintf("elem-%d-%d-a", i, k), fmt.Sprintf("elem-%d-%d-b", i, k)
			userBytes += len(e1) + len(e2)
			if _, err := a.Add(ctx, fmt.Sprintf("set/%d/%03d", i, k), e1, e2); err != nil {
				t.Fatal(err)
			}
		}
	}
	const keys = n*regs + ctrs + n*sets
	digests := func(a *Agent) map[string][16]byte {
		out := map[string][16]byte{}
		_ = a.Do(ctx, func(time.Duration) {
			a.st.Range(func(k string, d [16]byte) bool { out[k] = d; return true })
		})
		return out
	}
	equal := func() bool {
		d0 := digests(agents[0])
		if len(d0) != keys {
			return false
		}
		for _, a := range agents[1:] {
			d := digests(a)
			if len(d) != keys {
				return false
			}
			for k, v := range d0 {
				if d[k] != v {
					return false
				}
			}
		}
		return true
	}
	waitUntil(t, 30*time.Second, "equal states on every agent", equal)
	// Every agent has seen every write: agent i overwrites the first
	// registers of agent i-1.
	for i, a := range agents {
		w := (i + n - 1) % n
		for k := range over {
			v := fmt.Sprintf("VALUE-%d-%03d-of-some-length", i, k)
			if _, err := a.Put(ctx, fmt.Sprintf("reg/%d/%03d", w, k), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitUntil(t, 30*time.Second, "equal states on every agent after the overwrites", equal)
	for _, a := range agents {
		v, err := a.Get(ctx, fmt.Sprintf("reg/%d/000", n-1))
		if err != nil || v.Str != "VALUE-0-000-of-some-length" {
			t.Fatalf("overwritten register: %+v %v", v, err)
		}
	}
	converged := time.Since(start)
	logs := func() []int {
		out := make([]int, n)
		for i, a := range agents {
			s, err := a.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = s.AntiEntropy.LogEntries
		}
		return out
	}
	atConvergence := logs()
	waitUntil(t, 30*time.Second, "empty dot-key logs on every agent", func() bool {
		for _, e := range logs() {
			if e != 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%s: %d keys on %d agents: equal after %v (log entries then %v), logs empty after %v",
		ds, keys, n, converged.Round(time.Millisecond), atConvergence, time.Since(start).Round(time.Millisecond))
	for i, a := range agents {
		var recs, recBytes, dictBytes int64
		if err := a.Do(ctx, func(time.Duration) {
			fp, err := a.st.Footprint()
			if err != nil {
				t.Error(err)
			}
			recs, recBytes, dictBytes = int64(fp.Records), fp.RecordBytes, fp.NodeBytes
		}); err != nil {
			t.Fatal(err)
		}
		perKey := float64(recBytes+dictBytes-int64(userBytes)) / keys
		t.Logf("agent %d: %d records, %d + %d dictionary bytes: %.2f B/key beyond the user data", i, recs, recBytes, dictBytes, perKey)
		if recs != keys || perKey > 16 {
			t.Errorf("agent %d: %d records, %.2f B/key of metadata at rest, want %d and <= 16", i, recs, perKey, keys)
		}
	}
}
