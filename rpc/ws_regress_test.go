package rpc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"

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

// endlessFeed is a backend whose change feed never ends: every read
// returns a full page of 16 KiB changes.
type endlessFeed struct{ Backend }

func (endlessFeed) Changes(_ context.Context, after uint64, limit int) ([]store.Change, uint64, error) {
	v := store.Value{Type: store.TypeRegister, Str: strings.Repeat("x", 16<<10)}
	cs := make([]store.Change, limit)
	for i := range cs {
		cs[i] = store.Change{Seq: after + uint64(i) + 1, Key: "k", Type: store.TypeRegister, Op: store.OpPut, Value: &v}
	}
	return cs, after + uint64(limit), nil
}

func (endlessFeed) Watch(ctx context.Context) (<-chan struct{}, func(), error) {
	return make(chan struct{}), func() {}, nil
}

// A WebSocket client that stops reading loses its session once a write
// has waited wsWriteTimeout: it held the session, and the subscription's
// pushes, until the agent stopped.
func TestStalledWebSocketReaderIsDropped(t *testing.T) {
	srv, dir := listenBackend(t, endlessFeed{})
	srv.wsWriteTimeout = 200 * time.Millisecond
	ended := make(chan struct{}, 1)
	srv.wsEnded = func() { ended <- struct{}{} }
	go srv.Serve()
	defer srv.Close()
	tok, err := ReadCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws://"+srv.Addr()+WebSocketPath, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// Subscribe, then never read: the pushes fill the socket buffers.
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"crdt_subscribe","params":{"from_start":true}}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the session of a client that stopped reading was not ended")
	}
}
