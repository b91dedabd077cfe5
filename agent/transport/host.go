package transport

import (
	"crypto/rand"
	"fmt"
	"log/slog"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/sec"
	bhost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	tptu "github.com/libp2p/go-libp2p/p2p/net/upgrader"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// NewHost builds the node's libp2p host: persisted Ed25519 identity from
// cfg.DataDir, TCP, Noise, yamux. Relay, NAT port mapping
// and mDNS are off; the connection manager and resource manager are sized so
// that the overlay's links are never trimmed and 50+ hosts can share one
// machine. The caller owns the host and must Close it.
func NewHost(cfg HostConfig, log *slog.Logger) (host.Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var key crypto.PrivKey
	var err error
	if cfg.EphemeralIdentity {
		key, _, err = crypto.GenerateEd25519Key(rand.Reader)
	} else {
		key, err = LoadOrCreateIdentity(cfg.DataDir, log)
	}
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
	h, err := buildHost(cfg, key, cm, rm)
	if err != nil {
		return nil, err
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

// buildHost assembles the host from go-libp2p's parts (peerstore, swarm,
// upgrader, TCP transport, basic host) instead of libp2p.New: the
// constructor package links every transport go-libp2p has (QUIC, WebRTC,
// WebTransport) and its dependency injector, 11 MB of the binary that an
// agent never runs, and the executable's resident pages are most of an
// idle agent's RSS (docs/agent-resources.md). On error, cm and rm are
// closed.
func buildHost(cfg HostConfig, key crypto.PrivKey, cm *connmgr.BasicConnMgr, rm network.ResourceManager) (h *bhost.BasicHost, err error) {
	fail := func(e error) (*bhost.BasicHost, error) {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("transport: new host: %w", e)
	}
	addrs, err := cfg.listenMultiaddrs()
	if err != nil {
		return fail(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return fail(err)
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		return fail(err)
	}
	if err := ps.AddPrivKey(id, key); err != nil {
		ps.Close()
		return fail(err)
	}
	if err := ps.AddPubKey(id, key.GetPublic()); err != nil {
		ps.Close()
		return fail(err)
	}
	var busOpts []eventbus.Option
	if cfg.Metrics != nil {
		busOpts = append(busOpts, eventbus.WithMetricsTracer(eventbus.NewMetricsTracer(eventbus.WithRegisterer(cfg.Metrics))))
	}
	bus := eventbus.NewBus(busOpts...)
	swOpts := []swarm.Option{
		swarm.WithResourceManager(rm),
		swarm.WithDialTimeout(cfg.DialTimeout),
	}
	if cfg.Bandwidth != nil {
		swOpts = append(swOpts, swarm.WithMetrics(cfg.Bandwidth))
	}
	if cfg.Metrics != nil {
		swOpts = append(swOpts, swarm.WithMetricsTracer(swarm.NewMetricsTracer(swarm.WithRegisterer(cfg.Metrics))))
	}
	sw, err := swarm.NewSwarm(id, ps, bus, swOpts...)
	if err != nil {
		ps.Close()
		return fail(err)
	}
	// Until the basic host exists, a failure closes the swarm and the
	// peerstore here; after, closing the host closes them, rm and cm.
	closeAll := func(e error) (*bhost.BasicHost, error) {
		sw.Close()
		ps.Close()
		return fail(e)
	}
	nz, err := noise.New(noise.ID, key, nil)
	if err != nil {
		return closeAll(err)
	}
	up, err := tptu.New([]sec.SecureTransport{nz},
		[]tptu.StreamMuxer{{ID: yamux.ID, Muxer: muxer(cfg)}}, nil, rm, nil)
	if err != nil {
		return closeAll(err)
	}
	// Outbound TCP dials use an ephemeral port, not the listen port: with
	// SO_REUSEPORT two peers dialing each other at once make one TCP
	// simultaneous open on which both run the initiator's side of the
	// Noise handshake and both fail ("noise: message is too short"), which
	// HyParView's symmetric NEIGHBOR dials do all the time. Reuse only
	// helps NAT hole punching, which is not enabled.
	tpt, err := tcp.NewTCPTransport(up, rm, nil, tcp.DisableReuseport())
	if err != nil {
		return closeAll(err)
	}
	if err := sw.AddTransport(tpt); err != nil {
		return closeAll(err)
	}
	h, err = bhost.NewHost(sw, &bhost.HostOpts{
		EventBus:             bus,
		ConnManager:          cm,
		EnablePing:           true,
		UserAgent:            "hearsay",
		EnableMetrics:        cfg.Metrics != nil,
		PrometheusRegisterer: cfg.Metrics,
	})
	if err != nil {
		return closeAll(err)
	}
	// Every address must listen (swarm.Listen is content with one): an
	// agent told to use a port that is taken says so instead of running
	// without it.
	for _, a := range addrs {
		if err := sw.AddListenAddr(a); err != nil {
			h.Close()
			return nil, fmt.Errorf("transport: listen on %s: %w", a, err)
		}
	}
	h.Start()
	return h, nil
}
