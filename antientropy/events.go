package antientropy

import "github.com/hearsay-mesh/hearsay/membership"

// Merged says a session changed some keys of the local store: the agent
// tells their subscribers. Keys are sorted.
type Merged struct {
	membership.EventMarker
	Peer NodeID
	Keys []string
}

// SessionDone says a session this node started has finished (not emitted
// for abandoned sessions; see Stats.Abandoned).
type SessionDone struct {
	membership.EventMarker
	Peer NodeID
	// Path is "in-sync", "delta" (the dot-key log answered) or "tree"
	// (the Merkle walk answered).
	Path string
	// Pulled is how many objects the session merged locally.
	Pulled int
	// RoundTrips counts request/response exchanges, the Sync included.
	RoundTrips int
}
