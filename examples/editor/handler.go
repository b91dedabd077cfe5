package main

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/coder/websocket"
	"github.com/hearsay-mesh/hearsay/rpc"
)

//go:embed static
var static embed.FS

// Config is what the editor needs to know.
type Config struct {
	// DataDir is the local agent's data directory: the editor reads the
	// agent's RPC address (rpc.addr) and token (rpc.cookie) there, on
	// every connection, so it follows an agent that restarted.
	DataDir string
	// Key is the text key the page edits unless its URL names another.
	Key string
}

// maxMessage bounds one relayed WebSocket message in bytes (the agent
// bounds a request body at 4 MiB; a text value is at most that).
const maxMessage = 8 << 20

// newHandler serves the page at /, its settings at /config.json, and the
// relay to the agent's JSON-RPC WebSocket at /ws.
func newHandler(cfg Config, log *slog.Logger) (http.Handler, error) {
	if cfg.DataDir == "" || cfg.Key == "" {
		return nil, fmt.Errorf("editor: a data directory and a key are needed")
	}
	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.FS(page)))
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"key": cfg.Key})
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { relay(w, r, cfg.DataDir, log) })
	return mux, nil
}

// agentEndpoint reads the agent's WebSocket URL and token from dir.
func agentEndpoint(dir string) (url, token string, err error) {
	token, err = rpc.ReadCookie(dir)
	if err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, rpc.AddrFile))
	if err != nil {
		return "", "", fmt.Errorf("editor: no agent running with --data-dir %s: %w", dir, err)
	}
	return "ws://" + strings.TrimSpace(string(b)) + rpc.WebSocketPath, token, nil
}

// relay accepts the page's WebSocket (same origin only), opens one to the
// agent with the token, and copies messages both ways until either side
// closes; then it closes the other.
func relay(w http.ResponseWriter, r *http.Request, dataDir string, log *slog.Logger) {
	page, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the request
	}
	defer page.CloseNow()
	page.SetReadLimit(maxMessage)
	url, token, err := agentEndpoint(dataDir)
	if err != nil {
		log.Warn("cannot reach the agent", "err", err)
		page.Close(websocket.StatusTryAgainLater, "no agent: "+truncate(err.Error(), 100))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	up, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		log.Warn("cannot reach the agent", "url", url, "err", err)
		page.Close(websocket.StatusTryAgainLater, "agent unreachable: "+truncate(err.Error(), 100))
		return
	}
	defer up.CloseNow()
	up.SetReadLimit(maxMessage)
	done := make(chan error, 2)
	go func() { done <- pumpRequests(ctx, page, up) }()
	go func() { done <- pump(ctx, up, page) }()
	err = <-done
	cancel()
	<-done
	if s := websocket.CloseStatus(err); s != websocket.StatusNormalClosure && s != websocket.StatusGoingAway && s != -1 {
		log.Info("editor connection ended", "status", s)
	}
	page.Close(websocket.StatusNormalClosure, "")
	up.Close(websocket.StatusNormalClosure, "")
}

// pageMethods are the only methods the relay passes to the agent: the
// relay holds the agent's token, so without this list anyone who can reach
// the editor's address could call every method (mesh_leave, crdt_del...).
var pageMethods = map[string]bool{"text_get": true, "text_insert": true, "text_delete": true, "crdt_subscribe": true}

// pumpRequests copies the page's JSON-RPC requests to the agent, and
// answers any other message itself with an error: a method not in
// pageMethods, a batch, or bytes that are not a JSON-RPC request.
func pumpRequests(ctx context.Context, page, agent *websocket.Conn) error {
	for {
		typ, b, err := page.Read(ctx)
		if err != nil {
			return err
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if typ != websocket.MessageText || json.Unmarshal(b, &req) != nil || !pageMethods[req.Method] {
			id := req.ID
			if len(id) == 0 {
				id = json.RawMessage("null")
			}
			refusal, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id,
				"error": map[string]any{"code": -32601, "message": fmt.Sprintf("the editor relays only text_get, text_insert, text_delete and crdt_subscribe, not %q", req.Method)}})
			if err := page.Write(ctx, websocket.MessageText, refusal); err != nil {
				return err
			}
			continue
		}
		if err := agent.Write(ctx, typ, b); err != nil {
			return err
		}
	}
}

// pump copies messages from one connection to the other.
func pump(ctx context.Context, from, to *websocket.Conn) error {
	for {
		typ, b, err := from.Read(ctx)
		if err != nil {
			return err
		}
		if err := to.Write(ctx, typ, b); err != nil {
			return err
		}
	}
}

// truncate keeps a close reason within the WebSocket limit (123 bytes).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
