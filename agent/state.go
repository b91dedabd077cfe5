package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

// Info describes the agent for the API.
type Info struct {
	ID      string   `json:"id"`
	Addrs   []string `json:"addrs"`
	Version string   `json:"version"`
	Uptime  float64  `json:"uptime_seconds"`
}

// Info returns the agent's identity and addresses.
func (a *Agent) Info(version string) Info {
	return Info{ID: a.host.ID().String(), Addrs: a.Addrs(), Version: version, Uptime: time.Since(a.start).Seconds()}
}

// Peers are the overlay's views.
type Peers struct {
	Active  []PeerInfo `json:"active"`
	Passive []PeerInfo `json:"passive"`
	// ActiveMax is the configured active view size, so a client can tell
	// whether the view is full.
	ActiveMax int `json:"active_max"`
}

// Peers reads the HyParView views on the loop.
func (a *Agent) Peers(ctx context.Context) (Peers, error) {
	var p Peers
	err := a.Do(ctx, func(time.Duration) {
		p.Active = infos(a.hv.Active())
		p.Passive = infos(a.hv.Passive())
		p.ActiveMax = a.cfg.HyParView.ActiveSize
	})
	return p, err
}

func infos(ns []membership.Node) []PeerInfo {
	out := make([]PeerInfo, len(ns))
	for i, n := range ns {
		out[i] = peerInfoOf(n)
	}
	return out
}

// JoinPeer asks the overlay to join through addr (a multiaddr with /p2p/).
func (a *Agent) JoinPeer(ctx context.Context, addr string) error {
	info, err := parseJoin(addr)
	if err != nil {
		return err
	}
	if info.ID == a.host.ID() {
		return fmt.Errorf("agent: %s is this node's own address", addr)
	}
	var joinErr error
	if err := a.Do(ctx, func(now time.Duration) {
		if a.sw.Left() {
			// SWIM's leave is final for this process (peers hold it left
			// at a higher incarnation): joining the overlay alone would
			// make a node every member lists as left.
			joinErr = fmt.Errorf("agent: this node has left the mesh; restart the agent to join again")
			return
		}
		a.tr.AddAddrs(info, peerstore.PermanentAddrTTL)
		// SWIM and the overlay, as --join at start-up does: otherwise the
		// node is in the overlay but no SWIM member knows it until
		// someone's push-pull happens to bring it in.
		a.joinMesh(now, nodeOf(info))
	}); err != nil {
		return err
	}
	return joinErr
}
