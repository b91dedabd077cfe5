package crdt

import (
	"bytes"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// env is what a test operation may use at its replica: identity, clock and
// the replica's current physical time (virtual, skewed per node).
type env struct {
	node NodeID
	clk  *HLC
	phys int64
}

// spec describes one CRDT type to the generic property harness.
type spec[T any] struct {
	newReplica func(node NodeID) T
	// op performs a random mutator on r, returning the delta and the same
	// operation on the sequential reference model.
	op      func(t *rapid.T, e *env, r T) (T, func(model any))
	join    func(a, b T)
	clone   func(a T) T
	encode  func(a T) []byte
	decode  func(b []byte, node NodeID) (T, error)
	value   func(a T) string
	observe func(e *env, x T) // optional: feed timestamps in x to e.clk
	// newModel and modelValue give the sequential reference model.
	newModel   func() any
	modelValue func(m any) string
}

const maxAhead = int64(10e9) // 10 s

type replica[T any] struct {
	env   env
	skew  int64
	state T
	inbox []T
}

// history runs random operations on 3-5 replicas. In causal mode every
// delta reaches every replica before the next operation and each replica is
// compared with the model after each step. Otherwise deltas are lost,
// duplicated and reordered, and random full-state exchanges happen. It
// returns the replicas and a sample of states and deltas seen on the way.
func history[T any](t *rapid.T, s spec[T], causal bool) ([]*replica[T], []T) {
	n := rapid.IntRange(3, 5).Draw(t, "replicas")
	rs := make([]*replica[T], n)
	for i := range rs {
		node := NodeID(fmt.Sprintf("n%d", i))
		rs[i] = &replica[T]{env: env{node: node, clk: NewHLC(maxAhead)}, skew: int64(i) * 1e6, state: s.newReplica(node)}
	}
	var model any
	if causal {
		model = s.newModel()
	}
	var samples []T
	// Each node reads true time plus its own skew. A node's wall clock may
	// jump backwards or forwards. In causal mode skews stay within the HLC's
	// MaxAhead bound (beyond it a clock refuses remote timestamps and LWW
	// order follows timestamps, not causality; see hlc_test.go).
	skewBound := int64(60e9)
	if causal {
		skewBound = maxAhead / 2
	}
	now := int64(1e12)
	steps := rapid.IntRange(1, 40).Draw(t, "steps")
	for range steps {
		now += rapid.Int64Range(0, 2e9).Draw(t, "dt")
		if rapid.IntRange(0, 9).Draw(t, "jump?") == 0 {
			r := rs[rapid.IntRange(0, n-1).Draw(t, "jumper")]
			r.skew = rapid.Int64Range(-skewBound, skewBound).Draw(t, "skew")
		}
		for _, r := range rs {
			r.env.phys = now + r.skew
		}
		switch act := rapid.IntRange(0, 9).Draw(t, "action"); {
		case causal || act < 5: // operation
			i := rapid.IntRange(0, n-1).Draw(t, "at")
			r := rs[i]
			d, mop := s.op(t, &r.env, r.state)
			samples = append(samples, s.clone(d))
			for j, o := range rs {
				if j == i {
					continue
				}
				if causal {
					s.join(o.state, d)
					if s.observe != nil {
						s.observe(&o.env, d)
					}
					continue
				}
				copies := rapid.SampledFrom([]int{0, 1, 1, 1, 2}).Draw(t, "copies")
				for range copies {
					o.inbox = append(o.inbox, d)
				}
			}
			if causal {
				mop(model)
				want := s.modelValue(model)
				for _, o := range rs {
					if got := s.value(o.state); got != want {
						t.Fatalf("replica %s: value %q, sequential model %q", o.env.node, got, want)
					}
				}
			}
		case act < 8: // deliver one pending delta, in random order
			r := rs[rapid.IntRange(0, n-1).Draw(t, "to")]
			if len(r.inbox) > 0 {
				k := rapid.IntRange(0, len(r.inbox)-1).Draw(t, "which")
				d := r.inbox[k]
				r.inbox = append(r.inbox[:k], r.inbox[k+1:]...)
				s.join(r.state, d)
				if s.observe != nil {
					s.observe(&r.env, d)
				}
			}
		default: // full-state exchange from a to b
			a := rs[rapid.IntRange(0, n-1).Draw(t, "from")]
			b := rs[rapid.IntRange(0, n-1).Draw(t, "to")]
			s.join(b.state, s.clone(a.state))
			samples = append(samples, s.clone(b.state))
		}
	}
	for _, r := range rs {
		samples = append(samples, s.clone(r.state))
	}
	return rs, samples
}

// converge delivers what is pending (some of it), then exchanges full states
// so every replica has joined every other's state.
func converge[T any](t *rapid.T, s spec[T], rs []*replica[T]) {
	for _, r := range rs {
		for len(r.inbox) > 0 {
			k := rapid.IntRange(0, len(r.inbox)-1).Draw(t, "late")
			if rapid.Bool().Draw(t, "lost") {
				s.join(r.state, r.inbox[k])
			}
			r.inbox = append(r.inbox[:k], r.inbox[k+1:]...)
		}
	}
	for _, r := range rs[1:] {
		s.join(rs[0].state, s.clone(r.state))
	}
	for _, r := range rs[1:] {
		s.join(r.state, s.clone(rs[0].state))
	}
}

// checkRoundTrip asserts decode(encode(x)) re-encodes to the same bytes and
// has the same value.
func checkRoundTrip[T any](t *rapid.T, s spec[T], x T) {
	b := s.encode(x)
	y, err := s.decode(b, "n0")
	if err != nil {
		t.Fatalf("decode(encode(x)): %v", err)
	}
	if b2 := s.encode(y); !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs:\n%x\n%x", b, b2)
	}
	if s.value(x) != s.value(y) {
		t.Fatalf("round trip value %q != %q", s.value(y), s.value(x))
	}
}

// runSpec runs every property for one type.
func runSpec[T any](t *testing.T, s spec[T]) {
	t.Run("Convergence", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			rs, _ := history(t, s, false)
			converge(t, s, rs)
			want, wantV := s.encode(rs[0].state), s.value(rs[0].state)
			for _, r := range rs[1:] {
				if got := s.encode(r.state); !bytes.Equal(got, want) {
					t.Fatalf("replica %s encoding differs after exchange:\n%x\n%x", r.env.node, got, want)
				}
				if got := s.value(r.state); got != wantV {
					t.Fatalf("replica %s value %q, want %q", r.env.node, got, wantV)
				}
			}
			checkRoundTrip(t, s, rs[0].state)
		})
	})
	t.Run("SequentialModel", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			rs, _ := history(t, s, true)
			for _, r := range rs {
				checkRoundTrip(t, s, r.state)
			}
		})
	})
	t.Run("JoinLaws", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			_, samples := history(t, s, false)
			pick := func(label string) T {
				return samples[rapid.IntRange(0, len(samples)-1).Draw(t, label)]
			}
			a, b, c := pick("a"), pick("b"), pick("c")
			j := func(x, y T) T { z := s.clone(x); s.join(z, y); return z }
			eq := func(law string, x, y T) {
				if ex, ey := s.encode(x), s.encode(y); !bytes.Equal(ex, ey) {
					t.Fatalf("%s violated:\n%x\n%x", law, ex, ey)
				}
			}
			eq("commutativity", j(a, b), j(b, a))
			eq("associativity", j(j(a, b), c), j(a, j(b, c)))
			eq("idempotence", j(a, a), a)
			eq("absorption of joined part", j(j(a, b), b), j(a, b))
			checkRoundTrip(t, s, a)
			checkRoundTrip(t, s, j(a, b))
		})
	})
}
