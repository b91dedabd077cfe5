// Package hyparview is the HyParView membership core (Leitão, Pereira and
// Rodrigues, "HyParView: a membership protocol for reliable gossip-based
// broadcast", DSN 2007): a small symmetric active view of open links that
// broadcast runs on, and a larger passive view of backups to heal from.
//
// # Protocol
//
//   - JOIN: a new node sends JOIN to a contact. The contact takes it into
//     its active view and sends FORWARDJOIN(joiner, ARWL) to each other
//     active neighbour. Each FORWARDJOIN walks at random over active views;
//     the node at TTL PRWL puts the joiner in its passive view, and the node
//     where TTL reaches 0 (or that has only the sender as neighbour) takes
//     it into its active view. A node that takes the joiner tells it with a
//     high-priority NEIGHBOR, which the joiner always accepts, so active
//     views stay symmetric.
//   - NEIGHBOR(high): a high-priority request (the sender has no neighbour)
//     is always accepted, a full active view dropping a random member with
//     DISCONNECT; a low-priority one only if there is room. NEIGHBORREPLY
//     carries the answer.
//   - DISCONNECT: the sender dropped us; it moves to the passive view.
//   - SHUFFLE, once per ShuffleInterval: self, ka active and kp passive
//     nodes walk ShuffleTTL hops; the node where the TTL runs out (or that
//     has no other neighbour) answers the origin with as many passive
//     nodes, and both integrate the other's list into their passive views,
//     evicting first the nodes they sent.
//   - Failures: PeerDown of an active neighbour removes it and promotes
//     passive nodes with NEIGHBOR (high priority if the active view is
//     empty), trying the next candidate on rejection, PeerDown or
//     NeighborTimeout. Nodes that asked us for a link while we were full
//     are asked first when we have room: they had a free slot too. A shuffle whose first hop is
//     reported down is resent through another active neighbour, so a node
//     whose neighbours all crashed silently finds out within a few
//     link-down delays of its next shuffle.
//
// Beyond the paper, three robustness mechanisms:
//
//   - Rejoin: a node with no neighbour and no passive node left to ask
//     sends JOIN through the contacts it was given, in turn, with
//     exponential backoff (JoinTimeout doubling up to JoinBackoffMax).
//   - Reserve: nodes the passive view dropped to make room are kept (up
//     to ReserveSize, oldest forgotten first) and asked only when the
//     passive view has no candidate left and the active view has a free
//     slot, so a survivor of a mass failure whose whole passive view died
//     still finds a live node.
//   - Partition heal: every node remembers up to FailedSize recently failed
//     nodes for FailedTTL. Once per shuffle cycle it probes one of them
//     with a SHUFFLE of TTL 0. After a partition heals, the probe is
//     answered: the node goes back into the passive view and, with
//     probability HealProbability (drawn only at the first answered probe
//     in FailedTTL; always if we are isolated), gets a high-priority
//     NEIGHBOR, creating an active link across the former cut. An
//     isolated node probes every tick instead of every cycle. A probe to a node that is still down costs one message and
//     changes nothing, so the steady-state overlay does not churn. See
//     docs/hyparview.md.
//
// Active views stay symmetric under reordering the paper does not meet:
// NEIGHBORREPLYs are matched, in order, to the NEIGHBORs sent (requests and
// the confirmations JOIN and FORWARDJOIN send), and an answer to a
// NEIGHBOR we sent DISCONNECT after makes no link (see askedNeighbor). A
// SHUFFLE with TTL left (only active neighbours send one) from a node we
// neither hold nor ask is answered with DISCONNECT, so a link only one end
// holds cannot last.
//
// # What the driver must do
//
//   - Call Tick every TickInterval, Step for every Envelope a peer sends
//     on the Protocol stream (decode into NewMessage), and PeerDown when a
//     link to a peer closes or a dial or write to it fails: that is the
//     failure detector the protocol relies on.
//   - After every input, take Ready: send each Send to its peer (dialing
//     it with the addresses from Lookup if there is no link: shuffle
//     replies and NEIGHBOR requests go to nodes that are not neighbours
//     yet), and route the events: membership.NeighborUp when a peer enters
//     the active view (keep its connection open; plumtree may use it) and
//     membership.NeighborDown when it leaves (Failed says whether its link
//     failed). Close a connection only when no core needs it.
//   - Messages are read-only once sent or received: the core shares node
//     records between messages and the simulator passes them by pointer.
//
// The core never starts a goroutine, takes a lock, reads the clock, draws
// from a global random source or does I/O; views are slices, so Go's map
// order never reaches an output.
package hyparview
