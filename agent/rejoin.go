package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

// peersMeta is the store metadata entry that remembers the overlay's
// views, so a restarted node rejoins without --join.
const peersMeta = "hyparview.peers"

// rejoinContacts is how many remembered peers a restarted node joins
// through (the active view's first).
const rejoinContacts = 3

// savedPeer is one remembered peer: its ID and dialable addresses.
type savedPeer struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

// savePeers remembers the active view, then the passive view.
func (a *Agent) savePeers() {
	a.peersDirty = false
	var out []savedPeer
	for _, n := range append(a.hv.Active(), a.hv.Passive()...) {
		if len(n.Addrs) == 0 {
			continue
		}
		out = append(out, savedPeer{ID: string(n.ID), Addrs: n.Addrs})
	}
	if len(out) == 0 {
		return // keep what we knew rather than forget it while isolated
	}
	b, err := json.Marshal(out)
	if err != nil {
		return
	}
	if err := a.st.SaveMeta(peersMeta, b); err != nil {
		a.log.Warn("saving the overlay's views", "err", err)
	}
}

// maybeSavePeers saves the views at most every 5 s after they changed.
func (a *Agent) maybeSavePeers() {
	if a.peersDirty && time.Since(a.peersSaved) > 5*time.Second {
		a.peersSaved = time.Now()
		a.savePeers()
	}
}

// rememberedPeers loads the views saved by a previous run.
func (a *Agent) rememberedPeers() ([]membership.Node, error) {
	raw, ok, err := a.st.LoadMeta(peersMeta)
	if err != nil || !ok {
		return nil, err
	}
	var saved []savedPeer
	if err := json.Unmarshal(raw, &saved); err != nil {
		return nil, fmt.Errorf("agent: remembered peers are corrupt: %w", err)
	}
	var out []membership.Node
	for _, s := range saved {
		if _, err := peerID(membership.NodeID(s.ID)); err != nil {
			continue
		}
		out = append(out, membership.Node{ID: membership.NodeID(s.ID), Addrs: s.Addrs})
	}
	return out, nil
}

// rejoin joins through remembered peers when no --join was given.
func (a *Agent) rejoin() {
	nodes, err := a.rememberedPeers()
	if err != nil {
		a.log.Warn("not rejoining", "err", err)
		return
	}
	for i, n := range nodes {
		if i == rejoinContacts {
			break
		}
		info, err := addrInfoOf(n)
		if err != nil {
			continue
		}
		a.tr.AddAddrs(info, peerstore.AddressTTL)
		a.hv.Join(a.now(), n)
		if err := a.sw.Join(a.now(), n); err != nil {
			a.log.Debug("swim rejoin", "peer", string(n.ID), "err", err)
		}
	}
	if len(nodes) > 0 {
		a.log.Info("rejoining through remembered peers", "known", len(nodes))
	}
}
