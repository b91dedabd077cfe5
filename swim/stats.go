package swim

// Stats are a core's counters since it started.
type Stats struct {
	Sent          uint64 // messages handed to the driver
	Received      uint64 // messages accepted by Step
	Rejected      uint64 // messages Step refused as malformed
	Pings         uint64 // direct pings sent (probes and relays)
	PingReqs      uint64 // indirect probe requests sent
	Acks          uint64 // acks sent
	Nacks         uint64 // nacks sent
	Gossips       uint64 // gossip messages sent
	PushPulls     uint64 // push-pull messages sent (both directions)
	Digests       uint64 // periodic push-pulls started with the digest alone
	DigestsEqual  uint64 // digest offers answered "equal" (no state sent)
	FuseMsgs      uint64 // FUSE messages sent
	Updates       uint64 // piggybacked member updates sent
	Probes        uint64 // probes started
	ProbeFailures uint64 // probes that got no ack at all
	Suspicions    uint64 // members this node started suspecting
	Refutations   uint64 // suspicions about this node it refuted
	Deaths        uint64 // members this node declared dead
	Checks        uint64 // out-of-order probes: final checks and PeerDown hints
	CheckFailures uint64 // checks that got no ack
	Stalls        uint64 // ticks that came late (the process was paused)
	// ConnectWaits counts probes and hint checks whose target had no
	// connection, so that they first waited for one (Config.ConnectTimeout).
	ConnectWaits uint64
	// Inconclusive counts those waits that ran out with no verdict
	// (Config.InconclusiveProbes).
	Inconclusive uint64
	// FirstContacts counts probes of members never reached before, paced
	// by Config.DialInterval.
	FirstContacts uint64
	// RelaysDeclined counts ping-reqs for members never reached that
	// this node answered with a nack at once because its dial budget was
	// spent (Config.DialInterval).
	RelaysDeclined uint64
	// OversizedUpdates counts updates too large for any gossip message
	// (GossipBytes), left to push-pull instead of queued.
	OversizedUpdates uint64
	// JoinRetriesHeld counts join retries not sent because the last join
	// push-pull to the same member was still waiting for its connection
	// (Config.ConnectTimeout).
	JoinRetriesHeld uint64
}
