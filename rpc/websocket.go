package rpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
	"github.com/hearsay-mesh/hearsay/agent/store"
)

// WebSocketPath is where the WebSocket endpoint is served. Every method
// works there too; crdt_subscribe and fuse_subscribe only work there,
// because they push notifications back over the connection.
const WebSocketPath = "/ws"

// Notification methods the server pushes to WebSocket subscribers.
const (
	NotifyChange = "crdt_change" // params: a store.Change
	NotifyFuse   = "fuse_event"  // params: an agent.FuseEvent
)

// Watcher lets a subscription wait for the change feed to move.
type Watcher interface {
	Watch(ctx context.Context) (<-chan struct{}, func(), error)
}

// wsChannel carries JSON-RPC messages over one WebSocket connection, one
// message per text frame (jrpc2's channel.Channel). A write that has not
// completed within timeout (0: no limit) fails and closes the connection.
type wsChannel struct {
	c       *websocket.Conn
	ctx     context.Context
	timeout time.Duration
}

func (w wsChannel) Send(msg []byte) error {
	ctx := w.ctx
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	return w.c.Write(ctx, websocket.MessageText, msg)
}

// wsWriteTimeout is how long the server waits for a WebSocket client to
// take one message. A client that stopped reading used to hold its session,
// and a subscription's buffered notifications, until the agent stopped;
// now the session ends and the client must reconnect and resubscribe from
// its last cursor.
const wsWriteTimeout = 10 * time.Second

func (w wsChannel) Recv() ([]byte, error) {
	_, b, err := w.c.Read(w.ctx)
	return b, err
}
func (w wsChannel) Close() error { return w.c.Close(websocket.StatusNormalClosure, "") }

// SubscribeParams are crdt_subscribe's and fuse_subscribe's parameters:
// push everything after cursor After (0: only what happens from now on,
// unless FromStart).
type SubscribeParams struct {
	After     uint64 `json:"after,omitempty"`
	FromStart bool   `json:"from_start,omitempty"`
}

// SubscribeResult is the cursor the subscription starts after.
type SubscribeResult struct {
	Seq uint64 `json:"seq"`
}

// trackWS records an open session for Close; false once the server closed.
func (s *Server) trackWS(c *websocket.Conn, cancel context.CancelFunc) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if s.wsClosed {
		return false
	}
	if s.ws == nil {
		s.ws = map[*websocket.Conn]context.CancelFunc{}
	}
	s.ws[c] = cancel
	return true
}

func (s *Server) untrackWS(c *websocket.Conn) {
	s.wsMu.Lock()
	delete(s.ws, c)
	ended := s.wsEnded
	s.wsMu.Unlock()
	if ended != nil {
		ended()
	}
}

// wsHandler upgrades to WebSocket and serves a JSON-RPC server per
// connection, with the methods of methods(b) plus the subscriptions.
func (s *Server) wsHandler(b Backend, version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil) // same-origin only
		if err != nil {
			return
		}
		c.SetReadLimit(maxBody)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		if !s.trackWS(c, cancel) {
			c.Close(websocket.StatusGoingAway, "agent shutting down")
			return
		}
		defer s.untrackWS(c)
		m := methods(b, version)
		subs := &subscriptions{ctx: ctx}
		m["crdt_subscribe"] = strict(subs.crdt(b))
		m["fuse_subscribe"] = strict(subs.fuse(b))
		srv := jrpc2.NewServer(m, &jrpc2.ServerOptions{AllowPush: true, Concurrency: 4})
		srv.Start(wsChannel{c: c, ctx: ctx, timeout: s.wsWriteTimeout})
		srv.Wait()
		cancel()
		subs.wg.Wait()
	})
}

// subscriptions are the push loops of one connection.
type subscriptions struct {
	ctx context.Context
	wg  sync.WaitGroup
}

func (s *subscriptions) crdt(b Backend) func(ctx context.Context, p SubscribeParams) (SubscribeResult, error) {
	return func(ctx context.Context, p SubscribeParams) (SubscribeResult, error) {
		srv := jrpc2.ServerFromContext(ctx)
		w, ok := b.(Watcher)
		if !ok {
			return SubscribeResult{}, errors.New("subscriptions are not supported by this backend")
		}
		wake, stop, err := w.Watch(s.ctx)
		if err != nil {
			return SubscribeResult{}, err
		}
		_, seq, err := b.Changes(ctx, 0, 1)
		if err != nil && !errors.Is(err, store.ErrCursorTooOld) {
			stop()
			return SubscribeResult{}, storeError(err)
		}
		cursor := seq
		if p.After > 0 || p.FromStart {
			cursor = p.After
		}
		if cursor > seq {
			// Ahead of the feed (the agent's data was lost, or the client
			// read another agent): the subscription would find the cursor
			// ahead on its first read and end without a word.
			stop()
			return SubscribeResult{}, &jrpc2.Error{Code: CodeCursorGone, Message: fmt.Sprintf("cursor %d is beyond the last change, %d: re-read the keys", cursor, seq)}
		}
		start := cursor
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer stop()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				for {
					cs, _, err := b.Changes(s.ctx, cursor, 1000)
					if err != nil {
						if errors.Is(err, store.ErrCursorTooOld) {
							srv.Notify(s.ctx, NotifyChange, map[string]any{"error": "cursor too old: re-read the keys", "after": cursor})
						}
						return
					}
					for _, c := range cs {
						if srv.Notify(s.ctx, NotifyChange, c) != nil {
							return
						}
						cursor = c.Seq
					}
					if len(cs) < 1000 {
						break
					}
				}
				select {
				case <-s.ctx.Done():
					return
				case <-wake:
				case <-tick.C: // a missed wake-up costs at most a second
				}
			}
		}()
		return SubscribeResult{Seq: start}, nil
	}
}

func (s *subscriptions) fuse(b Backend) func(ctx context.Context, p SubscribeParams) (SubscribeResult, error) {
	return func(ctx context.Context, p SubscribeParams) (SubscribeResult, error) {
		srv := jrpc2.ServerFromContext(ctx)
		_, seq, err := b.FuseEvents(ctx, 0)
		if err != nil {
			return SubscribeResult{}, err
		}
		cursor := seq
		if p.After > 0 || p.FromStart {
			cursor = p.After
		}
		if cursor > seq {
			return SubscribeResult{}, &jrpc2.Error{Code: CodeCursorGone, Message: fmt.Sprintf("cursor %d is beyond the last FUSE event, %d", cursor, seq)}
		}
		start := cursor
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				evs, _, err := b.FuseEvents(s.ctx, cursor)
				if err != nil {
					return
				}
				if len(evs) > 0 && evs[0].Seq > cursor+1 {
					// The agent keeps the last events only: say what was
					// missed rather than skip it silently.
					if srv.Notify(s.ctx, NotifyFuse, map[string]any{"error": "events trimmed from the agent's log before they were sent", "after": cursor, "next": evs[0].Seq}) != nil {
						return
					}
				}
				for _, e := range evs {
					if srv.Notify(s.ctx, NotifyFuse, e) != nil {
						return
					}
					cursor = e.Seq
				}
				select {
				case <-s.ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
		return SubscribeResult{Seq: start}, nil
	}
}
