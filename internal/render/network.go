package render

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// NetworkPolicy names in each tenant namespace.
const (
	IngressPolicy = "bulkhead-ingress"
	EgressPolicy  = "bulkhead-egress"
	// LegacyIngressPolicy is the ingress NetworkPolicy's name at render
	// version 1.
	LegacyIngressPolicy = "bulkhead-isolation"
)

// ingressPolicyName is the ingress NetworkPolicy's name at the settings'
// render version.
func ingressPolicyName(s Settings) string {
	if s.Version() == RenderVersion1 {
		return LegacyIngressPolicy
	}
	return IngressPolicy
}

// NetworkPolicyNames lists the names the NetworkPolicy rendered as name
// has at any render version, name first. While an upgrade or a rollback
// renames one, either copy isolates the namespace.
func NetworkPolicyNames(name string) []string {
	switch name {
	case IngressPolicy:
		return []string{IngressPolicy, LegacyIngressPolicy}
	case LegacyIngressPolicy:
		return []string{LegacyIngressPolicy, IngressPolicy}
	}
	return []string{name}
}

// OtherNames are the names obj, as rendered, has at the other render
// versions: the names an upgrade or a rollback replaces it under. Only
// NetworkPolicies have been renamed so far.
func OtherNames(obj client.Object) []string {
	if _, ok := obj.(*networkingv1.NetworkPolicy); !ok {
		return nil
	}
	return NetworkPolicyNames(obj.GetName())[1:]
}

// Network renders the NetworkPolicies of every namespace of t.
//
// Ingress: with isolation Tenant, pods of the tenant's namespaces may connect;
// with Namespace, only pods of the same namespace; plus network.allowFrom.
// Peers are chosen by the tenant label, which only admins and Bulkhead can
// set, so a tenant cannot forge membership of another.
//
// Egress is rendered wherever isolation is on, and where it is Off but
// egress is restricted. Port 53 goes only to the cluster DNS (the tenant DNS
// server, bulkhead-dns, where it is installed), so that no other resolver in
// the cluster, one that would answer every tenant's names, can be asked.
// Beside that: the pods isolation lets this tenant reach, on every port (a
// resolver there is the tenant's own, and its queries are the tenant's);
// then, on every port but 53, the namespaces of tenants listed in allowedBy
// (the tenants whose allowFrom names t, so that their ingress exception is
// not undone by t's own egress policy), the whole cluster where egress is
// unrestricted or isolation Off, and the allowed CIDRs or the internet.
func Network(sc *Scope, allowedBy []string) []client.Object {
	t, s, net := sc.Tenant, sc.Settings, sc.Spec.Network
	var out []client.Object
	for _, ns := range sortedCopy(sc.Namespaces) {
		if net.Isolation != tenancyv1alpha1.NetworkOff {
			out = append(out, ingressPolicy(t, ns, net, ingressPolicyName(s)))
		}
		if net.Isolation != tenancyv1alpha1.NetworkOff || egressRestricted(net.Egress) {
			out = append(out, egressPolicy(t, ns, net, allowedBy, s))
		}
	}
	return out
}

func egressRestricted(e *tenancyv1alpha1.EgressSpec) bool {
	return e != nil && (e.AllowInternet == nil || !*e.AllowInternet || len(e.DenyCIDRs) > 0)
}

// scopePeer is who isolation lets talk to whom: the tenant's namespaces, or
// the namespace itself; nil for isolation Off.
func scopePeer(tenant string, iso tenancyv1alpha1.NetworkIsolation) *networkingv1.NetworkPolicyPeer {
	switch iso {
	case tenancyv1alpha1.NetworkTenant:
		return &networkingv1.NetworkPolicyPeer{NamespaceSelector: tenantSelector(tenant)}
	case tenancyv1alpha1.NetworkNamespace:
		return &networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}
	default:
		return nil
	}
}

// outsideTenants is an admin's selector for non-tenant namespaces (an
// ingress controller, monitoring), narrowed to namespaces without the tenant
// label. Tenants can put labels of their choice on their namespaces; only
// Bulkhead and admins set the tenant label, so no tenant namespace can ever
// match, whatever it forges.
func outsideTenants(sel *metav1.LabelSelector) *metav1.LabelSelector {
	out := sel.DeepCopy()
	out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{
		Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpDoesNotExist,
	})
	return out
}

func tenantSelector(names ...string) *metav1.LabelSelector {
	if len(names) == 1 {
		return &metav1.LabelSelector{MatchLabels: map[string]string{tenancyv1alpha1.TenantLabel: names[0]}}
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: tenancyv1alpha1.TenantLabel, Operator: metav1.LabelSelectorOpIn, Values: names,
	}}}
}

func ingressPolicy(t *tenancyv1alpha1.Tenant, ns string, net tenancyv1alpha1.NetworkSpec, name string) *networkingv1.NetworkPolicy {
	var peers []networkingv1.NetworkPolicyPeer
	if p := scopePeer(t.Name, net.Isolation); p != nil {
		peers = append(peers, *p)
	}
	var fromTenants []string
	for _, a := range net.AllowFrom {
		switch {
		case a.Tenant != "":
			fromTenants = append(fromTenants, a.Tenant)
		case a.NamespaceSelector != nil:
			peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: outsideTenants(a.NamespaceSelector)})
		}
	}
	if len(fromTenants) > 0 {
		sort.Strings(fromTenants)
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: tenantSelector(fromTenants...)})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, ConcernNetwork, ns, name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
		},
	}
}

func egressPolicy(t *tenancyv1alpha1.Tenant, ns string, net tenancyv1alpha1.NetworkSpec, allowedBy []string, s Settings) *networkingv1.NetworkPolicy {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	rules := []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: s.DNSNamespace}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: s.DNSPodLabels},
		}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
	}}
	if p := scopePeer(t.Name, net.Isolation); p != nil {
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{*p}})
	}

	var peers []networkingv1.NetworkPolicyPeer
	if others := withoutName(sortedCopy(allowedBy), t.Name); len(others) > 0 {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: tenantSelector(others...)})
	}
	if net.Isolation == tenancyv1alpha1.NetworkOff || !egressRestricted(net.Egress) {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})
	}
	for _, b := range IPBlocks(net.Egress) {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: b})
	}
	if len(peers) > 0 {
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: AllPortsBut53()})
	}

	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(t, ConcernNetwork, ns, EgressPolicy),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      rules,
		},
	}
}

// AllPortsBut53 is every TCP and UDP port except DNS's, and all of SCTP, as
// NetworkPolicy port ranges. Other protocols (ICMP) are not allowed by
// such a rule, as NetworkPolicy has no way to name them.
func AllPortsBut53() []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
		for _, r := range [][2]int32{{1, 52}, {54, 65535}} {
			out = append(out, networkingv1.NetworkPolicyPort{
				Protocol: ptr.To(proto), Port: ptr.To(intstr.FromInt32(r[0])), EndPort: ptr.To(r[1]),
			})
		}
	}
	return append(out, networkingv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolSCTP)})
}

// IPBlocks turns egress settings into ipBlock peers: the internet (IPv4 and
// IPv6) when allowed, else each allowed CIDR; every deny that falls inside a
// block becomes one of its exceptions, and a block wholly denied is dropped.
// Invalid CIDRs were refused by the CRD and are skipped here.
func IPBlocks(e *tenancyv1alpha1.EgressSpec) []*networkingv1.IPBlock {
	if e == nil {
		return nil
	}
	var allows []netip.Prefix
	if e.AllowInternet != nil && *e.AllowInternet {
		allows = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	} else {
		allows = parsePrefixes(e.AllowCIDRs)
	}
	denies := parsePrefixes(e.DenyCIDRs)
	var out []*networkingv1.IPBlock
	for _, a := range allows {
		block := &networkingv1.IPBlock{CIDR: a.String()}
		covered := false
		for _, d := range denies {
			switch {
			case d.Addr().Is4() != a.Addr().Is4():
			case d.Bits() <= a.Bits() && d.Contains(a.Addr()):
				covered = true
			case a.Contains(d.Addr()):
				block.Except = append(block.Except, d.String())
			}
		}
		if !covered {
			out = append(out, block)
		}
	}
	return out
}

func parsePrefixes(in []string) []netip.Prefix {
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func withoutName(list []string, name string) []string {
	var out []string
	for _, s := range list {
		if s != name {
			out = append(out, s)
		}
	}
	return out
}
