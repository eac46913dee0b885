package netoracle_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/netoracle"
	"github.com/bulkhead-dev/bulkhead/internal/render"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

func parseMatrix(t *testing.T, table string) map[string]bool {
	t.Helper()
	m, err := netoracle.ParseMatrix(table)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkMatrix compares the oracle's matrix with the table and explains every
// pair that differs.
func checkMatrix(t *testing.T, policies []networkingv1.NetworkPolicy, namespaces []netoracle.Namespace, pods []netoracle.Pod, port int, proto corev1.Protocol, table string) {
	t.Helper()
	want := parseMatrix(t, table)
	got, err := netoracle.Matrix(policies, namespaces, pods, port, proto)
	if err != nil {
		t.Fatalf("Matrix() error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reachability on %d/%s mismatch (-want +got):\n%s", port, proto, diff)
		for key, w := range want {
			if got[key] == w {
				continue
			}
			from, to, _ := strings.Cut(key, "->")
			v, err := netoracle.Explain(policies, namespaces, pods, netoracle.Probe{From: from, To: to, Port: port, Protocol: proto})
			if err != nil {
				t.Fatalf("Explain(%s) error: %v", key, err)
			}
			t.Logf("%s: %s", key, v)
		}
	}
}

type probeCase struct {
	name        string
	probe       netoracle.Probe
	want        bool
	wantDecider string // a policy that selects the side that decided, "namespace/name"
}

// checkProbes checks each probe's verdict and, for denials, which policy
// denied it.
func checkProbes(t *testing.T, policies []networkingv1.NetworkPolicy, namespaces []netoracle.Namespace, pods []netoracle.Pod, probes []probeCase) {
	t.Helper()
	for _, tc := range probes {
		t.Run(tc.name, func(t *testing.T) {
			v, err := netoracle.Explain(policies, namespaces, pods, tc.probe)
			if err != nil {
				t.Fatalf("Explain() error: %v", err)
			}
			if v.Allowed != tc.want {
				t.Fatalf("allowed = %t, want %t (%s)", v.Allowed, tc.want, v)
			}
			allowed, err := netoracle.Allowed(policies, namespaces, pods, tc.probe)
			if err != nil || allowed != v.Allowed {
				t.Fatalf("Allowed() = %t, %v; Explain() said %t", allowed, err, v.Allowed)
			}
			if tc.wantDecider == "" {
				return
			}
			var deciders []string
			for _, d := range []netoracle.Direction{v.Egress, v.Ingress} {
				if d.Allowed == tc.want {
					deciders = append(deciders, d.Policies...)
				}
			}
			found := false
			for _, d := range deciders {
				found = found || d == tc.wantDecider
			}
			if !found {
				t.Errorf("decided by %v, want %s among them (%s)", deciders, tc.wantDecider, v)
			}
		})
	}
}

// Hand-written policies: proof that the oracle reads NetworkPolicies the way
// the API defines them, before it is trusted to judge render's output.

var (
	tcp  = corev1.ProtocolTCP
	udp  = corev1.ProtocolUDP
	p53  = intstr.FromInt32(53)
	p443 = intstr.FromInt32(443)
)

func smallCluster() ([]netoracle.Namespace, []netoracle.Pod) {
	namespaces := []netoracle.Namespace{
		{Name: "a"},
		{Name: "b"},
		{Name: "kube-system"},
	}
	pods := []netoracle.Pod{
		{Namespace: "a", Name: "x", Labels: map[string]string{"app": "x"}, IP: "10.0.1.1"},
		{Namespace: "a", Name: "y", Labels: map[string]string{"app": "y"}, IP: "10.0.1.2"},
		{Namespace: "b", Name: "z", Labels: map[string]string{"app": "z"}, IP: "10.0.2.1"},
		{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}, IP: "10.0.0.10"},
	}
	return namespaces, pods
}

func policy(namespace, name string, spec networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
}

var (
	denyIngress = policy("a", "default-deny", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
	})
	allowSameNamespace = policy("a", "same-namespace", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
	})
	egressDNSOnly = policy("a", "dns-only", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &p53}},
		}},
	})
	egressInternetButMetadata = policy("b", "internet", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress: []networkingv1.NetworkPolicyEgressRule{{
			To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{
				CIDR: "0.0.0.0/0", Except: []string{"169.254.169.254/32", "10.0.0.0/8"},
			}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &p443}},
		}},
	})
)

func TestMatrixHandWritten(t *testing.T) {
	namespaces, pods := smallCluster()
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		port     int
		proto    corev1.Protocol
		want     string
	}{
		{
			name:  "no policies: everything open",
			port:  80,
			proto: tcp,
			want: `
			                a/x  a/y  b/z  kube-system/dns
			a/x              Y    Y    Y    Y
			a/y              Y    Y    Y    Y
			b/z              Y    Y    Y    Y
			kube-system/dns  Y    Y    Y    Y`,
		},
		{
			name:     "default deny ingress in a",
			policies: []networkingv1.NetworkPolicy{denyIngress},
			port:     80,
			proto:    tcp,
			want: `
			                a/x  a/y  b/z  kube-system/dns
			a/x              .    .    Y    Y
			a/y              .    .    Y    Y
			b/z              .    .    Y    Y
			kube-system/dns  .    .    Y    Y`,
		},
		{
			name:     "default deny plus allow from the same namespace",
			policies: []networkingv1.NetworkPolicy{denyIngress, allowSameNamespace},
			port:     80,
			proto:    tcp,
			want: `
			                a/x  a/y  b/z  kube-system/dns
			a/x              Y    Y    Y    Y
			a/y              Y    Y    Y    Y
			b/z              .    .    Y    Y
			kube-system/dns  .    .    Y    Y`,
		},
		{
			name:     "egress from a only to DNS on 53/UDP: TCP 80 blocked",
			policies: []networkingv1.NetworkPolicy{egressDNSOnly},
			port:     80,
			proto:    tcp,
			want: `
			                a/x  a/y  b/z  kube-system/dns
			a/x              .    .    .    .
			a/y              .    .    .    .
			b/z              Y    Y    Y    Y
			kube-system/dns  Y    Y    Y    Y`,
		},
		{
			name:     "egress from a only to DNS on 53/UDP: DNS allowed",
			policies: []networkingv1.NetworkPolicy{egressDNSOnly},
			port:     53,
			proto:    udp,
			want: `
			                a/x  a/y  b/z  kube-system/dns
			a/x              .    .    .    Y
			a/y              .    .    .    Y
			b/z              Y    Y    Y    Y
			kube-system/dns  Y    Y    Y    Y`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkMatrix(t, tc.policies, namespaces, pods, tc.port, tc.proto, tc.want)
		})
	}
}

func TestProbesHandWritten(t *testing.T) {
	namespaces, pods := smallCluster()
	policies := []networkingv1.NetworkPolicy{denyIngress, egressDNSOnly, egressInternetButMetadata}
	checkProbes(t, policies, namespaces, pods, []probeCase{
		{name: "DNS over UDP", probe: netoracle.Probe{From: "a/x", To: "kube-system/dns", Port: 53, Protocol: udp}, want: true, wantDecider: "a/dns-only"},
		{name: "DNS over TCP is not in the rule", probe: netoracle.Probe{From: "a/x", To: "kube-system/dns", Port: 53, Protocol: tcp}, want: false, wantDecider: "a/dns-only"},
		{name: "protocol defaults to TCP", probe: netoracle.Probe{From: "a/x", To: "kube-system/dns", Port: 53}, want: false, wantDecider: "a/dns-only"},
		{name: "ingress into a is denied", probe: netoracle.Probe{From: "b/z", To: "a/x", Port: 80, Protocol: tcp}, want: false, wantDecider: "a/default-deny"},
		{name: "a cannot reach the internet", probe: netoracle.Probe{From: "a/x", To: netoracle.External("192.0.2.1"), Port: 443, Protocol: tcp}, want: false, wantDecider: "a/dns-only"},
		{name: "b reaches the internet on 443", probe: netoracle.Probe{From: "b/z", To: netoracle.External("192.0.2.1"), Port: 443, Protocol: tcp}, want: true, wantDecider: "b/internet"},
		{name: "b not on another port", probe: netoracle.Probe{From: "b/z", To: netoracle.External("192.0.2.1"), Port: 80, Protocol: tcp}, want: false, wantDecider: "b/internet"},
		{name: "b not to the metadata IP", probe: netoracle.Probe{From: "b/z", To: netoracle.External("169.254.169.254"), Port: 443, Protocol: tcp}, want: false, wantDecider: "b/internet"},
		{name: "b not to IPv6, which the block does not cover", probe: netoracle.Probe{From: "b/z", To: netoracle.External("2001:db8::1"), Port: 443, Protocol: tcp}, want: false, wantDecider: "b/internet"},
		{name: "ipBlock except also covers pod IPs", probe: netoracle.Probe{From: "b/z", To: "kube-system/dns", Port: 443, Protocol: tcp}, want: false, wantDecider: "b/internet"},
		{name: "an external source is judged by ingress only", probe: netoracle.Probe{From: netoracle.External("192.0.2.1"), To: "kube-system/dns", Port: 53, Protocol: udp}, want: true},
		{name: "an external source into a is denied", probe: netoracle.Probe{From: netoracle.External("192.0.2.1"), To: "a/y", Port: 80, Protocol: tcp}, want: false, wantDecider: "a/default-deny"},
	})
}

func TestPolicyTypesDefaultLikeTheAPIServer(t *testing.T) {
	namespaces, pods := smallCluster()
	// No policyTypes and no egress rules: an ingress-only default deny.
	untyped := policy("a", "untyped", networkingv1.NetworkPolicySpec{})
	checkProbes(t, []networkingv1.NetworkPolicy{untyped}, namespaces, pods, []probeCase{
		{name: "ingress denied", probe: netoracle.Probe{From: "b/z", To: "a/x", Port: 80}, want: false, wantDecider: "a/untyped"},
		{name: "egress untouched", probe: netoracle.Probe{From: "a/x", To: "b/z", Port: 80}, want: true},
	})
}

func TestOracleErrors(t *testing.T) {
	namespaces, pods := smallCluster()
	badPeer := policy("a", "bad-peer", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
			IPBlock:     &networkingv1.IPBlock{CIDR: "10.0.0.0/8"},
			PodSelector: &metav1.LabelSelector{},
		}}}},
	})
	emptyPeer := policy("a", "empty-peer", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{}}}},
	})
	badExcept := policy("b", "bad-except", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
			IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24", Except: []string{"10.0.0.0/8"}},
		}}}},
	})
	notIn := policy("a", "not-in", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"},
			}}},
		}}}},
	})
	tests := []struct {
		name       string
		policies   []networkingv1.NetworkPolicy
		namespaces []netoracle.Namespace
		pods       []netoracle.Pod
		probe      netoracle.Probe
		wantErr    string
	}{
		{
			name:    "unknown source pod",
			probe:   netoracle.Probe{From: "a/nope", To: "a/x", Port: 80},
			wantErr: `probe source: no pod "a/nope"`,
		},
		{
			name:    "bad external address",
			probe:   netoracle.Probe{From: "a/x", To: netoracle.External("metadata"), Port: 80},
			wantErr: `probe destination: external address "metadata"`,
		},
		{
			name:    "port out of range",
			probe:   netoracle.Probe{From: "a/x", To: "a/y"},
			wantErr: "probe port 0 is not in 1-65535",
		},
		{
			name:       "pod in an unlisted namespace",
			namespaces: []netoracle.Namespace{{Name: "a"}},
			pods:       []netoracle.Pod{{Namespace: "c", Name: "w", IP: "10.0.3.1"}},
			probe:      netoracle.Probe{From: "c/w", To: "c/w", Port: 80},
			wantErr:    `pod c/w: namespace "c" is not listed`,
		},
		{
			name:       "pod without an IP",
			namespaces: []netoracle.Namespace{{Name: "a"}},
			pods:       []netoracle.Pod{{Namespace: "a", Name: "w"}},
			probe:      netoracle.Probe{From: "a/w", To: "a/w", Port: 80},
			wantErr:    `pod a/w: IP ""`,
		},
		{
			name:     "policy without a namespace",
			policies: []networkingv1.NetworkPolicy{policy("", "floating", networkingv1.NetworkPolicySpec{})},
			probe:    netoracle.Probe{From: "a/x", To: "a/y", Port: 80},
			wantErr:  `NetworkPolicy "floating" has no namespace`,
		},
		{
			name:     "ipBlock with selectors, which the API server refuses",
			policies: []networkingv1.NetworkPolicy{badPeer},
			probe:    netoracle.Probe{From: "a/x", To: "a/y", Port: 80},
			wantErr:  "NetworkPolicy a/bad-peer: a peer with an ipBlock cannot also have selectors",
		},
		{
			name:     "empty peer",
			policies: []networkingv1.NetworkPolicy{emptyPeer},
			probe:    netoracle.Probe{From: "a/x", To: "a/y", Port: 80},
			wantErr:  "NetworkPolicy a/empty-peer: a peer needs an ipBlock, a podSelector or a namespaceSelector",
		},
		{
			name:     "except outside the block",
			policies: []networkingv1.NetworkPolicy{badExcept},
			probe:    netoracle.Probe{From: "a/x", To: "a/y", Port: 80},
			wantErr:  "NetworkPolicy b/bad-except: ipBlock except 10.0.0.0/8 is not strictly inside 192.0.2.0/24",
		},
		{
			// cyclonus misreads NotIn for objects without the key.
			name:     "NotIn selector",
			policies: []networkingv1.NetworkPolicy{notIn},
			probe:    netoracle.Probe{From: "a/x", To: "a/y", Port: 80},
			wantErr:  `NetworkPolicy a/not-in: selector on "env": NotIn is not supported by this oracle`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns, ps := namespaces, pods
			if tc.namespaces != nil {
				ns, ps = tc.namespaces, tc.pods
			}
			_, err := netoracle.Allowed(tc.policies, ns, ps, tc.probe)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Allowed() error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestRenderedTenants judges render.Network by its effect: three tenants
// with different isolation, and the cluster DNS they all need.
func TestRenderedTenants(t *testing.T) {
	s := render.DefaultSettings()
	tenants := []struct {
		tenant     *tenancyv1alpha1.Tenant
		namespaces []string
		// allowedBy: tenants whose allowFrom names this one, as the network
		// controller computes it.
		allowedBy []string
	}{
		{
			tenant:     testutil.Tenant("acme").Owner("alice").NetworkIsolation(tenancyv1alpha1.NetworkTenant).Obj(),
			namespaces: []string{"acme-a", "acme-b"},
			allowedBy:  []string{"initech"},
		},
		{
			tenant:     testutil.Tenant("globex").Owner("gina").Hard().Obj(),
			namespaces: []string{"globex-a", "globex-b"},
		},
		{
			tenant:     testutil.Tenant("initech").Owner("ian").NetworkIsolation(tenancyv1alpha1.NetworkTenant).AllowFromTenant("acme").Obj(),
			namespaces: []string{"initech-a", "initech-b"},
		},
	}

	var policies []networkingv1.NetworkPolicy
	namespaces := []netoracle.Namespace{{Name: "kube-system", Labels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}
	pods := []netoracle.Pod{{Namespace: "kube-system", Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}, IP: "10.244.0.10"}}
	for i, tn := range tenants {
		for _, obj := range render.Network(render.NewScope(tn.tenant, tn.namespaces, s), tn.allowedBy) {
			np, ok := obj.(*networkingv1.NetworkPolicy)
			if !ok {
				t.Fatalf("render.Network(%s) returned a %T", tn.tenant.Name, obj)
			}
			policies = append(policies, *np)
		}
		for j, ns := range tn.namespaces {
			namespaces = append(namespaces, netoracle.Namespace{Name: ns, Labels: map[string]string{
				"kubernetes.io/metadata.name": ns,
				"tenancy.bulkhead.dev/tenant": tn.tenant.Name,
			}})
			pods = append(pods, netoracle.Pod{
				Namespace: ns, Name: "web", Labels: map[string]string{"app": "web"},
				IP: fmt.Sprintf("10.244.%d.%d", i+1, j+1),
			})
		}
	}

	// Rows are sources, columns destinations. acme and initech reach their
	// own namespaces; initech lets acme in; globex pods reach only their own
	// namespace and nobody reaches them; kube-system has no policy, so every
	// pod that may send there does.
	checkMatrix(t, policies, namespaces, pods, 80, tcp, `
		                      acme-a/web acme-b/web globex-a/web globex-b/web initech-a/web initech-b/web kube-system/kube-dns
		acme-a/web                Y          Y          .            .            Y             Y                Y
		acme-b/web                Y          Y          .            .            Y             Y                Y
		globex-a/web              .          .          Y            .            .             .                .
		globex-b/web              .          .          .            Y            .             .                .
		initech-a/web             .          .          .            .            Y             Y                Y
		initech-b/web             .          .          .            .            Y             Y                Y
		kube-system/kube-dns      .          .          .            .            .             .                Y
	`)

	var probes []probeCase
	for _, p := range pods {
		if p.Namespace == "kube-system" {
			continue
		}
		probes = append(probes, probeCase{
			name:  "DNS from " + p.Key(),
			probe: netoracle.Probe{From: p.Key(), To: "kube-system/kube-dns", Port: 53, Protocol: udp},
			want:  true,
		})
	}
	probes = append(probes,
		probeCase{
			name:        "globex may not reach kube-dns on TCP 80",
			probe:       netoracle.Probe{From: "globex-a/web", To: "kube-system/kube-dns", Port: 80, Protocol: tcp},
			wantDecider: "globex-a/bulkhead-egress",
		},
		probeCase{
			name:        "globex may not reach the cloud metadata service",
			probe:       netoracle.Probe{From: "globex-b/web", To: netoracle.External("169.254.169.254"), Port: 80, Protocol: tcp},
			wantDecider: "globex-b/bulkhead-egress",
		},
		probeCase{
			name:        "globex may not reach the internet",
			probe:       netoracle.Probe{From: "globex-a/web", To: netoracle.External("192.0.2.1"), Port: 443, Protocol: tcp},
			wantDecider: "globex-a/bulkhead-egress",
		},
		probeCase{
			name:  "Soft acme reaches the internet",
			probe: netoracle.Probe{From: "acme-a/web", To: netoracle.External("192.0.2.1"), Port: 443, Protocol: tcp},
			want:  true,
		},
		probeCase{
			name:        "the internet may not reach acme",
			probe:       netoracle.Probe{From: netoracle.External("192.0.2.1"), To: "acme-a/web", Port: 80, Protocol: tcp},
			wantDecider: "acme-a/bulkhead-ingress",
		},
	)
	checkProbes(t, policies, namespaces, pods, probes)
}
