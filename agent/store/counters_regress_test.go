package store

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"
)

// deltaWithContext is a 20-byte remote delta for key "k": an ORMap with no
// fields whose causal context is the version vector entry vv for node x
// and, with cloud, one cloud dot (y, 5).
func deltaWithContext(vv uint64, cloud bool) []byte {
	m := []byte{1, 9, 2, 1, 'x', 1, 'y', 1, 0} // 2 nodes; vv: 1 entry: node 0 ("x")
	m = binary.AppendUvarint(m, vv)
	if cloud {
		m = append(m, 1, 1, 5, 0) // cloud: 1 dot (node 1 "y", 5); no fields
	} else {
		m = append(m, 0, 0)
	}
	d := []byte{1, 1, 1, 'k'}
	d = binary.AppendUvarint(d, uint64(len(m)))
	d = append(d, m...)
	return append(d, 0)
}

// A remote delta whose causal context counts up to 2^64-1 is refused, and
// promptly: its dot count wrapped to 0, a join took the "small delta" path
// and looped over 2^64 dots, hanging the agent's loop for good (one
// 20-byte delta from any peer); and a key whose context reached 2^64-1 for
// this node made its next local dot wrap to 0, so every later write to the
// key was dropped.
func TestDeltasWithHugeCountersAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vv    uint64
		cloud bool
	}{{"wrapping dot count", math.MaxUint64, true}, {"counter at the top", math.MaxUint64, false}, {"counter above MaxDotCounter", 1<<62 + 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := openMem(t, "x")
			done := make(chan error, 1)
			go func() { _, err := s.ApplyDelta(deltaWithContext(tc.vv, tc.cloud), 0); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ApplyDelta: %v, want ErrMalformed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ApplyDelta of a 20-byte delta still running after 10 s")
			}
			if _, _, err := s.Put("k", "v", 1); err != nil {
				t.Fatal(err)
			}
			if v, ok := s.Get("k"); !ok || v.Str != "v" {
				t.Fatalf("a write after the refused delta: %+v %v", v, ok)
			}
		})
	}
}
