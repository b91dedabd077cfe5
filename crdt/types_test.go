package crdt

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var elems = []string{"a", "b", "c", "d"}

func drawElem(t *rapid.T) string { return rapid.SampledFrom(elems).Draw(t, "elem") }

// setModel is a sequential reference set.
type setModel map[string]bool

func (m setModel) String() string {
	var out []string
	for e, in := range m {
		if in {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

func TestGCounter(t *testing.T) {
	runSpec(t, spec[*GCounter]{
		newReplica: NewGCounter,
		op: func(t *rapid.T, _ *env, r *GCounter) (*GCounter, func(any)) {
			n := rapid.Uint64Range(0, 5).Draw(t, "n")
			return r.Inc(n), func(m any) { *m.(*uint64) += n }
		},
		join: (*GCounter).Join, clone: (*GCounter).Clone, encode: (*GCounter).Encode,
		decode:     DecodeGCounter,
		value:      func(a *GCounter) string { return fmt.Sprint(a.Value()) },
		newModel:   func() any { return new(uint64) },
		modelValue: func(m any) string { return fmt.Sprint(*m.(*uint64)) },
	})
}

func TestPNCounter(t *testing.T) {
	runSpec(t, spec[*PNCounter]{
		newReplica: NewPNCounter,
		op: func(t *rapid.T, _ *env, r *PNCounter) (*PNCounter, func(any)) {
			n := rapid.Int64Range(-5, 5).Draw(t, "n")
			return r.Add(n), func(m any) { *m.(*int64) += n }
		},
		join: (*PNCounter).Join, clone: (*PNCounter).Clone, encode: (*PNCounter).Encode,
		decode:     DecodePNCounter,
		value:      func(a *PNCounter) string { return fmt.Sprint(a.Value()) },
		newModel:   func() any { return new(int64) },
		modelValue: func(m any) string { return fmt.Sprint(*m.(*int64)) },
	})
}

func TestGSet(t *testing.T) {
	runSpec(t, spec[*GSet]{
		newReplica: func(NodeID) *GSet { return NewGSet() },
		op: func(t *rapid.T, _ *env, r *GSet) (*GSet, func(any)) {
			e := drawElem(t)
			return r.Add(e), func(m any) { m.(setModel)[e] = true }
		},
		join: (*GSet).Join, clone: (*GSet).Clone, encode: (*GSet).Encode,
		decode:     func(b []byte, _ NodeID) (*GSet, error) { return DecodeGSet(b) },
		value:      func(a *GSet) string { return fmt.Sprint(a.Elements()) },
		newModel:   func() any { return setModel{} },
		modelValue: func(m any) string { return m.(setModel).String() },
	})
}

type twoPModel struct{ added, removed map[string]bool }

func TestTwoPSet(t *testing.T) {
	runSpec(t, spec[*TwoPSet]{
		newReplica: func(NodeID) *TwoPSet { return NewTwoPSet() },
		op: func(t *rapid.T, _ *env, r *TwoPSet) (*TwoPSet, func(any)) {
			e := drawElem(t)
			if rapid.Bool().Draw(t, "add") {
				return r.Add(e), func(m any) { m.(*twoPModel).added[e] = true }
			}
			return r.Remove(e), func(m any) { m.(*twoPModel).removed[e] = true }
		},
		join: (*TwoPSet).Join, clone: (*TwoPSet).Clone, encode: (*TwoPSet).Encode,
		decode:   func(b []byte, _ NodeID) (*TwoPSet, error) { return DecodeTwoPSet(b) },
		value:    func(a *TwoPSet) string { return fmt.Sprint(a.Elements()) },
		newModel: func() any { return &twoPModel{map[string]bool{}, map[string]bool{}} },
		modelValue: func(m any) string {
			s := setModel{}
			for e := range m.(*twoPModel).added {
				s[e] = !m.(*twoPModel).removed[e]
			}
			return s.String()
		},
	})
}

func TestLWWRegister(t *testing.T) {
	runSpec(t, spec[*LWWRegister]{
		newReplica: NewLWWRegister,
		op: func(t *rapid.T, e *env, r *LWWRegister) (*LWWRegister, func(any)) {
			v := drawElem(t)
			return r.Set(v, e.clk.Now(e.phys)), func(m any) { *m.(*string) = v }
		},
		join: (*LWWRegister).Join, clone: (*LWWRegister).Clone, encode: (*LWWRegister).Encode,
		decode: DecodeLWWRegister,
		value: func(a *LWWRegister) string {
			v, ok := a.Value()
			if !ok {
				return "<unset>"
			}
			return v
		},
		observe: func(e *env, x *LWWRegister) {
			ts, _ := x.Timestamp()
			// The harness keeps skew within maxAhead (jumps of at most
			// 5 s forward), so Observe must accept.
			if _, err := e.clk.Observe(ts, e.phys); err != nil && !strings.Contains(err.Error(), "ahead") {
				panic(err)
			}
		},
		newModel:   func() any { s := "<unset>"; return &s },
		modelValue: func(m any) string { return *m.(*string) },
	})
}

func TestMVRegister(t *testing.T) {
	runSpec(t, spec[*MVRegister]{
		newReplica: NewMVRegister,
		op: func(t *rapid.T, _ *env, r *MVRegister) (*MVRegister, func(any)) {
			v := drawElem(t)
			return r.Set(v), func(m any) { *m.(*string) = fmt.Sprint([]string{v}) }
		},
		join: (*MVRegister).Join, clone: (*MVRegister).Clone, encode: (*MVRegister).Encode,
		decode:     DecodeMVRegister,
		value:      func(a *MVRegister) string { return fmt.Sprint(a.Values()) },
		newModel:   func() any { s := "[]"; return &s },
		modelValue: func(m any) string { return *m.(*string) },
	})
}

func orsetSpec(p SetPolicy) spec[*ORSet] {
	return spec[*ORSet]{
		newReplica: func(n NodeID) *ORSet { return NewORSet(n, p) },
		op: func(t *rapid.T, _ *env, r *ORSet) (*ORSet, func(any)) {
			e := drawElem(t)
			if rapid.IntRange(0, 2).Draw(t, "kind") > 0 {
				return r.Add(e), func(m any) { m.(setModel)[e] = true }
			}
			return r.Remove(e), func(m any) { m.(setModel)[e] = false }
		},
		join:  func(a, b *ORSet) { a.Join(b); checkSetIndex(a.f) },
		clone: (*ORSet).Clone, encode: (*ORSet).Encode,
		decode:     DecodeORSet,
		value:      func(a *ORSet) string { return fmt.Sprint(a.Elements()) },
		newModel:   func() any { return setModel{} },
		modelValue: func(m any) string { return m.(setModel).String() },
	}
}

func TestORSetAddWins(t *testing.T)    { runSpec(t, orsetSpec(AddWins)) }
func TestORSetRemoveWins(t *testing.T) { runSpec(t, orsetSpec(RemoveWins)) }
