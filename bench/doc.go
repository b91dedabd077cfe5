// Package bench runs hearsay's benchmarks on real libp2p hosts on
// 127.0.0.1, in one process, with a peer implementation measured in the
// same run so the figures can be read as ratios on a noisy machine.
//
// `hearsay bench broadcast` (Broadcast) starts N agents twice: once with
// plumtree on its own HyParView overlay, once with go-libp2p-pubsub's
// GossipSub where each host dials D random others. It publishes M messages
// of S bytes from random senders at R per second and reports, side by
// side, reliability, relative message redundancy, control messages and
// bytes per delivery, latency percentiles and peak heap.
package bench
