package tenant

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"
)

func TestNamespaceOf(t *testing.T) {
	for name, want := range map[string]string{
		"web.acme-a.svc.cluster.local.":            "acme-a",
		"_http._tcp.web.acme-a.svc.cluster.local.": "acme-a",
		"db-0.db.acme-a.svc.cluster.local.":        "acme-a",
		"1-2-3-4.ACME-A.pod.Cluster.Local.":        "acme-a",
		"acme-a.svc.cluster.local.":                "svc",
		"*.*.svc.cluster.local.":                   "*",
		"svc.cluster.local.":                       "",
		"cluster.local.":                           "",
		"dns-version.cluster.local.":               "",
		"ns.dns.cluster.local.":                    "",
		"web.acme-a.svc.example.com.":              "",
		"web.acme-a.other.cluster.local.":          "",
	} {
		ns, i, ok := namespaceOf(name, "cluster.local.")
		if want == "svc" {
			// <ns>.svc.<zone>: the namespace is the first label.
			if !ok || ns != "acme-a" || i != 0 {
				t.Errorf("%s: %q %d %v, want acme-a at 0", name, ns, i, ok)
			}
			continue
		}
		if (want != "") != ok || ns != want {
			t.Errorf("%s: %q %v, want %q", name, ns, ok, want)
		}
		if ok && strings.ToLower(dns.SplitDomainName(name)[i]) != want {
			t.Errorf("%s: label %d is not the namespace", name, i)
		}
	}
}

// TestNamespaceOfFastPath: cutting the name by hand agrees with splitting
// it into labels, on every name the table and a few odd ones make.
func TestNamespaceOfFastPath(t *testing.T) {
	names := []string{
		"web.acme-a.svc.cluster.local.", "a.b.c.d.e.svc.cluster.local.", "svc.svc.cluster.local.",
		"pod.pod.cluster.local.", "x.svc.cluster.local.", ".cluster.local.", "cluster.local.", "local.",
		"WEB.Acme.SVC.CLUSTER.LOCAL.", "_http._tcp.web.a.svc.cluster.local.", "web.a.svcx.cluster.local.",
		"web.a.svc.xcluster.local.", "web.a.svc.cluster.local.example.",
	}
	for _, name := range names {
		ns1, i1, ok1 := namespaceOf(name, "cluster.local.")
		ns2, i2, ok2 := namespaceOfLabels(name, "cluster.local.")
		if ns1 != ns2 || i1 != i2 || ok1 != ok2 {
			t.Errorf("%s: by hand %q %d %v, by labels %q %d %v", name, ns1, i1, ok1, ns2, i2, ok2)
		}
	}
	// An escaped dot is part of a label, as the kubernetes plugin reads it.
	if ns, _, ok := namespaceOf(`web.b\.ns.svc.cluster.local.`, "cluster.local."); !ok || ns != `b\.ns` {
		t.Errorf("an escaped dot: %q %v", ns, ok)
	}
}

func TestConcealer(t *testing.T) {
	c, other := concealer{key: []byte("k1")}, concealer{key: []byte("k2")}
	a, b := c.label("acme-a"), c.label("acme-b")
	if a == b {
		t.Errorf("two namespaces share a concealed label %s", a)
	}
	if c.label("ACME-A") != a {
		t.Errorf("case changes the concealed label")
	}
	if other.label("acme-a") == a {
		t.Errorf("the label does not depend on the key")
	}
	if !strings.HasPrefix(a, "_") || len(a) > 63 {
		t.Errorf("concealed label %q: want a leading underscore, at most 63 bytes", a)
	}
	if got := c.name("web.acme-a.svc.cluster.local.", 1); got != "web."+a+".svc.cluster.local." {
		t.Errorf("name: %s", got)
	}
	if got := c.name(".", 0); !strings.HasPrefix(got, "_") || !strings.HasSuffix(got, ".") || dns.CountLabel(got) != 1 {
		t.Errorf("the root concealed: %q", got)
	}
}

func TestBuckets(t *testing.T) {
	b := newBuckets()
	now := time.Unix(1000, 0)
	for i := range 4 {
		if !b.allow("a", 2, 4, now, false) {
			t.Fatalf("query %d within the burst refused", i)
		}
	}
	if b.allow("a", 2, 4, now, false) {
		t.Errorf("a query past the burst allowed")
	}
	if !b.allow("b", 2, 4, now, false) {
		t.Errorf("another key's bucket is shared")
	}
	if !b.allow("a", 2, 4, now.Add(500*time.Millisecond), false) {
		t.Errorf("the bucket did not refill at its rate")
	}
	// A raised rate refills from the moment it is seen.
	if b.allow("a", 1000, 4, now.Add(500*time.Millisecond), false) {
		t.Errorf("the bucket refilled before the new rate was seen")
	}
	if !b.allow("a", 1000, 4, now.Add(505*time.Millisecond), false) {
		t.Errorf("the new rate did not apply")
	}
	// b has refilled and goes; a has not.
	b.sweep(now.Add(505 * time.Millisecond))
	if b.len() != 1 {
		t.Errorf("sweep left %d buckets, want a's only", b.len())
	}
	b.sweep(now.Add(time.Hour))
	if b.len() != 0 {
		t.Errorf("sweep kept full buckets: %d left", b.len())
	}
	// Bounded: past max buckets a new address is refused, a known one and
	// a tenant are not.
	b.max = 2
	if !b.allow("addr/1", 2, 4, now, true) || !b.allow("addr/2", 2, 4, now, true) {
		t.Fatal("buckets within the bound refused")
	}
	if b.allow("addr/3", 2, 4, now, true) {
		t.Errorf("a bucket past the bound was made")
	}
	if !b.allow("addr/1", 2, 4, now, true) || !b.allow("tenant/x", 2, 4, now, false) {
		t.Errorf("a known address or a tenant refused at the bound")
	}
}

// fakeSource: clients by address, namespaces by owner.
type fakeSource struct {
	clients map[netip.Addr]Client
	owners  map[string]string // namespace -> tenant ("" shared)
	qps     int32
}

func (f *fakeSource) Synced() bool                 { return true }
func (f *fakeSource) Who(a netip.Addr) Client      { return f.clients[a] }
func (f *fakeSource) Limits(string) (int32, int32) { return f.qps, f.qps }
func (f *fakeSource) Sees(c Client, ns string) bool {
	owner, ok := f.owners[ns]
	switch {
	case c.Platform():
		return true
	case !ok:
		return false
	}
	return owner == "" || owner == c.Tenant
}

var (
	addrA    = netip.MustParseAddr("127.1.0.1")
	addrB    = netip.MustParseAddr("127.1.0.2")
	addrPlat = netip.MustParseAddr("127.1.0.3")
	addrNode = netip.MustParseAddr("10.0.0.1")
)

// next answers every name in zone with an A record; PTRs point into b-ns;
// ext. is an ExternalName into b-ns, chain. one through a hidden
// ExternalName out to the internet; wild. answers even concealed names
// positively (a wildcard upstream), from records it keeps.
type next struct {
	asked []string
	kept  []dns.RR
}

func (n *next) Name() string { return "next" }
func (n *next) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	q := r.Question[0]
	n.asked = append(n.asked, q.Name)
	m := new(dns.Msg)
	m.SetReply(r)
	switch {
	case strings.HasPrefix(q.Name, "wild.") || strings.Contains(q.Name, ".wild."):
		rr := test.A(q.Name + " 5 IN A 192.0.2.1")
		n.kept = append(n.kept, rr)
		m.Answer = []dns.RR{rr}
	case strings.HasPrefix(q.Name, "_") || strings.Contains(q.Name, "._"):
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{test.SOA("cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5")}
	case q.Qtype == dns.TypePTR:
		m.Answer = []dns.RR{test.PTR(q.Name + " 5 IN PTR web.b-ns.svc.cluster.local.")}
	case strings.HasPrefix(q.Name, "chain."):
		m.Answer = []dns.RR{
			test.CNAME(q.Name + " 5 IN CNAME x.b-ns.svc.cluster.local."),
			test.CNAME("x.b-ns.svc.cluster.local. 5 IN CNAME www.example.com."),
			test.A("www.example.com. 5 IN A 192.0.2.80"),
		}
	case strings.HasPrefix(q.Name, "ext."):
		m.Answer = []dns.RR{
			test.CNAME(q.Name + " 5 IN CNAME web.b-ns.svc.cluster.local."),
			test.A("web.b-ns.svc.cluster.local. 5 IN A 10.96.0.2"),
		}
	default:
		m.Answer = []dns.RR{test.A(q.Name + " 5 IN A 10.96.0.1")}
	}
	return dns.RcodeSuccess, w.WriteMsg(m)
}

func newTestPlugin(qps int32) (*Tenant, *next) {
	src := &fakeSource{
		clients: map[netip.Addr]Client{
			addrA: {Tenant: "a", Pod: true}, addrB: {Tenant: "b", Pod: true}, addrPlat: {Pod: true},
		},
		owners: map[string]string{"a-ns": "a", "b-ns": "b", "default": ""},
		qps:    qps,
	}
	n := &next{}
	tp := New(src)
	tp.Next = n
	return tp, n
}

func serve(t *testing.T, tp *Tenant, from netip.Addr, name string, qt uint16) *dns.Msg {
	t.Helper()
	r := new(dns.Msg)
	r.SetQuestion(name, qt)
	rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: from.String()})
	rc, err := tp.ServeDNS(context.Background(), rec, r)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Msg == nil {
		// The server writes the error reply the plugin asked for.
		m := new(dns.Msg)
		m.SetRcode(r, rc)
		return m
	}
	return rec.Msg
}

func TestServe(t *testing.T) {
	tp, n := newTestPlugin(1000)
	// Own and shared names pass as asked.
	for _, name := range []string{"web.a-ns.svc.cluster.local.", "kubernetes.default.svc.cluster.local.", "example.com."} {
		if m := serve(t, tp, addrA, name, dns.TypeA); len(m.Answer) != 1 || n.asked[len(n.asked)-1] != name {
			t.Errorf("a asks %s: %v (asked below: %v)", name, m, n.asked)
		}
	}
	// A hidden namespace is asked below concealed, answered with the
	// original question.
	m := serve(t, tp, addrA, "web.b-ns.svc.cluster.local.", dns.TypeA)
	below := n.asked[len(n.asked)-1]
	if strings.Contains(below, "b-ns") || !strings.HasPrefix(below, "web._") {
		t.Errorf("a hidden name went below as %s", below)
	}
	if m.Rcode != dns.RcodeNameError || m.Question[0].Name != "web.b-ns.svc.cluster.local." {
		t.Errorf("a asks for b's name: %v", m)
	}
	// Nobody's address sees shared names only; a platform pod sees all.
	if m := serve(t, tp, addrNode, "web.a-ns.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("a node asks for a tenant's name: %s", dns.RcodeToString[m.Rcode])
	}
	if m := serve(t, tp, addrPlat, "web.b-ns.svc.cluster.local.", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("a platform pod asks for a tenant's name: %v", m)
	}
	// A CNAME into a hidden namespace: nothing of b-ns in the answer, no
	// data, the SOA of a missing name.
	m = serve(t, tp, addrA, "ext.a-ns.svc.cluster.local.", dns.TypeA)
	if len(m.Answer) != 0 || m.Rcode != dns.RcodeSuccess || len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("a CNAME into b-ns: %v", m)
	}
	if m := serve(t, tp, addrB, "ext.a-ns.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("b asks for a's name: %v", m)
	}
	// A PTR naming b-ns: for a, the answer of an address nobody has.
	m = serve(t, tp, addrA, "1.0.96.10.in-addr.arpa.", dns.TypePTR)
	if m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 || m.Question[0].Name != "1.0.96.10.in-addr.arpa." {
		t.Errorf("a asks PTR of b's address: %v", m)
	}
	if m := serve(t, tp, addrB, "1.0.96.10.in-addr.arpa.", dns.TypePTR); len(m.Answer) != 1 {
		t.Errorf("b asks PTR of its address: %v", m)
	}
	// A chain through a hidden ExternalName: nothing beyond the hidden hop
	// survives, not even the address outside the cluster it leads to.
	m = serve(t, tp, addrA, "chain.a-ns.svc.cluster.local.", dns.TypeA)
	if len(m.Answer) != 0 || m.Rcode != dns.RcodeSuccess {
		t.Errorf("a chain through b-ns: %v", m)
	}
	if m := serve(t, tp, addrB, "chain.b-ns.svc.cluster.local.", dns.TypeA); len(m.Answer) != 3 {
		t.Errorf("b follows its own chain: %v", m)
	}
	// An answer for a concealed name that is not empty: the owner name is
	// put back on a copy, never on the record the cache below holds.
	m = serve(t, tp, addrA, "wild.b-ns.svc.cluster.local.", dns.TypeA)
	if len(m.Answer) != 1 || m.Answer[0].Header().Name != "wild.b-ns.svc.cluster.local." {
		t.Errorf("a positive answer to a concealed name: %v", m)
	}
	if held := n.kept[len(n.kept)-1].Header().Name; !strings.Contains(held, "._") {
		t.Errorf("the record below was renamed in place to %s", held)
	}
	// Two questions in one message: refused, never passed down unread.
	r := new(dns.Msg)
	r.SetQuestion("web.b-ns.svc.cluster.local.", dns.TypeA)
	r.Question = append(r.Question, r.Question[0])
	asked := len(n.asked)
	if rc, _ := tp.ServeDNS(context.Background(), dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: addrA.String()}), r); rc != dns.RcodeRefused || len(n.asked) != asked {
		t.Errorf("two questions: rcode %s, passed down %v", dns.RcodeToString[rc], n.asked[asked:])
	}
	// Zone transfers: refused, also to the platform.
	for _, from := range []netip.Addr{addrA, addrPlat} {
		if m := serve(t, tp, from, "cluster.local.", dns.TypeAXFR); m.Rcode != dns.RcodeRefused {
			t.Errorf("%s asks AXFR: %s", from, dns.RcodeToString[m.Rcode])
		}
	}
}

func TestServeRate(t *testing.T) {
	tp, _ := newTestPlugin(3)
	now := time.Unix(0, 0)
	tp.now = func() time.Time { return now }
	for i := range 3 {
		if m := serve(t, tp, addrA, "web.a-ns.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeSuccess {
			t.Fatalf("query %d within the burst: %s", i, dns.RcodeToString[m.Rcode])
		}
	}
	if m := serve(t, tp, addrA, "web.a-ns.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("past the burst: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	if m := serve(t, tp, addrB, "web.b-ns.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeSuccess {
		t.Errorf("another tenant while a is refused: %s", dns.RcodeToString[m.Rcode])
	}
	// Clients of no tenant: one bucket per address.
	tp.ClientQPS, tp.ClientBurst = 1, 1
	for _, a := range []string{"10.0.0.1", "10.0.0.2"} {
		if m := serve(t, tp, netip.MustParseAddr(a), "example.com.", dns.TypeA); m.Rcode != dns.RcodeSuccess {
			t.Errorf("the first query of %s: %s", a, dns.RcodeToString[m.Rcode])
		}
	}
	if m := serve(t, tp, netip.MustParseAddr("10.0.0.1"), "example.com.", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("the second query of 10.0.0.1: %s", dns.RcodeToString[m.Rcode])
	}
}

func TestClientSubnet(t *testing.T) {
	tp, _ := newTestPlugin(1000)
	tp.TrustClientSubnet = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	ask := func(from string, ecs netip.Addr, bits uint8) netip.Addr {
		r := new(dns.Msg)
		r.SetQuestion("example.com.", dns.TypeA)
		o := r.SetEdns0(4096, false).IsEdns0()
		family := uint16(1)
		if ecs.Is6() {
			family = 2
		}
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: bits, Address: net.IP(ecs.AsSlice())})
		return tp.clientAddr(&test.ResponseWriter{RemoteIP: from}, r)
	}
	if got := ask("10.0.0.9", addrA, 32); got != addrA {
		t.Errorf("a trusted cache speaking for %s: attributed to %s", addrA, got)
	}
	if got := ask("127.1.0.2", addrA, 32); got != addrB {
		t.Errorf("tenant b claiming to be %s: attributed to %s, want itself", addrA, got)
	}
	if got := ask("10.0.0.9", addrA, 24); got != netip.MustParseAddr("10.0.0.9") {
		t.Errorf("a trusted cache naming a subnet: attributed to %s, want the cache itself", got)
	}
	// A pod's own option passed on by the cache, then the cache's: two
	// options, so neither is believed.
	r := new(dns.Msg)
	r.SetQuestion("example.com.", dns.TypeA)
	o := r.SetEdns0(4096, false).IsEdns0()
	for _, a := range []netip.Addr{addrPlat, addrA} {
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 32, Address: net.IP(a.AsSlice())})
	}
	if got := tp.clientAddr(&test.ResponseWriter{RemoteIP: "10.0.0.9"}, r); got != netip.MustParseAddr("10.0.0.9") {
		t.Errorf("two client-subnet options: attributed to %s, want the cache itself", got)
	}
}

// TestCoverZones: every forward zone the kubernetes plugin serves is
// scoped, listed or not; reverse zones and zones inside a listed one add
// nothing.
func TestCoverZones(t *testing.T) {
	got := coverZones([]string{"cluster.local."}, []string{"cluster.local.", "Clusterset.Local.", "in-addr.arpa.", "ip6.arpa.", "a.cluster.local.", "96.10.in-addr.arpa."})
	if want := []string{"cluster.local.", "clusterset.local."}; !slices.Equal(got, want) {
		t.Errorf("coverZones = %v, want %v", got, want)
	}
}

func TestSetup(t *testing.T) {
	good := `tenant cluster.local example.org {
    kubeconfig /dev/null
    client_rate 50 100
    trust_client_subnet 10.0.0.0/8 fd00::/64
}`
	tp, kc, err := parse(caddy.NewTestController("dns", good))
	if err != nil {
		t.Fatal(err)
	}
	if kc.path != "/dev/null" || strings.Join(tp.Zones, " ") != "cluster.local. example.org." ||
		tp.ClientQPS != 50 || tp.ClientBurst != 100 || len(tp.TrustClientSubnet) != 2 {
		t.Errorf("parsed %+v %+v", kc, tp)
	}
	for in, want := range map[string]string{
		"tenant {\n client_rate 0 10\n}":             "client_rate wants two positive integers",
		"tenant {\n trust_client_subnet 10.0.0.1\n}": "is not a CIDR",
		"tenant {\n zones a\n}":                      `unknown property "zones"`,
		"tenant\ntenant":                             "once per server block",
	} {
		_, _, err := parse(caddy.NewTestController("dns", in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// BenchmarkServe is the plugin's own cost per query, over a next plugin
// that answers at once: a tenant asking its own name, another's, and a PTR.
func BenchmarkServe(b *testing.B) {
	for _, c := range []struct {
		name, q string
		qt      uint16
	}{
		{"own", "web.a-ns.svc.cluster.local.", dns.TypeA},
		{"hidden", "web.b-ns.svc.cluster.local.", dns.TypeA},
		{"ptr", "1.0.96.10.in-addr.arpa.", dns.TypePTR},
	} {
		b.Run(c.name, func(b *testing.B) {
			tp, n := newTestPlugin(1 << 30)
			r := new(dns.Msg)
			r.SetQuestion(c.q, c.qt)
			w := &test.ResponseWriter{RemoteIP: addrA.String()}
			b.ReportAllocs()
			for b.Loop() {
				n.asked = n.asked[:0]
				if _, err := tp.ServeDNS(context.Background(), w, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
