// Package tenant is the CoreDNS plugin "tenant": it makes cluster DNS
// tenant-scoped. Each query is attributed to the pod whose IP sent it, and so
// to a tenant; a name in a namespace the tenant may not reach is answered
// exactly as a name that does not exist; answers are filtered, so nothing
// they lead to names a hidden namespace; and each tenant has a token bucket
// of its own, so that one flooding tenant is refused while the others are
// answered.
//
// The plugin sits above cache in the compiled plugin order: what the cache
// holds is the whole truth, and each client's view of it is cut here, on
// every answer, cached or not.
package tenant

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/nonwriter"
	"github.com/miekg/dns"
)

// Name is the plugin's name in the Corefile and in the directives list.
const Name = "tenant"

// Source answers who a client is and what it may see; *Index is the one
// backed by the API server.
type Source interface {
	Synced() bool
	Who(addr netip.Addr) Client
	Sees(c Client, namespace string) bool
	Limits(tenant string) (qps, burst int32)
}

// Tenant is the plugin.
type Tenant struct {
	Next plugin.Handler
	// Zones are the cluster zones whose names speak of namespaces
	// (cluster.local.).
	Zones []string
	// ClientQPS and ClientBurst are the bucket of each client of no tenant,
	// one bucket per address.
	ClientQPS, ClientBurst int32
	// TrustClientSubnet lists the node-local caches that may say, in an
	// EDNS0 client subnet option, which pod they ask for. Nobody else may.
	TrustClientSubnet []netip.Prefix

	source  Source
	buckets *buckets
	conceal concealer
	now     func() time.Time
}

// New returns the plugin reading source.
func New(source Source) *Tenant {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	return &Tenant{
		Zones: []string{"cluster.local."}, ClientQPS: 1000, ClientBurst: 2000,
		source: source, buckets: newBuckets(), conceal: concealer{key: key}, now: time.Now,
	}
}

// Name implements plugin.Handler.
func (t *Tenant) Name() string { return Name }

// Ready implements the ready plugin's Readiness: not ready until every
// cache has synced.
func (t *Tenant) Ready() bool { return t.source.Synced() }

// ServeDNS implements plugin.Handler.
func (t *Tenant) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) != 1 {
		// The server refuses these itself today; were it to pass one, no
		// question would go down unread.
		return dns.RcodeRefused, nil
	}
	q := r.Question[0]
	addr := t.clientAddr(w, r)
	if !t.source.Synced() {
		if t.inZones(q.Name) || isReverse(q.Name) {
			refused.WithLabelValues("", reasonNotSynced).Inc()
			return dns.RcodeRefused, nil
		}
		if !t.buckets.allow("addr/"+addr.String(), t.ClientQPS, t.ClientBurst, t.now(), true) {
			refused.WithLabelValues("", reasonRate).Inc()
			return dns.RcodeRefused, nil
		}
		return plugin.NextOrFailure(t.Name(), t.Next, ctx, w, r)
	}

	c := t.source.Who(addr)
	if !t.allow(c, addr) {
		refused.WithLabelValues(c.Tenant, reasonRate).Inc()
		return dns.RcodeRefused, nil
	}
	queries.WithLabelValues(c.Tenant).Inc()
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		refused.WithLabelValues(c.Tenant, reasonTransfer).Inc()
		return dns.RcodeRefused, nil
	}
	if c.Platform() {
		return plugin.NextOrFailure(t.Name(), t.Next, ctx, w, r)
	}
	for _, z := range t.Zones {
		if ns, i, ok := namespaceOf(q.Name, z); ok && !t.source.Sees(c, ns) {
			hidden.WithLabelValues(c.Tenant).Inc()
			return t.serveMissing(ctx, w, r, i)
		}
	}
	return t.serveFiltered(ctx, w, r, c)
}

// allow takes a token from the client's bucket: its tenant's, or its own
// address's for a client of no tenant.
func (t *Tenant) allow(c Client, addr netip.Addr) bool {
	if c.Tenant != "" {
		qps, burst := t.source.Limits(c.Tenant)
		return t.buckets.allow("tenant/"+c.Tenant, qps, burst, t.now(), false)
	}
	return t.buckets.allow("addr/"+addr.String(), t.ClientQPS, t.ClientBurst, t.now(), true)
}

// serveMissing answers r as the plugins below answer the same name with
// label i concealed: a name no object can have. Its answer is, byte for
// byte, what a name that does not exist gets, since that is what it is.
func (t *Tenant) serveMissing(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, i int) (int, error) {
	orig := r.Question[0].Name
	mr := r.Copy()
	concealed := t.conceal.name(orig, i)
	mr.Question[0].Name = concealed
	nw := nonwriter.New(w)
	rc, err := plugin.NextOrFailure(t.Name(), t.Next, ctx, nw, mr)
	if nw.Msg == nil {
		return rc, err
	}
	m := nw.Msg
	m.Question[0].Name = orig
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for j, rr := range sec {
			if dns.CanonicalName(rr.Header().Name) == dns.CanonicalName(concealed) {
				// A copy: the record may be the cache's own.
				rr = dns.Copy(rr)
				rr.Header().Name = orig
				sec[j] = rr
			}
		}
	}
	if werr := w.WriteMsg(m); werr != nil {
		return dns.RcodeServerFailure, werr
	}
	return rc, err
}

// serveFiltered passes r down and drops from the answer every record whose
// owner or target is a name of a namespace c does not see: the records a
// CNAME into such a namespace was followed to, a PTR naming its Service.
// When that empties the answer, the reply is the one a name leading nowhere
// gets: for a reverse name, the answer of an address nobody has; otherwise
// no data, with the zone's SOA as a missing name carries it.
func (t *Tenant) serveFiltered(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, c Client) (int, error) {
	nw := nonwriter.New(w)
	rc, err := plugin.NextOrFailure(t.Name(), t.Next, ctx, nw, r)
	if nw.Msg == nil {
		return rc, err
	}
	m := nw.Msg
	had := len(m.Answer)
	m.Answer = reachable(r.Question[0].Name, t.filter(c, m.Answer))
	m.Ns = t.filter(c, m.Ns)
	m.Extra = t.filter(c, m.Extra)
	if had > 0 && len(m.Answer) == 0 {
		hidden.WithLabelValues(c.Tenant).Inc()
		if isReverse(r.Question[0].Name) {
			return t.serveMissing(ctx, w, r, 0)
		}
		neg := nonwriter.New(w)
		mr := r.Copy()
		mr.Question[0].Name = t.conceal.name(r.Question[0].Name, 0)
		if _, err := plugin.NextOrFailure(t.Name(), t.Next, ctx, neg, mr); err == nil && neg.Msg != nil {
			m.Ns = neg.Msg.Ns
		}
		m.Rcode = dns.RcodeSuccess
	}
	if werr := w.WriteMsg(m); werr != nil {
		return dns.RcodeServerFailure, werr
	}
	return rc, err
}

func (t *Tenant) filter(c Client, rrs []dns.RR) []dns.RR {
	// Most records of an answer share their owner: remember the last.
	var lastName string
	var lastHidden bool
	hidden := func(name string) bool {
		if name == "" {
			return false
		}
		if name != lastName {
			lastName, lastHidden = name, t.hides(c, name)
		}
		return lastHidden
	}
	keep := func(rr dns.RR) bool { return !hidden(rr.Header().Name) && !hidden(targetOf(rr)) }
	i := 0
	for i < len(rrs) && keep(rrs[i]) {
		i++
	}
	if i == len(rrs) {
		return rrs // the common case: nothing hidden, nothing copied
	}
	// A new slice from the first dropped record on: the one passed in may
	// be the cache's own.
	out := append(make([]dns.RR, 0, len(rrs)-1), rrs[:i]...)
	for _, rr := range rrs[i+1:] {
		if keep(rr) {
			out = append(out, rr)
		}
	}
	return out
}

// reachable keeps the answer records a resolver reaches from qname: those
// owned by qname, or by the target of a kept CNAME or DNAME on the way. When
// filter dropped a hop of a chain (a CNAME into a hidden namespace), what
// lay beyond it, however harmless it looks (the address a hidden
// ExternalName points at), goes too: it would show the hop was there.
func reachable(qname string, rrs []dns.RR) []dns.RR {
	// The common case: every record is owned by the name asked.
	direct := true
	for _, rr := range rrs {
		if !strings.EqualFold(rr.Header().Name, qname) {
			direct = false
			break
		}
	}
	if direct {
		return rrs
	}
	names := map[string]bool{dns.CanonicalName(qname): true}
	keep := make([]bool, len(rrs))
	kept := 0
	for changed := true; changed; {
		changed = false
		for i, rr := range rrs {
			if keep[i] || !names[dns.CanonicalName(rr.Header().Name)] {
				continue
			}
			keep[i], changed = true, true
			kept++
			switch v := rr.(type) {
			case *dns.CNAME:
				names[dns.CanonicalName(v.Target)] = true
			case *dns.DNAME:
				names[dns.CanonicalName(v.Target)] = true
			}
		}
	}
	if kept == len(rrs) {
		return rrs
	}
	out := make([]dns.RR, 0, kept)
	for i, rr := range rrs {
		if keep[i] {
			out = append(out, rr)
		}
	}
	return out
}

func (t *Tenant) hides(c Client, name string) bool {
	if name == "" {
		return false
	}
	for _, z := range t.Zones {
		if ns, _, ok := namespaceOf(name, z); ok {
			return !t.source.Sees(c, ns)
		}
	}
	return false
}

func (t *Tenant) inZones(name string) bool {
	for _, z := range t.Zones {
		if dns.IsSubDomain(z, name) {
			return true
		}
	}
	return false
}

// clientAddr is the query's source address, or, when the source is a
// trusted node-local cache, the address its EDNS0 client subnet option
// names (a full-length prefix only: a subnet is no client).
func (t *Tenant) clientAddr(w dns.ResponseWriter, r *dns.Msg) netip.Addr {
	src := addrOf(w.RemoteAddr())
	if len(t.TrustClientSubnet) == 0 || !t.trusted(src) {
		return src
	}
	opt := r.IsEdns0()
	if opt == nil {
		return src
	}
	// Exactly one option (RFC 7871 allows no more): a cache that passed
	// the client's own on and added its own would otherwise let the pod
	// choose whom it is.
	var ecs *dns.EDNS0_SUBNET
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			if ecs != nil {
				return src
			}
			ecs = e
		}
	}
	if ecs == nil {
		return src
	}
	a, ok := netip.AddrFromSlice(ecs.Address)
	if !ok {
		return src
	}
	a = a.Unmap()
	if (a.Is4() && ecs.SourceNetmask == 32) || (a.Is6() && ecs.SourceNetmask == 128) {
		return a
	}
	return src
}

func (t *Tenant) trusted(a netip.Addr) bool {
	for _, p := range t.TrustClientSubnet {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func addrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
