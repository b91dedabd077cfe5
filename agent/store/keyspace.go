package store

import (
	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/hearsay-mesh/hearsay/crdt/text"
)

// fieldName is the map field name every key's value lives under: each key
// has its own ORMap, whose fields differ only by tag.
const fieldName = ""

// tagOf returns the map field tag that stores type t.
func tagOf(t Type) crdt.Tag {
	switch t {
	case TypeRegister:
		return crdt.TagLWW
	case TypeMVRegister:
		return crdt.TagMV
	case TypeCounter:
		return crdt.TagCounter
	case TypeSet:
		return crdt.TagAWSet
	case TypeText:
		return tagText
	}
	return ""
}

// typeOfTag is the inverse of tagOf.
func typeOfTag(tag crdt.Tag) (Type, bool) {
	for _, t := range TypeOrder() {
		if tagOf(t) == tag {
			return t, true
		}
	}
	return "", false
}

// entry is one key's state: its map (causal context and typed fields) and,
// for text, the document.
type entry struct {
	m   *crdt.ORMap
	doc *text.Doc // nil until the key receives text operations
	// digest of the persisted record; zero if nothing is persisted.
	digest [16]byte
}

func newEntry(self crdt.NodeID) *entry { return &entry{m: crdt.NewORMap(self)} }

// types returns the types present under the key, in TypeOrder.
func (e *entry) types() []Type {
	var out []Type
	for _, t := range TypeOrder() {
		if _, ok := e.m.Fields().Field(fieldName, tagOf(t)); ok {
			out = append(out, t)
		}
	}
	return out
}

// typ returns the type the key shows, if it exists.
func (e *entry) typ() (Type, bool) {
	for _, t := range TypeOrder() {
		if _, ok := e.m.Fields().Field(fieldName, tagOf(t)); ok {
			return t, true
		}
	}
	return "", false
}

// present reports whether the key exists (holds a field).
func (e *entry) present() bool { return e.m.Fields().Len() > 0 }

// value returns the key's value, if it exists.
func (e *entry) value() (Value, bool) {
	ts := e.types()
	if len(ts) == 0 {
		return Value{}, false
	}
	v := Value{Type: ts[0]}
	if len(ts) > 1 {
		v.Shadowed = ts[1:]
	}
	f := e.m.Fields()
	switch v.Type {
	case TypeRegister:
		v.Str, _ = f.LWW(fieldName)
	case TypeMVRegister:
		v.List, _ = f.MV(fieldName)
	case TypeCounter:
		v.Int, _ = f.Counter(fieldName)
	case TypeSet:
		v.List, _ = f.Set(fieldName, crdt.AddWins)
	case TypeText:
		if e.doc != nil {
			v.Str = e.doc.Text()
		}
	}
	return v, true
}

// empty reports whether the entry holds nothing worth persisting: no field,
// an empty context and no text operations.
func (e *entry) empty() bool {
	return e.m.Fields().Len() == 0 && len(e.m.Context().Nodes()) == 0 && !hasText(e.doc)
}

func hasText(d *text.Doc) bool { return d != nil && len(d.Version()) > 0 }

// validFields checks that a decoded map holds only this package's fields.
func validFields(m *crdt.ORMap) bool {
	for _, k := range m.Keys() {
		if _, ok := typeOfTag(k.Tag); !ok || k.Name != fieldName {
			return false
		}
	}
	return true
}
