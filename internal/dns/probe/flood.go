package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// FloodResult counts what a flood got back.
type FloodResult struct {
	Sent, NoError, Refused, Other int64
}

func (r FloodResult) String() string {
	return fmt.Sprintf("sent %d, NOERROR %d, REFUSED %d, other %d, unanswered %d",
		r.Sent, r.NoError, r.Refused, r.Other, r.Sent-r.NoError-r.Refused-r.Other)
}

// Flood sends queries for name from one address at a fixed rate for d,
// without waiting for replies, and counts the replies by rcode. The server
// must be a loopback address: a flood never leaves the machine.
func Flood(ctx context.Context, from netip.Addr, server, name string, qps int, d time.Duration) (FloodResult, error) {
	srv, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return FloodResult{}, err
	}
	if !srv.IP.IsLoopback() {
		return FloodResult{}, fmt.Errorf("flood: %s is not a loopback address", server)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)))
	if err != nil {
		return FloodResult{}, err
	}
	defer conn.Close()
	_ = conn.SetReadBuffer(4 << 20)

	var res FloodResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			// The rcode is the low four bits of the fourth byte.
			if n < 4 {
				continue
			}
			switch int(buf[3] & 0x0f) {
			case dns.RcodeSuccess:
				atomic.AddInt64(&res.NoError, 1)
			case dns.RcodeRefused:
				atomic.AddInt64(&res.Refused, 1)
			default:
				atomic.AddInt64(&res.Other, 1)
			}
		}
	}()

	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	pkt, err := q.Pack()
	if err != nil {
		return FloodResult{}, err
	}
	const tick = time.Millisecond
	start := time.Now()
	var sent int64
	for now := start; now.Sub(start) < d && ctx.Err() == nil; now = time.Now() {
		due := int64(float64(qps) * now.Sub(start).Seconds())
		for ; sent < due; sent++ {
			pkt[0], pkt[1] = byte(sent>>8), byte(sent)
			if _, err := conn.WriteToUDP(pkt, srv); err != nil {
				return res, err
			}
		}
		time.Sleep(tick)
	}
	res.Sent = sent
	// Replies still in flight get a moment, then the reader stops.
	time.Sleep(500 * time.Millisecond)
	_ = conn.SetReadDeadline(time.Now())
	wg.Wait()
	res.NoError, res.Refused, res.Other = atomic.LoadInt64(&res.NoError), atomic.LoadInt64(&res.Refused), atomic.LoadInt64(&res.Other)
	return res, nil
}

// Steady asks name from one address every interval for d, one query at a
// time as a resolver does, and returns each reply's rcode (-1: no reply
// within Timeout) and latency.
func Steady(ctx context.Context, from netip.Addr, server, name string, interval, d time.Duration) ([]int, []time.Duration, error) {
	a, err := NewAsker(from, server)
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	var rcodes []int
	var lat []time.Duration
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		t0 := time.Now()
		m, _, err := a.Ask(name, dns.TypeA)
		switch {
		case err != nil:
			rcodes = append(rcodes, -1)
		default:
			rcodes = append(rcodes, m.Rcode)
		}
		lat = append(lat, time.Since(t0))
		<-tick.C
	}
	return rcodes, lat, nil
}

// Load asks the names in turn from one address, with workers queries in
// flight (one per worker, each waiting for its reply), for d, and returns
// how many replies came back and how many of them were NOERROR or NXDOMAIN.
func Load(from netip.Addr, server string, questions []dns.Question, workers int, d time.Duration) (replies, answered int64, err error) {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	end := time.Now().Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := NewAsker(from, server)
			if err != nil {
				errs <- err
				return
			}
			defer a.Close()
			q := new(dns.Msg)
			for i := w; time.Now().Before(end); i++ {
				q.Question = []dns.Question{questions[i%len(questions)]}
				q.Id = dns.Id()
				m, _, err := a.Exchange(q)
				if err != nil {
					continue
				}
				atomic.AddInt64(&replies, 1)
				if m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError {
					atomic.AddInt64(&answered, 1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return replies, answered, <-errs
}
