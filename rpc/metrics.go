package rpc

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hearsay-mesh/hearsay/agent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// StatsSource is what /metrics reads; *agent.Agent provides it.
type StatsSource interface {
	Stats(ctx context.Context) (agent.Stats, error)
}

// collector turns the agent's counters into Prometheus metrics at each
// scrape (reading them on the agent's loop), so nothing is counted twice.
type collector struct {
	src   StatsSource
	descs map[string]*prometheus.Desc
}

type metric struct {
	name, help string
	counter    bool
	labels     []string
}

var metricDefs = []metric{
	{"hearsay_broadcast_delivered_total", "Broadcasts delivered to this node.", true, nil},
	{"hearsay_broadcast_duplicates_total", "Payload copies received for an already delivered broadcast (plumtree).", true, nil},
	{"hearsay_broadcast_grafts_total", "GRAFTs sent for missing broadcasts (plumtree).", true, nil},
	{"hearsay_broadcast_prunes_total", "PRUNEs sent (plumtree).", true, nil},
	{"hearsay_broadcast_dropped_total", "Broadcast announcements dropped by a full queue (plumtree).", true, nil},
	{"hearsay_swim_suspicions_total", "Members this node started suspecting.", true, nil},
	{"hearsay_swim_deaths_total", "Members this node declared dead.", true, nil},
	{"hearsay_swim_refutations_total", "Suspicions about this node it refuted.", true, nil},
	{"hearsay_member_events_total", "Membership changes seen.", true, nil},
	{"hearsay_syncs_total", "Anti-entropy sessions completed.", true, nil},
	{"hearsay_sync_objects_pulled_total", "Objects merged from anti-entropy.", true, nil},
	{"hearsay_hyparview_failures_total", "Active neighbours lost to link failure.", true, nil},
	{"hearsay_active_peers", "HyParView active view size.", false, nil},
	{"hearsay_passive_peers", "HyParView passive view size.", false, nil},
	{"hearsay_members_alive", "Members alive or suspect, this node included.", false, nil},
	{"hearsay_keys", "Keys in the keyspace.", false, nil},
	{"hearsay_protocol_frames_sent_total", "Frames written per protocol.", true, []string{"protocol"}},
	{"hearsay_protocol_frames_received_total", "Frames received per protocol.", true, []string{"protocol"}},
	{"hearsay_protocol_frames_dropped_total", "Frames dropped per protocol (full queue or failed stream).", true, []string{"protocol"}},
	{"hearsay_protocol_bad_frames_total", "Inbound streams reset for a bad frame, per protocol.", true, []string{"protocol"}},
	{"hearsay_protocol_dials_total", "Connections set up to send a protocol's first message to a peer, per protocol.", true, []string{"protocol"}},
}

func newCollector(src StatsSource) *collector {
	c := &collector{src: src, descs: map[string]*prometheus.Desc{}}
	for _, m := range metricDefs {
		c.descs[m.name] = prometheus.NewDesc(m.name, m.help, m.labels, nil)
	}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.src.Stats(ctx)
	if err != nil {
		return
	}
	emit := func(name string, v float64, labels ...string) {
		typ := prometheus.GaugeValue
		for _, m := range metricDefs {
			if m.name == name && m.counter {
				typ = prometheus.CounterValue
			}
		}
		ch <- prometheus.MustNewConstMetric(c.descs[name], typ, v, labels...)
	}
	emit("hearsay_broadcast_delivered_total", float64(s.Delivered))
	emit("hearsay_broadcast_duplicates_total", float64(s.Plumtree.Duplicates))
	emit("hearsay_broadcast_grafts_total", float64(s.Plumtree.GraftsSent))
	emit("hearsay_broadcast_prunes_total", float64(s.Plumtree.PrunesSent))
	emit("hearsay_broadcast_dropped_total", float64(s.Plumtree.LazyDropped+s.Plumtree.MissingDropped))
	emit("hearsay_swim_suspicions_total", float64(s.Swim.Suspicions))
	emit("hearsay_swim_deaths_total", float64(s.Swim.Deaths))
	emit("hearsay_swim_refutations_total", float64(s.Swim.Refutations))
	emit("hearsay_member_events_total", float64(s.MemberEvents))
	emit("hearsay_syncs_total", float64(s.Syncs))
	emit("hearsay_sync_objects_pulled_total", float64(s.AntiEntropy.ObjectsPulled))
	emit("hearsay_hyparview_failures_total", float64(s.HyParView.Failures))
	emit("hearsay_active_peers", float64(s.ActivePeers))
	emit("hearsay_passive_peers", float64(s.PassivePeers))
	emit("hearsay_members_alive", float64(s.Members))
	emit("hearsay_keys", float64(s.Keys))
	for p, ps := range s.Transport.Protocols {
		emit("hearsay_protocol_frames_sent_total", float64(ps.Sent), string(p))
		emit("hearsay_protocol_frames_received_total", float64(ps.Received), string(p))
		emit("hearsay_protocol_frames_dropped_total", float64(ps.DroppedQueueFull+ps.DroppedSendFailed), string(p))
		emit("hearsay_protocol_bad_frames_total", float64(ps.BadFrames), string(p))
		emit("hearsay_protocol_dials_total", float64(ps.Dials), string(p))
	}
}

// metricsHandler serves our metrics and, when reg is not nil, whatever
// else is registered there (libp2p's). It returns the collector it
// registered, for Close to unregister: a server started again on the same
// registry (an agent restarted in the process) then registers its own. A
// registry that already holds another live server's collector is an
// error (it panicked in MustRegister).
func metricsHandler(src StatsSource, reg *prometheus.Registry) (http.Handler, prometheus.Collector, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	c := newCollector(src)
	if err := reg.Register(c); err != nil {
		return nil, nil, fmt.Errorf("rpc: metrics registry: %w (another server registered there is still open)", err)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), c, nil
}
