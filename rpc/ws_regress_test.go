package rpc

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
)

// wsTestAgent is testServerSrv without the data directory.
func wsTestAgent(t *testing.T) (*Server, string) {
	t.Helper()
	srv, tok, _ := testServerSrv(t)
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
