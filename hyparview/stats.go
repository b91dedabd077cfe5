package hyparview

// Stats counts what the core did since it started.
type Stats struct {
	Sent, Received uint64 // messages
	Malformed      uint64 // messages rejected by Step

	JoinsSent, JoinsReceived uint64
	ForwardJoins             uint64 // FORWARDJOINs received
	NeighborUps              uint64 // nodes added to the active view
	NeighborDowns            uint64 // nodes removed from the active view
	Evictions                uint64 // active nodes dropped to make room
	Failures                 uint64 // active neighbours lost by PeerDown

	Requests, Accepted, Rejected      uint64 // NEIGHBOR requests we sent and their fate
	TimedOut, RequestFailures         uint64 // no reply in time / PeerDown of the target
	RequestsAccepted, RequestsRefused uint64 // NEIGHBOR requests we answered
	ReserveRequests                   uint64 // NEIGHBOR requests to reserve nodes (passive view used up)
	StaleAccepts                      uint64 // acceptances answering a NEIGHBOR we had sent DISCONNECT after, or none: no link
	OneSidedUndone                    uint64 // DISCONNECTs to a node that shuffled over a link we did not hold
	HintsGiven, HintsTaken            uint64 // refusals naming another room seeker / such names we asked

	Splices                  uint64 // full-view splices for requesters with 2+ free slots
	Shuffles, ShuffleReplies uint64 // started / received
	// UnsolicitedReplies counts ShuffleReplies that answered no shuffle
	// or probe of this node (ignored).
	UnsolicitedReplies     uint64
	ShuffleRetries         uint64 // shuffles resent after their first hop failed
	Probes, ProbesAnswered uint64 // failed-node probes sent / answered
	HealLinks              uint64 // probes escalated to a high-priority NEIGHBOR
	Suggested              uint64 // passive entries the layer above offered (Suggest, Revive)
}
