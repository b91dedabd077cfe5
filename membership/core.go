package membership

import (
	"time"

	"google.golang.org/protobuf/proto"
)

// ProtocolID names a core's wire protocol; in the agent it is the libp2p
// protocol ID its stream uses, for example "/hearsay/hyparview/1.0.0".
type ProtocolID string

// Send is a message a core wants delivered to one peer.
type Send struct {
	To  NodeID
	Msg proto.Message
}

// Event is a notification for the layers above. Each core defines its
// event types; the ones shared across layers are in events.go.
type Event interface{ isEvent() }

// Ready is what a core hands back after being fed: messages to send and
// events to route. The driver owns the slices once returned.
type Ready struct {
	Sends  []Send
	Events []Event
}

// Empty reports whether there is nothing to do.
func (r Ready) Empty() bool { return len(r.Sends) == 0 && len(r.Events) == 0 }

// Core is the contract every protocol core implements. See the package
// documentation for what a driver must do with each input and output.
type Core interface {
	// Protocol is the wire protocol this core speaks.
	Protocol() ProtocolID
	// NewMessage returns an empty message of the core's wire type, for
	// the driver to decode frames into.
	NewMessage() proto.Message
	// TickInterval is how often the driver must call Tick.
	TickInterval() time.Duration
	// Step feeds a message that arrived from a peer. A message that does
	// not make sense (unknown kind, missing fields) returns an error and
	// changes nothing; the driver logs it and may drop the peer.
	Step(now time.Duration, from NodeID, msg proto.Message) error
	// Tick tells the core that time has passed.
	Tick(now time.Duration)
	// PeerDown tells the core that the link to a peer failed.
	PeerDown(now time.Duration, peer NodeID)
	// Ready drains the queued outputs.
	Ready() Ready
}

// Outbox is a helper cores embed to queue outputs for Ready.
type Outbox struct {
	sends  []Send
	events []Event
}

// Send queues a message.
func (o *Outbox) Send(to NodeID, msg proto.Message) {
	o.sends = append(o.sends, Send{To: to, Msg: msg})
}

// Emit queues an event.
func (o *Outbox) Emit(ev Event) { o.events = append(o.events, ev) }

// Ready drains the queue.
func (o *Outbox) Ready() Ready {
	r := Ready{Sends: o.sends, Events: o.events}
	o.sends, o.events = nil, nil
	return r
}

// Pending reports how many outputs are queued.
func (o *Outbox) Pending() int { return len(o.sends) + len(o.events) }
