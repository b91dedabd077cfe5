// Package plumtree is the broadcast core: Epidemic Broadcast Trees
// (Leitão, Pereira, Rodrigues, SRDS 2007) as a deterministic state machine
// that implements membership.Core. Protocol "/hearsay/plumtree/1.0.0",
// wire messages in package pb (one Envelope per frame).
//
// # Protocol
//
// Each node splits its overlay neighbours into eager and lazy peers. A new
// message (Broadcast, or a GOSSIP received for the first time) is pushed
// with its payload to the eager peers and announced to the lazy ones by
// IHAVE; announcements are queued per peer and sent in one IHAVE per peer
// per Tick. A node that receives a payload it already has answers PRUNE
// and moves the sender to its lazy set (the receiver of the PRUNE does the
// same), so the eager links shrink to a spanning tree. New neighbours
// start eager as in the paper until a tree has carried traffic; then
// (Config.LazyNewLinks) a new neighbour starts lazy in that tree, even
// where the node's parent went down, and is grafted only when a message
// goes missing.
//
// The two ends of a new overlay link learn of it at different moments;
// until both list it, only one end pushes and announces into it. A message
// that goes by meanwhile on the other end's side would never cross if that
// link were the only one between two parts of the overlay, so a node tells
// a new neighbour, MaxTreeLag after it came up (when the tree's own copies
// have had their time), of the messages it delivered in the CatchUpSpan
// before, by IHAVE; the neighbour grafts the ones it lacks.
//
// A node that hears IHAVE for a message it lacks starts a timer; when it
// fires it sends GRAFT to the announcer, which moves that link to eager and
// answers with the payload; if that answer does not come in time the next
// announcer is tried (Config.MaxGraftAttempts in all). This repairs the
// tree after failures and loss. The timers are adaptive: each waits a
// multiple of the retransmission timeout (RFC 6298 smoothed RTT plus four
// deviations) of the peer involved, measured from GRAFT-to-GOSSIP round
// trips, bounded by Config.GraftTimeoutMin and GraftTimeoutMax. The first
// timer also waits at least the node's tree lag, measured from normal
// traffic (how long after its IHAVE the tree's copy of a message arrives),
// and a Tick that comes long after the previous one (the node was not
// running) pushes the timers back, so that payloads already queued in the
// driver are processed before a GRAFT asks for them again. A node whose
// parent in a tree went down grafts at the next Tick.
//
// Tree optimisation: when a lazy peer announces messages at a hop count
// shorter by Config.OptimizationThreshold than the path that delivered
// them, on Config.OptimizationConfirm consecutive announcements, the node
// grafts that peer (a GRAFT naming only the origin) and prunes its old
// parent, in that origin's tree only.
//
// Message IDs are the origin's node ID plus a sequence number. Delivered
// messages are cached (Config.CacheSize, CacheTTL) to answer GRAFTs and to
// recognise duplicates; an evicted ID raises its origin's floor so that a
// message is delivered at most once per node even after eviction. Floors
// are bounded too (Config.MaxFloors, least recently raised forgotten
// first, counted in Stats.FloorsEvicted).
//
// With Config.PerOriginTrees (the default) each origin gets its own
// eager/lazy split, forked from the shared one and bounded by
// MaxOriginTrees; PRUNE and GRAFT name the origins whose trees they
// change. The shared split is then the template new origins start from,
// and only changes made while an origin's split has carried at most one
// message reach it, so it stays the tree a single shared tree would be for
// senders that send once. A per-origin tree knows the newest message it
// carried: an older one (a straggler that a peer had late) is delivered
// and passed on without reshaping the tree (its pusher does not become
// eager or parent, its duplicate from the parent is not pruned), and a
// node that lacks one while the tree is delivering to it asks for it with
// a catch-up GRAFT, which the receiver answers without changing the link.
// An orphan, or a node the tree has not pushed to lately, grafts as in the
// paper, whatever the sequence numbers say.
//
// # What the driver must do
//
//   - Route the overlay's membership.NeighborUp and NeighborDown events into
//     NeighborUp and NeighborDown; call PeerDown when a link fails.
//   - Call Tick every TickInterval; IHAVEs and GRAFT timers depend on it.
//   - Decode each frame into NewMessage() and pass it to Step. An error
//     means the frame was invalid and nothing changed; log it, and the
//     peer may be dropped.
//   - Send every Ready().Sends entry to its peer, in order per peer. The
//     messages may be shared between several sends and with the core's
//     cache: encode them, never modify them.
//   - Hand each Delivered event's payload to the layer above; it comes
//     once per message per node. The payload is shared: read-only.
//   - Export Stats() as metrics: every drop forced by a bound is counted.
package plumtree
