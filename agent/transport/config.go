package transport

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	ma "github.com/multiformats/go-multiaddr"
	mafmt "github.com/multiformats/go-multiaddr-fmt"
	"github.com/prometheus/client_golang/prometheus"
)

// HostConfig configures the libp2p host built by NewHost.
type HostConfig struct {
	// DataDir is the directory that holds the node identity (identity.key).
	// It is created (mode 0700) if missing. Required.
	DataDir string
	// EphemeralIdentity: a fresh identity every start, none read from or
	// written to DataDir. For a node whose state does not survive a restart
	// (the memory datastore): coming back under its old ID, it would issue
	// its dots again from 1, and its peers, who hold those dots already,
	// would never ask for the new writes.
	EphemeralIdentity bool

	// ListenAddrs are the multiaddrs to listen on, e.g. "/ip4/0.0.0.0/tcp/4001".
	// At least one is required. The host has one transport, TCP (with Noise
	// and yamux): QUIC, WebRTC and WebTransport are left out of the build to
	// keep an idle agent under 40 MB of RSS (docs/transport.md), so a
	// /udp/.../quic-v1 address is refused.
	ListenAddrs []string

	// ConnLowWater and ConnHighWater are connection counts for the connection
	// manager: when more than ConnHighWater connections are open it trims the
	// least useful ones down to ConnLowWater. Streams opened by the Transport
	// protect nothing by themselves, so keep these far above the overlay's
	// active view (HyParView keeps about log(n)+1 links).
	ConnLowWater  int
	ConnHighWater int

	// ConnGracePeriod is how long a new connection is exempt from trimming.
	ConnGracePeriod time.Duration

	// MaxConns is the resource manager's system-wide connection limit
	// (inbound plus outbound) for this host. Must be >= ConnHighWater.
	MaxConns int

	// DialTimeout bounds one dial of a peer by the host (libp2p swarm).
	DialTimeout time.Duration

	// MuxKeepAlive is how long a connection may receive nothing before
	// yamux pings the peer to check it is still there (a failed ping closes
	// the connection); 0 turns yamux keep-alives off. yamux's own default
	// is 30 s, and it also pings every connection every 30 s to measure
	// its round-trip time: with SWIM touching every member, an idle agent
	// at N=50 held 51 connections and sent more yamux pings than protocol
	// messages, each a wake-up of the process (docs/swim-bench.md). SWIM
	// and HyParView detect a dead peer themselves, so the default is 2 min.
	MuxKeepAlive time.Duration

	// MuxRTTInterval is how often yamux re-measures a connection's round
	// trip (one ping; used to size stream windows). It measures once when
	// the connection opens either way. Default 10 min (yamux: 30 s).
	MuxRTTInterval time.Duration

	// Bandwidth, when non-nil, is told the bytes of every stream, per
	// protocol and peer (benchmarks count bytes per protocol with it).
	Bandwidth metrics.Reporter

	// Metrics, when non-nil, receives libp2p's Prometheus metrics. Nil
	// disables libp2p metrics (several hosts in one test process then do not
	// collide on a shared registry).
	Metrics prometheus.Registerer
}

// DefaultHostConfig returns the production defaults: TCP on port 4001 on
// all IPv4 interfaces, generous connection limits.
func DefaultHostConfig(dataDir string) HostConfig {
	return HostConfig{
		DataDir:         dataDir,
		ListenAddrs:     []string{"/ip4/0.0.0.0/tcp/4001"},
		ConnLowWater:    400,
		ConnHighWater:   800,
		ConnGracePeriod: time.Minute,
		MaxConns:        1024,
		DialTimeout:     10 * time.Second,
		MuxKeepAlive:    2 * time.Minute,
		MuxRTTInterval:  10 * time.Minute,
	}
}

// TestHostConfig returns a config for tests: TCP on an ephemeral port on
// 127.0.0.1 only.
func TestHostConfig(dataDir string) HostConfig {
	c := DefaultHostConfig(dataDir)
	c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0"}
	c.DialTimeout = 5 * time.Second
	return c
}

// Validate reports the first invalid field, naming it and its allowed range.
func (c HostConfig) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("transport: HostConfig.DataDir must be set")
	case len(c.ListenAddrs) == 0:
		return errors.New("transport: HostConfig.ListenAddrs must hold at least one multiaddr")
	case c.ConnLowWater < 1:
		return fmt.Errorf("transport: HostConfig.ConnLowWater = %d, want >= 1", c.ConnLowWater)
	case c.ConnHighWater < c.ConnLowWater:
		return fmt.Errorf("transport: HostConfig.ConnHighWater = %d, want >= ConnLowWater (%d)", c.ConnHighWater, c.ConnLowWater)
	case c.ConnGracePeriod < 0:
		return fmt.Errorf("transport: HostConfig.ConnGracePeriod = %v, want >= 0", c.ConnGracePeriod)
	case c.MaxConns < c.ConnHighWater:
		return fmt.Errorf("transport: HostConfig.MaxConns = %d, want >= ConnHighWater (%d)", c.MaxConns, c.ConnHighWater)
	case c.DialTimeout <= 0:
		return fmt.Errorf("transport: HostConfig.DialTimeout = %v, want > 0", c.DialTimeout)
	case c.MuxKeepAlive < 0:
		return fmt.Errorf("transport: HostConfig.MuxKeepAlive = %v, want >= 0 (0: off)", c.MuxKeepAlive)
	case c.MuxRTTInterval <= 0:
		return fmt.Errorf("transport: HostConfig.MuxRTTInterval = %v, want > 0", c.MuxRTTInterval)
	}
	_, err := c.listenMultiaddrs()
	return err
}

// listenMultiaddrs parses ListenAddrs and checks each is one the host can
// listen on: IP (or DNS) then TCP.
func (c HostConfig) listenMultiaddrs() ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(c.ListenAddrs))
	for _, s := range c.ListenAddrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("transport: HostConfig.ListenAddrs: %q: %w", s, err)
		}
		if !mafmt.TCP.Matches(a) {
			return nil, fmt.Errorf("transport: HostConfig.ListenAddrs: %q is not a TCP address (like /ip4/0.0.0.0/tcp/4001); TCP is the only transport built in", s)
		}
		out = append(out, a)
	}
	return out, nil
}

// Config configures a Transport.
type Config struct {
	// MaxFrameSize is the largest frame body, in bytes, that is sent or
	// accepted. A larger inbound frame resets the stream; a larger outbound
	// message is refused by Send. Range 1 .. 64 MiB.
	MaxFrameSize int

	// QueueLen is the capacity, in messages, of the outbound queue of one
	// (peer, protocol) stream. When it is full, Send drops the message,
	// counts it and returns ErrQueueFull. Range 1 .. 1<<20.
	QueueLen int

	// InboundLen is the capacity, in messages, of the channel returned by
	// Inbound. When it is full, stream readers stop reading (back-pressure,
	// see doc.go). Range 0 .. 1<<20.
	InboundLen int

	// EventQueueLen bounds, in events, the PeerUp/PeerDown events waiting for
	// the owner. Beyond it events are dropped, counted and logged at error
	// level. Range 1 .. 1<<20.
	EventQueueLen int

	// DialTimeout bounds dialing a peer and opening a stream to it, on the
	// first Send to that (peer, protocol). Default 12 s: longer than the
	// host's per-address dial timeout (HostConfig.DialTimeout, 10 s), so
	// that a dial ends with each address's own error and a refusal on one
	// address is not hidden behind the deadline (PeerDown.TimedOut).
	DialTimeout time.Duration

	// WriteTimeout bounds writing one frame to a stream; a stalled peer
	// beyond it is treated as failed (stream reset, PeerDown).
	WriteTimeout time.Duration

	// FlushTimeout bounds how long Disconnect waits for queued frames to be
	// written before closing the connections.
	FlushTimeout time.Duration
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		MaxFrameSize:  1 << 20,
		QueueLen:      1024,
		InboundLen:    1024,
		EventQueueLen: 4096,
		DialTimeout:   12 * time.Second,
		WriteTimeout:  10 * time.Second,
		FlushTimeout:  2 * time.Second,
	}
}

// Validate reports the first invalid field, naming it and its allowed range.
func (c Config) Validate() error {
	switch {
	case c.MaxFrameSize < 1 || c.MaxFrameSize > 64<<20:
		return fmt.Errorf("transport: Config.MaxFrameSize = %d, want 1 .. %d bytes", c.MaxFrameSize, 64<<20)
	case c.QueueLen < 1 || c.QueueLen > 1<<20:
		return fmt.Errorf("transport: Config.QueueLen = %d, want 1 .. %d", c.QueueLen, 1<<20)
	case c.InboundLen < 0 || c.InboundLen > 1<<20:
		return fmt.Errorf("transport: Config.InboundLen = %d, want 0 .. %d", c.InboundLen, 1<<20)
	case c.EventQueueLen < 1 || c.EventQueueLen > 1<<20:
		return fmt.Errorf("transport: Config.EventQueueLen = %d, want 1 .. %d", c.EventQueueLen, 1<<20)
	case c.DialTimeout <= 0:
		return fmt.Errorf("transport: Config.DialTimeout = %v, want > 0", c.DialTimeout)
	case c.WriteTimeout <= 0:
		return fmt.Errorf("transport: Config.WriteTimeout = %v, want > 0", c.WriteTimeout)
	case c.FlushTimeout <= 0:
		return fmt.Errorf("transport: Config.FlushTimeout = %v, want > 0", c.FlushTimeout)
	}
	return nil
}
