// Package rpc serves the agent's local JSON-RPC 2.0 API and provides a
// typed Go client for it.
//
// The protocol is github.com/creachadair/jrpc2 (batches, notifications and
// the standard error codes come from it, not from code written here). The
// server listens only on loopback. Every HTTP request must carry the token
// from the cookie file in the agent's data directory (mode 0600, rewritten
// at each start), as bitcoind does:
//
//	Authorization: Bearer <token>
//
// and a request whose Origin header names a site other than the loopback
// endpoint itself is refused, so a web page cannot drive the agent.
//
// Methods are namespaced: agent_info, mesh_peers, mesh_join (more arrive
// with the CRDT store: see docs/).
package rpc
