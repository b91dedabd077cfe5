package sim

import (
	"time"

	"google.golang.org/protobuf/proto"
)

type eventKind uint8

const (
	evDeliver eventKind = iota + 1
	evTick
	evLinkDown
	evConnUp // a connection between node and from is set up (Config.Connect)
	evAction
)

// event is one entry of the simulator's agenda.
type event struct {
	at    time.Duration
	seq   uint64
	kind  eventKind
	node  int32 // target node
	from  int32 // sender for deliveries, failed peer for link-down
	core  int16 // core index for ticks and deliveries
	epoch uint32
	life  uint32 // deliveries: the target's life when sent; link-downs: the node's
	msg   proto.Message
	wire  []byte // the encoded message, with Config.Wire
	act   func()
}

// agenda is a binary min-heap of events ordered by (at, seq).
type agenda struct{ h []event }

func (a *agenda) less(i, j int) bool {
	if a.h[i].at != a.h[j].at {
		return a.h[i].at < a.h[j].at
	}
	return a.h[i].seq < a.h[j].seq
}

func (a *agenda) push(e event) {
	a.h = append(a.h, e)
	i := len(a.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a.h[i], a.h[p] = a.h[p], a.h[i]
		i = p
	}
}

func (a *agenda) pop() event {
	top := a.h[0]
	n := len(a.h) - 1
	a.h[0] = a.h[n]
	a.h[n] = event{}
	a.h = a.h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a.less(r, l) {
			m = r
		}
		if !a.less(m, i) {
			break
		}
		a.h[i], a.h[m] = a.h[m], a.h[i]
		i = m
	}
	return top
}

func (a *agenda) len() int { return len(a.h) }

func (a *agenda) peek() time.Duration { return a.h[0].at }
