package rpc

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/handler"
	"github.com/creachadair/jrpc2/jhttp"
	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/prometheus/client_golang/prometheus"
)

// Backend is what the API serves; *agent.Agent provides it.
type Backend interface {
	Info(version string) agent.Info
	Peers(ctx context.Context) (agent.Peers, error)
	JoinPeer(ctx context.Context, addr string) error
	Members(ctx context.Context) ([]agent.Member, error)
	SetMeta(ctx context.Context, meta map[string]string) error
	Keyspace
	StatsSource
	Leave(ctx context.Context) error
	FuseCreate(ctx context.Context, members []string) (string, error)
	FuseSignal(ctx context.Context, group string) error
	FuseEvents(ctx context.Context, after uint64) ([]agent.FuseEvent, uint64, error)
	// Health is nil while the agent serves: its loop answers and its
	// keyspace takes writes (a store that stopped after a failed sync
	// refuses them until the agent restarts).
	Health(ctx context.Context) error
}

// Server is the HTTP JSON-RPC endpoint.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	unix   net.Listener // the unix socket in the data directory
	usrv   *http.Server
	bridge jhttp.Bridge
	token  string
	log    *slog.Logger
	// metrics is the registry our collector is in (nil: our own), so that
	// Close takes it out.
	metrics   *prometheus.Registry
	collector prometheus.Collector

	// ws holds the open WebSocket sessions: http.Server.Shutdown does not
	// track hijacked connections, so Close ends them itself (they went on
	// serving, writes included, after Close).
	wsMu     sync.Mutex
	ws       map[*websocket.Conn]context.CancelFunc
	wsClosed bool
	// wsWriteTimeout bounds each WebSocket write; wsEnded, when set (tests),
	// is called as each session ends.
	wsWriteTimeout time.Duration
	wsEnded        func()
}

// Listen opens the endpoint on addr (loopback only), writes the cookie and
// the address files into dataDir, and returns a server ready to Serve.
func Listen(addr, dataDir, version string, b Backend, log *slog.Logger, metrics *prometheus.Registry) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("rpc: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("rpc: listen address %q is not loopback; the API is local only", addr)
	}
	// Bind first: a second start on the same data directory that fails on
	// the taken port must not replace the running agent's token.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	// Then the metrics registry, also before the cookie is written.
	mh, coll, err := metricsHandler(b, metrics)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{ln: ln, log: log, metrics: metrics, collector: coll, wsWriteTimeout: wsWriteTimeout}
	tok, err := WriteCookie(dataDir)
	if err != nil {
		s.unregister()
		ln.Close()
		return nil, fmt.Errorf("rpc: cookie: %w", err)
	}
	s.token = tok
	if err := writePrivate(filepath.Join(dataDir, AddrFile), ln.Addr().String()); err != nil {
		s.unregister()
		ln.Close()
		return nil, err
	}
	s.bridge = jhttp.NewBridge(methods(b, version), &jhttp.BridgeOptions{
		Server: &jrpc2.ServerOptions{Concurrency: 4},
	})
	mux := http.NewServeMux()
	mux.Handle("/", s.guard(s.bridge))
	mux.Handle("/metrics", s.auth(mh))
	mux.Handle(WebSocketPath, s.auth(s.wsHandler(b, version)))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := b.Health(ctx); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	// The unix socket is guarded by its mode (0600, in a 0700 directory)
	// rather than by the token.
	sock := filepath.Join(dataDir, SocketFile)
	os.Remove(sock)
	uln, err := net.Listen("unix", sock)
	if err != nil {
		s.unregister()
		ln.Close()
		return nil, fmt.Errorf("rpc: unix socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		s.unregister()
		uln.Close()
		ln.Close()
		return nil, err
	}
	umux := http.NewServeMux()
	umux.Handle("/", s.parse(s.bridge))
	s.unix, s.usrv = uln, &http.Server{Handler: umux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	return s, nil
}

// Addr is the endpoint's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Close.
func (s *Server) Serve() error {
	go s.usrv.Serve(s.unix)
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.usrv.Shutdown(ctx)
	s.wsMu.Lock()
	s.wsClosed = true
	for c, cancel := range s.ws {
		cancel()
		c.CloseNow() // no close handshake: an unresponsive client took 5 s each
	}
	s.wsMu.Unlock()
	s.bridge.Close()
	s.unregister()
	return err
}

// unregister takes our collector out of the caller's registry.
func (s *Server) unregister() {
	if s.metrics != nil && s.collector != nil {
		s.metrics.Unregister(s.collector)
	}
}

// maxBody bounds a request body.
const maxBody = 4 << 20

// auth refuses requests with a foreign Origin or without the token.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !sameLoopbackOrigin(o, r.Host) {
			http.Error(w, "foreign Origin refused", http.StatusForbidden)
			return
		}
		got := r.Header.Get("Authorization")
		if got == "" && r.URL.Query().Has("token") {
			// Browsers cannot set headers on a WebSocket handshake.
			got = "Bearer " + r.URL.Query().Get("token")
		}
		want := "Bearer " + s.token
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hearsay"`)
			http.Error(w, "missing or wrong token: read it from rpc.cookie in the agent's data directory", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) guard(next http.Handler) http.Handler { return s.auth(s.parse(next)) }

// parse bounds the body and answers JSON that does not parse with -32700.
func (s *Server) parse(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, fmt.Sprintf("request body: %v (limit %d bytes)", err, maxBody), http.StatusRequestEntityTooLarge)
			return
		}
		if !json.Valid(body) {
			// jhttp answers unparseable JSON with HTTP 500 and plain
			// text; the spec wants a response object with -32700.
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: the request is not valid JSON"}}`+"\n")
			return
		}
		if isEmptyBatch(body) {
			// jhttp answers [] with HTTP 204 and nothing; the spec wants a
			// single response object with -32600.
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: empty batch"}}`+"\n")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t0 := time.Now()
		next.ServeHTTP(w, r)
		if d := time.Since(t0); d > slowRequest {
			s.log.Warn("slow RPC request", "method", methodOf(body), "took", d, "client_gone", r.Context().Err() != nil)
		}
	})
}

// isEmptyBatch reports whether body, already checked to be valid JSON, is
// an empty array (without parsing a large batch a second time).
func isEmptyBatch(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) >= 2 && b[0] == '[' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// slowRequest is how long a request may take before it is logged.
const slowRequest = time.Second

// methodOf names the method of a request body for a log line ("batch"
// for a batch).
func methodOf(body []byte) string {
	var one struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(body, &one) == nil {
		return one.Method
	}
	return "batch"
}

func sameLoopbackOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return u.Host == host
}

func methods(b Backend, version string) handler.Map {
	m := handler.Map{
		"agent_info": handler.New(func(ctx context.Context) (agent.Info, error) {
			return b.Info(version), nil
		}),
		"mesh_peers": handler.New(func(ctx context.Context) (agent.Peers, error) {
			return b.Peers(ctx)
		}),
		"mesh_members": handler.New(func(ctx context.Context) ([]agent.Member, error) {
			return b.Members(ctx)
		}),
		"mesh_set_meta": handler.New(func(ctx context.Context, p MetaParams) (bool, error) {
			if p.Meta == nil {
				return false, jrpc2.Errorf(jrpc2.InvalidParams, "meta: required, an object of string values")
			}
			if err := b.SetMeta(ctx, p.Meta); err != nil {
				return false, jrpc2.Errorf(jrpc2.InvalidParams, "meta: %v", err)
			}
			return true, nil
		}),
		"mesh_stats": handler.New(func(ctx context.Context) (agent.Stats, error) {
			return b.Stats(ctx)
		}),
		"mesh_leave": handler.New(func(ctx context.Context) (bool, error) {
			return true, b.Leave(ctx)
		}),
		"fuse_create": strict(func(ctx context.Context, p FuseCreateParams) (FuseGroup, error) {
			if len(p.Members) == 0 {
				return FuseGroup{}, missing("members", "a non-empty array of peer IDs")
			}
			g, err := b.FuseCreate(ctx, p.Members)
			if err != nil {
				return FuseGroup{}, jrpc2.Errorf(jrpc2.InvalidParams, "members: %v", err)
			}
			return FuseGroup{Group: g}, nil
		}),
		"fuse_signal": strict(func(ctx context.Context, p FuseGroup) (bool, error) {
			if p.Group == "" {
				return false, missing("group", "a group ID from fuse_create")
			}
			if err := b.FuseSignal(ctx, p.Group); err != nil {
				return false, jrpc2.Errorf(jrpc2.InvalidParams, "group: %v", err)
			}
			return true, nil
		}),
		"fuse_events": strict(func(ctx context.Context, p ChangesParams) (FuseEventsResult, error) {
			evs, seq, err := b.FuseEvents(ctx, p.After)
			if evs == nil {
				evs = []agent.FuseEvent{}
			}
			return FuseEventsResult{Events: evs, Seq: seq}, err
		}),
		"mesh_join": handler.New(func(ctx context.Context, p JoinParams) (bool, error) {
			if p.Addr == "" {
				return false, jrpc2.Errorf(jrpc2.InvalidParams, "addr: required, a multiaddr ending in /p2p/<peer ID>")
			}
			if err := b.JoinPeer(ctx, p.Addr); err != nil {
				return false, jrpc2.Errorf(jrpc2.InvalidParams, "addr: %v", err)
			}
			return true, nil
		}),
	}
	crdtMethods(b, m)
	return m
}

// FuseCreateParams are fuse_create's parameters: the other members' peer IDs.
type FuseCreateParams struct {
	Members []string `json:"members"`
}

// FuseGroup names a FUSE group.
type FuseGroup struct {
	Group string `json:"group"`
}

// FuseEventsResult is fuse_events's result; Seq is the cursor to pass next.
type FuseEventsResult struct {
	Events []agent.FuseEvent `json:"events"`
	Seq    uint64            `json:"seq"`
}

// MetaParams are mesh_set_meta's parameters.
type MetaParams struct {
	Meta map[string]string `json:"meta"`
}

// JoinParams are mesh_join's parameters.
type JoinParams struct {
	Addr string `json:"addr"`
}
