package rpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/prometheus/client_golang/prometheus"
)

func wsTestAgent(t *testing.T) (*Server, string) {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "agent")
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.RPCListen = ""
	cfg.Datastore = agent.DatastoreMemory
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Metrics = prometheus.NewRegistry()
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	srv, err := Listen("127.0.0.1:0", cfg.DataDir, "test", a, cfg.Log, cfg.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	tok, _ := ReadCookie(cfg.DataDir)
	return srv, tok
}

func wsTestDial(t *testing.T, addr, tok string, notes chan<- string) *jrpc2.Client {
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+WebSocketPath, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	return jrpc2.NewClient(wsChannel{c: c, ctx: ctx}, &jrpc2.ClientOptions{OnNotify: func(r *jrpc2.Request) {
		if notes != nil {
			notes <- r.Method() + " " + r.ParamString()
		}
	}})
}

// A subscription whose cursor is ahead of the feed (a client's cursor from
// before the agent lost its data) is refused with 1004: it was accepted
// and then ended on its first read, without a word.
func TestSubscribeAheadOfTheFeedIsRefused(t *testing.T) {
	srv, tok := wsTestAgent(t)
	cl := wsTestDial(t, srv.Addr(), tok, nil)
	defer cl.Close()
	var res SubscribeResult
	err := cl.CallResult(context.Background(), "crdt_subscribe", SubscribeParams{After: 3}, &res)
	var je *jrpc2.Error
	if !errors.As(err, &je) || je.Code != CodeCursorGone {
		t.Fatalf("crdt_subscribe{after: 3} on an empty feed: %+v %v, want error %d", res, err, CodeCursorGone)
	}
}

// Server.Close ends the WebSocket sessions: http.Server.Shutdown does not
// track hijacked connections, and clients went on calling methods, writes
// included, after Close.
func TestCloseEndsWebSocketSessions(t *testing.T) {
	srv, tok := wsTestAgent(t)
	cl := wsTestDial(t, srv.Addr(), tok, nil)
	defer cl.Close()
	if _, err := cl.Call(context.Background(), "agent_info", nil); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := cl.Call(ctx, "crdt_put", PutParams{Key: "after-close", Value: new(string)}); err == nil {
		t.Fatal("a write over WebSocket succeeded after Server.Close")
	}
}

// fuse_subscribe with a cursor ahead of the agent's FUSE events is refused
// too (it waited silently).
func TestFuseSubscribeAheadIsRefused(t *testing.T) {
	srv, tok := wsTestAgent(t)
	cl := wsTestDial(t, srv.Addr(), tok, nil)
	defer cl.Close()
	var res SubscribeResult
	err := cl.CallResult(context.Background(), "fuse_subscribe", SubscribeParams{After: 7}, &res)
	var je *jrpc2.Error
	if !errors.As(err, &je) || je.Code != CodeCursorGone {
		t.Fatalf("fuse_subscribe{after: 7} with no events: %+v %v, want error %d", res, err, CodeCursorGone)
	}
}
