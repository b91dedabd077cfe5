package text

import "unicode/utf8"

// EncodeDelta writes a delta compactly:
//
//	version byte
//	agents: count, then (length, bytes) per name, in order of first use
//	inserts: count, then per insert: agent index, seq, left origin, right
//	  origin, text (UTF-8 length, bytes). An origin is 0 for none, 1 then
//	  (seq-1-origin seq) for the inserting agent, or 2+agent index then seq.
//	deletes: count, then per range: agent index, seq, length
func EncodeDelta(x Delta) []byte {
	var names []string
	index := map[string]uint64{} // lookups only
	ref := func(name string) uint64 {
		i, ok := index[name]
		if !ok {
			i = uint64(len(names))
			index[name] = i
			names = append(names, name)
		}
		return i
	}
	for _, ins := range x.Inserts {
		ref(ins.ID.Agent)
		for _, o := range [2]ID{ins.Left, ins.Right} {
			if !o.IsZero() {
				ref(o.Agent)
			}
		}
	}
	for _, r := range x.Deletes {
		ref(r.ID.Agent)
	}
	b := []byte{Version}
	b = putUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = putString(b, n)
	}
	b = putUvarint(b, uint64(len(x.Inserts)))
	for _, ins := range x.Inserts {
		b = putUvarint(b, index[ins.ID.Agent])
		b = putUvarint(b, uint64(ins.ID.Seq))
		for _, o := range [2]ID{ins.Left, ins.Right} {
			switch {
			case o.IsZero():
				b = putUvarint(b, 0)
			case o.Agent == ins.ID.Agent && o.Seq < ins.ID.Seq:
				b = putUvarint(b, 1)
				b = putUvarint(b, uint64(ins.ID.Seq-1-o.Seq))
			default:
				b = putUvarint(b, 2+index[o.Agent])
				b = putUvarint(b, uint64(o.Seq))
			}
		}
		b = putString(b, ins.Text)
	}
	b = putUvarint(b, uint64(len(x.Deletes)))
	for _, r := range x.Deletes {
		b = putUvarint(b, index[r.ID.Agent])
		b = putUvarint(b, uint64(r.ID.Seq))
		b = putUvarint(b, uint64(r.Len))
	}
	return b
}

// DecodeDelta reads what EncodeDelta wrote. It returns an error wrapping
// ErrCorrupt for any malformed input, and never panics.
func DecodeDelta(data []byte) (Delta, error) {
	r := &reader{b: data}
	r.version()
	names := make([]string, r.count("agent"))
	for i := range names {
		if names[i] = r.str(); r.err == nil && names[i] == "" {
			r.fail("empty agent name")
		}
	}
	nA := uint64(len(names))
	var x Delta
	x.Inserts = make([]Insert, r.count("insert"))
	for i := range x.Inserts {
		ins := &x.Inserts[i]
		ins.ID = ID{Agent: r.name(names), Seq: r.u32(noAgent, "seq")}
		for _, o := range [2]*ID{&ins.Left, &ins.Right} {
			switch tag := r.uvarint(); {
			case tag == 0:
			case tag == 1:
				back := r.uvarint()
				if back >= uint64(ins.ID.Seq) {
					r.fail("origin before seq 0")
					break
				}
				*o = ID{Agent: ins.ID.Agent, Seq: ins.ID.Seq - 1 - uint32(back)}
			case tag-2 < nA:
				*o = ID{Agent: names[tag-2], Seq: r.u32(noAgent, "seq")}
			default:
				r.fail("origin agent %d out of range", tag)
			}
		}
		ins.Text = r.str()
		if r.err == nil && (ins.Text == "" || !utf8.ValidString(ins.Text)) {
			r.fail("insert text empty or not UTF-8")
		}
		if r.err != nil {
			return Delta{}, r.err
		}
	}
	x.Deletes = make([]Range, r.count("delete"))
	for i := range x.Deletes {
		x.Deletes[i] = Range{
			ID:  ID{Agent: r.name(names), Seq: r.u32(noAgent, "seq")},
			Len: r.u32(noAgent, "length"),
		}
		if r.err != nil {
			return Delta{}, r.err
		}
	}
	if err := r.done(); err != nil {
		return Delta{}, err
	}
	if len(x.Inserts) == 0 {
		x.Inserts = nil
	}
	if len(x.Deletes) == 0 {
		x.Deletes = nil
	}
	return x, nil
}

// name reads an index into names.
func (r *reader) name(names []string) string {
	i := r.u32(uint64(len(names)), "agent")
	if r.err != nil {
		return ""
	}
	return names[i]
}
