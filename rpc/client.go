package rpc

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/jhttp"
	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/hearsay-mesh/hearsay/agent/store"
)

// Client is a typed client for a local agent.
type Client struct {
	c *jrpc2.Client
}

type authTransport struct {
	token string
	base  http.RoundTripper
}

func (t authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// Dial connects to the agent whose data directory is dir: it reads the
// endpoint's address and token from the files the agent wrote there.
func Dial(dir string) (*Client, error) {
	tok, err := ReadCookie(dir)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, AddrFile))
	if err != nil {
		return nil, fmt.Errorf("rpc: no agent running with --data-dir %s: %w", dir, err)
	}
	return DialAddr(strings.TrimSpace(string(b)), tok), nil
}

// DialAddr connects to host:port with the given token.
func DialAddr(addr, token string) *Client {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: authTransport{token: token, base: http.DefaultTransport}}
	ch := jhttp.NewChannel("http://"+addr+"/", &jhttp.ChannelOptions{Client: hc})
	return &Client{c: jrpc2.NewClient(ch, nil)}
}

// Close releases the client.
func (c *Client) Close() error { return c.c.Close() }

// Info calls agent_info.
func (c *Client) Info(ctx context.Context) (agent.Info, error) {
	var out agent.Info
	err := c.c.CallResult(ctx, "agent_info", nil, &out)
	return out, err
}

// Peers calls mesh_peers.
func (c *Client) Peers(ctx context.Context) (agent.Peers, error) {
	var out agent.Peers
	err := c.c.CallResult(ctx, "mesh_peers", nil, &out)
	return out, err
}

// Join calls mesh_join.
func (c *Client) Join(ctx context.Context, addr string) error {
	return c.Call(ctx, "mesh_join", JoinParams{Addr: addr}, nil)
}

// Members calls mesh_members.
func (c *Client) Members(ctx context.Context) ([]agent.Member, error) {
	var out []agent.Member
	err := c.c.CallResult(ctx, "mesh_members", nil, &out)
	return out, err
}

// SetMeta calls mesh_set_meta.
func (c *Client) SetMeta(ctx context.Context, meta map[string]string) error {
	return c.Call(ctx, "mesh_set_meta", MetaParams{Meta: meta}, nil)
}

// Call invokes any method with params and decodes the result into out
// (nil discards it).
func (c *Client) Call(ctx context.Context, method string, params, out any) error {
	rsp, err := c.c.Call(ctx, method, params)
	if err != nil || out == nil {
		return err
	}
	return rsp.UnmarshalResult(out)
}

// Get calls crdt_get.
func (c *Client) Get(ctx context.Context, key string) (store.Value, error) {
	var out GetResult
	err := c.c.CallResult(ctx, "crdt_get", KeyParams{Key: key}, &out)
	return out.Value, err
}

// Changes calls crdt_changes.
func (c *Client) Changes(ctx context.Context, after uint64, limit int) (ChangesResult, error) {
	var out ChangesResult
	err := c.c.CallResult(ctx, "crdt_changes", ChangesParams{After: after, Limit: limit}, &out)
	return out, err
}
