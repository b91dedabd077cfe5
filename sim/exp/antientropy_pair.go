package exp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hearsay-mesh/hearsay/antientropy"
	"google.golang.org/protobuf/proto"
)

// aePair is two replicas wired back to back: every message is encoded
// with proto.Marshal and decoded into a fresh message, as on a libp2p
// stream, and its bytes are counted per direction.
type aePair struct {
	nodes [2]aeReplica
	now   time.Duration
	bytes [2]int // [0]: a->b, [1]: b->a
	msgs  [2]int
	done  []antientropy.SessionDone
}

type aeReplica struct {
	id    antientropy.NodeID
	core  *antientropy.Core
	store *antientropy.MemStore
}

// peerLikeID is a 38-byte ID, the size of an Ed25519 libp2p peer ID.
func peerLikeID(c byte) antientropy.NodeID {
	return antientropy.NodeID("12D3KooW" + strings.Repeat(string(c), 30))
}

func newAEPair(cfgA, cfgB antientropy.Config, seed uint64) (*aePair, error) {
	p := &aePair{}
	for i, cfg := range []antientropy.Config{cfgA, cfgB} {
		id := peerLikeID("AB"[i])
		st := antientropy.NewMemStore()
		c, err := antientropy.New(cfg, id, st, rand.New(rand.NewPCG(seed, uint64(i))))
		if err != nil {
			return nil, err
		}
		p.nodes[i] = aeReplica{id: id, core: c, store: st}
	}
	ids := []antientropy.NodeID{p.nodes[0].id, p.nodes[1].id}
	for i := range p.nodes {
		p.nodes[i].core.SetMembers(0, ids)
	}
	return p, nil
}

func aeKey(i int) string { return fmt.Sprintf("user/%07d/profile", i) }

// write makes a local write at replica i.
func (p *aePair) write(i int, key, value string) (antientropy.Dot, []byte, error) {
	r := &p.nodes[i]
	d := r.core.NextDot()
	st := r.store.Put(key, []byte(value), d)
	return d, st, r.core.Wrote(p.now, key, d)
}

// fill writes n keys, alternately at a and b, and delivers each to the
// other as a broadcast would, then lets both learn they are in sync and
// prune their logs.
func (p *aePair) fill(n int) error {
	for i := 0; i < n; i++ {
		w := i % 2
		d, st, err := p.write(w, aeKey(i), "twenty bytes of text")
		if err != nil {
			return err
		}
		if _, err := p.nodes[1-w].store.Merge(aeKey(i), st); err != nil {
			return err
		}
		if err := p.nodes[1-w].core.Applied(p.now, aeKey(i), []antientropy.Dot{d}); err != nil {
			return err
		}
	}
	for _, from := range []int{0, 1, 0, 1} {
		if err := p.session(from); err != nil {
			return err
		}
	}
	return p.tick(2 * time.Second)
}

// session runs one session started by replica from, to its end.
func (p *aePair) session(from int) error {
	p.now += time.Millisecond
	p.nodes[from].core.SyncWith(p.now, p.nodes[1-from].id)
	return p.pump()
}

type aeFrame struct {
	to  int
	msg proto.Message
}

func (p *aePair) pump() error {
	var q []aeFrame
	collect := func(i int) error {
		r := p.nodes[i].core.Ready()
		for _, s := range r.Sends {
			raw, err := proto.Marshal(s.Msg)
			if err != nil {
				return err
			}
			p.bytes[i] += len(raw)
			p.msgs[i]++
			m := p.nodes[1-i].core.NewMessage()
			if err := proto.Unmarshal(raw, m); err != nil {
				return err
			}
			q = append(q, aeFrame{1 - i, m})
		}
		for _, ev := range r.Events {
			if d, ok := ev.(antientropy.SessionDone); ok {
				p.done = append(p.done, d)
			}
		}
		return nil
	}
	for i := range p.nodes {
		if err := collect(i); err != nil {
			return err
		}
	}
	for len(q) > 0 {
		f := q[0]
		q = q[1:]
		if err := p.nodes[f.to].core.Step(p.now, p.nodes[1-f.to].id, f.msg); err != nil {
			return err
		}
		if err := collect(f.to); err != nil {
			return err
		}
	}
	return nil
}

// tick advances time, ticking both cores (their own sessions run too).
func (p *aePair) tick(d time.Duration) error {
	end := p.now + d
	for p.now < end {
		p.now += p.nodes[0].core.TickInterval()
		for i := range p.nodes {
			p.nodes[i].core.Tick(p.now)
		}
		if err := p.pump(); err != nil {
			return err
		}
	}
	return nil
}

func (p *aePair) resetCounts() { p.bytes, p.msgs, p.done = [2]int{}, [2]int{}, nil }

func idleTable(cfg AntiEntropyConfig) (*Table, error) {
	t := &Table{
		Title:   "Idle: one session between two replicas in sync (38-byte node IDs, real encodings)",
		Columns: []string{"keys", "A->B bytes", "B->A bytes", "messages", "bound", "full clock bytes"},
	}
	for _, n := range []int{1, cfg.PairKeys} {
		p, err := newAEPair(antientropy.DefaultConfig(), antientropy.DefaultConfig(), cfg.Seed)
		if err != nil {
			return nil, err
		}
		if err := p.fill(n); err != nil {
			return nil, err
		}
		p.resetCounts()
		if err := p.session(0); err != nil {
			return nil, err
		}
		t.Add(n, p.bytes[0], p.bytes[1], p.msgs[0]+p.msgs[1], "<= 64 each way", len(p.nodes[0].core.Clock().Encode()))
	}
	t.Notes = []string{"A sends only its clock's 16-byte hash when B is known to hold that clock; B answers IN_SYNC"}
	return t, nil
}

func divergedTables(cfg AntiEntropyConfig, next func(string)) (*Table, *Table, error) {
	n := cfg.PairKeys
	t := &Table{
		Title: fmt.Sprintf("Diverged: B wrote d of n=%d keys; A runs one session with B", n),
		Columns: []string{"d", "path", "objects", "ideal bytes", "sent bytes", "metadata bytes",
			"metadata bound", "round trips", "RT bound", "ms"},
	}
	rest := &Table{
		Title:   "At rest after the diverged (log path) run, both ways synced and pruned",
		Columns: []string{"d", "node", "keys", "log entries", "clock bytes", "anti-entropy causal bytes/key", "store stamp bytes/key"},
	}
	for _, d := range cfg.Diverged {
		for _, path := range []string{"bitmap", "merkle"} {
			next(fmt.Sprintf("diverged d=%d %s", d, path))
			cb := antientropy.DefaultConfig()
			if path == "merkle" {
				cb.MaxLogEntries = 0 // B's log cannot answer: the Merkle walk must
			}
			p, err := newAEPair(antientropy.DefaultConfig(), cb, cfg.Seed)
			if err != nil {
				return nil, nil, err
			}
			if err := p.fill(n); err != nil {
				return nil, nil, err
			}
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(d)))
			ideal := 0
			keys := rng.Perm(n)[:d]
			for _, k := range keys {
				_, st, err := p.write(1, aeKey(k), "a newer value, longer")
				if err != nil {
					return nil, nil, err
				}
				ideal += len(aeKey(k)) + len(st) + 2 // uvarint lengths (both < 128)
			}
			p.resetCounts()
			start := time.Now()
			if err := p.session(0); err != nil {
				return nil, nil, err
			}
			ms := time.Since(start).Milliseconds()
			if len(p.done) != 1 {
				return nil, nil, fmt.Errorf("exp: diverged run finished %d sessions", len(p.done))
			}
			sd := p.done[0]
			if sd.Pulled != d {
				return nil, nil, fmt.Errorf("exp: diverged d=%d %s: pulled %d objects", d, path, sd.Pulled)
			}
			sent := p.bytes[0] + p.bytes[1]
			meta := sent - ideal
			bound, rtBound := "64 per origin (1 origin)", "1 + ack"
			if path == "merkle" {
				bound = fmt.Sprintf("%.0f", float64(d)*math.Log2(float64(n)/float64(d))*40)
				rtBound = fmt.Sprintf("log16(n)=%.2f", math.Log(float64(n))/math.Log(16))
			}
			t.Add(d, path+" ("+sd.Path+")", sd.Pulled, ideal, sent, meta, bound, sd.RoundTrips, rtBound, ms)
			if path == "bitmap" {
				if err := p.session(1); err != nil {
					return nil, nil, err
				}
				if err := p.tick(3 * time.Second); err != nil {
					return nil, nil, err
				}
				for i, r := range p.nodes {
					dots := 0
					for _, k := range r.store.Keys() {
						dots += r.store.DotBytes(k)
					}
					keys := r.store.Len()
					clock := len(r.core.Clock().Encode())
					logB := 16 * r.core.LogEntries()
					rest.Add(d, "AB"[i:i+1], keys, r.core.LogEntries(), clock, float64(clock+logB)/float64(keys), float64(dots)/float64(keys))
				}
			}
		}
	}
	t.Notes = []string{
		"ideal = the d objects, each key and state with its uvarint length; metadata = sent - ideal (Sync, Reply, Dots headers, Ack, or the Merkle hashes)",
		"round trips: the Sync's included; on the Merkle path the last one fetches the objects, the keys are known one round trip earlier",
		"fanout 16, depth 4 (65,536 segments); bitmap path keys/objects from B's dot-key log",
	}
	rest.Notes = []string{
		"anti-entropy causal bytes/key = (node clock + 16 B per log entry) / keys",
		"store stamp = MemStore's per-key Lamport time and dot, with the writer's 38-byte ID inline (a store with a node-ID dictionary, as crdt's encoding has, needs ~4 B)",
		"not causal: the Merkle tree holds 8 B per key (its contribution) plus 8 B per tree node (69,905 nodes)",
	}
	return t, rest, nil
}
