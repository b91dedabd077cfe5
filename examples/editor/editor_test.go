package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hearsay-mesh/hearsay/rpc"
)

// startAgent builds the hearsay binary and runs one agent on 127.0.0.1
// with its data in dir, until the test ends; it returns once the agent's
// RPC endpoint answers.
func startAgent(t *testing.T, dir string) *rpc.Client {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hearsay")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hearsay-mesh/hearsay/cmd/hearsay").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "agent", "--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir", dir, "--rpc-listen", "127.0.0.1:0", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		if cl, err := rpc.Dial(dir); err == nil {
			if _, err := cl.Info(context.Background()); err == nil {
				return cl
			}
			cl.Close()
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the agent did not answer within 30 s")
		}
	}
}

type rpcMsg struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Params json.RawMessage `json:"params"`
}

// The page's relay reaches the agent: edits sent through it apply, a
// missing key reads as the agent's not-found error, and a change made by
// another client comes back as a crdt_change notification with the text.
func TestRelayEditsAndFollowsAKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts an agent process")
	}
	dir := filepath.Join(t.TempDir(), "agent")
	other := startAgent(t, dir)
	h, err := newHandler(Config{DataDir: dir, Key: "notes"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	page, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), "editor.js") {
		t.Fatalf("/ does not serve the page: %.200s", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	id := 0
	// call sends one request and returns its answer, collecting any
	// notifications that arrive before it.
	var notes []rpcMsg
	call := func(method string, params any) rpcMsg {
		t.Helper()
		id++
		req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		if err := c.Write(ctx, websocket.MessageText, req); err != nil {
			t.Fatal(err)
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			var m rpcMsg
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.ID != nil && *m.ID == id {
				return m
			}
			notes = append(notes, m)
		}
	}
	// Only the page's methods pass: the relay holds the agent's token.
	if m := call("mesh_leave", nil); m.Error == nil || m.Error.Code != -32601 {
		t.Fatalf("mesh_leave through the relay: %+v, want a -32601 refusal", m)
	}
	if m := call("crdt_put", map[string]any{"key": "k", "value": "v"}); m.Error == nil || m.Error.Code != -32601 {
		t.Fatalf("crdt_put through the relay: %+v, want a -32601 refusal", m)
	}
	if m := call("text_get", map[string]any{"key": "notes"}); m.Error == nil || m.Error.Code != int(rpc.CodeNotFound) {
		t.Fatalf("text_get of a missing key: %+v", m)
	}
	if m := call("crdt_subscribe", map[string]any{}); m.Error != nil {
		t.Fatalf("crdt_subscribe: %+v", m.Error)
	}
	for _, e := range []struct {
		method string
		params map[string]any
	}{
		{"text_insert", map[string]any{"key": "notes", "pos": 0, "text": "hello wörld"}},
		{"text_delete", map[string]any{"key": "notes", "pos": 5, "n": 1}},
		{"text_insert", map[string]any{"key": "notes", "pos": 5, "text": ", "}},
	} {
		if m := call(e.method, e.params); m.Error != nil {
			t.Fatalf("%s: %+v", e.method, m.Error)
		}
	}
	var got string
	if m := call("text_get", map[string]any{"key": "notes"}); m.Error != nil || json.Unmarshal(m.Result, &got) != nil || got != "hello, wörld" {
		t.Fatalf("text_get = %s %+v, want \"hello, wörld\"", m.Result, m.Error)
	}
	// Another client's edit reaches the page as a notification.
	pos, text := 0, ">> "
	if err := other.Call(ctx, "text_insert", rpc.TextInsertParams{Key: "notes", Pos: &pos, Text: &text}, nil); err != nil {
		t.Fatal(err)
	}
	for {
		for _, n := range notes {
			var ch struct {
				Key   string `json:"key"`
				Value struct {
					Value string `json:"value"`
				} `json:"value"`
			}
			if n.Method == "crdt_change" && json.Unmarshal(n.Params, &ch) == nil && ch.Key == "notes" && ch.Value.Value == ">> hello, wörld" {
				return
			}
		}
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("no crdt_change with the other client's edit: %v (notifications so far: %d)", err, len(notes))
		}
		var m rpcMsg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		notes = append(notes, m)
	}
}
