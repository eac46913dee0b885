package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/dns/probe"
	"github.com/bulkhead-dev/bulkhead/internal/dns/server"
	"github.com/bulkhead-dev/bulkhead/internal/testenv"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// dnsWorld is three tenants, each with a namespace holding a Service "web"
// over one pod, a headless Service "db" over the same pod, and a client pod
// whose loopback IP the test sends from; dns-soft lets dns-guest in
// (network.allowFrom). A namespace of no tenant holds a Service "api".
type dnsWorld struct {
	enforcing, baseline string
	inst                *caddy.Instance
	// client is each tenant's client pod IP; web its web pod's IP and
	// service the ClusterIP of its Service web, by tenant.
	client, web, service map[string]netip.Addr
	// endpoint is the address of each tenant's headless Service db.
	endpoint map[string]netip.Addr
}

var dnsTenants = []string{"dns-soft", "dns-hard", "dns-guest"}

const dnsShared = "dns-shared"

func nsOf(tenant string) string { return tenant + "-a" }

// nobody is an address no pod has: a client that maps to no pod.
var nobody = netip.MustParseAddr("127.2.0.1")

func setUpDNS(t *testing.T) *dnsWorld {
	t.Helper()
	ctx := context.Background()
	w := &dnsWorld{client: map[string]netip.Addr{}, web: map[string]netip.Addr{}, service: map[string]netip.Addr{}, endpoint: map[string]netip.Addr{}}
	for i, name := range dnsTenants {
		tn := testutil.Tenant(name).Owner(name + "-owner").Member(name + "-dev")
		if name == "dns-hard" {
			tn = tn.Hard()
		}
		obj := tn.Obj()
		if name == "dns-soft" {
			obj = tn.AllowFromTenant("dns-guest").Obj()
			obj.Spec.Services.AllowedTypes = []tenancyv1alpha1.ServiceType{tenancyv1alpha1.ServiceTypeClusterIP, tenancyv1alpha1.ServiceTypeExternalName}
		}
		env.TenantWithNamespace(t, obj, nsOf(name))
		dev := env.As(name + "-dev")
		ns := nsOf(name)
		for _, p := range []*corev1.Pod{
			testutil.Pod(ns, "web", "registry.example.com/web:1", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web"} }),
			testutil.Pod(ns, "client", "registry.example.com/client:1"),
		} {
			if err := dev.Create(ctx, p); err != nil {
				t.Fatalf("creating pod %s/%s: %v", ns, p.Name, err)
			}
		}
		// No selectors: EndpointSlice validation refuses the loopback
		// addresses the dev cluster gives pods, so the endpoint controller
		// could not list them. The headless Service's endpoint is written
		// here instead, at an address standing for its pod's.
		svc := testutil.Service(ns, "web", func(s *corev1.Service) {
			s.Spec.Selector = nil
			s.Spec.Ports = []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}}
		})
		headless := testutil.Service(ns, "db", func(s *corev1.Service) {
			s.Spec.ClusterIP = corev1.ClusterIPNone
			s.Spec.Selector = nil
			s.Spec.Ports = []corev1.ServicePort{{Name: "sql", Protocol: corev1.ProtocolTCP, Port: 5432}}
		})
		for _, s := range []*corev1.Service{svc, headless} {
			if err := dev.Create(ctx, s); err != nil {
				t.Fatalf("creating service %s/%s: %v", ns, s.Name, err)
			}
		}
		w.endpoint[name] = netip.AddrFrom4([4]byte{10, 244, byte(i), 10})
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "db-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{
				Addresses: []string{w.endpoint[name].String()}, Hostname: ptr.To("db-0"),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "web"},
			}},
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To("sql"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](5432)}},
		}
		if err := env.Client.Create(ctx, slice); err != nil {
			t.Fatalf("creating the EndpointSlice of %s/db: %v", ns, err)
		}
		w.service[name] = netip.MustParseAddr(svc.Spec.ClusterIP)
		w.client[name] = podIP(t, ns, "client")
		w.web[name] = podIP(t, ns, "web")
	}
	env.Ensure(t, testutil.Namespace(dnsShared).Obj())
	api := testutil.Service(dnsShared, "api", func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443}}
	})
	if err := env.Client.Create(ctx, api); err != nil {
		t.Fatalf("creating the shared Service: %v", err)
	}
	w.enforcing, w.baseline, w.inst = startDNS(t, env.Cluster)
	// Every pod's endpoints are in, and the server has seen them.
	for _, name := range dnsTenants {
		testenv.Eventually(t, "db."+nsOf(name)+" lists its pod", func() error {
			m, _, err := probe.Ask(w.client[name], w.enforcing, "db."+nsOf(name)+".svc.cluster.local", dns.TypeA)
			if err != nil {
				return err
			}
			if len(m.Answer) != 1 {
				return fmt.Errorf("answer %v", m)
			}
			return nil
		})
	}
	return w
}

// podIP waits for kwok to run the pod and returns its IP.
func podIP(t *testing.T, ns, name string) netip.Addr {
	t.Helper()
	var ip netip.Addr
	testenv.Eventually(t, "pod "+ns+"/"+name+" running with an IP", func() error {
		p := &corev1.Pod{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			return fmt.Errorf("phase %s, IP %q", p.Status.Phase, p.Status.PodIP)
		}
		var err error
		ip, err = netip.ParseAddr(p.Status.PodIP)
		return err
	})
	return ip
}

func startDNS(t *testing.T, cluster *devcluster.Cluster) (enforcing, baseline string, inst *caddy.Instance) {
	t.Helper()
	ep, err1 := devcluster.FreePort()
	bp, err2 := devcluster.FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// The enforcing server and, on another port, the same plugins without
	// tenant: the baseline that answers everything.
	inst, err := server.Start(testenv.DNSBlock(cluster.Kubeconfig, ep, true) + testenv.DNSBlock(cluster.Kubeconfig, bp, false))
	if err != nil {
		t.Fatalf("starting bulkhead-dns: %v", err)
	}
	t.Cleanup(func() { _ = inst.Stop() })
	enforcing, baseline = fmt.Sprintf("127.0.0.1:%d", ep), fmt.Sprintf("127.0.0.1:%d", bp)
	testenv.Eventually(t, "bulkhead-dns synced", func() error {
		m, _, err := probe.Ask(nobody, enforcing, "kubernetes.default.svc.cluster.local", dns.TypeA)
		if err != nil {
			return err
		}
		if m.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("rcode %s", dns.RcodeToString[m.Rcode])
		}
		return nil
	})
	return enforcing, baseline, inst
}

func TestTenantDNS(t *testing.T) {
	w := setUpDNS(t)
	t.Run("Matrix", func(t *testing.T) { testDNSMatrix(t, w) })
	t.Run("NXDOMAINIdentical", func(t *testing.T) { testDNSIdentical(t, w) })
	t.Run("AnswersFiltered", func(t *testing.T) { testDNSAnswersFiltered(t, w) })
	t.Run("CacheOrder", func(t *testing.T) { testDNSCacheOrder(t, w) })
	t.Run("LiveChanges", func(t *testing.T) { testDNSLiveChanges(t, w) })
	t.Run("NotSynced", func(t *testing.T) { testDNSNotSynced(t) })
	t.Run("Flood", func(t *testing.T) {
		if testing.Short() {
			t.Skip("30 s of flood")
		}
		testDNSFlood(t, w)
	})
}

// viewers are who asks: each tenant's client pod, and an address of no pod.
func (w *dnsWorld) viewers() map[string]netip.Addr {
	out := map[string]netip.Addr{"nobody": nobody}
	for k, v := range w.client {
		out[k] = v
	}
	return out
}

// sees is the rule under test: a tenant sees its own namespace, the shared
// one, and dns-soft's when it is dns-guest; nobody sees the shared one only.
func sees(viewer, owner string) bool {
	switch {
	case owner == "":
		return true
	case viewer == owner:
		return true
	case viewer == "dns-guest" && owner == "dns-soft":
		return true
	}
	return false
}

func reverseOf(a netip.Addr) string {
	n, _ := dns.ReverseAddr(a.String())
	return n
}

// testDNSMatrix asks every query type of every namespace as every viewer,
// of the enforcing server and of the baseline. Where the viewer may see the
// namespace the answers agree; where it may not, the enforcing server
// answers exactly what it answers for a namespace that does not exist.
func testDNSMatrix(t *testing.T, w *dnsWorld) {
	type target struct {
		owner, ns, name string
	}
	var targets []target
	for _, tn := range dnsTenants {
		targets = append(targets, target{tn, nsOf(tn), "web"}, target{tn, nsOf(tn), "db"})
	}
	targets = append(targets, target{"", dnsShared, "api"})
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeTXT, dns.TypeANY, dns.TypePTR}
	for viewer, from := range w.viewers() {
		for _, tg := range targets {
			for _, qt := range types {
				name := tg.name + "." + tg.ns + ".svc.cluster.local."
				if qt == dns.TypeSRV {
					name = map[string]string{"web": "_http._tcp.", "db": "_sql._tcp.", "api": "_https._tcp."}[tg.name] + name
				}
				missing := strings.Replace(name, "."+tg.ns+".", "."+strings.Repeat("z", len(tg.ns))+".", 1)
				if qt == dns.TypePTR {
					if tg.owner == "" {
						continue // the shared Service's PTR is asked below
					}
					// A Service's ClusterIP, and an endpoint of a headless one.
					name, missing = reverseOf(w.service[tg.owner]), reverseOf(netip.MustParseAddr("10.96.255.254"))
					if tg.name == "db" {
						name, missing = reverseOf(w.endpoint[tg.owner]), reverseOf(netip.MustParseAddr("10.244.255.254"))
					}
				}
				label := fmt.Sprintf("%s asks %s %s", viewer, dns.TypeToString[qt], name)
				got := mustAsk(t, from, w.enforcing, name, qt)
				if sees(viewer, tg.owner) {
					want := mustAsk(t, from, w.baseline, name, qt)
					sameAnswer(t, label, got, want)
					if qt == dns.TypeA && got.Rcode != dns.RcodeSuccess {
						t.Errorf("%s: rcode %s, want NOERROR", label, dns.RcodeToString[got.Rcode])
					}
					continue
				}
				want := mustAsk(t, from, w.enforcing, missing, qt)
				want.Question[0].Name = name
				sameAnswer(t, label+" (hidden)", got, want)
				if got.Rcode != dns.RcodeNameError {
					t.Errorf("%s: rcode %s, want NXDOMAIN", label, dns.RcodeToString[got.Rcode])
				}
			}
		}
	}
	// Zone transfers: refused to everyone, tenants or not, with the
	// transfer reason counted.
	for viewer, from := range w.viewers() {
		before := counter(t, "bulkhead_dns_refused_total", map[string]string{"reason": "transfer"})
		m := mustAsk(t, from, w.enforcing, "cluster.local.", dns.TypeAXFR)
		if m.Rcode != dns.RcodeRefused {
			t.Errorf("%s asks AXFR cluster.local: %s, want REFUSED", viewer, dns.RcodeToString[m.Rcode])
		}
		// Refused as a transfer, not for its rate or before the sync.
		if after := counter(t, "bulkhead_dns_refused_total", map[string]string{"reason": "transfer"}); after != before+1 {
			t.Errorf("%s asks AXFR: transfer refusals went %v -> %v, want one more", viewer, before, after)
		}
	}
}

func mustAsk(t *testing.T, from netip.Addr, srv, name string, qt uint16) *dns.Msg {
	t.Helper()
	m, _, err := probe.Ask(from, srv, name, qt)
	if err != nil {
		t.Fatalf("asking %s %s from %s: %v", dns.TypeToString[qt], name, from, err)
	}
	return m
}

// sameAnswer compares rcode and sections, TTLs and SOA serials aside (the
// two were asked a moment apart).
func sameAnswer(t *testing.T, label string, got, want *dns.Msg) {
	t.Helper()
	if g, w := textOf(got), textOf(want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", label, g, w)
	}
}

func textOf(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s q=%v", dns.RcodeToString[m.Rcode], m.Question)
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		fmt.Fprintf(&b, " | %d:", i)
		for _, rr := range sec {
			if _, ok := rr.(*dns.OPT); ok {
				continue
			}
			c := dns.Copy(rr)
			c.Header().Ttl = 0
			if soa, ok := c.(*dns.SOA); ok {
				soa.Serial = 0
			}
			b.WriteString(" " + c.String())
		}
	}
	return b.String()
}

// testDNSIdentical compares the bytes: a name in a hidden namespace and a
// name in a namespace that does not exist (of the same length, so that the
// packets line up) get replies that differ in the ID and in the bytes of
// the namespace label, and nowhere else. The namespace's own names
// (<ns>.svc, <ns>.pod), which the stock plugin answers NODATA when the
// namespace exists, are compared too.
func testDNSIdentical(t *testing.T, w *dnsWorld) {
	hiddenNS, missingNS := nsOf("dns-hard"), strings.Repeat("q", len(nsOf("dns-hard")))
	for _, kind := range []string{"svc", "pod"} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeSOA} {
			_, a, err1 := probe.Ask(w.client["dns-soft"], w.enforcing, hiddenNS+"."+kind+".cluster.local.", qt)
			_, b, err2 := probe.Ask(w.client["dns-soft"], w.enforcing, missingNS+"."+kind+".cluster.local.", qt)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			a[0], a[1], b[0], b[1] = 0, 0, 0, 0
			b = bytes.Replace(b, []byte(missingNS), []byte(hiddenNS), 1)
			ma, mb := new(dns.Msg), new(dns.Msg)
			_ = ma.Unpack(a)
			_ = mb.Unpack(b)
			// Serial and TTL may tick between the two; nothing else may differ.
			if !bytes.Equal(a, b) && textOf(ma) != textOf(mb) {
				t.Errorf("%s.%s %s: a hidden namespace and a missing one differ:\n%s\n%s", hiddenNS, kind, dns.TypeToString[qt], ma, mb)
			}
			// (The stock plugin answers SOA questions in the zone NOERROR, names
			// that exist or not; the comparison above is what matters.)
			if qt != dns.TypeSOA && ma.Rcode != dns.RcodeNameError {
				t.Errorf("%s.%s %s: %s, want NXDOMAIN", hiddenNS, kind, dns.TypeToString[qt], dns.RcodeToString[ma.Rcode])
			}
		}
		// Its owner gets the stock answer: the namespace exists.
		if m := mustAsk(t, w.client["dns-hard"], w.enforcing, hiddenNS+"."+kind+".cluster.local.", dns.TypeA); m.Rcode != dns.RcodeSuccess {
			t.Errorf("the owner asks %s.%s: %s, want NOERROR (no data)", hiddenNS, kind, dns.RcodeToString[m.Rcode])
		}
	}

	for i, qt := range []uint16{dns.TypeA, dns.TypeSRV, dns.TypeTXT} {
		svc := fmt.Sprintf("web%d", i)
		prefix := ""
		if qt == dns.TypeSRV {
			prefix = "_http._tcp."
		}
		hiddenName := prefix + svc + "." + hiddenNS + ".svc.cluster.local."
		missingName := prefix + svc + "." + missingNS + ".svc.cluster.local."
		for attempt := 0; ; attempt++ {
			_, a, err1 := probe.Ask(w.client["dns-soft"], w.enforcing, hiddenName, qt)
			_, b, err2 := probe.Ask(w.client["dns-soft"], w.enforcing, missingName, qt)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			a[0], a[1], b[0], b[1] = 0, 0, 0, 0
			b = bytes.Replace(b, []byte(missingNS), []byte(hiddenNS), 1)
			if bytes.Equal(a, b) {
				break
			}
			// A serial that moved between the two (an object changed) or a
			// second that ticked is timing, not a leak; anything else is.
			ma, mb := new(dns.Msg), new(dns.Msg)
			_ = ma.Unpack(a)
			_ = mb.Unpack(b)
			if textOf(ma) != textOf(mb) || attempt == 5 {
				t.Fatalf("%s: a hidden name and a missing one differ:\nhidden  %x\nmissing %x\n%s\n%s", dns.TypeToString[qt], a, b, ma, mb)
			}
			svc += "x"
			hiddenName = prefix + svc + "." + hiddenNS + ".svc.cluster.local."
			missingName = prefix + svc + "." + missingNS + ".svc.cluster.local."
		}
	}
}

// testDNSAnswersFiltered: what an answer leads to is filtered too. An
// ExternalName of dns-soft pointing into dns-hard answers dns-soft as one
// pointing at a name that does not exist; an address two tenants' endpoints
// share answers each tenant's PTR with its own name only.
func testDNSAnswersFiltered(t *testing.T, w *dnsWorld) {
	ctx := context.Background()
	soft := nsOf("dns-soft")
	for name, target := range map[string]string{
		"ext-hard":    "web." + nsOf("dns-hard") + ".svc.cluster.local",
		"ext-missing": "web.dns-none-a.svc.cluster.local",
		"ext-own":     "web." + soft + ".svc.cluster.local",
	} {
		svc := testutil.Service(soft, name, func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.Selector, s.Spec.Ports = corev1.ServiceTypeExternalName, target, nil, nil
		})
		if err := env.As("dns-soft-dev").Create(ctx, svc); err != nil {
			t.Fatalf("creating ExternalName %s: %v", name, err)
		}
	}
	// The same address as dns-hard's endpoint, in a slice of dns-soft's.
	env.Ensure(t, testutil.Service(soft, "db2", func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.Selector = corev1.ClusterIPNone, nil
	}))
	shared := w.endpoint["dns-hard"].String()
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: soft, Name: "db2-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db2"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{shared}, Hostname: ptr.To("twin"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("x"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](1)}},
	}
	if err := env.Client.Create(ctx, slice); err != nil {
		t.Fatal(err)
	}
	softIP, hardIP, guestIP := w.client["dns-soft"], w.client["dns-hard"], w.client["dns-guest"]
	testenv.Eventually(t, "ext-own resolves through to its target", func() error {
		m := mustAsk(t, softIP, w.enforcing, "ext-own."+soft+".svc.cluster.local", dns.TypeA)
		if len(m.Answer) != 2 {
			return fmt.Errorf("answer %v", m.Answer)
		}
		return nil
	})
	testenv.Eventually(t, "the baseline follows ext-hard into dns-hard", func() error {
		m := mustAsk(t, softIP, w.baseline, "ext-hard."+soft+".svc.cluster.local", dns.TypeA)
		if !strings.Contains(textOf(m), nsOf("dns-hard")) || len(m.Answer) == 0 {
			return fmt.Errorf("baseline %s", textOf(m))
		}
		return nil
	})
	for _, who := range []netip.Addr{softIP, guestIP} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeCNAME, dns.TypeANY} {
			got := mustAsk(t, who, w.enforcing, "ext-hard."+soft+".svc.cluster.local", qt)
			want := mustAsk(t, who, w.enforcing, "ext-missing."+soft+".svc.cluster.local", qt)
			want.Question[0].Name = got.Question[0].Name
			if strings.Contains(textOf(got), nsOf("dns-hard")) {
				t.Errorf("%s asks %s ext-hard: the answer names dns-hard: %s", who, dns.TypeToString[qt], textOf(got))
			}
			if qt == dns.TypeA {
				sameAnswer(t, "ExternalName into a hidden namespace vs. to a missing one", got, want)
			}
		}
	}
	if m := mustAsk(t, hardIP, w.enforcing, "ext-hard."+soft+".svc.cluster.local", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("dns-hard asks for dns-soft's ExternalName: %s, want NXDOMAIN", textOf(m))
	}

	rev := reverseOf(w.endpoint["dns-hard"])
	testenv.Eventually(t, "the baseline answers the shared address with both names", func() error {
		m := mustAsk(t, softIP, w.baseline, rev, dns.TypePTR)
		if len(m.Answer) != 2 {
			return fmt.Errorf("answer %v", m.Answer)
		}
		return nil
	})
	for tenant, from := range map[string]netip.Addr{"dns-soft": softIP, "dns-hard": hardIP} {
		m := mustAsk(t, from, w.enforcing, rev, dns.TypePTR)
		if len(m.Answer) != 1 || !strings.Contains(m.Answer[0].String(), "."+nsOf(tenant)+".svc.") {
			t.Errorf("%s asks PTR of the shared address: %s, want its own name only", tenant, textOf(m))
		}
	}
}

// testDNSCacheOrder: the cache sits below tenant, so an answer it holds for
// one tenant is cut to the view of the next one to ask, both ways.
func testDNSCacheOrder(t *testing.T, w *dnsWorld) {
	hard, soft := w.client["dns-hard"], w.client["dns-soft"]
	for _, q := range []struct {
		name string
		qt   uint16
	}{
		{"web." + nsOf("dns-hard") + ".svc.cluster.local.", dns.TypeA},
		{"_sql._tcp.db." + nsOf("dns-hard") + ".svc.cluster.local.", dns.TypeSRV},
		{reverseOf(w.service["dns-hard"]), dns.TypePTR},
	} {
		label := dns.TypeToString[q.qt] + " " + q.name
		for round := range 3 {
			if m := mustAsk(t, hard, w.enforcing, q.name, q.qt); m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
				t.Errorf("round %d: the owner asks %s: %s", round, label, textOf(m))
			}
			if m := mustAsk(t, soft, w.enforcing, q.name, q.qt); m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 {
				t.Errorf("round %d: another tenant asks %s right after the owner: %s", round, label, textOf(m))
			}
		}
	}
}

// testDNSLiveChanges: a namespace moved to another tenant, and a pod IP
// taken by another tenant's pod, take effect as fast as a watch brings
// them, with no reload.
func testDNSLiveChanges(t *testing.T, w *dnsWorld) {
	ctx := context.Background()
	const moving = "dns-moving"
	// A namespace of no tenant (which everyone sees) given to dns-hard,
	// then moved to dns-soft, as an admin relabels it.
	nsObj := testutil.Namespace(moving).Obj()
	if err := env.Client.Create(ctx, nsObj); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, testutil.Service(moving, "web", func(s *corev1.Service) { s.Spec.Selector = nil })); err != nil {
		t.Fatal(err)
	}
	name := "web." + moving + ".svc.cluster.local."
	waitRcode(t, w, w.client["dns-soft"], name, dns.RcodeSuccess)
	var patch client.Patch
	relabel := func(tenant string) {
		t.Helper()
		patch = client.MergeFrom(nsObj.DeepCopy())
		if nsObj.Labels == nil {
			nsObj.Labels = map[string]string{}
		}
		nsObj.Labels[tenancyLabel] = tenant
		if err := env.Client.Patch(ctx, nsObj, patch); err != nil {
			t.Fatal(err)
		}
	}
	relabel("dns-hard")
	waitRcode(t, w, w.client["dns-hard"], name, dns.RcodeSuccess)
	waitRcode(t, w, w.client["dns-soft"], name, dns.RcodeNameError)
	t0 := time.Now()
	relabel("dns-soft")
	waitRcode(t, w, w.client["dns-soft"], name, dns.RcodeSuccess)
	waitRcode(t, w, w.client["dns-hard"], name, dns.RcodeNameError)
	t.Logf("a namespace moved between tenants: answered the new way %v after the patch was sent", time.Since(t0).Round(time.Microsecond))

	// dns-guest's client pod goes; its IP comes back as a pod of dns-hard
	// (written as a CNI would, on a node kwok leaves alone).
	ip := w.client["dns-guest"]
	guestNS, hardNS := nsOf("dns-guest"), nsOf("dns-hard")
	own := "web." + guestNS + ".svc.cluster.local."
	hardName := "web." + hardNS + ".svc.cluster.local."
	waitRcode(t, w, ip, own, dns.RcodeSuccess)
	t0 = time.Now()
	if err := env.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: guestNS, Name: "client"}}, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	waitRcode(t, w, ip, own, dns.RcodeNameError)
	t.Logf("a deleted pod's address: its tenant's names hidden from it %v after the delete was sent", time.Since(t0).Round(time.Microsecond))
	// Bulkhead refuses nodeName in tenant namespaces, so the pod is made in
	// a namespace that is then given to dns-hard, as an admin may.
	const reuseNS = "dns-reuse"
	env.Ensure(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dns-manual"}})
	env.Ensure(t, testutil.Namespace(reuseNS).Obj())
	reused := testutil.Pod(reuseNS, "reused", "registry.example.com/app:1", func(p *corev1.Pod) { p.Spec.NodeName = "dns-manual" })
	if err := env.Client.Create(ctx, reused); err != nil {
		t.Fatal(err)
	}
	reuseObj := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: reuseNS}, reuseObj); err != nil {
		t.Fatal(err)
	}
	patch = client.MergeFrom(reuseObj.DeepCopy())
	reuseObj.Labels[tenancyLabel] = "dns-hard"
	if err := env.Client.Patch(ctx, reuseObj, patch); err != nil {
		t.Fatal(err)
	}
	reused.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip.String(), PodIPs: []corev1.PodIP{{IP: ip.String()}}}
	t0 = time.Now()
	if err := env.Client.Status().Update(ctx, reused); err != nil {
		t.Fatal(err)
	}
	waitRcode(t, w, ip, hardName, dns.RcodeSuccess)
	waitRcode(t, w, ip, own, dns.RcodeNameError)
	t.Logf("a reused address: answered as its new tenant %v after the status update was sent", time.Since(t0).Round(time.Microsecond))

	// Both namespaces retained, as deletionPolicy Retain leaves them: the
	// tenant label goes, the retained label names the former tenant. The
	// deleted tenant's pod still runs but is nobody (not a platform pod
	// that sees every name), and the retained namespace's names are hidden
	// from everyone, not shared.
	retain := func(ns *corev1.Namespace, former string) {
		t.Helper()
		p := client.MergeFrom(ns.DeepCopy())
		delete(ns.Labels, tenancyLabel)
		ns.Labels[tenancyv1alpha1.RetainedLabel] = former
		if err := env.Client.Patch(ctx, ns, p); err != nil {
			t.Fatal(err)
		}
	}
	retain(reuseObj, "dns-hard")
	retain(nsObj, "dns-soft")
	waitRcode(t, w, ip, hardName, dns.RcodeNameError)
	waitRcode(t, w, ip, "kubernetes.default.svc.cluster.local.", dns.RcodeSuccess)
	for _, from := range []netip.Addr{w.client["dns-soft"], w.client["dns-hard"], nobody} {
		waitRcode(t, w, from, name, dns.RcodeNameError)
	}
}

const tenancyLabel = tenancyv1alpha1.TenantLabel

// waitRcode waits, polling every 20 ms, until name answers rcode to from.
func waitRcode(t *testing.T, w *dnsWorld, from netip.Addr, name string, rcode int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := mustAsk(t, from, w.enforcing, name, dns.TypeA)
		if m.Rcode == rcode {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s asks %s: %s after 10s, want %s", from, name, dns.RcodeToString[m.Rcode], dns.RcodeToString[rcode])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testDNSNotSynced starts a server whose tenant plugin cannot reach the API
// server: it refuses the cluster zones and is not ready; once the API
// server is reachable it syncs and answers.
func testDNSNotSynced(t *testing.T) {
	fwdPort, err := devcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	raw, err := os.ReadFile(env.Cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(env.Cluster.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte(u.Host), []byte(fmt.Sprintf("127.0.0.1:%d", fwdPort)))
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	port, err1 := devcluster.FreePort()
	readyPort, err2 := devcluster.FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	inst, err := server.Start(fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    ready 127.0.0.1:%d
    tenant cluster.local {
        kubeconfig %s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
    }
}
`, port, readyPort, kubeconfig, env.Cluster.Kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = inst.Stop() }()
	srv := fmt.Sprintf("127.0.0.1:%d", port)
	ready := func() int {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", readyPort))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before := counter(t, "bulkhead_dns_refused_total", map[string]string{"reason": "not-synced"})
	for _, name := range []string{"kubernetes.default.svc.cluster.local.", reverseOf(netip.MustParseAddr("10.96.0.1"))} {
		qt := dns.TypeA
		if strings.HasSuffix(name, ".arpa.") {
			qt = dns.TypePTR
		}
		if m := mustAsk(t, nobody, srv, name, qt); m.Rcode != dns.RcodeRefused {
			t.Errorf("before sync, %s: %s, want REFUSED", name, dns.RcodeToString[m.Rcode])
		}
	}
	if after := counter(t, "bulkhead_dns_refused_total", map[string]string{"reason": "not-synced"}); after != before+2 {
		t.Errorf("not-synced refusals counted %v, want %v", after, before+2)
	}
	if code := ready(); code != http.StatusServiceUnavailable {
		t.Errorf("before sync, /ready answers %d, want 503", code)
	}

	stop := forward(t, fwdPort, u.Host)
	defer stop()
	testenv.Eventually(t, "synced once the API server is reachable", func() error {
		if m := mustAsk(t, nobody, srv, "kubernetes.default.svc.cluster.local.", dns.TypeA); m.Rcode != dns.RcodeSuccess {
			return fmt.Errorf("rcode %s", dns.RcodeToString[m.Rcode])
		}
		if code := ready(); code != http.StatusOK {
			return fmt.Errorf("/ready answers %d", code)
		}
		return nil
	})
}

// forward relays TCP connections from 127.0.0.1:port to target.
func forward(t *testing.T, port int, target string) func() {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c) }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	return func() { _ = ln.Close() }
}

// counter sums the samples of a counter of the default registry whose
// labels include want.
func counter(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// testDNSFlood: dns-soft floods at a fixed rate, far past its bucket, while
// dns-hard asks 20 times a second; dns-hard gets its answers.
func testDNSFlood(t *testing.T, w *dnsWorld) {
	const rate, d = 20000, 30 * time.Second
	ctx := context.Background()
	refusedBefore := counter(t, "bulkhead_dns_refused_total", map[string]string{"tenant": "dns-soft", "reason": "rate"})
	quietRefusedBefore := counter(t, "bulkhead_dns_refused_total", map[string]string{"tenant": "dns-hard", "reason": "rate"})
	var flood probe.FloodResult
	var floodErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		flood, floodErr = probe.Flood(ctx, w.client["dns-soft"], w.enforcing, "web."+nsOf("dns-soft")+".svc.cluster.local", rate, d)
	}()
	rcodes, lat, err := probe.Steady(ctx, w.client["dns-hard"], w.enforcing, "web."+nsOf("dns-hard")+".svc.cluster.local", 50*time.Millisecond, d)
	<-done
	if err != nil || floodErr != nil {
		t.Fatal(err, floodErr)
	}
	ok := 0
	for _, rc := range rcodes {
		if rc == dns.RcodeSuccess {
			ok++
		}
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	t.Logf("flood (%d qps for %v): %s", rate, d, flood)
	t.Logf("quiet tenant: %d of %d NOERROR, p50 %v, p99 %v", ok, len(rcodes), sorted[len(sorted)/2], sorted[len(sorted)*99/100])
	if len(rcodes) == 0 || float64(ok) < 0.99*float64(len(rcodes)) {
		t.Errorf("the quiet tenant got %d NOERROR of %d queries while another flooded, want at least 99%%", ok, len(rcodes))
	}
	if flood.Refused == 0 {
		t.Errorf("the flooding tenant was never refused: %s", flood)
	}
	if got := counter(t, "bulkhead_dns_refused_total", map[string]string{"tenant": "dns-soft", "reason": "rate"}) - refusedBefore; got < float64(flood.Refused) {
		t.Errorf("refusals counted for dns-soft: %v, but it saw %d", got, flood.Refused)
	}
	if got := counter(t, "bulkhead_dns_refused_total", map[string]string{"tenant": "dns-hard", "reason": "rate"}) - quietRefusedBefore; got != 0 {
		t.Errorf("the quiet tenant was refused %v times", got)
	}
}
