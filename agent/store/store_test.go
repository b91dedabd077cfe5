package store

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hearsay-mesh/hearsay/crdt"
)

func openMem(t testing.TB, self crdt.NodeID) *Store {
	t.Helper()
	s, err := Open(OpenMemory(), self, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must[T any](t testing.TB) func(d []byte, c T, err error) []byte {
	return func(d []byte, c T, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}

func get(t testing.TB, s *Store, key string) Value {
	t.Helper()
	v, ok := s.Get(key)
	if !ok {
		t.Fatalf("key %q missing", key)
	}
	return v
}

func TestRoundTripEveryOperation(t *testing.T) {
	s := openMem(t, "a")
	ok := must[Change](t)
	ok(s.Put("reg", "v1", 10))
	ok(s.Put("reg", "v2", 5)) // clock went back: the later write still wins
	ok(s.PutMV("mv", "x"))
	ok(s.PutMV("mv", "y"))
	ok(s.Inc("ctr", 5))
	ok(s.Dec("ctr", 7))
	ok(s.Add("set", "b", "a", "c"))
	ok(s.Remove("set", "c"))
	ok(s.TextInsert("doc", 0, "héllo"))
	ok(s.TextInsert("doc", 5, " world"))
	ok(s.TextDelete("doc", 0, 1))
	ok(s.Put("gone", "x", 1))
	ok(s.Del("gone"))

	for key, want := range map[string]Value{
		"reg": {Type: TypeRegister, Str: "v2"},
		"mv":  {Type: TypeMVRegister, List: []string{"y"}},
		"ctr": {Type: TypeCounter, Int: -2},
		"set": {Type: TypeSet, List: []string{"a", "b"}},
		"doc": {Type: TypeText, Str: "éllo world"},
	} {
		if got := get(t, s, key); !got.Equal(want) {
			t.Errorf("%s = %+v, want %+v", key, got, want)
		}
	}
	if _, ok := s.Get("gone"); ok {
		t.Error("deleted key still present")
	}
	if txt, err := s.Text("doc"); err != nil || txt != "éllo world" {
		t.Errorf("Text = %q, %v", txt, err)
	}
	keys, next := s.Keys("", "", 0)
	if want := []string{"ctr", "doc", "mv", "reg", "set"}; !slices.Equal(keys, want) || next != "" {
		t.Errorf("Keys = %v %q, want %v", keys, next, want)
	}
	if s.Len() != 5 {
		t.Errorf("Len = %d", s.Len())
	}
}

func TestSetRemovingLastElementDeletesKey(t *testing.T) {
	s := openMem(t, "a")
	must[Change](t)(s.Add("s", "x"))
	_, c, err := s.Remove("s", "x")
	if err != nil || c.Value != nil || c.Type != TypeSet {
		t.Fatalf("remove: %+v %v", c, err)
	}
	if _, ok := s.Get("s"); ok {
		t.Fatal("empty set still present")
	}
	if _, _, err := s.Remove("s", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove from missing set: %v", err)
	}
}

func TestWrongTypeChangesNothing(t *testing.T) {
	s := openMem(t, "a")
	ok := must[Change](t)
	ok(s.Add("k", "e"))
	seq, dig := s.Seq(), s.Digest("k")
	for name, op := range map[string]func() error{
		"inc":    func() error { _, _, err := s.Inc("k", 1); return err },
		"dec":    func() error { _, _, err := s.Dec("k", 1); return err },
		"put":    func() error { _, _, err := s.Put("k", "v", 1); return err },
		"putmv":  func() error { _, _, err := s.PutMV("k", "v"); return err },
		"insert": func() error { _, _, err := s.TextInsert("k", 0, "v"); return err },
		"delete": func() error { _, _, err := s.TextDelete("k", 0, 0); return err },
	} {
		err := op()
		var wt *WrongTypeError
		if !errors.Is(err, ErrWrongType) || !errors.As(err, &wt) || wt.Key != "k" || wt.Type != TypeSet {
			t.Errorf("%s: err = %v", name, err)
		}
		if !strings.Contains(err.Error(), `"k"`) || !strings.Contains(err.Error(), "set") {
			t.Errorf("%s: error does not name key and type: %v", name, err)
		}
	}
	if _, err := s.Text("k"); !errors.Is(err, ErrWrongType) {
		t.Errorf("Text of a set: %v", err)
	}
	if s.Seq() != seq || s.Digest("k") != dig {
		t.Error("a refused operation changed the store")
	}
	if v := get(t, s, "k"); !v.Equal(Value{Type: TypeSet, List: []string{"e"}}) {
		t.Errorf("value changed: %+v", v)
	}
}

func TestLimits(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxKeyBytes, opts.MaxValueBytes, opts.MaxStateBytes, opts.FeedValueBytes = 8, 16, 64, 16
	s, err := Open(OpenMemory(), "a", opts)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 17)
	cases := map[string]func() error{
		"long key":     func() error { _, _, err := s.Put("123456789", "v", 1); return err },
		"long value":   func() error { _, _, err := s.Put("k", big, 1); return err },
		"long element": func() error { _, _, err := s.Add("k", "a", big); return err },
		"long insert":  func() error { _, _, err := s.TextInsert("k", 0, big); return err },
		"long meta":    func() error { return s.SaveMeta("m", []byte(big)) },
	}
	for name, op := range cases {
		if err := op(); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", name, err)
		}
	}
	// A key's whole state is bounded too: keep adding until refused.
	var refused error
	for i := 0; i < 20 && refused == nil; i++ {
		_, _, refused = s.Add("k", strings.Repeat(string(rune('a'+i)), 12))
	}
	if !errors.Is(refused, ErrTooLarge) || !strings.Contains(refused.Error(), "MaxStateBytes") {
		t.Fatalf("state limit: %v", refused)
	}
	if st, _ := s.State("k"); len(st) > opts.MaxStateBytes {
		t.Errorf("state of %d bytes kept", len(st))
	}
	for name, op := range map[string]func() error{
		"empty key":     func() error { _, _, err := s.Put("", "v", 1); return err },
		"bad utf8 key":  func() error { _, _, err := s.Put("\xff", "v", 1); return err },
		"bad utf8 text": func() error { _, _, err := s.TextInsert("t", 0, "\xff"); return err },
		"no elements":   func() error { _, _, err := s.Add("k2"); return err },
		"insert pos":    func() error { _, _, err := s.TextInsert("t", 3, "x"); return err },
	} {
		if err := op(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, ok := s.Get("t"); ok {
		t.Error("a refused insert created the key")
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.FeedLen = 0
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "FeedLen") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open(OpenMemory(), "a", Options{}); err == nil || !strings.Contains(err.Error(), "MaxKeyBytes") {
		t.Fatalf("zero options: %v", err)
	}
}

func TestDelConcurrentWriteWins(t *testing.T) {
	for _, tc := range []struct {
		name         string
		create, edit func(s *Store) []byte
		want         Value
	}{
		{"counter",
			func(s *Store) []byte { return must[Change](t)(s.Inc("k", 5)) },
			func(s *Store) []byte { return must[Change](t)(s.Inc("k", 1)) },
			Value{Type: TypeCounter, Int: 6}}, // observed reset: b's whole contribution survives
		{"set",
			func(s *Store) []byte { return must[Change](t)(s.Add("k", "x")) },
			func(s *Store) []byte { return must[Change](t)(s.Add("k", "y")) },
			Value{Type: TypeSet, List: []string{"y"}}},
		{"register",
			func(s *Store) []byte { return must[Change](t)(s.Put("k", "x", 1)) },
			func(s *Store) []byte { return must[Change](t)(s.Put("k", "y", 2)) },
			Value{Type: TypeRegister, Str: "y"}},
		{"text",
			func(s *Store) []byte { return must[Change](t)(s.TextInsert("k", 0, "abc")) },
			func(s *Store) []byte { return must[Change](t)(s.TextInsert("k", 3, "!")) },
			Value{Type: TypeText, Str: "!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := openMem(t, "a"), openMem(t, "b")
			d0 := tc.create(b)
			if _, err := a.ApplyDelta(d0, 0); err != nil {
				t.Fatal(err)
			}
			del := must[Change](t)(a.Del("k"))
			edit := tc.edit(b)
			for _, x := range []struct {
				s *Store
				d []byte
			}{{a, edit}, {b, del}} {
				if _, err := x.s.ApplyDelta(x.d, 0); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []*Store{a, b} {
				if got := get(t, s, "k"); !got.Equal(tc.want) {
					t.Errorf("%s: %+v, want %+v", s.self, got, tc.want)
				}
			}
			if a.Digest("k") != b.Digest("k") {
				t.Error("digests differ")
			}
		})
	}
}

func TestConcurrentCreateWithDifferentTypes(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	da := must[Change](t)(a.Inc("k", 1))
	db := must[Change](t)(b.Add("k", "x"))
	if _, err := a.ApplyDelta(db, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ApplyDelta(da, 0); err != nil {
		t.Fatal(err)
	}
	want := Value{Type: TypeCounter, Int: 1, Shadowed: []Type{TypeSet}}
	for _, s := range []*Store{a, b} {
		if got := get(t, s, "k"); !got.Equal(want) {
			t.Errorf("%s: %+v, want %+v", s.self, got, want)
		}
	}
	if _, _, err := b.Add("k", "y"); !errors.Is(err, ErrWrongType) {
		t.Errorf("add to a key showing a counter: %v", err)
	}
	must[Change](t)(b.Del("k"))
	must[Change](t)(b.Add("k", "y"))
	if got := get(t, b, "k"); !got.Equal(Value{Type: TypeSet, List: []string{"y"}}) {
		t.Errorf("after del and re-create: %+v", got)
	}
}

func TestApplyDeltaIdempotentAndMalformed(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	d := must[Change](t)(a.Add("k", "x"))
	ch, err := b.ApplyDelta(d, 0)
	if err != nil || len(ch) != 1 || ch[0].Op != OpAdd || ch[0].Origin != OriginRemote || ch[0].Seq != 1 {
		t.Fatalf("first apply: %+v %v", ch, err)
	}
	if ch, err := b.ApplyDelta(d, 0); err != nil || len(ch) != 0 || b.Seq() != 1 {
		t.Fatalf("duplicate apply: %+v %v", ch, err)
	}
	for i := range d {
		bad := append([]byte(nil), d[:i]...)
		if _, err := b.ApplyDelta(bad, 0); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	if _, err := b.ApplyDelta(append(d, 0), 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
	if b.Seq() != 1 {
		t.Fatal("malformed deltas changed the feed")
	}
}

func TestStateAndMergeState(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	must[Change](t)(a.TextInsert("t", 0, "hello"))
	must[Change](t)(a.TextDelete("t", 0, 1))
	must[Change](t)(a.Inc("c", 3))
	for _, k := range []string{"t", "c"} {
		st, ok := a.State(k)
		if !ok {
			t.Fatalf("no state for %s", k)
		}
		ch, err := b.MergeState(k, st)
		if err != nil || len(ch) != 1 || ch[0].Op != OpMerge {
			t.Fatalf("merge %s: %+v %v", k, ch, err)
		}
		if a.Digest(k) != b.Digest(k) {
			t.Errorf("%s: digests differ after merge", k)
		}
		if ch, err := b.MergeState(k, st); err != nil || len(ch) != 0 {
			t.Errorf("second merge of %s: %+v %v", k, ch, err)
		}
	}
	if txt, _ := b.Text("t"); txt != "ello" {
		t.Errorf("text = %q", txt)
	}
	if _, err := b.MergeState("t", []byte{1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage state: %v", err)
	}
	if b.Digest("missing") != ([16]byte{}) {
		t.Error("digest of a missing key is not zero")
	}
	var keys []string
	b.Range(func(k string, d [16]byte) bool { keys = append(keys, k); return true })
	if !slices.Equal(keys, []string{"c", "t"}) {
		t.Errorf("Range = %v", keys)
	}
}

func TestKeysPaging(t *testing.T) {
	s := openMem(t, "a")
	for _, k := range []string{"a/1", "a/2", "a/3", "b/1", "a/4", "ab"} {
		must[Change](t)(s.Inc(k, 1))
	}
	var all []string
	after := ""
	for {
		page, next := s.Keys("a/", after, 2)
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	if want := []string{"a/1", "a/2", "a/3", "a/4"}; !slices.Equal(all, want) {
		t.Errorf("paged = %v, want %v", all, want)
	}
	if page, next := s.Keys("", "a/4", 10); !slices.Equal(page, []string{"ab", "b/1"}) || next != "" {
		t.Errorf("after a/4: %v %q", page, next)
	}
}

func TestMeta(t *testing.T) {
	ds := OpenMemory()
	s, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LoadMeta("view"); ok || err != nil {
		t.Fatalf("missing meta: %v %v", ok, err)
	}
	if err := s.SaveMeta("view", []byte("p1,p2")); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ds, "a", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s2.LoadMeta("view"); !ok || err != nil || string(v) != "p1,p2" {
		t.Fatalf("meta after reopen: %q %v %v", v, ok, err)
	}
}
