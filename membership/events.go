package membership

// NeighborUp says a link to a peer joined the overlay's active view: the
// layers above (plumtree, anti-entropy) may now use it.
type NeighborUp struct{ Node Node }

// NeighborDown says a peer left the active view (it failed, or was
// replaced, or disconnected).
type NeighborDown struct {
	Node Node
	// Failed is true when the peer was dropped because its link failed,
	// false when it was a deliberate exchange or disconnect.
	Failed bool
}

// MemberState is a member's state in the failure detector's view.
type MemberState uint8

// Member states, in the order SWIM's precedence uses.
const (
	StateAlive MemberState = iota + 1
	StateSuspect
	StateDead
	StateLeft
)

// String renders the state.
func (s MemberState) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateSuspect:
		return "suspect"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	default:
		return "unknown"
	}
}

// MemberChange names what happened to a member.
type MemberChange uint8

// Member changes reported to the layers above.
const (
	MemberJoined MemberChange = iota + 1
	MemberSuspect
	MemberAlive
	MemberFailed
	MemberLeft
	MemberUpdated
)

// String renders the change.
func (c MemberChange) String() string {
	switch c {
	case MemberJoined:
		return "joined"
	case MemberSuspect:
		return "suspect"
	case MemberAlive:
		return "alive"
	case MemberFailed:
		return "failed"
	case MemberLeft:
		return "left"
	case MemberUpdated:
		return "updated"
	default:
		return "unknown"
	}
}

// MemberEvent is the failure detector's verdict about a member.
type MemberEvent struct {
	Change      MemberChange
	Node        Node
	Incarnation uint64
	Meta        map[string]string
}

func (NeighborUp) isEvent()   {}
func (NeighborDown) isEvent() {}
func (MemberEvent) isEvent()  {}

// EventMarker can be embedded by other packages' event types so that they
// satisfy Event.
type EventMarker struct{}

func (EventMarker) isEvent() {}
