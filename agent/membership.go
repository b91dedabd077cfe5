package agent

import (
	"context"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim"
)

// routeMembership handles SWIM's verdicts: a member declared dead or gone
// is evicted from HyParView's views (as if its link had failed), one that
// HyParView remembers as failed and that joined again or refuted a
// suspicion is taken back (Revive), and every change is recorded for the
// layers above.
func (a *Agent) routeMembership(now time.Duration, ev membership.Event) bool {
	switch e := ev.(type) {
	case membership.MemberEvent:
		switch e.Change {
		case membership.MemberFailed, membership.MemberLeft:
			a.hv.Evict(now, e.Node.ID)
		case membership.MemberJoined, membership.MemberAlive:
			// Back from a suspicion or a death: HyParView may have
			// dropped it on the way (Evict, or a link that failed).
			a.hv.Revive(e.Node)
		}
		a.log.Info("member", "change", e.Change.String(), "peer", string(e.Node.ID), "incarnation", e.Incarnation)
		a.memberEvents++
		if a.cfg.OnMember != nil {
			a.cfg.OnMember(e)
		}
		return true
	case swim.FuseCreated, swim.FuseCreateFailed, swim.FuseTriggered:
		a.recordFuse(ev)
		if a.cfg.OnFuse != nil {
			a.cfg.OnFuse(ev)
		}
		return true
	case swim.ProbeInconclusive:
		a.log.Info("probe inconclusive", "peer", string(e.Node), "took", now-e.Started, "tries", e.Tries)
		return true
	case swim.ProbeFailed:
		// Each failed probe leads to a suspicion: worth a line for an
		// operator (and for reading a formation storm from the logs).
		a.log.Info("probe failed", "peer", string(e.Node), "took", now-e.Started, "hint", e.Hint,
			"waited_for_conn", e.Waited, "relays", e.Relays, "nacks", e.Nacks, "health", a.sw.LocalHealth())
		return true
	}
	return false
}

// Member describes a member for the API.
type Member struct {
	ID          string            `json:"id"`
	Addrs       []string          `json:"addrs,omitempty"`
	State       string            `json:"state"`
	Incarnation uint64            `json:"incarnation"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// Members reads SWIM's member list on the loop, this node included.
func (a *Agent) Members(ctx context.Context) ([]Member, error) {
	var out []Member
	err := a.Do(ctx, func(time.Duration) {
		for _, m := range a.sw.Members() {
			pi := peerInfoOf(m.Node)
			out = append(out, Member{ID: pi.ID, Addrs: pi.Addrs, State: m.State.String(), Incarnation: m.Incarnation, Meta: m.Meta})
		}
	})
	return out, err
}

// SetMeta replaces this node's metadata (name, tags) and disseminates it.
func (a *Agent) SetMeta(ctx context.Context, meta map[string]string) error {
	var err error
	if derr := a.Do(ctx, func(now time.Duration) { err = a.sw.SetMeta(now, meta) }); derr != nil {
		return derr
	}
	return err
}
