package crdt

// MVRegister is a multi-value register with its own causal context: a write
// replaces every value it has seen; concurrent writes all survive until a
// later write has seen them.
type MVRegister struct {
	node NodeID
	ctx  *CausalContext
	f    *MVField
}

// NewMVRegister returns an empty register whose writes act as node.
func NewMVRegister(node NodeID) *MVRegister {
	return &MVRegister{node: node, ctx: NewCausalContext(), f: &MVField{}}
}

// Set writes v and returns the delta.
func (m *MVRegister) Set(v string) *MVRegister {
	f, c := m.f.set(m.node, m.ctx, v)
	d := &MVRegister{node: m.node, ctx: c, f: f}
	m.Join(d)
	return d
}

// Values returns the concurrent values, sorted (empty if never written).
func (m *MVRegister) Values() []string { return m.f.Values() }

// Context returns the register's causal context (do not modify).
func (m *MVRegister) Context() *CausalContext { return m.ctx }

// Join merges o into m.
func (m *MVRegister) Join(o *MVRegister) {
	m.f.Join(m.ctx, o.f, o.ctx)
	m.ctx.Join(o.ctx)
}

// Clone returns an independent copy.
func (m *MVRegister) Clone() *MVRegister {
	return &MVRegister{node: m.node, ctx: m.ctx.Clone(), f: &MVField{s: m.f.s}}
}

// Encode returns the canonical encoding: context, store.
func (m *MVRegister) Encode() []byte {
	w := newWriter()
	w.writeContext(m.ctx)
	m.f.Encode(w)
	return w.finish(KindMVRegister)
}

// DecodeMVRegister decodes a register; node is the identity for its writes.
func DecodeMVRegister(b []byte, node NodeID) (*MVRegister, error) {
	r := openReader(b, KindMVRegister)
	ctx := r.readContext()
	s := readFun(r, ctx, r.String)
	if err := r.close(); err != nil {
		return nil, err
	}
	return &MVRegister{node: node, ctx: ctx, f: &MVField{s: s}}, nil
}
