package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
	"github.com/hearsay-mesh/hearsay/agent"
)

// testServer runs one in-process agent (memory datastore) behind the RPC
// server and returns the endpoint's address and token.
func testServer(t *testing.T) (addr, token string) {
	t.Helper()
	addr, token, _ = testServerDir(t)
	return addr, token
}

// testServerDir is testServer that also returns the agent's data directory.
func testServerDir(t *testing.T) (addr, token, dataDir string) {
	t.Helper()
	srv, token, dataDir := testServerSrv(t)
	return srv.Addr(), token, dataDir
}

// testServerSrv is testServerDir that returns the running *Server itself,
// for tests that close it; it is closed at cleanup too.
func testServerSrv(t *testing.T) (srv *Server, token, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	cfg := agent.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "agent")
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.RPCListen = ""
	cfg.Datastore = agent.DatastoreMemory
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Metrics = prometheus.NewRegistry() // as cmd/hearsay does: libp2p's metrics land there
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	srv, err = Listen("127.0.0.1:0", cfg.DataDir, "test", a, cfg.Log, cfg.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	tok, err := ReadCookie(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return srv, tok, cfg.DataDir
}

// post sends a raw body and returns the status and the body.
func post(t *testing.T, addr, token, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, _ := io.ReadAll(rsp.Body)
	return rsp.StatusCode, string(b)
}

// TestCurl drives the API with curl, a client this project did not write:
// a call, a batch, a notification, and the spec's error codes.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	addr, tok := testServer(t)
	run := func(body string) (string, string) {
		cmd := exec.Command(curl, "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
			"-H", "Authorization: Bearer "+tok, "--data-binary", body, "http://"+addr+"/")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		s := strings.TrimRight(string(out), "\n")
		i := strings.LastIndex(s, "\n")
		return s[:i], s[i+1:]
	}
	cases := []struct {
		name, body, status string
		want               []string
	}{
		{"call", `{"jsonrpc":"2.0","id":1,"method":"crdt_put","params":{"key":"k","value":"v"}}`, "200", []string{`"id":1`, `"key":"k"`}},
		{"read back", `{"jsonrpc":"2.0","id":2,"method":"crdt_get","params":{"key":"k"}}`, "200", []string{`"value":{"type":"register","value":"v"}`}},
		{"batch", `[{"jsonrpc":"2.0","id":3,"method":"crdt_inc","params":{"key":"c","by":2}},{"jsonrpc":"2.0","id":4,"method":"crdt_get","params":{"key":"c"}},{"jsonrpc":"2.0","method":"crdt_inc","params":{"key":"c"}}]`, "200", []string{`"id":3`, `"id":4`}},
		{"notification", `{"jsonrpc":"2.0","method":"crdt_inc","params":{"key":"n"}}`, "204", nil},
		{"parse error", `{"jsonrpc":"2.0","id":5,"method":`, "200", []string{`-32700`}},
		{"empty batch", ` [ ] `, "200", []string{`-32600`, `"id":null`}},
		{"unknown method", `{"jsonrpc":"2.0","id":6,"method":"crdt_frobnicate","params":{}}`, "200", []string{`-32601`}},
		{"bad params type", `{"jsonrpc":"2.0","id":7,"method":"crdt_inc","params":{"key":"c","by":"two"}}`, "200", []string{`-32602`}},
		{"missing field", `{"jsonrpc":"2.0","id":8,"method":"crdt_put","params":{"key":"k"}}`, "200", []string{`-32602`, `value`}},
		{"unknown field", `{"jsonrpc":"2.0","id":9,"method":"crdt_get","params":{"kye":"k"}}`, "200", []string{`-32602`}},
		{"wrong CRDT type", `{"jsonrpc":"2.0","id":10,"method":"crdt_inc","params":{"key":"k"}}`, "200", []string{`1002`}},
	}
	for _, c := range cases {
		body, status := run(c.body)
		if status != c.status {
			t.Errorf("%s: HTTP %s, want %s (body %s)", c.name, status, c.status, body)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: response %s lacks %s", c.name, body, w)
			}
		}
	}
	// The notification and the batch's notification were applied: c = 2+1, n = 1.
	body, _ := run(`{"jsonrpc":"2.0","id":11,"method":"crdt_get","params":{"key":"c"}}`)
	if !strings.Contains(body, `"value":3`) {
		t.Errorf("after the batch, c: %s, want 3", body)
	}
	body, _ = run(`{"jsonrpc":"2.0","id":12,"method":"crdt_get","params":{"key":"n"}}`)
	if !strings.Contains(body, `"value":1`) {
		t.Errorf("after the notification, n: %s, want 1", body)
	}
}

func TestAuthAndOrigin(t *testing.T) {
	addr, tok := testServer(t)
	body := `{"jsonrpc":"2.0","id":1,"method":"agent_info"}`
	if st, _ := post(t, addr, "", body, nil); st != http.StatusUnauthorized {
		t.Errorf("no token: HTTP %d, want 401", st)
	}
	if st, _ := post(t, addr, "wrong", body, nil); st != http.StatusUnauthorized {
		t.Errorf("wrong token: HTTP %d, want 401", st)
	}
	if st, _ := post(t, addr, tok, body, map[string]string{"Origin": "https://evil.example"}); st != http.StatusForbidden {
		t.Errorf("foreign Origin: HTTP %d, want 403", st)
	}
	if st, b := post(t, addr, tok, body, nil); st != http.StatusOK || !strings.Contains(b, `"result"`) {
		t.Errorf("good request: HTTP %d %s", st, b)
	}
}

// TestBadInputChangesNothing tries every method with wrong types, missing
// fields, huge values and the wrong CRDT type: each gets an error, the
// keyspace is unchanged, and the agent keeps answering.
func TestBadInputChangesNothing(t *testing.T) {
	addr, tok := testServer(t)
	call := func(method, params string) map[string]any {
		_, b := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`, nil)
		var m map[string]any
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatalf("%s %s: response %q is not JSON", method, params, b)
		}
		return m
	}
	for _, ok := range []struct{ m, p string }{
		{"crdt_put", `{"key":"reg","value":"v"}`},
		{"crdt_inc", `{"key":"cnt","by":5}`},
		{"crdt_add", `{"key":"set","elements":["a","b"]}`},
		{"text_insert", `{"key":"doc","pos":0,"text":"hello"}`},
	} {
		if m := call(ok.m, ok.p); m["error"] != nil {
			t.Fatalf("%s: %v", ok.m, m["error"])
		}
	}
	state := func() string {
		var parts []string
		for _, k := range []string{"reg", "cnt", "set", "doc"} {
			_, b := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"crdt_get","params":{"key":"`+k+`"}}`, nil)
			parts = append(parts, b)
		}
		_, b := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"crdt_keys","params":{}}`, nil)
		return strings.Join(append(parts, b), "\n")
	}
	before := state()
	huge := strings.Repeat("x", 2<<20)
	bad := []struct{ m, p string }{
		{"crdt_get", `{}`}, {"crdt_get", `{"key":7}`}, {"crdt_get", `[1,2]`},
		{"crdt_put", `{"key":"reg"}`}, {"crdt_put", `{"value":"v"}`}, {"crdt_put", `{"key":"reg","value":42}`},
		{"crdt_put", `{"key":"reg","value":"` + huge + `"}`}, {"crdt_put", `{"key":"` + strings.Repeat("k", 100000) + `","value":"v"}`},
		{"crdt_put", `{"key":"cnt","value":"v"}`}, {"crdt_put", `{"key":"set","value":"v"}`},
		{"crdt_inc", `{"key":"cnt","by":-3}`}, {"crdt_inc", `{"key":"cnt","by":1e400}`}, {"crdt_inc", `{"key":"set"}`}, {"crdt_inc", `{"key":"reg"}`},
		{"crdt_dec", `{"key":"doc"}`}, {"crdt_dec", `{"key":"cnt","by":"x"}`},
		{"crdt_add", `{"key":"set"}`}, {"crdt_add", `{"key":"set","elements":"a"}`}, {"crdt_add", `{"key":"cnt","elements":["a"]}`},
		{"crdt_remove", `{"key":"reg","elements":["a"]}`}, {"crdt_remove", `{"key":"set","elements":[]}`},
		{"crdt_del", `{}`}, {"crdt_del", `{"key":["reg"]}`},
		{"crdt_keys", `{"limit":-1}`}, {"crdt_keys", `{"limit":"many"}`},
		{"text_insert", `{"key":"doc","pos":99,"text":"x"}`}, {"text_insert", `{"key":"doc","pos":-1,"text":"x"}`},
		{"text_insert", `{"key":"doc","text":"x"}`}, {"text_insert", `{"key":"reg","pos":0,"text":"x"}`},
		{"text_insert", `{"key":"doc","pos":0,"text":"` + huge + `"}`},
		{"text_delete", `{"key":"doc","pos":0,"n":100}`}, {"text_delete", `{"key":"doc","pos":0}`}, {"text_delete", `{"key":"cnt","pos":0,"n":1}`},
		{"text_get", `{"key":"cnt"}`}, {"text_get", `{}`},
		{"crdt_changes", `{"after":"x"}`}, {"crdt_changes", `{"after":99999}`},
		{"mesh_join", `{"addr":"not a multiaddr"}`}, {"mesh_join", `{}`}, {"mesh_set_meta", `{"meta":{"name":7}}`},
	}
	for _, c := range bad {
		m := call(c.m, c.p)
		e, ok := m["error"].(map[string]any)
		if !ok {
			t.Errorf("%s %.80s: no error, got %v", c.m, c.p, m)
			continue
		}
		if msg, _ := e["message"].(string); msg == "" {
			t.Errorf("%s %.80s: error without a message: %v", c.m, c.p, e)
		}
	}
	if after := state(); after != before {
		t.Fatalf("bad input changed the keyspace:\nbefore %s\nafter  %s", before, after)
	}
	if st, b := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"agent_info"}`, nil); st != 200 || !bytes.Contains([]byte(b), []byte("result")) {
		t.Fatalf("the agent stopped answering: %d %s", st, b)
	}
	_ = time.Second
}

func TestMetricsAndHealthz(t *testing.T) {
	addr, tok := testServer(t)
	post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"crdt_put","params":{"key":"k","value":"v"}}`, nil)
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		b, _ := io.ReadAll(rsp.Body)
		return rsp.StatusCode, string(b)
	}
	if st, b := get("/healthz", ""); st != 200 || !strings.HasPrefix(b, "ok") {
		t.Fatalf("/healthz: %d %q", st, b)
	}
	if st, _ := get("/metrics", ""); st != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d, want 401", st)
	}
	st, b := get("/metrics", tok)
	if st != 200 {
		t.Fatalf("/metrics: %d", st)
	}
	// libp2p's own metrics too (the host is assembled by hand in
	// agent/transport, so nothing registers them unless it does). No
	// hearsay_protocol_frames_sent_total: a lone agent sends no frames.
	for _, want := range []string{"hearsay_keys 1", "hearsay_broadcast_delivered_total", "hearsay_swim_suspicions_total", "hearsay_syncs_total", "libp2p_eventbus_subscribers_total", "libp2p_swarm_"} {
		if !strings.Contains(b, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestUnixSocket(t *testing.T) {
	_, _, dir := testServerDir(t)
	sock := filepath.Join(dir, SocketFile)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	rsp, err := hc.Post("http://unix/", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"crdt_put","params":{"key":"u","value":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, _ := io.ReadAll(rsp.Body)
	if rsp.StatusCode != 200 || !strings.Contains(string(b), `"key":"u"`) {
		t.Fatalf("over the unix socket: %d %s", rsp.StatusCode, b)
	}
}

// TestWebSocketSubscribe subscribes to changes over WebSocket, then
// reconnects with the last cursor and gets exactly what it missed.
func TestWebSocketSubscribe(t *testing.T) {
	addr, tok := testServer(t)
	type sub struct {
		cl   *jrpc2.Client
		mu   sync.Mutex
		keys []string
		got  chan struct{}
	}
	dial := func(after uint64, fromStart bool) (*sub, uint64) {
		ctx := context.Background()
		c, _, err := websocket.Dial(ctx, "ws://"+addr+WebSocketPath, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
		if err != nil {
			t.Fatal(err)
		}
		s := &sub{got: make(chan struct{}, 100)}
		s.cl = jrpc2.NewClient(wsChannel{c: c, ctx: ctx}, &jrpc2.ClientOptions{OnNotify: func(r *jrpc2.Request) {
			var ch struct{ Key string }
			if r.Method() == NotifyChange && r.UnmarshalParams(&ch) == nil {
				s.mu.Lock()
				s.keys = append(s.keys, ch.Key)
				s.mu.Unlock()
				s.got <- struct{}{}
			}
		}})
		var res SubscribeResult
		if err := s.cl.CallResult(ctx, "crdt_subscribe", SubscribeParams{After: after, FromStart: fromStart}, &res); err != nil {
			t.Fatal(err)
		}
		return s, res.Seq
	}
	wait := func(s *sub, n int) []string {
		for i := 0; i < n; i++ {
			select {
			case <-s.got:
			case <-time.After(5 * time.Second):
				t.Fatalf("only %d of %d notifications arrived", i, n)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		out := append([]string(nil), s.keys...)
		sort.Strings(out) // the client may run notification callbacks concurrently
		return out
	}
	put := func(k string) {
		if st, b := post(t, addr, tok, `{"jsonrpc":"2.0","id":1,"method":"crdt_put","params":{"key":"`+k+`","value":"v"}}`, nil); st != 200 || strings.Contains(b, "error") {
			t.Fatalf("put %s: %d %s", k, st, b)
		}
	}
	s1, _ := dial(0, false)
	put("a")
	put("b")
	if got := wait(s1, 2); strings.Join(got, ",") != "a,b" {
		t.Fatalf("subscriber got %v, want [a b]", got)
	}
	s1.cl.Close()
	// While nobody listens, two more writes; a client that reconnects
	// with its cursor (2) misses nothing and gets nothing twice.
	put("c")
	put("d")
	s2, _ := dial(2, true)
	defer s2.cl.Close()
	if got := wait(s2, 2); strings.Join(got, ",") != "c,d" {
		t.Fatalf("after reconnecting from cursor 2: %v, want [c d]", got)
	}
}
