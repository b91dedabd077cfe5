package transport

import (
	"fmt"
	"log/slog"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// NewHost builds the node's libp2p host: persisted Ed25519 identity from
// cfg.DataDir, TCP and QUIC, Noise and TLS, yamux. Relay, NAT port mapping
// and mDNS are off; the connection manager and resource manager are sized so
// that the overlay's links are never trimmed and 50+ hosts can share one
// machine. The caller owns the host and must Close it.
func NewHost(cfg HostConfig, log *slog.Logger) (host.Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := LoadOrCreateIdentity(cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLowWater, cfg.ConnHighWater,
		connmgr.WithGracePeriod(cfg.ConnGracePeriod))
	if err != nil {
		return nil, fmt.Errorf("transport: connection manager: %w", err)
	}
	rm, err := newResourceManager(cfg)
	if err != nil {
		cm.Close()
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		// Outbound TCP dials use an ephemeral port, not the listen port:
		// with SO_REUSEPORT two peers dialing each other at once make one
		// TCP simultaneous open on which both run the initiator's side of
		// the Noise handshake and both fail ("noise: message is too
		// short"), which HyParView's symmetric NEIGHBOR dials do all the
		// time. Reuse only helps NAT hole punching, which is not enabled.
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Muxer(yamux.ID, muxer(cfg)),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.DisableRelay(),
		libp2p.WithDialTimeout(cfg.DialTimeout),
		// NAT port mapping (libp2p.NATPortMap) and relay service are not
		// enabled; go-libp2p never starts mDNS on its own.
	}
	if cfg.Bandwidth != nil {
		opts = append(opts, libp2p.BandwidthReporter(cfg.Bandwidth))
	}
	if cfg.Metrics != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Metrics))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("transport: new host: %w", err)
	}
	log.Info("libp2p host started", "peer", h.ID().String(), "addrs", fmt.Sprint(h.Addrs()))
	return h, nil
}

// muxer is go-libp2p's yamux transport with the keep-alive and
// round-trip-measurement periods of cfg (see HostConfig.MuxKeepAlive).
func muxer(cfg HostConfig) *yamux.Transport {
	c := *yamux.DefaultTransport.Config()
	c.EnableKeepAlive = cfg.MuxKeepAlive > 0
	if c.EnableKeepAlive {
		c.KeepAliveInterval = cfg.MuxKeepAlive
	}
	c.MeasureRTTInterval = cfg.MuxRTTInterval
	return (*yamux.Transport)(&c)
}

// newResourceManager starts from libp2p's auto-scaled defaults and raises
// the system and transient connection limits to cfg.MaxConns. Loopback
// addresses are already exempt from libp2p's per-IP connection limits, so
// many hosts on 127.0.0.1 can reach each other.
func newResourceManager(cfg HostConfig) (network.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	conns := rcmgr.LimitVal(cfg.MaxConns)
	streams := rcmgr.LimitVal(cfg.MaxConns * 16)
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns: conns, ConnsInbound: conns, ConnsOutbound: conns,
			Streams: streams, StreamsInbound: streams, StreamsOutbound: streams,
		},
		Transient: rcmgr.ResourceLimits{
			Conns: conns, ConnsInbound: conns, ConnsOutbound: conns,
		},
	}
	limits := partial.Build(scaling.AutoScale())
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("transport: resource manager: %w", err)
	}
	return rm, nil
}
