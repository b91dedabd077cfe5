package antientropy

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
)

// Dots messages carry the objects for a range of a session's implicit
// missing-dot sequence: pulled by the initiator, or pushed to the
// responder. These are the log path's only per-object bytes.

// sendDots sends the objects for a missing-dot sequence whose keys are
// keys, split so every message stays under MaxMessageBytes. Within one
// message each key is sent once; later positions naming it go to repeats.
func (c *Core) sendDots(to NodeID, session uint64, push bool, keys []string) {
	limit := c.cfg.MaxMessageBytes - 64
	var (
		objs, reps []byte
		first, pos uint64
		lastRep    uint64
		seen       = map[string]uint64{}
		nobj       uint64
	)
	flush := func() {
		if pos == first {
			return
		}
		c.Send(to, &pb.Envelope{Body: &pb.Envelope_Dots{Dots: &pb.Dots{
			Session: session, Push: push, First: first, Count: pos - first, Objects: objs, Repeats: reps,
		}}})
		objs, reps, first, lastRep, nobj = nil, nil, pos, 0, 0
		clear(seen)
	}
	for _, k := range keys {
		if idx, ok := seen[k]; ok {
			if len(objs)+len(reps)+20 > limit {
				flush()
			} else {
				reps = binary.AppendUvarint(reps, pos-first-lastRep)
				reps = binary.AppendUvarint(reps, idx)
				lastRep = pos - first
				pos++
				continue
			}
		}
		st, ok := c.store.Get(k)
		if !ok || len(st) > c.cfg.MaxStateBytes {
			st = nil // the receiver's merge fails; it drops the session
		}
		if len(objs)+len(reps)+objectSize(k, st) > limit {
			flush()
		}
		objs = appendObject(objs, k, st)
		seen[k] = nobj
		nobj++
		pos++
	}
	flush()
}

// onDots merges the objects of one Dots message, pulled or pushed.
func (c *Core) onDots(now time.Duration, from NodeID, m *pb.Dots) error {
	var seq []Dot
	var next *uint64
	if m.Push {
		in := c.in[inKey{from, m.Session}]
		if in == nil {
			return nil
		}
		in.last = now
		if in.seq == nil {
			for i := range in.want {
				if own := in.sent.get(in.want[i].node); own != nil {
					if own.countMissing(&in.want[i]) > uint64(c.cfg.MaxLogAnswer) {
						return fmt.Errorf("antientropy: push sequence too long")
					}
					own.missing(&in.want[i], func(n uint64) bool {
						in.seq = append(in.seq, Dot{in.want[i].node, n})
						return true
					})
				}
			}
		}
		seq, next = in.seq, &in.next
	} else {
		s := c.out[from]
		if s == nil || s.id != m.Session || s.seq == nil {
			return nil
		}
		s.last = now
		seq, next = s.seq, &s.next
	}
	if m.First != *next {
		return nil // a duplicate, or a gap after a loss: the session stalls and expires
	}
	if m.Count == 0 || m.Count > uint64(len(seq))-m.First {
		return fmt.Errorf("antientropy: dots [%d,+%d) outside a sequence of %d", m.First, m.Count, len(seq))
	}
	keys, objs, err := c.decodeDots(m)
	if err != nil {
		return err
	}
	changed, err := c.mergeObjects(objs)
	if err != nil {
		// The store refused a state: drop the session (Store.Merge).
		if m.Push {
			c.dropIn(inKey{from, m.Session})
		} else {
			delete(c.out, from)
		}
		return err
	}
	for i, k := range keys {
		if err := c.addDot(seq[m.First+uint64(i)], k); err != nil {
			return err
		}
	}
	c.enforceLog()
	*next += m.Count
	if m.Push {
		c.stats.ObjectsPushed += uint64(len(objs))
		c.emitMerged(from, changed)
		return nil
	}
	s := c.out[from]
	s.pulled += len(objs)
	s.changed = append(s.changed, changed...)
	c.stats.ObjectsPulled += uint64(len(objs))
	if s.next == uint64(len(s.seq)) {
		c.complete(s)
	}
	return nil
}

// decodeDots rebuilds the key of every position of a Dots message.
func (c *Core) decodeDots(m *pb.Dots) ([]string, []object, error) {
	objs, err := decodeObjects(m.Objects, c.cfg.MaxKeyBytes, c.cfg.MaxStateBytes)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, m.Count)
	r := &reader{b: m.Repeats}
	nextRep := uint64(1<<63 - 1)
	readRep := func(prev uint64) (uint64, uint64) {
		if len(r.b) == 0 {
			return 1<<63 - 1, 0
		}
		gap, idx := r.uvarint(), r.uvarint()
		if r.err == nil && (gap > m.Count || (prev != 1<<63-1 && gap == 0)) {
			r.fail("repeat position out of range")
		}
		if prev == 1<<63-1 {
			prev = 0
		}
		return prev + gap, idx
	}
	nextRep, repIdx := readRep(1<<63 - 1)
	o := 0
	for pos := uint64(0); pos < m.Count && r.err == nil; pos++ {
		if pos == nextRep {
			if repIdx >= uint64(o) {
				r.fail("repeat names object %d of %d", repIdx, o)
				break
			}
			keys = append(keys, objs[repIdx].key)
			nextRep, repIdx = readRep(nextRep)
			continue
		}
		if o >= len(objs) {
			r.fail("fewer objects than positions")
			break
		}
		keys = append(keys, objs[o].key)
		o++
	}
	if r.err == nil && (o != len(objs) || nextRep != 1<<63-1 || len(r.b) != 0) {
		r.fail("objects and repeats do not cover the positions exactly")
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return keys, objs, nil
}

// mergeObjects merges states into the store and the tree; it returns the
// keys that changed. With a BatchStore the whole message is one merge
// (all or nothing); otherwise objects are merged one by one and an error
// leaves the earlier ones merged (merges are idempotent).
func (c *Core) mergeObjects(objs []object) ([]string, error) {
	var changed []string
	if bs, ok := c.store.(BatchStore); ok {
		if len(objs) == 0 {
			return nil, nil
		}
		batch := make([]Object, len(objs))
		for i, o := range objs {
			batch[i] = Object{Key: o.key, State: o.state}
		}
		ch, err := bs.MergeBatch(batch)
		if err != nil {
			return nil, err
		}
		if len(ch) != len(objs) {
			return nil, fmt.Errorf("antientropy: MergeBatch reported %d results for %d objects", len(ch), len(objs))
		}
		for i, o := range objs {
			if ch[i] {
				c.tree.update(o.key, c.store.Digest(o.key))
				changed = append(changed, o.key)
			}
		}
		return changed, nil
	}
	for _, o := range objs {
		ok, err := c.store.Merge(o.key, o.state)
		if err != nil {
			return changed, err
		}
		if ok {
			c.tree.update(o.key, c.store.Digest(o.key))
			changed = append(changed, o.key)
		}
	}
	return changed, nil
}

func (c *Core) emitMerged(from NodeID, keys []string) {
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	c.Emit(Merged{Peer: from, Keys: slices.Compact(keys)})
}
