package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/creachadair/jrpc2"
	"github.com/hearsay-mesh/hearsay/agent/store"
)

// An increment that would carry a counter past the int64 range is refused
// (it wrapped: two increments by MaxInt64 read -2, persisted and
// replicated).
func TestIncPastInt64IsRefused(t *testing.T) {
	addr, tok := testServer(t)
	inc := `{"jsonrpc":"2.0","id":1,"method":"crdt_inc","params":{"key":"c","by":9223372036854775807}}`
	post(t, addr, tok, inc, nil)
	_, b := post(t, addr, tok, inc, nil)
	if !strings.Contains(b, `"error"`) {
		_, got := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"crdt_get","params":{"key":"c"}}`, nil)
		t.Fatalf("second inc by MaxInt64 accepted: %s\nnow: %s", b, got)
	}
}

// A Listen that fails (port taken) leaves rpc.cookie alone: it wrote the
// cookie first, so the agent holding the port no longer matched it.
func TestFailedListenKeepsTheCookie(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s1, err := Listen("127.0.0.1:0", dir, "v", nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	tok1, _ := ReadCookie(dir)
	if _, err := Listen(s1.Addr(), dir, "v", nil, log, nil); err == nil {
		t.Fatal("second Listen on a taken port succeeded")
	}
	if tok2, _ := ReadCookie(dir); tok2 != tok1 {
		t.Fatalf("failed Listen replaced the running server's cookie")
	}
}

// A metrics registry shared by two servers: the second Listen is refused
// while the first is open (it panicked in MustRegister), leaves the cookie
// alone, and succeeds once the first is closed (an agent restarted in the
// process).
func TestMetricsRegistryReusedAfterClose(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	s1, err := Listen("127.0.0.1:0", dir, "v", nil, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	tok1, _ := ReadCookie(dir)
	if _, err := Listen("127.0.0.1:0", dir, "v", nil, log, reg); err == nil {
		t.Fatal("a second server on a registry still in use was accepted")
	}
	if tok2, _ := ReadCookie(dir); tok2 != tok1 {
		t.Fatal("the refused Listen replaced the running server's cookie")
	}
	s1.Close()
	s2, err := Listen("127.0.0.1:0", dir, "v", nil, log, reg)
	if err != nil {
		t.Fatalf("Listen after Close on the same registry: %v", err)
	}
	s2.Close()
}

// listenBackend opens a server for backend b (not serving yet) in a new
// data directory, and returns it with the directory.
func listenBackend(t *testing.T, b Backend) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := Listen("127.0.0.1:0", dir, "v", b, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, dir
}

// trimmedFeed is a backend whose change feed starts at 4001 and ends at
// 104000 (a busy agent's, past FeedLen).
type trimmedFeed struct{ Backend }

func (trimmedFeed) Changes(_ context.Context, after uint64, _ int) ([]store.Change, uint64, error) {
	if after+1 < 4001 {
		return nil, 104000, fmt.Errorf("%w: cursor %d, feed starts at 4001", store.ErrCursorTooOld, after)
	}
	return nil, 104000, nil
}

// A cursor older than the feed gets 1004 with the newest change's number in
// the error's data, so a client can start from now: `hearsay watch` without
// --after asked for changes after 0, used the empty result's 0 and failed
// again on every agent with more than FeedLen changes.
func TestChangesCursorGoneCarriesTheNewestSeq(t *testing.T) {
	srv, dir := listenBackend(t, trimmedFeed{})
	go srv.Serve()
	defer srv.Close()
	cl, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, err = cl.Changes(context.Background(), 0, 1)
	var je *jrpc2.Error
	if !errors.As(err, &je) || je.Code != CodeCursorGone {
		t.Fatalf("crdt_changes after 0: %v, want error %d", err, CodeCursorGone)
	}
	var res ChangesResult
	if err := json.Unmarshal(je.Data, &res); err != nil || res.Seq != 104000 {
		t.Fatalf("error data %s: %+v %v, want seq 104000", je.Data, res, err)
	}
}

// crdt_changes' seq is the cursor to pass next: the last change returned
// (it was the newest change's number, so a client paging with limit, as the
// docs told it to, skipped what lay between).
func TestChangesSeqIsTheNextCursor(t *testing.T) {
	_, _, dir := testServerDir(t)
	cl, err := Dial(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		v := "v"
		if err := cl.Call(ctx, "crdt_put", PutParams{Key: k, Value: &v}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	after := uint64(0)
	for range 10 {
		res, err := cl.Changes(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Changes {
			seen = append(seen, c.Key)
		}
		if len(res.Changes) == 0 {
			if res.Seq != after {
				t.Fatalf("an empty page's seq %d, want the cursor %d", res.Seq, after)
			}
			break
		}
		after = res.Seq
	}
	if strings.Join(seen, "") != "abcde" {
		t.Fatalf("paging by 2 with seq as the cursor saw %v, want a..e", seen)
	}
}
