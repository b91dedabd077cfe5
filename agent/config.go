package agent

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/swim"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures one agent.
type Config struct {
	// DataDir holds the node's identity and state. Created if missing.
	DataDir string
	// Listen are the multiaddrs the host listens on.
	Listen []string
	// Join are multiaddrs with a /p2p/ component of nodes to join through.
	Join []string
	// Datastore is where the keyspace lives: "pebble" (default, under
	// DataDir/store, every write synced before it is acknowledged),
	// "leveldb" (under DataDir/leveldb, synced too) or "memory"
	// (throwaway nodes).
	Datastore string
	// RPCListen is the host:port of the local JSON-RPC endpoint; empty
	// disables it. Only loopback addresses are accepted.
	RPCListen string
	// HyParView configures the overlay.
	HyParView hyparview.Config
	// AntiEntropy configures the replicas' reconciliation.
	AntiEntropy antientropy.Config
	// Swim configures failure detection.
	Swim swim.Config
	// OnMember, when set, is called on the loop for every membership
	// change (joined, suspect, alive, failed, left, updated).
	OnMember func(membership.MemberEvent)
	// OnFuse, when set, is called on the loop for FUSE events
	// (swim.FuseCreated, swim.FuseCreateFailed, swim.FuseTriggered).
	OnFuse func(membership.Event)
	// Broadcast is the broadcast protocol: "plumtree" (default) or
	// "gossipsub" (go-libp2p-pubsub on the same host).
	Broadcast string
	// Plumtree configures the plumtree core.
	Plumtree plumtree.Config
	// GossipSubQueue bounds GossipSub's per-peer outbound and validation
	// queues, in messages.
	GossipSubQueue int
	// GossipSubTracer, when set, observes GossipSub's internals (benchmarks
	// count its control messages with it).
	GossipSubTracer pubsub.RawTracer
	// Metrics, when set, receives libp2p's Prometheus metrics.
	Metrics *prometheus.Registry
	// Bandwidth, when set, counts the host's stream bytes per protocol.
	Bandwidth metrics.Reporter
	// KeepIdentity keeps the peer identity in DataDir even with the memory
	// datastore, which otherwise takes a fresh one at every start (a node
	// restarting without its data would reissue its dots under its old ID,
	// and its peers would never ask for its new writes). For benchmarks
	// that must know peer IDs before the processes start; never for a node
	// that may restart.
	KeepIdentity bool
	// OnDeliver, when set, is called on the agent's loop for every
	// application broadcast (Publish) delivered to this node, the node's
	// own included; keyspace deltas are not passed to it. It must not
	// block.
	OnDeliver func(Delivery)
	// Transport configures the stream layer.
	Transport transport.Config
	// FixedTicks ticks SWIM and anti-entropy every TickInterval, as the
	// simulator does by default, instead of at the deadlines they report
	// (NextDeadline). For experiments and comparisons: the deadlines wake
	// an idle agent about twice a second for SWIM instead of ten times
	// (docs/agent-resources.md).
	FixedTicks bool
	// OverlayJoinWait defers the overlay's (HyParView's) join until SWIM's
	// join has its full-state reply, and then joins the overlay through a
	// random live member of that table instead of the contact (which stays
	// a fallback for HyParView's retries); if SWIM has no reply after this
	// long, the overlay joins through the contact. A contact that every
	// node joins through otherwise takes each joiner into its active view
	// (evicting another) and starts a walk from each of its neighbours:
	// 199 agents joining one seed at once made 2,145 evictions and 3,768
	// overlay connections in their first 45 s, with the seed starved for
	// CPU while it also had to answer the SWIM joins (overlay.go,
	// docs/swim-bench.md). Zero joins both through the contact at once.
	OverlayJoinWait time.Duration
	// Log receives the agent's structured logs.
	Log *slog.Logger
}

// DefaultDataDir is $XDG_DATA_HOME/hearsay, else ~/.local/share/hearsay.
func DefaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "hearsay")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".", "hearsay-data")
	}
	return filepath.Join(home, ".local", "share", "hearsay")
}

// DefaultListen is TCP on port 4001 on all interfaces (TCP is the only
// transport built in: see transport.HostConfig.ListenAddrs).
var defaultListen = []string{"/ip4/0.0.0.0/tcp/4001"}

// DefaultListen returns the default listen multiaddrs.
func DefaultListen() []string { return append([]string(nil), defaultListen...) }

// DefaultConfig returns an agent configuration with the defaults.
func DefaultConfig() Config {
	return Config{
		DataDir:         DefaultDataDir(),
		Listen:          DefaultListen(),
		RPCListen:       "127.0.0.1:7781",
		Datastore:       DatastorePebble,
		HyParView:       hyparview.DefaultConfig(),
		Swim:            defaultSwimConfig(),
		AntiEntropy:     defaultAntiEntropyConfig(),
		Broadcast:       BroadcastPlumtree,
		Plumtree:        plumtree.DefaultConfig(),
		GossipSubQueue:  1024,
		OverlayJoinWait: 5 * time.Second,
		Transport:       transport.DefaultConfig(),
		Log:             slog.Default(),
	}
}

// defaultSwimConfig is SWIM's LAN config with probes that wait for a
// libp2p connection to be set up (swim.Config.ConnectTimeout) as long as
// the transport lets a dial take, and three such waits in a row that run
// out allowed before one counts as a failed probe.
func defaultSwimConfig() swim.Config {
	c := swim.DefaultLANConfig()
	c.ConnectTimeout = transport.DefaultConfig().DialTimeout
	c.InconclusiveProbes = 3
	c.DialInterval = 5 * time.Second
	return c
}

// defaultAntiEntropyConfig is anti-entropy's default with its periodic
// sessions waiting for an overlay link (antientropy.Config.LinkedSyncs):
// the overlay joins after SWIM's reply (OverlayJoinWait), and until then
// every session would dial a random member.
func defaultAntiEntropyConfig() antientropy.Config {
	c := antientropy.DefaultConfig()
	c.LinkedSyncs = true
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("agent: DataDir is empty")
	}
	if len(c.Listen) == 0 {
		return fmt.Errorf("agent: Listen is empty; want at least one multiaddr")
	}
	for _, l := range c.Listen {
		if _, err := multiaddr.NewMultiaddr(l); err != nil {
			return fmt.Errorf("agent: Listen address %q: %w", l, err)
		}
	}
	for _, j := range c.Join {
		if _, err := parseJoin(j); err != nil {
			return fmt.Errorf("agent: Join address %q: %w", j, err)
		}
	}
	if err := c.HyParView.Validate(); err != nil {
		return fmt.Errorf("agent: HyParView: %w", err)
	}
	if c.Datastore != DatastorePebble && c.Datastore != DatastoreMemory && c.Datastore != DatastoreLevelDB {
		return fmt.Errorf("agent: Datastore = %q; want pebble, leveldb or memory", c.Datastore)
	}
	if err := c.AntiEntropy.Validate(); err != nil {
		return fmt.Errorf("agent: AntiEntropy: %w", err)
	}
	if k := store.DefaultOptions().MaxKeyBytes; c.AntiEntropy.MaxKeyBytes < k {
		return fmt.Errorf("agent: AntiEntropy.MaxKeyBytes = %d; want at least the keyspace's longest key, %d bytes", c.AntiEntropy.MaxKeyBytes, k)
	}
	if o := storeOptions(c.AntiEntropy); o.Validate() != nil {
		return fmt.Errorf("agent: AntiEntropy.MaxStateBytes = %d leaves the keyspace no valid limits: %w", c.AntiEntropy.MaxStateBytes, o.Validate())
	}
	if err := c.Swim.Validate(); err != nil {
		return fmt.Errorf("agent: Swim: %w", err)
	}
	switch c.Broadcast {
	case BroadcastPlumtree:
		if err := c.Plumtree.Validate(); err != nil {
			return fmt.Errorf("agent: Plumtree: %w", err)
		}
	case BroadcastGossipSub:
		if c.GossipSubQueue < 1 {
			return fmt.Errorf("agent: GossipSubQueue = %d; want >= 1", c.GossipSubQueue)
		}
	default:
		return fmt.Errorf("agent: Broadcast = %q: %w", c.Broadcast, errBadBroadcast)
	}
	if err := c.Transport.Validate(); err != nil {
		return fmt.Errorf("agent: Transport: %w", err)
	}
	if c.OverlayJoinWait < 0 {
		return fmt.Errorf("agent: OverlayJoinWait = %v; want >= 0", c.OverlayJoinWait)
	}
	if c.Log == nil {
		return fmt.Errorf("agent: Log is nil")
	}
	return nil
}
