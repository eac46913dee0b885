// Package probe sends DNS queries from a chosen local address, so that a
// test, a benchmark or the demo can speak as a pod whose IP is a loopback
// address (the dev cluster gives kwok pods such addresses).
package probe

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Timeout bounds each exchange.
const Timeout = 2 * time.Second

// Asker sends queries from one address. It keeps one socket, so it is for
// one goroutine at a time.
type Asker struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	buf    []byte
}

// NewAsker binds from (port chosen by the kernel) and will ask server
// ("127.0.0.1:1053").
func NewAsker(from netip.Addr, server string) (*Asker, error) {
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)))
	if err != nil {
		return nil, fmt.Errorf("binding %s: %w", from, err)
	}
	return &Asker{conn: conn, server: srv, buf: make([]byte, 65535)}, nil
}

// Close releases the socket.
func (a *Asker) Close() error { return a.conn.Close() }

// Ask sends one query and returns the reply, parsed and as sent.
func (a *Asker) Ask(name string, qtype uint16) (*dns.Msg, []byte, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(4096, false)
	return a.Exchange(q)
}

// Exchange sends q and waits for the reply that carries its ID.
func (a *Asker) Exchange(q *dns.Msg) (*dns.Msg, []byte, error) {
	out, err := q.Pack()
	if err != nil {
		return nil, nil, err
	}
	if _, err := a.conn.WriteToUDP(out, a.server); err != nil {
		return nil, nil, err
	}
	deadline := time.Now().Add(Timeout)
	for {
		if err := a.conn.SetReadDeadline(deadline); err != nil {
			return nil, nil, err
		}
		n, _, err := a.conn.ReadFromUDP(a.buf)
		if err != nil {
			return nil, nil, err
		}
		m := new(dns.Msg)
		if err := m.Unpack(a.buf[:n]); err != nil || m.Id != q.Id {
			continue // a late reply to an earlier query
		}
		return m, append([]byte(nil), a.buf[:n]...), nil
	}
}

// Ask is a one-off NewAsker, Ask, Close.
func Ask(from netip.Addr, server, name string, qtype uint16) (*dns.Msg, []byte, error) {
	a, err := NewAsker(from, server)
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	return a.Ask(name, qtype)
}
