package crdt

import (
	"cmp"
	"fmt"
	"slices"
)

// FieldKey identifies a map field: a name and the type of its value.
type FieldKey struct {
	Name string
	Tag  Tag
}

func compareKeys(a, b FieldKey) int {
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.Tag, b.Tag)
}

// MapField is an observed-remove map store (DotMap<FieldKey, Embedded> in
// the paper): every field is an Embedded dot store sharing one causal
// context. A field exists while it holds dots; removing it drops the dots
// the remover has observed.
//
// An in-memory index from each dot to its field lets a small delta join in
// time proportional to the delta, not to the number of fields.
type MapField struct {
	fields map[FieldKey]Embedded
	where  map[Dot]FieldKey // every dot held by a field -> that field
}

func newMapField() *MapField {
	return &MapField{fields: map[FieldKey]Embedded{}, where: map[Dot]FieldKey{}}
}

// reindexAll rebuilds the dot index from the fields.
func (f *MapField) reindexAll() {
	f.where = make(map[Dot]FieldKey, len(f.where))
	for k, v := range f.fields {
		v.Dots(func(d Dot) { f.where[d] = k })
	}
}

// joinField joins field k of f with ov (nil: absent from the other side).
func (f *MapField) joinField(k FieldKey, ctx *CausalContext, ov Embedded, otherCtx *CausalContext) {
	var nv Embedded
	if v, ok := f.fields[k]; ok {
		nv = v.Join(ctx, ov, otherCtx)
	} else if ov != nil {
		nv = ov.Clone().Join(otherCtx, nil, ctx)
	} else {
		return
	}
	if nv.Empty() {
		delete(f.fields, k)
	} else {
		f.fields[k] = nv
	}
}

// Tag implements Embedded.
func (f *MapField) Tag() Tag { return TagMap }

// Keys returns the present field keys, sorted by name then tag.
func (f *MapField) Keys() []FieldKey {
	ks := make([]FieldKey, 0, len(f.fields))
	for k := range f.fields {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, compareKeys)
	return ks
}

// Field returns the value of field (name, tag), if present. Do not modify it.
func (f *MapField) Field(name string, tag Tag) (Embedded, bool) {
	e, ok := f.fields[FieldKey{name, tag}]
	return e, ok
}

// Len returns the number of present fields.
func (f *MapField) Len() int { return len(f.fields) }

// Join implements Embedded. Fields of f absent from other can only lose
// dots that otherCtx covers: when otherCtx is small (a delta) they are found
// through the dot index, otherwise by a scan.
func (f *MapField) Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded {
	o, ok := other.(*MapField)
	if !ok || o == nil {
		o = newMapField()
	}
	if limit := len(f.where) / 4; otherCtx.dotCount(limit) <= limit {
		// Targeted: touch only fields holding a covered dot, and fields of o.
		touched := map[FieldKey]bool{}
		otherCtx.eachDot(func(d Dot) {
			k, ok := f.where[d]
			if !ok {
				return
			}
			if _, inOther := o.where[d]; !inOther {
				delete(f.where, d) // covered by otherCtx and not re-sent: gone for good
			}
			if _, inOther := o.fields[k]; !inOther {
				touched[k] = true
			}
		})
		for k := range touched {
			f.joinField(k, ctx, nil, otherCtx)
		}
		for k, ov := range o.fields {
			f.joinField(k, ctx, ov, otherCtx)
			ov.Dots(func(d Dot) {
				if !ctx.Contains(d) {
					f.where[d] = k // new to f, so it survives
				}
			})
		}
		return f
	}
	for k := range f.fields {
		if _, ok := o.fields[k]; !ok {
			f.joinField(k, ctx, nil, otherCtx)
		}
	}
	for k, ov := range o.fields {
		f.joinField(k, ctx, ov, otherCtx)
	}
	f.reindexAll()
	return f
}

// Dots implements Embedded.
func (f *MapField) Dots(fn func(Dot)) {
	for _, v := range f.fields {
		v.Dots(fn)
	}
}

// Empty implements Embedded.
func (f *MapField) Empty() bool { return len(f.fields) == 0 }

// Clone implements Embedded.
func (f *MapField) Clone() Embedded { return f.clone() }

func (f *MapField) clone() *MapField {
	c := &MapField{fields: make(map[FieldKey]Embedded, len(f.fields)), where: make(map[Dot]FieldKey, len(f.where))}
	for k, v := range f.fields {
		c.fields[k] = v.Clone()
	}
	for d, k := range f.where {
		c.where[d] = k
	}
	return c
}

// Encode implements Embedded: fields sorted by (name, tag).
func (f *MapField) Encode(w *Writer) {
	w.Uvarint(uint64(len(f.fields)))
	f.encodeFields(w)
}

// encodeFields writes the fields without their count.
func (f *MapField) encodeFields(w *Writer) {
	for _, k := range f.Keys() {
		w.fieldKey(k)
		f.fields[k].Encode(w)
	}
}

func decodeMapField(r *Reader, ctx *CausalContext, reg *Registry) (Embedded, error) {
	return readMapField(r, ctx, reg), nil
}

func readMapField(r *Reader, ctx *CausalContext, reg *Registry) *MapField {
	minBytes := 3 // name, tag, body
	if r.ext != nil {
		minBytes = 2 // compact key, body
	}
	return readFields(r, ctx, reg, r.Count(minBytes))
}

// readFields reads n fields written by encodeFields.
func readFields(r *Reader, ctx *CausalContext, reg *Registry, n int) *MapField {
	f := newMapField()
	var prev FieldKey
	for i := range n {
		k := r.fieldKey()
		if r.err != nil {
			return f
		}
		if i > 0 && compareKeys(prev, k) >= 0 {
			r.Fail("map fields not strictly increasing")
			return f
		}
		prev = k
		v := reg.decode(k.Tag, r, ctx)
		if r.err != nil {
			return f
		}
		v.Dots(func(d Dot) {
			if _, dup := f.where[d]; dup {
				r.Fail("dot held by two fields")
			}
			f.where[d] = k
		})
		f.fields[k] = v
	}
	return f
}

// Counter returns the value of counter field name.
func (f *MapField) Counter(name string) (int64, bool) {
	if e, ok := f.fields[FieldKey{name, TagCounter}].(*CounterField); ok {
		return e.Value(), true
	}
	return 0, false
}

// LWW returns the value of LWW field name.
func (f *MapField) LWW(name string) (string, bool) {
	if e, ok := f.fields[FieldKey{name, TagLWW}].(*LWWField); ok {
		v, _, _ := e.Value()
		return v, true
	}
	return "", false
}

// MV returns the concurrent values of multi-value field name.
func (f *MapField) MV(name string) ([]string, bool) {
	if e, ok := f.fields[FieldKey{name, TagMV}].(*MVField); ok {
		return e.Values(), true
	}
	return nil, false
}

// Set returns the elements of set field name with policy p.
func (f *MapField) Set(name string, p SetPolicy) ([]string, bool) {
	if e, ok := f.fields[FieldKey{name, setTag(p)}].(*SetField); ok {
		return e.Elements(), true
	}
	return nil, false
}

// Map returns nested map field name.
func (f *MapField) Map(name string) (*MapField, bool) {
	e, ok := f.fields[FieldKey{name, TagMap}].(*MapField)
	return e, ok
}

func setTag(p SetPolicy) Tag {
	if p == RemoveWins {
		return TagRWSet
	}
	return TagAWSet
}

// ORMap is an observed-remove map of typed fields with its own causal
// context: the agent's keyspace. Every mutator returns a delta *ORMap.
type ORMap struct {
	node NodeID
	ctx  *CausalContext
	f    *MapField
}

// NewORMap returns an empty map whose mutators act as node.
func NewORMap(node NodeID) *ORMap {
	return &ORMap{node: node, ctx: NewCausalContext(), f: newMapField()}
}

// Mutator computes a field delta. cur is the field's current value (nil if
// absent) and ctx the map's context; neither may be modified. It returns the
// delta store (nil for none; otherwise its Tag must be the field's tag) and
// the delta's context: the fresh dots it created (obtain them with
// ctx.Next(node)) plus the dots of cur it supersedes.
type Mutator func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext)

// Update applies mut to field (name, tag) and returns the map delta. This is
// how plug-in types are mutated. It panics if mut returns a store whose Tag
// differs from tag (a programming error, not an input error).
func (m *ORMap) Update(name string, tag Tag, mut Mutator) *ORMap {
	k := FieldKey{name, tag}
	cur := m.f.fields[k]
	ds, dctx := mut(cur, m.ctx)
	d := &ORMap{node: m.node, ctx: dctx, f: newMapField()}
	if dctx == nil {
		d.ctx = NewCausalContext()
	}
	if ds != nil && !ds.Empty() {
		if ds.Tag() != tag {
			panic(fmt.Sprintf("crdt: mutator for %q returned a %q store", tag, ds.Tag()))
		}
		d.f.fields[k] = ds
		ds.Dots(func(x Dot) { d.f.where[x] = k })
	}
	m.Join(d)
	return d
}

// Inc adds by (may be negative) to counter field name.
func (m *ORMap) Inc(name string, by int64) *ORMap {
	return m.Update(name, TagCounter, func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		f, _ := cur.(*CounterField)
		if f == nil {
			f = &CounterField{}
		}
		return f.add(m.node, ctx, by)
	})
}

// SetLWW writes v at ts to LWW field name.
func (m *ORMap) SetLWW(name, v string, ts Timestamp) *ORMap {
	return m.Update(name, TagLWW, func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		f, _ := cur.(*LWWField)
		if f == nil {
			f = &LWWField{}
		}
		return f.set(m.node, ctx, v, ts)
	})
}

// SetMV writes v to multi-value field name.
func (m *ORMap) SetMV(name, v string) *ORMap {
	return m.Update(name, TagMV, func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		f, _ := cur.(*MVField)
		if f == nil {
			f = &MVField{}
		}
		return f.set(m.node, ctx, v)
	})
}

// SetAdd adds elem to set field name with policy p.
func (m *ORMap) SetAdd(name string, p SetPolicy, elem string) *ORMap {
	return m.Update(name, setTag(p), func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		f, _ := cur.(*SetField)
		if f == nil {
			f = newSetField(p)
		}
		return f.add(m.node, ctx, elem)
	})
}

// SetRemove removes elem from set field name with policy p.
func (m *ORMap) SetRemove(name string, p SetPolicy, elem string) *ORMap {
	return m.Update(name, setTag(p), func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		f, _ := cur.(*SetField)
		if f == nil {
			f = newSetField(p)
		}
		return f.remove(m.node, ctx, elem)
	})
}

// UpdateMap applies fn to nested map field name and returns the outer
// delta. fn receives a copy of the nested map (sharing nothing with m) and
// returns the delta of one of its mutators; the copy costs O(size of the
// nested map).
func (m *ORMap) UpdateMap(name string, fn func(child *ORMap) *ORMap) *ORMap {
	return m.Update(name, TagMap, func(cur Embedded, ctx *CausalContext) (Embedded, *CausalContext) {
		child := &ORMap{node: m.node, ctx: ctx.Clone(), f: newMapField()}
		if f, ok := cur.(*MapField); ok {
			child.f = f.clone()
		}
		cd := fn(child)
		return cd.f, cd.ctx
	})
}

// RemoveField removes field (name, tag): the dots this replica observed.
func (m *ORMap) RemoveField(name string, tag Tag) *ORMap {
	return m.Update(name, tag, func(cur Embedded, _ *CausalContext) (Embedded, *CausalContext) {
		dctx := NewCausalContext()
		if cur != nil {
			cur.Dots(dctx.Add)
		}
		return nil, dctx
	})
}

// Remove removes every field called name and returns the delta.
func (m *ORMap) Remove(name string) *ORMap {
	d := &ORMap{node: m.node, ctx: NewCausalContext(), f: newMapField()}
	for k, v := range m.f.fields {
		if k.Name == name {
			v.Dots(d.ctx.Add)
		}
	}
	m.Join(d)
	return d
}

// Fields returns the map's store for reading (do not modify).
func (m *ORMap) Fields() *MapField { return m.f }

// Keys returns the present field keys, sorted.
func (m *ORMap) Keys() []FieldKey { return m.f.Keys() }

// Counter returns the value of counter field name.
func (m *ORMap) Counter(name string) (int64, bool) { return m.f.Counter(name) }

// LWW returns the winning value of LWW field name.
func (m *ORMap) LWW(name string) (string, bool) { return m.f.LWW(name) }

// MV returns the concurrent values of multi-value field name.
func (m *ORMap) MV(name string) ([]string, bool) { return m.f.MV(name) }

// Set returns the elements of set field name with policy p.
func (m *ORMap) Set(name string, p SetPolicy) ([]string, bool) { return m.f.Set(name, p) }

// Context returns the map's causal context (do not modify).
func (m *ORMap) Context() *CausalContext { return m.ctx }

// Join merges o (a state or a delta) into m; o is not modified.
func (m *ORMap) Join(o *ORMap) {
	m.f.Join(m.ctx, o.f, o.ctx)
	m.ctx.Join(o.ctx)
}

// Clone returns an independent copy.
func (m *ORMap) Clone() *ORMap { return &ORMap{node: m.node, ctx: m.ctx.Clone(), f: m.f.clone()} }

// Encode returns the canonical encoding: context, fields.
func (m *ORMap) Encode() []byte {
	w := newWriter()
	w.writeContext(m.ctx)
	m.f.Encode(w)
	return w.finish(KindORMap)
}

// DecodeORMap decodes a map using the field decoders in reg (NewRegistry()
// for the built-in types); node is the identity for its mutators.
func DecodeORMap(b []byte, node NodeID, reg *Registry) (*ORMap, error) {
	if reg == nil {
		reg = NewRegistry()
	}
	r := openReader(b, KindORMap)
	ctx := r.readContext()
	f := readMapField(r, ctx, reg)
	if err := r.close(); err != nil {
		return nil, err
	}
	return &ORMap{node: node, ctx: ctx, f: f}, nil
}
