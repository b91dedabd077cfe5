package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/handler"
	"github.com/hearsay-mesh/hearsay/agent/store"
)

// Application error codes (the JSON-RPC spec leaves -32000 and up, and
// positive codes, to applications).
const (
	CodeNotFound   jrpc2.Code = 1001 // the key does not exist
	CodeWrongType  jrpc2.Code = 1002 // an operation of another CRDT type than the key's
	CodeTooLarge   jrpc2.Code = 1003 // a key or value over the limits
	CodeCursorGone jrpc2.Code = 1004 // a change cursor older than the kept feed
	CodeRetry      jrpc2.Code = 1005 // not now: crdt_del of a text key whose edits arrived out of order; retry shortly
)

// Keyspace is the part of the backend that serves the CRDT methods.
type Keyspace interface {
	Put(ctx context.Context, key, value string) (store.Change, error)
	Inc(ctx context.Context, key string, by int64) (store.Change, error)
	Dec(ctx context.Context, key string, by int64) (store.Change, error)
	Add(ctx context.Context, key string, elems ...string) (store.Change, error)
	Remove(ctx context.Context, key string, elems ...string) (store.Change, error)
	Del(ctx context.Context, key string) (store.Change, error)
	TextInsert(ctx context.Context, key string, pos int, s string) (store.Change, error)
	TextDelete(ctx context.Context, key string, pos, n int) (store.Change, error)
	Get(ctx context.Context, key string) (store.Value, error)
	Keys(ctx context.Context, prefix, after string, limit int) ([]string, string, error)
	Changes(ctx context.Context, after uint64, limit int) ([]store.Change, uint64, error)
}

// KeyParams name one key.
type KeyParams struct {
	Key string `json:"key"`
}

// PutParams are crdt_put's parameters.
type PutParams struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

// IncParams are crdt_inc's and crdt_dec's parameters; By defaults to 1.
type IncParams struct {
	Key string `json:"key"`
	By  *int64 `json:"by,omitempty"`
}

// SetParams are crdt_add's and crdt_remove's parameters.
type SetParams struct {
	Key      string   `json:"key"`
	Elements []string `json:"elements"`
}

// KeysParams are crdt_keys's parameters.
type KeysParams struct {
	Prefix string `json:"prefix,omitempty"`
	After  string `json:"after,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// KeysResult is crdt_keys's result; Next is the cursor for the next page
// ("" when there is none).
type KeysResult struct {
	Keys []string `json:"keys"`
	Next string   `json:"next,omitempty"`
}

// TextInsertParams are text_insert's parameters; Pos counts code points.
type TextInsertParams struct {
	Key  string  `json:"key"`
	Pos  *int    `json:"pos"`
	Text *string `json:"text"`
}

// TextDeleteParams are text_delete's parameters.
type TextDeleteParams struct {
	Key string `json:"key"`
	Pos *int   `json:"pos"`
	N   *int   `json:"n"`
}

// ChangesParams are crdt_changes's parameters: changes after cursor After.
type ChangesParams struct {
	After uint64 `json:"after"`
	Limit int    `json:"limit,omitempty"`
}

// ChangesResult is crdt_changes's result; Seq is the cursor to pass next:
// the last change returned, or the request's cursor when there is none.
type ChangesResult struct {
	Changes []store.Change `json:"changes"`
	Seq     uint64         `json:"seq"`
}

// GetResult is crdt_get's result.
type GetResult struct {
	Key   string      `json:"key"`
	Value store.Value `json:"value"`
}

func missing(field, want string) error {
	return jrpc2.Errorf(jrpc2.InvalidParams, "%s: required, %s", field, want)
}

func needKey(k string) error {
	if k == "" {
		return missing("key", "a non-empty string")
	}
	return nil
}

// storeError maps the keyspace's errors onto JSON-RPC codes.
func storeError(err error) error {
	var wt *store.WrongTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &wt), errors.Is(err, store.ErrWrongType):
		return &jrpc2.Error{Code: CodeWrongType, Message: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return &jrpc2.Error{Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, store.ErrTooLarge):
		return &jrpc2.Error{Code: CodeTooLarge, Message: err.Error()}
	case errors.Is(err, store.ErrCursorTooOld), errors.Is(err, store.ErrCursorAhead):
		return &jrpc2.Error{Code: CodeCursorGone, Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		return jrpc2.Errorf(jrpc2.InvalidParams, "%v", err)
	case errors.Is(err, store.ErrTextPending):
		return &jrpc2.Error{Code: CodeRetry, Message: err.Error()}
	default:
		return err
	}
}

func change(c store.Change, err error) (store.Change, error) { return c, storeError(err) }

// strict wraps fn so unknown parameter fields are refused (a typo such as
// "keyy" is an invalid-params error, not a silent no-op).
func strict(fn any) jrpc2.Handler {
	fi, err := handler.Check(fn)
	if err != nil {
		panic(fmt.Sprintf("rpc: bad handler: %v", err))
	}
	return fi.SetStrict(true).Wrap()
}

func crdtMethods(k Keyspace, m handler.Map) {
	m["crdt_get"] = strict(func(ctx context.Context, p KeyParams) (GetResult, error) {
		if err := needKey(p.Key); err != nil {
			return GetResult{}, err
		}
		v, err := k.Get(ctx, p.Key)
		return GetResult{Key: p.Key, Value: v}, storeError(err)
	})
	m["crdt_put"] = strict(func(ctx context.Context, p PutParams) (store.Change, error) {
		if err := needKey(p.Key); err != nil {
			return store.Change{}, err
		}
		if p.Value == nil {
			return store.Change{}, missing("value", "a string")
		}
		return change(k.Put(ctx, p.Key, *p.Value))
	})
	inc := func(dec bool) jrpc2.Handler {
		return strict(func(ctx context.Context, p IncParams) (store.Change, error) {
			if err := needKey(p.Key); err != nil {
				return store.Change{}, err
			}
			by := int64(1)
			if p.By != nil {
				by = *p.By
			}
			if by < 0 {
				return store.Change{}, jrpc2.Errorf(jrpc2.InvalidParams, "by: %d; want a positive amount (use the other method to go the other way)", by)
			}
			if dec {
				return change(k.Dec(ctx, p.Key, by))
			}
			return change(k.Inc(ctx, p.Key, by))
		})
	}
	m["crdt_inc"], m["crdt_dec"] = inc(false), inc(true)
	set := func(remove bool) jrpc2.Handler {
		return strict(func(ctx context.Context, p SetParams) (store.Change, error) {
			if err := needKey(p.Key); err != nil {
				return store.Change{}, err
			}
			if len(p.Elements) == 0 {
				return store.Change{}, missing("elements", "a non-empty array of strings")
			}
			if remove {
				return change(k.Remove(ctx, p.Key, p.Elements...))
			}
			return change(k.Add(ctx, p.Key, p.Elements...))
		})
	}
	m["crdt_add"], m["crdt_remove"] = set(false), set(true)
	m["crdt_del"] = strict(func(ctx context.Context, p KeyParams) (store.Change, error) {
		if err := needKey(p.Key); err != nil {
			return store.Change{}, err
		}
		return change(k.Del(ctx, p.Key))
	})
	m["crdt_keys"] = strict(func(ctx context.Context, p KeysParams) (KeysResult, error) {
		if p.Limit < 0 || p.Limit > 10000 {
			return KeysResult{}, jrpc2.Errorf(jrpc2.InvalidParams, "limit: %d; want 1..10000 (0 means 1000)", p.Limit)
		}
		if p.Limit == 0 {
			p.Limit = 1000
		}
		keys, next, err := k.Keys(ctx, p.Prefix, p.After, p.Limit)
		if keys == nil {
			keys = []string{}
		}
		return KeysResult{Keys: keys, Next: next}, storeError(err)
	})
	m["text_insert"] = strict(func(ctx context.Context, p TextInsertParams) (store.Change, error) {
		if err := needKey(p.Key); err != nil {
			return store.Change{}, err
		}
		if p.Pos == nil {
			return store.Change{}, missing("pos", "a code point offset")
		}
		if p.Text == nil {
			return store.Change{}, missing("text", "a string")
		}
		return change(k.TextInsert(ctx, p.Key, *p.Pos, *p.Text))
	})
	m["text_delete"] = strict(func(ctx context.Context, p TextDeleteParams) (store.Change, error) {
		if err := needKey(p.Key); err != nil {
			return store.Change{}, err
		}
		if p.Pos == nil {
			return store.Change{}, missing("pos", "a code point offset")
		}
		if p.N == nil {
			return store.Change{}, missing("n", "how many code points to delete")
		}
		return change(k.TextDelete(ctx, p.Key, *p.Pos, *p.N))
	})
	m["text_get"] = strict(func(ctx context.Context, p KeyParams) (string, error) {
		if err := needKey(p.Key); err != nil {
			return "", err
		}
		v, err := k.Get(ctx, p.Key)
		if err != nil {
			return "", storeError(err)
		}
		if v.Type != store.TypeText {
			return "", &jrpc2.Error{Code: CodeWrongType, Message: fmt.Sprintf("key %q holds a %s, not text", p.Key, v.Type)}
		}
		return v.Str, nil
	})
	m["crdt_changes"] = strict(func(ctx context.Context, p ChangesParams) (ChangesResult, error) {
		if p.Limit < 0 || p.Limit > 10000 {
			return ChangesResult{}, jrpc2.Errorf(jrpc2.InvalidParams, "limit: %d; want 1..10000 (0 means 1000)", p.Limit)
		}
		if p.Limit == 0 {
			p.Limit = 1000
		}
		cs, seq, err := k.Changes(ctx, p.After, p.Limit)
		if cs == nil {
			cs = []store.Change{}
		}
		if je, ok := storeError(err).(*jrpc2.Error); ok && je.Code == CodeCursorGone {
			// The newest change's number rides along, so a client can
			// re-read the keys and continue from it.
			je.Data, _ = json.Marshal(ChangesResult{Changes: []store.Change{}, Seq: seq})
			return ChangesResult{}, je
		}
		if err != nil {
			return ChangesResult{}, storeError(err)
		}
		// The cursor to pass next: the last change returned, else the
		// cursor itself. It was the newest change's number, so a client
		// paging with limit skipped what lay between.
		next := p.After
		if len(cs) > 0 {
			next = cs[len(cs)-1].Seq
		}
		return ChangesResult{Changes: cs, Seq: next}, nil
	})
}
