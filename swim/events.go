package swim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// ProbeFailed reports a probe that got no ack, direct or indirect, before
// the suspicion it causes: Started is when its ping was sent. It is a
// trace for experiments (SWIM's "first detection" time); other layers can
// ignore it.
type ProbeFailed struct {
	membership.EventMarker
	Node    membership.NodeID
	Started time.Duration
	// Hint is set when the probe was started by PeerDown, outside the
	// round-robin order.
	Hint bool
	// Waited is set when the probe first waited for a connection to Node
	// (Config.ConnectTimeout).
	Waited bool
	// Relays and Nacks are the ping-reqs sent and the nacks that came
	// back: nacks from every relay mean they are alive but could not
	// reach Node either.
	Relays, Nacks int
}

// ProbeInconclusive reports a probe (or hint check) that ended without a
// verdict: no connection to Node came up within Config.ConnectTimeout and
// the dial was not refused. Tries is how many such probes in a row Node has
// had (Config.InconclusiveProbes bounds it).
type ProbeInconclusive struct {
	membership.EventMarker
	Node    membership.NodeID
	Started time.Duration
	Tries   int
}

// GroupID names a FUSE group: "<creator>/<counter>".
type GroupID string

// FuseReason says why a FUSE group triggered.
type FuseReason uint8

// Reasons a group triggers.
const (
	// FuseSignalled: a member called Signal.
	FuseSignalled FuseReason = iota + 1
	// FuseMemberFailed: SWIM declared a member dead.
	FuseMemberFailed
	// FuseMemberLeft: a member left the cluster.
	FuseMemberLeft
	// FuseCreationFailed: the group's creation did not complete.
	FuseCreationFailed
)

// String renders the reason.
func (r FuseReason) String() string {
	switch r {
	case FuseSignalled:
		return "signalled"
	case FuseMemberFailed:
		return "member-failed"
	case FuseMemberLeft:
		return "member-left"
	case FuseCreationFailed:
		return "create-failed"
	default:
		return "unknown"
	}
}

// FuseCreated says a group is armed: at the creator once every member
// answered its creation request, at a member once the creator confirmed.
type FuseCreated struct {
	membership.EventMarker
	Group   GroupID
	Members []membership.NodeID // sorted, including this node
	Creator bool                // this node created the group
}

// FuseCreateFailed tells the creator that a group it asked for could not
// be created; Member is the one that did not answer or is not alive. The
// members that did hear of it get FuseTriggered with FuseCreationFailed.
type FuseCreateFailed struct {
	membership.EventMarker
	Group  GroupID
	Member membership.NodeID
}

// FuseTriggered says a group fired. It is emitted at most once per group
// at each live member; the group is then gone.
type FuseTriggered struct {
	membership.EventMarker
	Group  GroupID
	Reason FuseReason
	// Member is who signalled, failed or left (or the member that made
	// creation fail).
	Member membership.NodeID
}
