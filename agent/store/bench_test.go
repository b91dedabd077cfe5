package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestClockAheadIsMergedAndLogged: a register write stamped far in the
// future is merged (merging never depends on clocks) and logged; a later
// local write that has seen it still replaces it.
func TestClockAheadIsMergedAndLogged(t *testing.T) {
	var logs bytes.Buffer
	opts := DefaultOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	a, err := Open(OpenMemory(), "a", opts)
	if err != nil {
		t.Fatal(err)
	}
	b := openMem(t, "b")
	future := int64(time.Hour)
	d := must[Change](t)(b.Put("k", "from the future", future))
	if _, err := a.ApplyDelta(d, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "far ahead") || !strings.Contains(logs.String(), "key=k") {
		t.Fatalf("no warning logged: %q", logs.String())
	}
	must[Change](t)(a.Put("k", "now", 1))
	if v := get(t, a, "k"); v.Str != "now" {
		t.Fatalf("k = %q", v.Str)
	}
}

// BenchmarkTextTyping types into one text key of a pebble store (synced
// commits): the cost of a keystroke, record rewrite included.
func BenchmarkTextTyping(b *testing.B) {
	for _, name := range []string{"memory", "pebble"} {
		b.Run(name, func(b *testing.B) {
			ds := OpenMemory()
			if name == "pebble" {
				var err error
				if ds, err = OpenPebble(b.TempDir()); err != nil {
					b.Fatal(err)
				}
				defer ds.Close()
			}
			s, err := Open(ds, "a", DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, err := s.TextInsert("doc", i, "x"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCounterInc measures one synced counter increment.
func BenchmarkCounterInc(b *testing.B) {
	s := openMem(b, "a")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Inc("c", 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMergeStatesNewKeys merges anti-entropy batches of 1,000 register
// states (BenchmarkCatchUp's shape, 52-character peer IDs) into a store
// that does not hold them yet: the store's share of catch-up, per key.
func BenchmarkMergeStatesNewKeys(b *testing.B) {
	src, err := Open(OpenMemory(), "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	states := make([]KeyState, batch)
	for k := range states {
		key := fmt.Sprintf("key/%07d", k)
		if _, _, err := src.Put(key, fmt.Sprintf("value-%07d-of-some-length", k), 1_796_400_000_000_000_000+int64(k)); err != nil {
			b.Fatal(err)
		}
		states[k].Key = key
		states[k].State, _ = src.State(key)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dst, err := Open(OpenMemory(), "12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK", DefaultOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, _, err := dst.MergeStates(states); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/key")
}
