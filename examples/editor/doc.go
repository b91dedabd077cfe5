// Command editor is hearsay's demo: a shared text editor in the browser.
// Every agent in a mesh holds a replica of one text key (the text CRDT);
// each person runs the editor beside their own agent and types, and every
// other editor on the mesh shows the edit as soon as its agent has it.
//
//	hearsay agent --data-dir /tmp/a --listen /ip4/127.0.0.1/tcp/4001 &
//	hearsay agent --data-dir /tmp/b --listen /ip4/127.0.0.1/tcp/4002 --join <a's address> &
//	go run ./examples/editor --data-dir /tmp/a --listen 127.0.0.1:8701 &
//	go run ./examples/editor --data-dir /tmp/b --listen 127.0.0.1:8702 &
//
// then open http://127.0.0.1:8701 and http://127.0.0.1:8702 side by side.
//
// The editor serves one page (static/, embedded) and relays its WebSocket
// to the agent's JSON-RPC WebSocket, adding the agent's token (read from
// rpc.cookie in the data directory), so the token never reaches the
// browser and the page stays same-origin. Because the relay holds the
// token, it passes only the four methods the page uses and refuses the
// rest itself; anyone who can reach the editor's address can edit text
// through it, so it listens on 127.0.0.1 unless told otherwise. The page
// speaks JSON-RPC 2.0 itself: text_get and crdt_subscribe to follow the
// key, text_insert and text_delete for what the user types (positions in
// Unicode code points).
//
// What a remote edit does to the local cursor is worked out by diffing the
// old text against the new (common prefix and suffix); two people typing
// at the same spot within one round trip to their agents may see one
// keystroke land a character away from where it was typed (the position
// is resolved against the agent's text when the edit arrives there). The
// replicas still converge: the agent applies every edit as a CRDT
// operation. docs/usage.md, "The shared editor demo", says more.
package main
