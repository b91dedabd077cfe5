package store

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/hearsay-mesh/hearsay/crdt"
)

// Realistic writer IDs: libp2p Ed25519 peer IDs (52 characters), and a
// register timestamp of December 2026 in Unix nanoseconds.
const (
	peerA  crdt.NodeID = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	peerB  crdt.NodeID = "12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK"
	peerC  crdt.NodeID = "12D3KooWLuqMqjuHEhA4dCkJ7PmcqBPJqmKDF3MxuYNmMxVUBtZc"
	wallNs             = int64(1_796_400_000_000_000_000)
	benchV             = "value-0000042-of-some-length" // BenchmarkCatchUp's value shape
)

// metaShape is one key shape whose per-key metadata is measured.
type metaShape struct {
	name  string
	value int // bytes of user data in the key (value, elements, counter excluded)
	build func(t testing.TB, a, b *Store)
}

// metaShapes: the keys the per-key metadata is measured on. a writes as
// peerA, b as peerB; the key is "k" and ends up identical on both.
func metaShapes() []metaShape {
	ok := func(t testing.TB) func([]byte, Change, error) []byte { return must[Change](t) }
	sync := func(t testing.TB, from, to *Store) {
		st, _ := from.State("k")
		if _, err := to.MergeState("k", st); err != nil {
			t.Fatal(err)
		}
	}
	return []metaShape{
		{"register, 1 write (BenchmarkCatchUp)", len(benchV), func(t testing.TB, a, b *Store) {
			ok(t)(a.Put("k", benchV, wallNs))
			sync(t, a, b)
		}},
		{"register, 5 writes by one node", len(benchV), func(t testing.TB, a, b *Store) {
			for i := range 5 {
				ok(t)(a.Put("k", benchV, wallNs+int64(i)))
			}
			sync(t, a, b)
		}},
		{"register, written by A then by B", len(benchV), func(t testing.TB, a, b *Store) {
			ok(t)(a.Put("k", benchV, wallNs))
			sync(t, a, b)
			ok(t)(b.Put("k", benchV, wallNs+1))
			sync(t, b, a)
		}},
		{"register, written by A, B, then C", len(benchV), func(t testing.TB, a, b *Store) {
			ok(t)(a.Put("k", benchV, wallNs))
			sync(t, a, b)
			ok(t)(b.Put("k", benchV, wallNs+1))
			c := openMem(t, peerC)
			sync(t, b, c)
			ok(t)(c.Put("k", benchV, wallNs+2))
			sync(t, c, a)
			sync(t, c, b)
		}},
		{"register, written in turn by 8 writers", len(benchV), func(t testing.TB, a, b *Store) {
			ok(t)(a.Put("k", benchV, wallNs))
			prev := a
			for i := range 6 {
				w := openMem(t, crdt.NodeID(fmt.Sprintf("%s%d", peerC[:len(peerC)-1], i)))
				sync(t, prev, w)
				ok(t)(w.Put("k", benchV, wallNs+int64(i+1)))
				prev = w
			}
			sync(t, prev, b)
			ok(t)(b.Put("k", benchV, wallNs+10))
			sync(t, b, a)
		}},
		{"counter, 3 increments by one node", 0, func(t testing.TB, a, b *Store) {
			for range 3 {
				ok(t)(a.Inc("k", 1))
			}
			sync(t, a, b)
		}},
		{"counter, increments by A and B", 0, func(t testing.TB, a, b *Store) {
			ok(t)(a.Inc("k", 1))
			ok(t)(b.Inc("k", 1))
			sync(t, a, b)
			sync(t, b, a)
		}},
		{"set, 1 element", 8, func(t testing.TB, a, b *Store) {
			ok(t)(a.Add("k", "element1"))
			sync(t, a, b)
		}},
		{"set, 3 elements, 1 removed", 16, func(t testing.TB, a, b *Store) {
			ok(t)(a.Add("k", "element1", "element2", "element3"))
			ok(t)(a.Remove("k", "element3"))
			sync(t, a, b)
		}},
		{"deleted register (tombstone)", 0, func(t testing.TB, a, b *Store) {
			ok(t)(a.Put("k", benchV, wallNs))
			ok(t)(a.Del("k"))
			sync(t, a, b)
		}},
	}
}

// splitV1 attributes every byte of a version-1 record (the canonical
// state) to a category. It knows the built-in field types the store uses
// and fails on anything else.
func splitV1(rec []byte) (map[string]int, error) { return splitRecord(rec, false) }

// splitStored does the same for a stored record (format 3: the map's
// crdt.CompactV2 form; no text in these shapes).
func splitStored(rec []byte) (map[string]int, error) { return splitRecord(rec, true) }

func splitRecord(rec []byte, compact bool) (out map[string]int, err error) {
	defer func() {
		if recover() != nil { // a slice out of range: the layout is not the one assumed
			out, err = nil, fmt.Errorf("record %x does not parse", rec)
		}
	}()
	out = map[string]int{}
	b := rec
	take := func(cat string, n int) []byte {
		p := b[:n]
		b = b[n:]
		out[cat] += n
		return p
	}
	uv := func(cat string) uint64 {
		v, n := binary.Uvarint(b)
		take(cat, n)
		return v
	}
	str := func(lenCat, cat string) string {
		n := uv(lenCat)
		return string(take(cat, int(n)))
	}
	var fields uint64
	if compact {
		h := uv("framing") // field count, explicit context count
		explicit := h & 3
		if explicit == 3 {
			explicit += uv("context")
		}
		for range explicit {
			uv("context")             // node number
			if uv("context")&1 == 1 { // vv << 1 | cloud follows
				for range uv("context") {
					uv("context")
				}
			}
		}
		fields = h >> 2
	} else {
		take("framing", 1) // record version
		uv("framing")      // map length
		take("framing", 2) // crdt version, kind
		nodes := uv("node IDs")
		for range nodes {
			str("node IDs", "node IDs")
		}
		for range uv("context") { // version vector
			uv("context")
			uv("context")
		}
		for range uv("context") { // cloud
			uv("context")
			uv("context")
		}
		fields = uv("field structure")
	}
	for range fields {
		var tag string
		if compact {
			code := uv("field structure") // tag code << 1 | name follows
			if code&1 == 1 {
				return nil, fmt.Errorf("named field not handled")
			}
			tag = string([]crdt.Tag{1: crdt.TagLWW, 3: crdt.TagCounter, 4: crdt.TagAWSet}[code>>1])
		} else {
			str("field structure", "field structure") // name
			tag = str("tag", "tag")
		}
		switch crdt.Tag(tag) {
		case crdt.TagLWW:
			for range uv("dots") {
				uv("dots")
				uv("dots")
				if compact {
					if take("HLC timestamp", 8)[0]&0x40 != 0 { // logical follows
						uv("HLC timestamp")
					}
				} else {
					_, n := binary.Varint(b)
					take("HLC timestamp", n)
					uv("HLC timestamp")
				}
				str("value length", "value")
			}
		case crdt.TagCounter:
			for range uv("dots") {
				uv("dots")
				uv("dots")
				uv("counter P/N")
				uv("counter P/N")
			}
		case crdt.TagAWSet:
			for range uv("set structure") {
				str("value length", "value")
				for range uv("dots") {
					uv("dots")
					uv("dots")
				}
			}
			uv("set structure") // removes
		default:
			return nil, fmt.Errorf("tag %q not handled", tag)
		}
	}
	if !compact {
		uv("framing") // text length
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes left", len(b))
	}
	return out, nil
}

var splitOrder = []string{"node IDs", "context", "dots", "HLC timestamp", "tag", "field structure",
	"set structure", "counter P/N", "value length", "framing"}

// TestMetadataSplit measures, per key shape, the bytes of causal and other
// metadata beyond the user data: in the canonical state (what State
// returns and anti-entropy sends; version 1, which was also the persisted
// record before the store-wide dictionary) and in the persisted record.
// Run with -v to see the table (docs/store.md quotes it).
func TestMetadataSplit(t *testing.T) {
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "%-38s %6s %6s %6s  %s\n", "shape", "state", "stored", "causal", "split of the state's metadata (canonical v1)")
	for _, sh := range metaShapes() {
		a, err := Open(OpenMemory(), peerA, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(OpenMemory(), peerB, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		sh.build(t, a, b)
		st, ok := a.State("k")
		if !ok {
			t.Fatalf("%s: no state", sh.name)
		}
		if stB, _ := b.State("k"); string(stB) != string(st) {
			t.Fatalf("%s: replicas differ", sh.name)
		}
		split, err := splitV1(st)
		if err != nil {
			t.Fatalf("%s: %v", sh.name, err)
		}
		sum := 0
		var parts []string
		for _, c := range splitOrder {
			if n := split[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", c, n))
			}
		}
		for c, n := range split {
			sum += n
			if c != "value" && !strings.Contains(strings.Join(splitOrder, ","), c) {
				t.Fatalf("category %q not in splitOrder", c)
			}
		}
		if sum != len(st) || split["value"] != sh.value {
			t.Fatalf("%s: split sums to %d of %d bytes, value %d want %d", sh.name, sum, len(st), split["value"], sh.value)
		}
		// The stored record: all of it beyond the user data, and the
		// causal part (context and dots) alone.
		rec, err := a.ds.Get(bg(), recordKey("k"))
		if err != nil {
			t.Fatal(err)
		}
		ss, err := splitStored(rec)
		if err != nil {
			t.Fatalf("%s: %v", sh.name, err)
		}
		sum = 0
		for _, n := range ss {
			sum += n
		}
		if sum != len(rec) || ss["value"] != sh.value {
			t.Fatalf("%s: stored split sums to %d of %d bytes, value %d want %d", sh.name, sum, len(rec), ss["value"], sh.value)
		}
		stored, causal := len(rec)-sh.value, ss["context"]+ss["dots"]
		fmt.Fprintf(&tbl, "%-38s %6d %6d %6d  %s\n", sh.name, len(st)-sh.value, stored, causal, strings.Join(parts, ", "))
		// Issue 6's bound: at most 16 bytes of causal metadata per key at
		// rest. Keys with one or two writers keep within it even counting
		// every stored byte beyond the user data (timestamps, lengths,
		// framing); each further writer whose value was overwritten adds
		// its context entry (2 bytes, and 1 for the entry count from the
		// third on), so a register written in turn by more than 7 writers
		// exceeds it.
		writers := len(a.dict.ids)
		want := 3 + 2*(writers-1)
		if writers > 3 {
			want++
		}
		switch {
		case writers <= 2 && stored > 16, writers <= 7 && causal > 16:
			t.Errorf("%s: %d bytes stored beyond the user data, %d causal, %d writers", sh.name, stored, causal, writers)
		case strings.HasPrefix(sh.name, "register, written") && causal != want:
			t.Errorf("%s: %d causal bytes, want %d (%d writers)", sh.name, causal, want, writers)
		}
	}
	t.Logf("metadata bytes per key beyond the user data (52-character peer IDs):\n%s", tbl.String())
}
