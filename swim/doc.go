// Package swim is hearsay's failure detector: SWIM (Das, Gupta, Motivala,
// DSN 2002) with the Lifeguard refinements (Dadgar, Phillips, Currey,
// 2017), an optional phi-accrual probe timeout (Hayashibara et al., 2004)
// and FUSE groups (Dunagan et al., OSDI 2004) riding on it.
//
// A Core implements membership.Core for one node. It keeps the member
// list with states (alive, suspect, dead, left) and incarnation numbers,
// probes one member per protocol period in randomised round-robin order
// (ping, then ping-req through k members, with nacks), suspects a member
// whose probe failed, and declares it dead when the suspicion times out
// unrefuted. Before declaring a death on a suspicion it only heard of (or
// that nobody confirmed), it checks the suspect once more, directly and
// through 2k relays that return any newer record they hold. Updates are
// piggybacked on pings, acks and ping-reqs, and
// pushed by a small gossip round while any are pending; each is sent about
// RetransmitMult*log10(n+1) times. Full state is exchanged by push-pull on
// join and periodically.
//
// # What the driver does
//
//   - Call Tick every Config.TickInterval; every timer is checked there.
//   - Feed each received *pb.Envelope to Step; an error means the message
//     was malformed or misdirected and nothing changed.
//   - Deliver Ready().Sends to their targets; loss is tolerated. The core
//     never sends to itself. Sent messages are fresh and never mutated
//     after Ready, and received ones are only read.
//   - Route Ready().Events: membership.MemberEvent for every state change
//     of another member (joined, suspect, alive, failed, left, updated),
//     and this package's FuseCreated, FuseCreateFailed and FuseTriggered.
//   - Call PeerDown when the transport loses its link to a member (a reset
//     connection, a failed dial). With Config.PeerDownProbe the core
//     probes that member at once, outside the round-robin order (ping,
//     then ping-req through k members), and suspects it only if that
//     probe fails: the transport alone never suspects anyone, but a
//     crashed process (whose connections are reset) is suspected within
//     about a period instead of after the first-probe delay. A paused
//     process keeps its connections and gets no such probe.
//   - With Config.ConnectTimeout (a transport whose messages need a
//     connection set up first), call PeerUp when a connection to a member
//     is up. A probe of a member without one waits for it, at most
//     ConnectTimeout, before its ProbeTimeout starts; PeerDown (a failed
//     dial) ends the wait at once. See conns.go.
//   - Optionally call LinkUp and LinkDown as links to members open and
//     close (the agent: HyParView's active view). Gossip rounds and
//     indirect probes then go to linked members first and to random ones
//     only when too few are linked, so that a transport where a first
//     message to a member costs a handshake is not flooded with dials.
//     Without links every pick is random, as in the paper.
//   - Keep calling Tick after a stall (a SIGSTOPped or starved process):
//     a Tick that comes much later than TickInterval pushes every running
//     timer back by the gap, so messages that waited meanwhile (acks,
//     refutations) are read before any verdict.
//
// Commands are Join, Leave, SetMeta, CreateGroup and Signal; accessors are
// Members, Member, LocalHealth, Stats, Incarnation and Groups.
//
// The core starts no goroutine, takes no lock, reads no clock and draws
// only from the *rand.Rand it is given; no map iteration order reaches its
// outputs.
package swim
