package agent

import (
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// nodeID is the membership ID of a peer: its peer ID's text form, so
// every wire format can carry it as a string and logs can print it.
func nodeID(p peer.ID) membership.NodeID { return membership.NodeID(p.String()) }

// peerID parses a membership ID back into a peer ID.
func peerID(id membership.NodeID) (peer.ID, error) { return peer.Decode(string(id)) }

// parseJoin turns a multiaddr with a /p2p/ component into an AddrInfo.
func parseJoin(s string) (peer.AddrInfo, error) {
	ma, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	info, err := peer.AddrInfoFromP2pAddr(ma)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("want a multiaddr ending in /p2p/<peer ID>: %w", err)
	}
	return *info, nil
}

// nodeOf converts a libp2p AddrInfo to a membership record.
func nodeOf(info peer.AddrInfo) membership.Node {
	n := membership.Node{ID: nodeID(info.ID)}
	for _, a := range info.Addrs {
		n.Addrs = append(n.Addrs, a.String())
	}
	return n
}

// addrInfoOf converts a membership record to a libp2p AddrInfo, skipping
// addresses that do not parse (they came from a peer).
func addrInfoOf(n membership.Node) (peer.AddrInfo, error) {
	id, err := peerID(n.ID)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("node ID is not a peer ID: %w", err)
	}
	info := peer.AddrInfo{ID: id}
	for _, s := range n.Addrs {
		if ma, err := multiaddr.NewMultiaddr(s); err == nil {
			info.Addrs = append(info.Addrs, ma)
		}
	}
	return info, nil
}

// PeerInfo describes a peer for the API.
type PeerInfo struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs,omitempty"`
}

func peerInfoOf(n membership.Node) PeerInfo {
	return PeerInfo{ID: string(n.ID), Addrs: append([]string(nil), n.Addrs...)}
}
