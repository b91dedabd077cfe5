package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Type is the type of a key's value, fixed by the key's first write.
type Type string

// Value types.
const (
	TypeRegister   Type = "register"   // last-writer-wins string register (HLC timestamps)
	TypeMVRegister Type = "mvregister" // multi-value register: concurrent writes all kept
	TypeCounter    Type = "counter"    // PN counter (int64)
	TypeSet        Type = "set"        // add-wins observed-remove set of strings
	TypeText       Type = "text"       // collaborative plain text (crdt/text)
)

// Op names the operation that made a change.
type Op string

// Operations. Remote changes carry the operation inferred from what changed
// (a register or text write, an increment, set adds or removes, a deletion);
// changes made by MergeState carry OpMerge.
const (
	OpPut    Op = "put"    // register or multi-value register write
	OpInc    Op = "inc"    // counter increment (remote: the counter went up or stayed)
	OpDec    Op = "dec"    // counter decrement (remote: the counter went down)
	OpAdd    Op = "add"    // set add
	OpRemove Op = "remove" // set remove
	OpDel    Op = "del"    // key deleted
	OpText   Op = "text"   // text insert or delete
	OpMerge  Op = "merge"  // anti-entropy state merge
)

// Origin tells local changes from remote ones.
type Origin string

// Origins.
const (
	OriginLocal  Origin = "local"  // made by a mutator of this Store
	OriginRemote Origin = "remote" // merged from a peer's delta or state
)

// Value is a key's current value. Exactly one of Str, Int and List is
// meaningful, chosen by Type: Str for register and text, Int for counter,
// List (sorted) for set and mvregister. Its JSON form is
// {"type": ..., "value": ..., "shadowed": [...]}.
type Value struct {
	Type Type
	Str  string
	Int  int64
	List []string
	// Shadowed lists the other types present under the key, in type
	// order: two replicas created the key concurrently with different
	// types. Get shows the first type of TypeOrder; the others stay
	// hidden until Del removes them all.
	Shadowed []Type
}

// TypeOrder returns the types in the order that decides which one a key
// shows when concurrent first writes gave it several.
func TypeOrder() []Type {
	return []Type{TypeRegister, TypeMVRegister, TypeCounter, TypeSet, TypeText}
}

// Data returns the JSON-friendly value: string, int64 or []string.
func (v Value) Data() any {
	switch v.Type {
	case TypeCounter:
		return v.Int
	case TypeSet, TypeMVRegister:
		if v.List == nil {
			return []string{}
		}
		return v.List
	}
	return v.Str
}

type valueJSON struct {
	Type     Type            `json:"type"`
	Value    json.RawMessage `json:"value"`
	Shadowed []Type          `json:"shadowed,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(v.Data())
	if err != nil {
		return nil, err
	}
	return json.Marshal(valueJSON{Type: v.Type, Value: data, Shadowed: v.Shadowed})
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j valueJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Value{Type: j.Type, Shadowed: j.Shadowed}
	switch j.Type {
	case TypeCounter:
		return json.Unmarshal(j.Value, &v.Int)
	case TypeSet, TypeMVRegister:
		return json.Unmarshal(j.Value, &v.List)
	case TypeRegister, TypeText:
		return json.Unmarshal(j.Value, &v.Str)
	}
	return fmt.Errorf("store: unknown value type %q", j.Type)
}

// Equal reports whether v and o show the same value.
func (v Value) Equal(o Value) bool {
	return v.Type == o.Type && v.Str == o.Str && v.Int == o.Int &&
		slices.Equal(v.List, o.List) && slices.Equal(v.Shadowed, o.Shadowed)
}

// Change is one entry of the change feed.
type Change struct {
	// Seq is the change's position in the feed, from 1, increasing by one
	// per change; 0 only on the zero Change.
	Seq uint64 `json:"seq"`
	Key string `json:"key"`
	// Type is the key's type; for a deletion, the type it had.
	Type   Type   `json:"type"`
	Op     Op     `json:"op"`
	Origin Origin `json:"origin"`
	// Value is the key's value after the change: nil when the key no
	// longer exists, and in the feed also when it was larger than
	// Options.FeedValueBytes (re-read the key).
	Value *Value `json:"value,omitempty"`
}

// Errors. Match them with errors.Is; the returned errors add the key and
// details.
var (
	// ErrWrongType: the operation does not apply to the key's type. The
	// error is a *WrongTypeError.
	ErrWrongType = errors.New("store: operation does not match the key's type")
	// ErrNotFound: the key (or meta entry) does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalid: a bad argument (empty or non-UTF-8 key, text position
	// out of range, no elements).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrTooLarge: a key, value or resulting state beyond the Options
	// limits.
	ErrTooLarge = errors.New("store: too large")
	// ErrMalformed: a delta or state from a peer could not be decoded or
	// applied; nothing of it was merged.
	ErrMalformed = errors.New("store: malformed delta or state")
	// ErrCorrupt: a datastore entry could not be decoded.
	ErrCorrupt = errors.New("store: corrupt datastore entry")
	// ErrCursorTooOld: the feed no longer holds the changes after this
	// cursor; re-read the keyspace and continue from Seq().
	ErrCursorTooOld = errors.New("store: change feed cursor older than the feed")
	// ErrCursorAhead: the cursor is beyond the last change (the client
	// read another store, or this store's data was lost); re-read.
	ErrCursorAhead = errors.New("store: change feed cursor beyond the last change")
	// ErrBroken: a failed write could not be undone in memory; the Store
	// refuses further operations and must be reopened.
	ErrBroken = errors.New("store: in-memory state lost sync with the datastore; reopen")
	// ErrTextPending: Del of a text key some of whose edits arrived before
	// the edits they follow and wait for them; retry once they arrive
	// (anti-entropy brings them within a session or two).
	ErrTextPending = errors.New("store: text key has edits waiting for earlier ones")
)

// WrongTypeError is returned for an operation on a key of another type.
type WrongTypeError struct {
	Key  string
	Type Type // the key's type
	Op   Op   // the refused operation
}

func (e *WrongTypeError) Error() string {
	return fmt.Sprintf("store: %s on key %q of type %s", e.Op, e.Key, e.Type)
}

// Unwrap makes errors.Is(err, ErrWrongType) true.
func (e *WrongTypeError) Unwrap() error { return ErrWrongType }
