package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/failstore"
)

// batchSources builds two replicas with overlapping keys of every kind
// and returns the states of all their keys, a's first: a batch with
// repeated keys, new keys and keys the destination already holds.
func batchSources(t *testing.T) []KeyState {
	t.Helper()
	a, c := openMem(t, "a"), openMem(t, "c")
	ok := must[Change](t)
	ok(a.Put("reg", "va", 10))
	ok(c.Put("reg", "vc", 20))
	ok(a.Inc("ctr", 3))
	ok(c.Inc("ctr", 4))
	ok(a.Add("set", "x", "y"))
	ok(a.Remove("set", "x"))
	ok(c.Add("set", "z"))
	ok(a.PutMV("mv", "m"))
	ok(a.TextInsert("doc", 0, "hello"))
	ok(c.TextInsert("doc", 0, "world"))
	ok(a.Add("gone", "g"))
	ok(a.Del("gone"))
	ok(c.Inc("mixed", 1))
	ok(a.Put("mixed", "r", 5))
	for i := range 50 {
		ok(a.Put(fmt.Sprintf("many/%02d", i), fmt.Sprint(i), 30))
	}
	var out []KeyState
	for _, src := range []*Store{a, c} {
		src.Range(func(k string, _ [16]byte) bool {
			st, _ := src.State(k)
			out = append(out, KeyState{k, st})
			return true
		})
	}
	return out
}

// dest is a replica that already holds some of the keys.
func dest(t *testing.T, ds datastore.Batching) *Store {
	t.Helper()
	s, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ok := must[Change](t)
	ok(s.Put("reg", "vx", 15))
	ok(s.Add("set", "w"))
	ok(s.Put("many/07", "seven", 1))
	return s
}

// TestMergeStatesMatchesMergeState: one batch leaves the store exactly
// as merging the same states one by one does, makes one change per
// visibly changed key, stores canonical records (State hashes to Digest,
// and a reopened store has the same states), and reports which keys
// changed.
func TestMergeStatesMatchesMergeState(t *testing.T) {
	states := batchSources(t)
	one := dest(t, OpenMemory())
	for _, st := range states {
		if _, err := one.MergeState(st.Key, st.State); err != nil {
			t.Fatal(err)
		}
	}
	ds := OpenMemory()
	batch := dest(t, ds)
	seq := batch.Seq()
	changes, changed, err := batch.MergeStates(states)
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(one) != stateOf(batch) {
		t.Fatalf("batch and one-by-one merges differ:\n%s\n%s", stateOf(one), stateOf(batch))
	}
	seen := map[string]bool{}
	for i, ch := range changes {
		if seen[ch.Key] || ch.Seq != seq+uint64(i)+1 || ch.Origin != OriginRemote {
			t.Errorf("change %d: %+v", i, ch)
		}
		seen[ch.Key] = true
	}
	if batch.Seq() != seq+uint64(len(changes)) {
		t.Errorf("Seq %d after %d changes from %d", batch.Seq(), len(changes), seq)
	}
	for i, st := range states {
		if !changed[i] {
			t.Errorf("%s reported unchanged", st.Key)
		}
	}
	batch.Range(func(k string, d [16]byte) bool {
		st, _ := batch.State(k)
		if digestOf(st) != d {
			t.Errorf("%s: stored record is not State's bytes", k)
		}
		return true
	})
	re, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(re) != stateOf(batch) {
		t.Fatal("reopened store differs")
	}
	// Again: nothing changes, nothing is reported.
	changes, changed, err = batch.MergeStates(states)
	if err != nil || len(changes) != 0 || batch.Seq() != re.Seq() {
		t.Fatalf("second batch: %d changes, %v", len(changes), err)
	}
	for i, c := range changed {
		if c {
			t.Errorf("%s changed on the second batch", states[i].Key)
		}
	}
}

// stateOf lists every key's digest and value, and the existing keys.
func stateOf(s *Store) string {
	var b strings.Builder
	s.Range(func(k string, d [16]byte) bool {
		v, _ := s.Get(k)
		j, _ := v.MarshalJSON()
		fmt.Fprintf(&b, "%s=%s@%x\n", k, j, d)
		return true
	})
	ks, _ := s.Keys("", "", 0)
	fmt.Fprintf(&b, "keys %q len %d\n", ks, s.Len())
	return b.String()
}

// TestMergeStatesMalformedChangesNothing: one bad state or key anywhere
// in a batch refuses the whole batch with an error naming the key; the
// store, its feed and its datastore are unchanged.
func TestMergeStatesMalformedChangesNothing(t *testing.T) {
	states := batchSources(t)
	ds := OpenMemory()
	s := dest(t, ds)
	before, seq := stateOf(s), s.Seq()
	for name, bad := range map[string]KeyState{
		"garbage":   {"bad key", []byte("garbage bytes")},
		"truncated": {"bad key", states[3].State[:len(states[3].State)-1]},
		"empty":     {"bad key", nil},
		"no key":    {"", states[0].State},
	} {
		for _, at := range []int{0, len(states) / 2, len(states)} {
			b := append(append(append([]KeyState(nil), states[:at]...), bad), states[at:]...)
			_, _, err := s.MergeStates(b)
			if !errors.Is(err, ErrMalformed) || (bad.Key != "" && !strings.Contains(err.Error(), `"bad key"`)) {
				t.Fatalf("%s at %d: err = %v", name, at, err)
			}
			if stateOf(s) != before || s.Seq() != seq {
				t.Fatalf("%s at %d: the refused batch changed the store", name, at)
			}
		}
	}
	re, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(re) != before || re.Seq() != seq {
		t.Fatal("a refused batch reached the datastore")
	}
}

// TestMergeStatesOneCommit: a batch is one datastore commit; when that
// commit fails nothing changes, and the same batch succeeds later.
func TestMergeStatesOneCommit(t *testing.T) {
	states := batchSources(t)
	commits, fail := 0, false
	ds := failstore.NewFailstore(OpenMemory(), func(op string) error {
		if op == "batch-commit" {
			if fail {
				return errors.New("disk full")
			}
			commits++
		}
		return nil
	})
	s := dest(t, ds)
	before, seq := stateOf(s), s.Seq()
	fail = true
	if _, _, err := s.MergeStates(states); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failed commit: err = %v", err)
	}
	if stateOf(s) != before || s.Seq() != seq {
		t.Fatal("a batch whose commit failed changed the store")
	}
	fail, commits = false, 0
	if _, _, err := s.MergeStates(states); err != nil {
		t.Fatal(err)
	}
	if commits != 1 {
		t.Errorf("%d commits for one batch of %d states", commits, len(states))
	}
}

// TestMergeStatesKeepsNoInput: the caller may overwrite the states once
// MergeStates returns (they alias a network buffer).
func TestMergeStatesKeepsNoInput(t *testing.T) {
	states := batchSources(t)
	var buf []byte
	for _, st := range states {
		buf = append(buf, st.State...)
	}
	in := make([]KeyState, len(states))
	off := 0
	for i, st := range states {
		in[i] = KeyState{st.Key, buf[off : off+len(st.State)]}
		off += len(st.State)
	}
	ds := OpenMemory()
	s := openMem(t, "x")
	s2, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, s2} {
		if _, _, err := st.MergeStates(in); err != nil {
			t.Fatal(err)
		}
	}
	want := stateOf(s)
	for i := range buf {
		buf[i] = 0xff
	}
	if stateOf(s) != want {
		t.Fatal("the store changed when the caller's buffer was overwritten")
	}
	s.Range(func(k string, d [16]byte) bool {
		st, _ := s.State(k)
		if digestOf(st) != d {
			t.Errorf("%s: state no longer matches its digest", k)
		}
		return true
	})
	re, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(re) != stateOf(s2) || stateOf(s2) != want {
		t.Fatal("the datastore kept the caller's buffer")
	}
}

// TestMergeStatesRestart: states merged in a batch into a pebble store
// are all back after a restart.
func TestMergeStatesRestart(t *testing.T) {
	states := batchSources(t)
	dir := t.TempDir()
	ds, err := OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := dest(t, ds)
	if _, _, err := s.MergeStates(states); err != nil {
		t.Fatal(err)
	}
	want, seq := stateOf(s), s.Seq()
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err = OpenPebble(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	re, err := Open(ds, "x", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(re) != want || re.Seq() != seq {
		t.Fatal("state differs after restart")
	}
}
