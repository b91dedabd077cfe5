package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
)

// fuseLogLen bounds the FUSE events kept for FuseEvents.
const fuseLogLen = 1024

// FuseEvent is one FUSE notification for the API.
type FuseEvent struct {
	Seq    uint64 `json:"seq"`
	Group  string `json:"group"`
	Kind   string `json:"kind"`             // "created", "create-failed" or "triggered"
	Reason string `json:"reason,omitempty"` // why a group triggered
	Member string `json:"member,omitempty"` // who signalled, failed or left
}

// recordFuse appends a FUSE event to the bounded log.
func (a *Agent) recordFuse(ev membership.Event) {
	var fe FuseEvent
	switch e := ev.(type) {
	case swim.FuseCreated:
		fe = FuseEvent{Group: string(e.Group), Kind: "created"}
	case swim.FuseCreateFailed:
		fe = FuseEvent{Group: string(e.Group), Kind: "create-failed", Member: string(e.Member)}
	case swim.FuseTriggered:
		fe = FuseEvent{Group: string(e.Group), Kind: "triggered", Reason: e.Reason.String(), Member: string(e.Member)}
	default:
		return
	}
	a.fuseSeq++
	fe.Seq = a.fuseSeq
	a.fuseLog = append(a.fuseLog, fe)
	if len(a.fuseLog) > fuseLogLen {
		a.fuseLog = a.fuseLog[len(a.fuseLog)-fuseLogLen:]
	}
}

// FuseEvents returns the FUSE events after cursor after, and the newest
// event's number.
func (a *Agent) FuseEvents(ctx context.Context, after uint64) ([]FuseEvent, uint64, error) {
	var out []FuseEvent
	var seq uint64
	err := a.Do(ctx, func(time.Duration) {
		seq = a.fuseSeq
		for _, e := range a.fuseLog {
			if e.Seq > after {
				out = append(out, e)
			}
		}
	})
	return out, seq, err
}

// FuseCreate creates a FUSE group of this node and the given members
// (peer IDs) and waits until every member has answered (the group is
// armed) or creation failed.
func (a *Agent) FuseCreate(ctx context.Context, members []string) (string, error) {
	ids := make([]membership.NodeID, 0, len(members))
	for _, m := range members {
		if _, err := peerID(membership.NodeID(m)); err != nil {
			return "", fmt.Errorf("member %q is not a peer ID: %w", m, err)
		}
		ids = append(ids, membership.NodeID(m))
	}
	var gid swim.GroupID
	var err error
	var from uint64
	if derr := a.Do(ctx, func(now time.Duration) {
		from = a.fuseSeq
		gid, err = a.sw.CreateGroup(now, ids)
	}); derr != nil {
		return "", derr
	}
	if err != nil {
		return "", err
	}
	wait := time.NewTicker(20 * time.Millisecond)
	defer wait.Stop()
	deadline := time.After(a.cfg.Swim.FuseCreateTimeout + time.Second)
	for {
		evs, _, err := a.FuseEvents(ctx, from)
		if err != nil {
			return "", err
		}
		for _, e := range evs {
			if e.Group != string(gid) {
				continue
			}
			switch e.Kind {
			case "created":
				return string(gid), nil
			case "create-failed", "triggered":
				return "", fmt.Errorf("fuse: creating group %s failed (member %s did not answer)", gid, e.Member)
			}
		}
		select {
		case <-wait.C:
		case <-deadline:
			return "", fmt.Errorf("fuse: group %s not armed within %v", gid, a.cfg.Swim.FuseCreateTimeout+time.Second)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// FuseSignal triggers a group this node belongs to.
func (a *Agent) FuseSignal(ctx context.Context, group string) error {
	var err error
	if derr := a.Do(ctx, func(now time.Duration) { err = a.sw.Signal(now, swim.GroupID(group)) }); derr != nil {
		return derr
	}
	return err
}

// Leave leaves the cluster gracefully (SWIM leave, HyParView DISCONNECT)
// and keeps the process running; restart it to rejoin.
func (a *Agent) Leave(ctx context.Context) error {
	return a.Do(ctx, func(time.Duration) { a.leave() })
}
