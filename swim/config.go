package swim

import (
	"fmt"
	"time"
)

// Detector names how a direct probe is judged to have failed.
const (
	// DetectorSWIM uses the fixed ProbeTimeout (scaled by local health).
	DetectorSWIM = "swim"
	// DetectorPhi uses a phi-accrual level over the history of probe
	// round trips: the direct ping fails once phi passes PhiThreshold.
	DetectorPhi = "phi"
)

// Config tunes the failure detector. Durations are virtual or real time as
// the driver supplies it; counts are plain numbers.
type Config struct {
	// TickInterval is how often the driver calls Tick; every timer is
	// checked at that granularity. Typically ProbeInterval/10 (each Tick is
	// a wake-up of the agent: at /20 they were most of an idle agent's CPU).
	TickInterval time.Duration
	// ProbeInterval is the protocol period T: one member is probed per
	// period. Scaled by (LHM+1) under Lifeguard.
	ProbeInterval time.Duration
	// ProbeTimeout is how long to wait for a direct ack before asking
	// IndirectChecks members to probe (ping-req); below ProbeInterval.
	// Scaled by (LHM+1).
	ProbeTimeout time.Duration
	// IndirectChecks is k, the number of members asked to ping-req.
	IndirectChecks int
	// RetransmitMult is λ: each update is sent about
	// RetransmitMult*ceil(log10(n+1)) times.
	RetransmitMult int
	// SuspicionMult scales the minimum suspicion timeout:
	// min = max(SuspicionMinFloor, SuspicionMult*log10(max(1,n))*ProbeInterval).
	SuspicionMult float64
	// SuspicionMinFloor is the least suspicion timeout whatever n; it is
	// what protects a paused member in small clusters.
	SuspicionMinFloor time.Duration
	// SuspicionMaxMult sets max = SuspicionMaxMult*min, the timeout of a
	// suspicion nobody confirmed (Lifeguard).
	SuspicionMaxMult float64
	// SuspicionConfirmations is how many independent confirmations bring
	// the timeout down to min (Lifeguard's k).
	SuspicionConfirmations int
	// ConfirmProbes makes a member that hears a suspicion probe the
	// suspect at its next period with probability
	// min(1, 2*(SuspicionConfirmations+1)/n): a crashed member then gets
	// confirmed quickly and a live one gets a buddy ping to refute.
	ConfirmProbes bool
	// PeerDownProbe makes the core treat PeerDown (the transport lost its
	// link to a member: in the agent, a crashed process resets its
	// connections) as a hint: an alive member is probed at once, outside
	// the round-robin order, and suspected if that probe fails. A paused
	// process keeps its connections, so it gets no such probe. Off, PeerDown
	// is ignored.
	PeerDownProbe bool
	// ConnectTimeout is, for a driver whose messages travel on connections
	// that must be set up first (the agent: a libp2p dial, a Noise
	// handshake, yamux and identify), how long a probe of a member with no
	// connection waits for one before its direct ping counts as
	// unanswered. The driver reports connections with PeerUp and failed
	// dials and closed connections with PeerDown (which ends the wait at
	// once). The ping's ProbeTimeout starts when the connection is up: a
	// probe measures the member, not the setup. Without it, 200 agents
	// that joined at once accused each other thousands of times a second
	// for minutes while the starved machine set up the connections
	// (docs/swim-bench.md, "Probes wait for the connection"). Zero (the
	// default, and the simulator's datagrams) treats every member as
	// connected.
	ConnectTimeout time.Duration
	// InconclusiveProbes is how many probes of a member in a row may end
	// with no connection to it after ConnectTimeout (a dial that neither
	// connected nor was refused: no answer either way) without a verdict;
	// the next one goes on to ping-reqs and suspicion as an unanswered
	// ping does. A starved machine setting up hundreds of connections
	// times dials out while every member is alive; a member that died
	// before anyone connected to it is still suspected, after this many
	// rounds. A refused dial (PeerDown) is evidence and never counts here.
	InconclusiveProbes int
	// DialInterval paces first contacts, for a driver whose messages
	// travel on connections (it reports them with PeerUp): a probe goes
	// to a member this node never had a connection to at most once per
	// DialInterval (jittered by ±50 %); the other periods probe members
	// already reached, in the same round-robin order, and gossip and
	// indirect probes prefer links, then reached members. SWIM's
	// round-robin otherwise builds a full mesh of connections at one new
	// one a second per member, which as 200 agents formed a cluster held
	// a 2-core machine for minutes (dials.go, docs/swim-bench.md). Zero
	// (the default, and the simulator's datagrams): no pacing.
	DialInterval time.Duration
	// Lifeguard turns on the local health multiplier, nacks and
	// confirmation-based suspicion timeouts; off gives plain SWIM with a
	// fixed suspicion timeout of min.
	Lifeguard bool
	// MaxLocalHealth is the LHM ceiling (Lifeguard uses 8).
	MaxLocalHealth int
	// Detector is DetectorSWIM or DetectorPhi.
	Detector string
	// PhiThreshold is the phi level at which a direct ping counts as
	// failed (DetectorPhi only); 8 means a 1e-8 chance of a late ack.
	PhiThreshold float64
	// PhiWindow is how many round-trip samples the phi detector keeps.
	PhiWindow int
	// GossipInterval is how often pending updates are pushed to
	// GossipFanout random members (only when there are updates).
	GossipInterval time.Duration
	// GossipFanout is how many members each gossip round reaches.
	GossipFanout int
	// PiggybackBytes bounds the updates piggybacked on a ping, ack or
	// ping-req, in encoded bytes.
	PiggybackBytes int
	// GossipBytes bounds the updates carried by one gossip message.
	// Default 4096: the messages travel on libp2p streams, so there is no
	// datagram to fit (memberlist's 1400-byte UDP packets); at 1200 a
	// formation's burst of alive records (about 150 B each with a peer ID
	// and addresses) went out 8 per message, and 50 processes formed 12%
	// slower (docs/swim-bench.md, 2026-12-07).
	GossipBytes int
	// PushPullInterval is the base period of full-state exchanges with a
	// random member; above 32 members it is scaled by n/32 so that its
	// bytes per member per second stay flat in n. Zero disables it.
	PushPullInterval time.Duration
	// JoinSyncDelay is when, after joining, a second push-pull with a
	// random member happens (so a joiner quickly learns members the
	// contact did not yet know). Zero disables it.
	JoinSyncDelay time.Duration
	// JoinSyncs is how many such push-pulls follow a join: the first
	// JoinSyncDelay after the reply, each next one twice as long after the
	// one before (1, 3, 7, 15 s with 4 and a 1 s delay). Each starts with
	// the 64-bit digest, so one that finds the tables equal costs two
	// small messages. When many members join at once, a member whose
	// contact answered early misses the joins after it that gossip did
	// not bring (gossip sends each update a bounded number of times), and
	// the periodic push-pull is minutes away at N=200 (PushPullInterval
	// scaled by n/32): one of 200 members that joined together still
	// missed 8 of them 80 s later with a single sync (docs/swim-bench.md).
	JoinSyncs int
	// JoinRetry is how long to wait for a join reply before retrying.
	JoinRetry time.Duration
	// DeadRetention is how long dead and left members stay in the table
	// (so late updates about them are recognised) before being dropped.
	DeadRetention time.Duration
	// MaxMetaBytes bounds a member's metadata (sum of key and value
	// lengths).
	MaxMetaBytes int
	// MaxMembers bounds the member table and a push-pull's size.
	MaxMembers int
	// MaxBroadcasts bounds the queue of updates awaiting dissemination;
	// the most-sent are dropped first.
	MaxBroadcasts int
	// FuseRetryInterval is how often unacknowledged FUSE messages are
	// resent.
	FuseRetryInterval time.Duration
	// FuseRetries bounds the resends of one FUSE message to one member.
	FuseRetries int
	// FuseCreateTimeout is how long a creator waits for every member's
	// answer before the creation fails.
	FuseCreateTimeout time.Duration
	// MaxGroupSize bounds a FUSE group's members.
	MaxGroupSize int
	// MaxGroups bounds the groups a member belongs to.
	MaxGroups int
}

// DefaultLANConfig is tuned for a LAN: 1 s periods, 500 ms probe
// timeout, k=3, λ=4. The suspicion timeout is shorter than memberlist's
// (SuspicionMult 1.5 with a 2.5 s floor instead of 4) and relies on
// Lifeguard's confirmations and the buddy system: crashes are declared in
// about half memberlist's time while pauses under 3 s are survived. See
// docs/swim.md for the trade-off.
func DefaultLANConfig() Config {
	return Config{
		TickInterval:           100 * time.Millisecond,
		ProbeInterval:          time.Second,
		ProbeTimeout:           500 * time.Millisecond,
		IndirectChecks:         3,
		RetransmitMult:         4,
		SuspicionMult:          1.5,
		SuspicionMinFloor:      2500 * time.Millisecond,
		SuspicionMaxMult:       6,
		SuspicionConfirmations: 3,
		ConfirmProbes:          true,
		PeerDownProbe:          true,
		Lifeguard:              true,
		MaxLocalHealth:         8,
		Detector:               DetectorSWIM,
		PhiThreshold:           8,
		PhiWindow:              64,
		GossipInterval:         200 * time.Millisecond,
		GossipFanout:           3,
		PiggybackBytes:         512,
		GossipBytes:            4096,
		PushPullInterval:       30 * time.Second,
		JoinSyncDelay:          time.Second,
		JoinSyncs:              4,
		JoinRetry:              time.Second,
		DeadRetention:          5 * time.Minute,
		MaxMetaBytes:           512,
		MaxMembers:             1 << 16,
		MaxBroadcasts:          4096,
		FuseRetryInterval:      100 * time.Millisecond,
		FuseRetries:            20,
		FuseCreateTimeout:      2 * time.Second,
		MaxGroupSize:           64,
		MaxGroups:              4096,
	}
}

// DefaultLocalConfig is for one machine or a fast network: everything
// five times faster than LAN.
func DefaultLocalConfig() Config {
	c := DefaultLANConfig()
	c.TickInterval = 10 * time.Millisecond
	c.ProbeInterval = 200 * time.Millisecond
	c.ProbeTimeout = 100 * time.Millisecond
	c.SuspicionMinFloor = 500 * time.Millisecond
	c.GossipInterval = 40 * time.Millisecond
	c.PushPullInterval = 6 * time.Second
	c.JoinSyncDelay = 200 * time.Millisecond
	c.JoinRetry = 200 * time.Millisecond
	c.FuseRetryInterval = 20 * time.Millisecond
	c.FuseCreateTimeout = 400 * time.Millisecond
	return c
}

// DefaultTestConfig is LAN timing with small bounds, for tests.
func DefaultTestConfig() Config {
	c := DefaultLANConfig()
	c.MaxMembers = 1024
	c.MaxBroadcasts = 1024
	c.DeadRetention = time.Minute
	return c
}

// Validate names the first bad field and its allowed range.
func (c Config) Validate() error {
	type dur struct {
		name string
		v    time.Duration
		zero bool // zero allowed
	}
	for _, d := range []dur{
		{"TickInterval", c.TickInterval, false},
		{"ProbeInterval", c.ProbeInterval, false},
		{"ProbeTimeout", c.ProbeTimeout, false},
		{"SuspicionMinFloor", c.SuspicionMinFloor, true},
		{"GossipInterval", c.GossipInterval, false},
		{"PushPullInterval", c.PushPullInterval, true},
		{"JoinSyncDelay", c.JoinSyncDelay, true},
		{"JoinRetry", c.JoinRetry, false},
		{"DeadRetention", c.DeadRetention, false},
		{"FuseRetryInterval", c.FuseRetryInterval, false},
		{"FuseCreateTimeout", c.FuseCreateTimeout, false},
		{"ConnectTimeout", c.ConnectTimeout, true},
		{"DialInterval", c.DialInterval, true},
	} {
		if d.v < 0 || (!d.zero && d.v == 0) {
			return fmt.Errorf("swim: Config.%s = %v; want > 0", d.name, d.v)
		}
	}
	if c.ProbeTimeout >= c.ProbeInterval {
		return fmt.Errorf("swim: Config.ProbeTimeout = %v; want below ProbeInterval (%v)", c.ProbeTimeout, c.ProbeInterval)
	}
	if c.TickInterval > c.ProbeTimeout {
		return fmt.Errorf("swim: Config.TickInterval = %v; want <= ProbeTimeout (%v)", c.TickInterval, c.ProbeTimeout)
	}
	type count struct {
		name   string
		v, min int
		max    int
	}
	for _, x := range []count{
		{"IndirectChecks", c.IndirectChecks, 0, 16},
		{"InconclusiveProbes", c.InconclusiveProbes, 0, 64},
		{"RetransmitMult", c.RetransmitMult, 1, 64},
		{"SuspicionConfirmations", c.SuspicionConfirmations, 0, 64},
		{"MaxLocalHealth", c.MaxLocalHealth, 0, 64},
		{"PhiWindow", c.PhiWindow, 2, 1 << 16},
		{"GossipFanout", c.GossipFanout, 1, 64},
		{"PiggybackBytes", c.PiggybackBytes, 64, 1 << 20},
		{"GossipBytes", c.GossipBytes, 64, 1 << 20},
		{"MaxMetaBytes", c.MaxMetaBytes, 0, 1 << 16},
		{"MaxMembers", c.MaxMembers, 2, 1 << 24},
		{"MaxBroadcasts", c.MaxBroadcasts, 1, 1 << 24},
		{"FuseRetries", c.FuseRetries, 0, 1 << 10},
		{"JoinSyncs", c.JoinSyncs, 0, 16},
		{"MaxGroupSize", c.MaxGroupSize, 2, 1 << 12},
		{"MaxGroups", c.MaxGroups, 1, 1 << 20},
	} {
		if x.v < x.min || x.v > x.max {
			return fmt.Errorf("swim: Config.%s = %d; want %d..%d", x.name, x.v, x.min, x.max)
		}
	}
	if c.JoinSyncDelay > 0 && c.JoinSyncs == 0 {
		return fmt.Errorf("swim: Config.JoinSyncs = 0 with JoinSyncDelay = %v; want >= 1, or JoinSyncDelay 0 for no sync", c.JoinSyncDelay)
	}
	if c.SuspicionMult <= 0 || c.SuspicionMult > 100 {
		return fmt.Errorf("swim: Config.SuspicionMult = %v; want in (0,100]", c.SuspicionMult)
	}
	if c.SuspicionMaxMult < 1 || c.SuspicionMaxMult > 100 {
		return fmt.Errorf("swim: Config.SuspicionMaxMult = %v; want in [1,100]", c.SuspicionMaxMult)
	}
	switch c.Detector {
	case DetectorSWIM:
	case DetectorPhi:
		if c.PhiThreshold <= 0 || c.PhiThreshold > 32 {
			return fmt.Errorf("swim: Config.PhiThreshold = %v; want in (0,32]", c.PhiThreshold)
		}
	default:
		return fmt.Errorf("swim: Config.Detector = %q; want %q or %q", c.Detector, DetectorSWIM, DetectorPhi)
	}
	return nil
}
