package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	jsonrpc2ws "github.com/sourcegraph/jsonrpc2/websocket"
)

// notes collects the notifications the server pushes to the client.
type notes struct {
	mu   sync.Mutex
	keys []string
	got  chan struct{}
}

func (n *notes) Handle(_ context.Context, _ *jsonrpc2.Conn, r *jsonrpc2.Request) {
	if !r.Notif || r.Method != NotifyChange || r.Params == nil {
		return
	}
	var ch struct{ Key string }
	if json.Unmarshal(*r.Params, &ch) == nil {
		n.mu.Lock()
		n.keys = append(n.keys, ch.Key)
		n.mu.Unlock()
		n.got <- struct{}{}
	}
}

// TestSourcegraphClient drives the API from a JSON-RPC 2.0 library this
// project did not write (github.com/sourcegraph/jsonrpc2, over its own
// gorilla WebSocket stream): calls, a notification, a subscription whose
// pushed notifications the library dispatches, and the standard errors
// -32601 and -32602 plus an application error. Batches and a parse error
// cannot be expressed through that library (it sends one well-formed
// object at a time); TestCurl covers those with raw requests.
func TestSourcegraphClient(t *testing.T) {
	addr, tok := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := gorilla.DefaultDialer.DialContext(ctx, "ws://"+addr+WebSocketPath, http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatal(err)
	}
	n := &notes{got: make(chan struct{}, 16)}
	conn := jsonrpc2.NewConn(ctx, jsonrpc2ws.NewObjectStream(ws), n)
	defer conn.Close()

	var sub SubscribeResult
	if err := conn.Call(ctx, "crdt_subscribe", map[string]any{}, &sub); err != nil {
		t.Fatalf("crdt_subscribe: %v", err)
	}
	var put json.RawMessage
	if err := conn.Call(ctx, "crdt_put", map[string]any{"key": "k", "value": "v"}, &put); err != nil {
		t.Fatalf("crdt_put: %v", err)
	}
	var got struct {
		Value struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"value"`
	}
	if err := conn.Call(ctx, "crdt_get", map[string]any{"key": "k"}, &got); err != nil {
		t.Fatalf("crdt_get: %v", err)
	}
	if got.Value.Type != "register" || got.Value.Value != "v" {
		t.Fatalf("crdt_get k = %+v", got)
	}
	// A notification: no answer comes, the increment is applied.
	if err := conn.Notify(ctx, "crdt_inc", map[string]any{"key": "c", "by": 2}); err != nil {
		t.Fatalf("notify: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if err := conn.Call(ctx, "crdt_get", map[string]any{"key": "c"}, &got); err == nil && got.Value.Value == float64(2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notification's increment never showed: %+v", got)
		}
	}
	// The subscription pushed both changes, dispatched by the library.
	for i := 0; i < 2; i++ {
		select {
		case <-n.got:
		case <-ctx.Done():
			t.Fatalf("only %d of 2 change notifications arrived", i)
		}
	}
	n.mu.Lock()
	if len(n.keys) != 2 || n.keys[0] != "k" || n.keys[1] != "c" {
		t.Errorf("notified keys %v, want [k c]", n.keys)
	}
	n.mu.Unlock()

	for _, c := range []struct {
		name, method string
		params       any
		code         int64
	}{
		{"unknown method", "crdt_frobnicate", map[string]any{}, jsonrpc2.CodeMethodNotFound},
		{"bad params type", "crdt_inc", map[string]any{"key": "c", "by": "two"}, jsonrpc2.CodeInvalidParams},
		{"missing field", "crdt_put", map[string]any{"key": "k"}, jsonrpc2.CodeInvalidParams},
		{"wrong CRDT type", "crdt_inc", map[string]any{"key": "k"}, 1002},
	} {
		err := conn.Call(ctx, c.method, c.params, nil)
		var e *jsonrpc2.Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: error %v, want code %d", c.name, err, c.code)
		}
	}
	// Nothing the errors touched changed.
	if err := conn.Call(ctx, "crdt_get", map[string]any{"key": "c"}, &got); err != nil || got.Value.Value != float64(2) {
		t.Errorf("c after the errors: %+v, %v", got, err)
	}
}
