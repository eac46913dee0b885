package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/testutil"
)

// Peers as the network tests expect them, spelled out rather than built with
// the helpers of network.go.

func tenantPeer(name string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"tenancy.bulkhead.dev/tenant": name},
	}}
}

func tenantsPeer(names ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "tenancy.bulkhead.dev/tenant", Operator: metav1.LabelSelectorOpIn, Values: names,
		}},
	}}
}

func sameNamespacePeer() networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}
}

func anyNamespacePeer() networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}}
}

func ipPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func wantIngress(namespace string, peers ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: wantMeta("network", namespace, "bulkhead-ingress"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
		},
	}
}

// wantEgress is the egress policy: cluster DNS on 53 always, then the
// scope isolation gives on every port (nil for none), then the others on
// every port but 53.
func wantEgress(namespace string, scope *networkingv1.NetworkPolicyPeer, others ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	rules := []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
	}}
	if scope != nil {
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{*scope}})
	}
	if len(others) > 0 {
		port := func(p corev1.Protocol, from, to int32) networkingv1.NetworkPolicyPort {
			return networkingv1.NetworkPolicyPort{Protocol: ptr.To(p), Port: ptr.To(intstr.FromInt32(from)), EndPort: ptr.To(to)}
		}
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: others, Ports: []networkingv1.NetworkPolicyPort{
			port(tcp, 1, 52), port(tcp, 54, 65535), port(udp, 1, 52), port(udp, 54, 65535), {Protocol: ptr.To(corev1.ProtocolSCTP)},
		}})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: wantMeta("network", namespace, "bulkhead-egress"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      rules,
		},
	}
}

// softEgress is a Soft tenant's egress: anywhere, 53 to cluster DNS only.
func softEgress(namespace string) *networkingv1.NetworkPolicy {
	return wantEgress(namespace, ref(tenantPeer("acme")), anyNamespacePeer(), ipPeer("0.0.0.0/0"), ipPeer("::/0"))
}

func ref(p networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicyPeer { return &p }

func TestNetwork(t *testing.T) {
	acme := func() *testutil.TenantWrapper { return testutil.Tenant("acme").UID("acme-uid").Owner("alice") }
	monitoring := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}

	tests := []struct {
		name       string
		tenant     *tenancyv1alpha1.Tenant
		namespaces []string
		allowedBy  []string
		want       []client.Object
	}{
		{
			name:       "Soft: tenant ingress; egress anywhere, but 53 only to cluster DNS",
			tenant:     acme().Obj(),
			namespaces: []string{"acme-b", "acme-a"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme")),
				wantEgress("acme-a", ref(tenantPeer("acme")), anyNamespacePeer(), ipPeer("0.0.0.0/0"), ipPeer("::/0")),
				wantIngress("acme-b", tenantPeer("acme")),
				wantEgress("acme-b", ref(tenantPeer("acme")), anyNamespacePeer(), ipPeer("0.0.0.0/0"), ipPeer("::/0")),
			},
		},
		{
			name:       "Hard: namespace ingress, egress to DNS and the namespace only",
			tenant:     acme().Hard().Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer()),
				wantEgress("acme-a", ref(sameNamespacePeer())),
			},
		},
		{
			name:       "Hard with internet: everything but the metadata IP",
			tenant:     acme().Hard().AllowInternet(true).Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer()),
				wantEgress("acme-a", ref(sameNamespacePeer()),
					ipPeer("0.0.0.0/0", "169.254.169.254/32"),
					ipPeer("::/0"),
				),
			},
		},
		{
			name:       "Hard: the metadata IP is cut out of an allowed CIDR, and an allow of it alone is dropped",
			tenant:     acme().Hard().AllowCIDRs("169.254.0.0/16", "169.254.169.254/32").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer()),
				wantEgress("acme-a", ref(sameNamespacePeer()), ipPeer("169.254.0.0/16", "169.254.169.254/32")),
			},
		},
		{
			name:       "Hard keeps an explicit Tenant isolation",
			tenant:     acme().Hard().NetworkIsolation(tenancyv1alpha1.NetworkTenant).Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme")),
				wantEgress("acme-a", ref(tenantPeer("acme"))),
			},
		},
		{
			name:       "Soft with a deny: egress keeps the internet minus the deny",
			tenant:     acme().DenyCIDRs("10.0.0.0/8").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme")),
				wantEgress("acme-a", ref(tenantPeer("acme")), ipPeer("0.0.0.0/0", "10.0.0.0/8"), ipPeer("::/0")),
			},
		},
		{
			name:       "Soft without internet but with allowed CIDRs",
			tenant:     acme().AllowInternet(false).AllowCIDRs("203.0.113.0/24", "2001:db8::/32").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme")),
				wantEgress("acme-a", ref(tenantPeer("acme")), ipPeer("203.0.113.0/24"), ipPeer("2001:db8::/32")),
			},
		},
		{
			name:       "isolation Off, internet: no policies at all",
			tenant:     acme().NetworkIsolation(tenancyv1alpha1.NetworkOff).Obj(),
			namespaces: []string{"acme-a"},
		},
		{
			name:       "isolation Off, Hard: no ingress, egress open inside the cluster",
			tenant:     acme().Hard().NetworkIsolation(tenancyv1alpha1.NetworkOff).Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantEgress("acme-a", nil, anyNamespacePeer()),
			},
		},
		{
			name:       "allowFrom one tenant",
			tenant:     acme().AllowFromTenant("initech").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme"), tenantPeer("initech")),
				softEgress("acme-a"),
			},
		},
		{
			name:       "allowFrom several tenants and a selector",
			tenant:     acme().AllowFromTenant("umbrella").AllowFromNamespaces(monitoring).AllowFromTenant("initech").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a",
					tenantPeer("acme"),
					// Narrowed to namespaces outside every tenant, so that no
					// tenant can match it by labelling its namespace.
					networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
						MatchLabels: monitoring.MatchLabels,
						MatchExpressions: []metav1.LabelSelectorRequirement{{
							Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpDoesNotExist,
						}},
					}},
					tenantsPeer("initech", "umbrella"),
				),
				softEgress("acme-a"),
			},
		},
		{
			name:       "Namespace isolation with allowFrom",
			tenant:     acme().NetworkIsolation(tenancyv1alpha1.NetworkNamespace).AllowFromTenant("initech").Obj(),
			namespaces: []string{"acme-a"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer(), tenantPeer("initech")),
				wantEgress("acme-a", ref(sameNamespacePeer()), anyNamespacePeer(), ipPeer("0.0.0.0/0"), ipPeer("::/0")),
			},
		},
		{
			name:       "allowedBy: egress reaches the tenants that let acme in, never itself twice",
			tenant:     acme().Hard().Obj(),
			namespaces: []string{"acme-a"},
			allowedBy:  []string{"umbrella", "acme", "initech"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer()),
				wantEgress("acme-a", ref(sameNamespacePeer()), tenantsPeer("initech", "umbrella")),
			},
		},
		{
			name:       "allowedBy naming only acme adds no peer",
			tenant:     acme().Hard().Obj(),
			namespaces: []string{"acme-a"},
			allowedBy:  []string{"acme"},
			want: []client.Object{
				wantIngress("acme-a", sameNamespacePeer()),
				wantEgress("acme-a", ref(sameNamespacePeer())),
			},
		},
		{
			name:       "allowedBy one other tenant",
			tenant:     acme().AllowInternet(false).Obj(),
			namespaces: []string{"acme-a"},
			allowedBy:  []string{"initech"},
			want: []client.Object{
				wantIngress("acme-a", tenantPeer("acme")),
				wantEgress("acme-a", ref(tenantPeer("acme")), tenantPeer("initech")),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Network(NewScope(tc.tenant, tc.namespaces, DefaultSettings()), tc.allowedBy)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Network() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIPBlocks(t *testing.T) {
	tests := []struct {
		name   string
		egress *tenancyv1alpha1.EgressSpec
		want   []*networkingv1.IPBlock
	}{
		{
			name: "no egress settings",
		},
		{
			name:   "internet, both families",
			egress: &tenancyv1alpha1.EgressSpec{AllowInternet: ptr.To(true)},
			want:   []*networkingv1.IPBlock{{CIDR: "0.0.0.0/0"}, {CIDR: "::/0"}},
		},
		{
			name:   "unset allowInternet means no internet",
			egress: &tenancyv1alpha1.EgressSpec{},
		},
		{
			name: "internet minus denies of each family",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowInternet: ptr.To(true),
				DenyCIDRs:     []string{"169.254.169.254/32", "fd00:ec2::254/128", "10.0.0.0/8"},
			},
			want: []*networkingv1.IPBlock{
				{CIDR: "0.0.0.0/0", Except: []string{"169.254.169.254/32", "10.0.0.0/8"}},
				{CIDR: "::/0", Except: []string{"fd00:ec2::254/128"}},
			},
		},
		{
			name: "allowCIDRs are ignored while the internet is allowed",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowInternet: ptr.To(true),
				AllowCIDRs:    []string{"10.0.0.0/8"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "0.0.0.0/0"}, {CIDR: "::/0"}},
		},
		{
			name: "deny inside an allow becomes an exception",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"10.0.0.0/8"},
				DenyCIDRs:  []string{"10.1.0.0/16"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}},
		},
		{
			name: "deny covering an allow drops it",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"10.1.0.0/16", "192.0.2.0/24"},
				DenyCIDRs:  []string{"10.0.0.0/8"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "192.0.2.0/24"}},
		},
		{
			name: "deny equal to an allow drops it",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"192.0.2.0/24"},
				DenyCIDRs:  []string{"192.0.2.0/24"},
			},
		},
		{
			name: "deny outside every allow is ignored",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"192.0.2.0/24"},
				DenyCIDRs:  []string{"198.51.100.0/24"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "192.0.2.0/24"}},
		},
		{
			name: "IPv6 allow with IPv6 and IPv4 denies",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"2001:db8::/32"},
				DenyCIDRs:  []string{"2001:db8:1::/48", "0.0.0.0/0"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "2001:db8::/32", Except: []string{"2001:db8:1::/48"}}},
		},
		{
			name: "denying all of IPv4 leaves IPv6 internet",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowInternet: ptr.To(true),
				DenyCIDRs:     []string{"0.0.0.0/0"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "::/0"}},
		},
		{
			name: "CIDRs with host bits are masked and duplicates merged",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"10.1.2.3/8", "10.0.0.0/8"},
				DenyCIDRs:  []string{"10.1.2.3/16", "10.1.0.0/16"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}},
		},
		{
			name: "invalid CIDRs are skipped",
			egress: &tenancyv1alpha1.EgressSpec{
				AllowCIDRs: []string{"not-a-cidr", "192.0.2.0/24"},
				DenyCIDRs:  []string{"192.0.2.1"},
			},
			want: []*networkingv1.IPBlock{{CIDR: "192.0.2.0/24"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := IPBlocks(tc.egress)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("IPBlocks() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
