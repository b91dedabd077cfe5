package crdt

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// mapModel is the sequential reference for ORMap: rendered field values.
type mapModel struct {
	counters map[string]int64
	lww, mv  map[string]string
	sets     map[FieldKey]setModel // AW: field present iff an element is; RW: iff touched
	nested   map[string]map[string]int64
}

func newMapModel() *mapModel {
	return &mapModel{map[string]int64{}, map[string]string{}, map[string]string{}, map[FieldKey]setModel{}, map[string]map[string]int64{}}
}

func (m *mapModel) render() string {
	var out []string
	for k, v := range m.counters {
		out = append(out, fmt.Sprintf("%s/counter=%d", k, v))
	}
	for k, v := range m.lww {
		out = append(out, fmt.Sprintf("%s/lww=%s", k, v))
	}
	for k, v := range m.mv {
		out = append(out, fmt.Sprintf("%s/mv=[%s]", k, v))
	}
	for k, v := range m.sets {
		present := k.Tag == TagRWSet && len(v) > 0
		for _, in := range v {
			present = present || in
		}
		if present {
			out = append(out, fmt.Sprintf("%s/%s=%s", k.Name, k.Tag, v))
		}
	}
	for k, v := range m.nested {
		var inner []string
		for n, c := range v {
			inner = append(inner, fmt.Sprintf("%s/counter=%d", n, c))
		}
		slices.Sort(inner)
		out = append(out, fmt.Sprintf("%s/map={%s}", k, strings.Join(inner, " ")))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func renderMap(f *MapField) string {
	var out []string
	for _, k := range f.Keys() {
		var v string
		switch e := f.fields[k].(type) {
		case *CounterField:
			v = fmt.Sprint(e.Value())
		case *LWWField:
			v, _, _ = e.Value()
		case *MVField:
			v = fmt.Sprint(e.Values())
		case *SetField:
			v = fmt.Sprint(e.Elements())
		case *MapField:
			v = "{" + renderMap(e) + "}"
		}
		out = append(out, fmt.Sprintf("%s/%s=%s", k.Name, k.Tag, v))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestORMap(t *testing.T) { runSpec(t, ormapSpec()) }

// ormapSpec is the ORMap's harness spec with the canonical encoding.
func ormapSpec() spec[*ORMap] {
	names := []string{"k1", "k2", "k3"}
	return spec[*ORMap]{
		newReplica: NewORMap,
		op: func(t *rapid.T, e *env, r *ORMap) (*ORMap, func(any)) {
			name := rapid.SampledFrom(names).Draw(t, "name")
			v := drawElem(t)
			switch rapid.IntRange(0, 9).Draw(t, "mapop") {
			case 0:
				by := rapid.Int64Range(-3, 3).Draw(t, "by")
				return r.Inc(name, by), func(m any) { m.(*mapModel).counters[name] += by }
			case 1:
				return r.SetLWW(name, v, e.clk.Now(e.phys)), func(m any) { m.(*mapModel).lww[name] = v }
			case 2:
				return r.SetMV(name, v), func(m any) { m.(*mapModel).mv[name] = v }
			case 3, 4, 5, 6:
				p := SetPolicy(rapid.IntRange(0, 1).Draw(t, "policy"))
				add := rapid.Bool().Draw(t, "add")
				mop := func(m any) {
					k := FieldKey{name, setTag(p)}
					s := m.(*mapModel).sets[k]
					if s == nil {
						s = setModel{}
						m.(*mapModel).sets[k] = s
					}
					s[v] = add
					if p == AddWins && !add {
						delete(s, v)
					}
				}
				if add {
					return r.SetAdd(name, p, v), mop
				}
				return r.SetRemove(name, p, v), mop
			case 7:
				return r.Remove(name), func(m any) {
					mm := m.(*mapModel)
					delete(mm.counters, name)
					delete(mm.lww, name)
					delete(mm.mv, name)
					delete(mm.sets, FieldKey{name, TagAWSet})
					delete(mm.sets, FieldKey{name, TagRWSet})
					delete(mm.nested, name)
				}
			case 8:
				return r.RemoveField(name, TagCounter), func(m any) { delete(m.(*mapModel).counters, name) }
			default:
				inner := rapid.SampledFrom(names).Draw(t, "inner")
				if rapid.Bool().Draw(t, "innerRemove") {
					d := r.UpdateMap(name, func(c *ORMap) *ORMap { return c.Remove(inner) })
					return d, func(m any) {
						if c := m.(*mapModel).nested[name]; c != nil {
							delete(c, inner)
							if len(c) == 0 {
								delete(m.(*mapModel).nested, name)
							}
						}
					}
				}
				d := r.UpdateMap(name, func(c *ORMap) *ORMap { return c.Inc(inner, 1) })
				return d, func(m any) {
					c := m.(*mapModel).nested[name]
					if c == nil {
						c = map[string]int64{}
						m.(*mapModel).nested[name] = c
					}
					c[inner]++
				}
			}
		},
		join:  func(a, b *ORMap) { a.Join(b); checkMapIndex(a.f) },
		clone: (*ORMap).Clone, encode: (*ORMap).Encode,
		decode:     func(b []byte, n NodeID) (*ORMap, error) { return DecodeORMap(b, n, NewRegistry()) },
		value:      func(a *ORMap) string { return renderMap(a.f) },
		newModel:   func() any { return newMapModel() },
		modelValue: func(m any) string { return m.(*mapModel).render() },
	}
}
