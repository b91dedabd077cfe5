package plumtree

// Stats counts what a core did, for metrics. Every drop has a counter.
type Stats struct {
	Broadcasts     uint64 // Broadcast calls accepted
	Delivered      uint64 // Delivered events emitted (own broadcasts included)
	GossipSent     uint64 // payload messages sent (eager push and GRAFT answers)
	GossipReceived uint64 // payload messages received
	Duplicates     uint64 // payload messages received for a delivered message
	// StaleDuplicates counts duplicates of old messages from the parent
	// of their origin's tree, which is not pruned for them (per-origin
	// trees; see trees.straggler).
	StaleDuplicates uint64
	IHaveSent       uint64 // IHAVE messages sent
	IHaveEntries    uint64 // announcements sent in them
	GraftsSent      uint64 // GRAFT messages sent for missing messages
	GraftsReceived  uint64 // GRAFT messages received
	GraftMisses     uint64 // GRAFTed IDs no longer in the cache
	PrunesSent      uint64 // PRUNE messages sent
	PrunesReceived  uint64 // PRUNE messages received
	Optimizations   uint64 // tree optimisations (graft a shorter path, prune the old)
	RTTSamples      uint64 // round-trip times measured (GRAFT answered)
	LagSamples      uint64 // tree lags measured (payload after its IHAVE)
	Stalls          uint64 // Ticks late enough that the timers were pushed back
	LazyNewLinks    uint64 // neighbours that came up lazy (Config.LazyNewLinks), per tree
	// RecentAnnounced counts announcements of recent messages queued to
	// new neighbours (Config.AnnounceRecent).
	RecentAnnounced uint64
	// CatchUpAnnounced counts announcements queued to a neighbour
	// MaxTreeLag after it came up, of the messages delivered in the
	// CatchUpSpan before (Config.CatchUpSpan).
	CatchUpAnnounced uint64
	// LateAnswersPruned counts GRAFT answers that came after another copy
	// had delivered the message, whose senders were pruned (see
	// pruneLateAnswer).
	LateAnswersPruned uint64

	LazyDropped    uint64 // announcements dropped: a peer's IHAVE queue was full
	MissingDropped uint64 // announcements dropped: the missing table was full
	MissingGaveUp  uint64 // missing messages abandoned after MaxGraftAttempts
	StaleDropped   uint64 // messages older than the origin's forgotten ones, dropped
	CacheEvicted   uint64 // cache entries evicted (age or count)
	TreesEvicted   uint64 // per-origin trees evicted (MaxOriginTrees)
	FloorsEvicted  uint64 // per-origin delivered floors forgotten (MaxFloors)
	Rejected       uint64 // Step calls that returned an error
}
