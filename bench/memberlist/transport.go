package main

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// countingTransport wraps memberlist's NetTransport and counts the payload
// bytes memberlist hands to the network: UDP packets (WriteTo) and what it
// writes on TCP streams, dialled or accepted. IP, UDP and TCP headers are
// not counted, as libp2p's counters do not count framing on our side.
type countingTransport struct {
	inner       *memberlist.NetTransport
	packetBytes atomic.Uint64
	streamBytes atomic.Uint64
	streams     chan net.Conn
	stop        chan struct{}
}

var _ memberlist.Transport = (*countingTransport)(nil)

func newCountingTransport(inner *memberlist.NetTransport) *countingTransport {
	t := &countingTransport{inner: inner, streams: make(chan net.Conn), stop: make(chan struct{})}
	go t.forward()
	return t
}

// forward wraps every accepted stream so that the replies written on it
// are counted.
func (t *countingTransport) forward() {
	for {
		select {
		case c := <-t.inner.StreamCh():
			select {
			case t.streams <- &countingConn{Conn: c, n: &t.streamBytes}:
			case <-t.stop:
				c.Close()
				return
			}
		case <-t.stop:
			return
		}
	}
}

func (t *countingTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

func (t *countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.packetBytes.Add(uint64(len(b)))
	return t.inner.WriteTo(b, addr)
}

func (t *countingTransport) PacketCh() <-chan *memberlist.Packet { return t.inner.PacketCh() }

func (t *countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := t.inner.DialTimeout(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &t.streamBytes}, nil
}

func (t *countingTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *countingTransport) Shutdown() error {
	close(t.stop)
	return t.inner.Shutdown()
}

type countingConn struct {
	net.Conn
	n *atomic.Uint64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(uint64(n))
	return n, err
}
