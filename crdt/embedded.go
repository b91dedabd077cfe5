package crdt

import "fmt"

// Tag names the type of a map field in encodings and in field keys. A field
// is identified by (name, tag), so two replicas that concurrently create the
// same name with different types both keep their field.
type Tag string

// Built-in field tags.
const (
	TagCounter Tag = "counter" // *CounterField: causal PN counter
	TagLWW     Tag = "lww"     // *LWWField: causal last-writer-wins register
	TagMV      Tag = "mv"      // *MVField: multi-value register
	TagAWSet   Tag = "awset"   // *SetField, add-wins
	TagRWSet   Tag = "rwset"   // *SetField, remove-wins
	TagMap     Tag = "map"     // *MapField: nested observed-remove map
)

// Embedded is a dot store that lives in an ORMap field and shares the map's
// causal context. Built-in field types implement it; another type (the text
// CRDT in crdt/text) plugs in by implementing it and registering a decoder
// in the Registry passed to DecodeORMap.
//
// Contract: an Embedded is a lattice of dot stores; the join of (a, ctxA)
// and (b, ctxB) keeps a dot that both sides hold, or that one side holds and
// the other side's context has not seen, as in the delta-CRDT paper. All of
// its state must hang off dots so that removing a field (dropping the
// observed dots) leaves nothing behind. Encode must be canonical (sorted).
type Embedded interface {
	// Tag returns the type tag; constant per type.
	Tag() Tag
	// Join returns the join of (e, ctx) and (other, otherCtx). other is nil
	// or has e's Tag; nil stands for the empty store. Join may modify and
	// return e; it must not modify other, ctx or otherCtx, and must not keep
	// references to mutable parts of other.
	Join(ctx *CausalContext, other Embedded, otherCtx *CausalContext) Embedded
	// Dots calls fn for every dot in the store.
	Dots(fn func(Dot))
	// Empty reports whether the store holds no dots (the field is absent).
	Empty() bool
	// Clone returns an independent copy.
	Clone() Embedded
	// Encode writes the store canonically to w.
	Encode(w *Writer)
}

// DecodeFunc decodes an Embedded written by its Encode. ctx is the decoded
// causal context of the enclosing map; a decoder should reject dots that ctx
// does not cover, testing them with r.Covered(ctx, d) (not ctx.Contains: in
// the compact form the context is complete only after the fields). reg is
// passed on for nested maps.
type DecodeFunc func(r *Reader, ctx *CausalContext, reg *Registry) (Embedded, error)

// Registry maps field tags to decoders. It is a plain value built by the
// caller and handed to DecodeORMap; there is no global registry.
type Registry struct {
	decoders map[Tag]DecodeFunc
}

// NewRegistry returns a registry of the built-in field types.
func NewRegistry() *Registry {
	return &Registry{decoders: map[Tag]DecodeFunc{
		TagCounter: decodeCounterField,
		TagLWW:     decodeLWWField,
		TagMV:      decodeMVField,
		TagAWSet:   decodeSetField(AddWins),
		TagRWSet:   decodeSetField(RemoveWins),
		TagMap:     decodeMapField,
	}}
}

// With returns a copy of r that also decodes tag with dec. It returns an
// error if tag is empty or already present.
func (r *Registry) With(tag Tag, dec DecodeFunc) (*Registry, error) {
	if tag == "" || dec == nil {
		return nil, fmt.Errorf("crdt: registry: empty tag or nil decoder")
	}
	if _, ok := r.decoders[tag]; ok {
		return nil, fmt.Errorf("crdt: registry: tag %q already registered", tag)
	}
	n := &Registry{decoders: make(map[Tag]DecodeFunc, len(r.decoders)+1)}
	for t, d := range r.decoders {
		n.decoders[t] = d
	}
	n.decoders[tag] = dec
	return n, nil
}

// decode reads one field value of type tag.
func (r *Registry) decode(tag Tag, rd *Reader, ctx *CausalContext) Embedded {
	dec, ok := r.decoders[tag]
	if !ok {
		rd.Fail("unknown field tag %q", tag)
		return nil
	}
	if !rd.Enter() {
		return nil
	}
	defer rd.Leave()
	e, err := dec(rd, ctx, r)
	if err != nil {
		rd.Fail("field %q: %v", tag, err)
		return nil
	}
	if rd.err != nil {
		return nil
	}
	if e == nil || e.Tag() != tag {
		rd.Fail("decoder for %q returned wrong type", tag)
		return nil
	}
	if e.Empty() {
		rd.Fail("empty field")
		return nil
	}
	return e
}
