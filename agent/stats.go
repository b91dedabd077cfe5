package agent

import (
	"context"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/swim"
)

// Stats is every counter the agent keeps, for mesh_stats and /metrics.
type Stats struct {
	Broadcast    string            `json:"broadcast"`
	Delivered    uint64            `json:"delivered"`
	MemberEvents uint64            `json:"member_events"`
	Syncs        uint64            `json:"syncs"`
	ActivePeers  int               `json:"active_peers"`
	PassivePeers int               `json:"passive_peers"`
	Members      int               `json:"members_alive"`
	Keys         int               `json:"keys"`
	ChangeSeq    uint64            `json:"change_seq"`
	HyParView    hyparview.Stats   `json:"hyparview"`
	Plumtree     plumtree.Stats    `json:"plumtree"`
	Swim         swim.Stats        `json:"swim"`
	AntiEntropy  antientropy.Stats `json:"antientropy"`
	Transport    transport.Stats   `json:"transport"`
}

// Stats reads every counter on the loop.
func (a *Agent) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := a.Do(ctx, func(time.Duration) {
		s.Broadcast = a.cfg.Broadcast
		s.Delivered = a.delivered
		s.MemberEvents = a.memberEvents
		s.Syncs = a.syncs
		s.ActivePeers = a.hv.ActiveLen()
		s.PassivePeers = len(a.hv.Passive())
		s.Members = a.sw.NumAlive()
		s.Keys = a.st.Len()
		s.ChangeSeq = a.st.Seq()
		s.HyParView = a.hv.Stats()
		if a.pt != nil {
			s.Plumtree = a.pt.Stats()
		}
		s.Swim = a.sw.Stats()
		s.AntiEntropy = a.ae.Stats()
		s.Transport = a.tr.Stats()
	})
	return s, err
}

// Health is nil while the agent serves: its loop answers within ctx and
// its keyspace takes writes.
func (a *Agent) Health(ctx context.Context) error {
	var err error
	if derr := a.Do(ctx, func(time.Duration) { err = a.st.Healthy() }); derr != nil {
		return derr
	}
	return err
}
