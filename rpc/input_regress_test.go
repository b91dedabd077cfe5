package rpc

import (
	"io"
	"log/slog"
	"strings"
	"testing"
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
