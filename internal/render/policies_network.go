package render

import (
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The network family: a tenant's own NetworkPolicies stay inside what the
// Tenant allows (rules network.ingress and network.egress). Its parameters
// are TenantPolicySpec.Network, but for the Service and Ingress fields (see
// policies_services.go and policies_ingress.go). The NetworkPolicies
// Bulkhead itself writes are rendered in network.go.

// NetworkPoliciesPolicy names the policy of the network family and its
// binding.
const NetworkPoliciesPolicy = "bulkhead-networkpolicies"

// networkParams flattens the tenant's effective network isolation,
// allowFrom and egress into net.
func networkParams(net *tenancyv1alpha1.NetworkRules, spec *tenancyv1alpha1.TenantSpec) {
	egress := spec.Network.Egress
	net.Isolation = spec.Network.Isolation
	net.AllowFromTenants = []string{}
	net.EgressRestricted = egressRestricted(egress)
	net.AllowInternet = egress.AllowInternet != nil && *egress.AllowInternet
	net.AllowCIDRs = nonNil(egress.AllowCIDRs)
	net.DenyCIDRs = nonNil(egress.DenyCIDRs)
	for _, a := range spec.Network.AllowFrom {
		if a.Tenant != "" && !contains(net.AllowFromTenants, a.Tenant) {
			net.AllowFromTenants = append(net.AllowFromTenants, a.Tenant)
		}
	}
	sort.Strings(net.AllowFromTenants)
}

// networkPoliciesValidation keeps a tenant's own NetworkPolicies inside
// what the Tenant allows. NetworkPolicies only ever add to what is allowed,
// so one rule of the tenant's could otherwise undo Bulkhead's: admit another
// tenant's namespaces, reach the metadata address or a denied CIDR, or reach
// the internet when the Tenant allows only some CIDRs.
//
// Ingress (unless network.isolation is Off): every rule names its sources,
// and a namespaceSelector either pins the tenant label to this tenant or one
// its allowFrom names, or requires the label to be absent (the platform's
// namespaces, not another tenant's).
//
// Egress (when Bulkhead restricts it): every rule names its destinations; a
// namespaceSelector pins the tenant label to this tenant (unless isolation is
// Off, when Bulkhead's own egress reaches every namespace); an ipBlock
// overlaps no denied CIDR (unless its except covers it) and, without
// internet, lies inside an allowed CIDR. Two CIDRs overlap exactly when one
// contains the other.
func networkPoliciesValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(NetworkPoliciesPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{rules(createUpdate, "networking.k8s.io", "networkpolicies")},
		[]admissionregistrationv1.MatchCondition{specChanged, {
			Name:       "not-bulkhead-or-admin",
			Expression: notBulkheadOrAdmin(s),
		}},
		vars(
			"ingressOpen", "params.spec.network.isolation != 'Off' && has(object.spec.ingress) && "+
				"object.spec.ingress.exists(r, !has(r.from) || size(r.from) == 0)",
			"sources", "params.spec.network.isolation == 'Off' || !has(object.spec.ingress) ? [] : "+
				"object.spec.ingress.filter(r, has(r.from)).map(r, r.from).flatten()",
			"badSources", "variables.sources.filter(p, has(p.namespaceSelector) && "+
				"!("+pinnedToCEL("p.namespaceSelector", "([params.spec.tenant] + params.spec.network.allowFromTenants)")+" || "+
				outsideTenantsCEL("p.namespaceSelector")+"))",
			// An ipBlock source must leave out the cluster's own ranges: many
			// network plugins match pod addresses against ipBlocks.
			"badSourceBlocks", "variables.sources.filter(p, has(p.ipBlock) && "+clusterOverlapCEL(s.ClusterCIDRs)+").map(p, p.ipBlock.cidr)",
			"egressOpen", "params.spec.network.egressRestricted && has(object.spec.egress) && "+
				"object.spec.egress.exists(r, !has(r.to) || size(r.to) == 0)",
			"destinations", "!params.spec.network.egressRestricted || !has(object.spec.egress) ? [] : "+
				"object.spec.egress.filter(r, has(r.to)).map(r, r.to).flatten()",
			"badNamespaces", "params.spec.network.isolation == 'Off' ? [] : variables.destinations.filter(p, "+
				"has(p.namespaceSelector) && !"+pinnedToCEL("p.namespaceSelector", "[params.spec.tenant]")+")",
			"badBlocks", "variables.destinations.filter(p, has(p.ipBlock) && ("+
				"params.spec.network.denyCIDRs.exists(d, cidr(d).containsCIDR(p.ipBlock.cidr) || "+
				"(cidr(p.ipBlock.cidr).containsCIDR(d) && !(has(p.ipBlock.except) && p.ipBlock.except.exists(e, cidr(e).containsCIDR(d))))) || "+
				"(!params.spec.network.allowInternet && !params.spec.network.allowCIDRs.exists(a, cidr(a).containsCIDR(p.ipBlock.cidr)))"+
				")).map(p, p.ipBlock.cidr)",
			// Egress rules that may reach port 53 of a pod outside the
			// tenant and other than the cluster DNS: wherever Bulkhead
			// renders an egress policy, which is wherever isolation is on.
			"dnsLeaks", "!has(object.spec.egress) || (params.spec.network.isolation == 'Off' && !params.spec.network.egressRestricted) ? [] : "+
				"object.spec.egress.filter(r, "+
				"(!has(r.to) || size(r.to) == 0 || r.to.exists(p, !("+ownPeerCEL("p")+" || "+dnsPeerCEL("p", s)+"))) && "+
				"(!has(r.ports) || size(r.ports) == 0 || r.ports.exists(q, "+reaches53CEL("q")+")))",
		),
		rule{
			name: "network.ingress",
			expr: "!variables.ingressOpen && size(variables.badSources) == 0 && size(variables.badSourceBlocks) == 0",
			problem: "(variables.ingressOpen ? 'an ingress rule without from admits every source' : " +
				"size(variables.badSourceBlocks) > 0 ? 'ipBlock ' + variables.badSourceBlocks[0] + ' may match the pods of other tenants (" + clusterCIDRsText(s.ClusterCIDRs) + ")' : " +
				"'an ingress rule admits namespaces of tenants that network.allowFrom does not name')",
			fix: "Name sources with a podSelector (this namespace), a namespaceSelector with matchLabels " + tenancyv1alpha1.TenantLabel +
				": <this tenant or one in its allowFrom>, or one requiring " + tenancyv1alpha1.TenantLabel + " DoesNotExist (platform namespaces); an ipBlock source must leave out the cluster's pod and Service ranges (the manager's --cluster-cidrs); ask a cluster admin to add a tenant to spec.network.allowFrom",
		},
		rule{
			name: "network.egress",
			expr: "!variables.egressOpen && size(variables.badNamespaces) == 0 && size(variables.badBlocks) == 0",
			problem: "(variables.egressOpen ? 'an egress rule without to reaches every destination' : " +
				"size(variables.badBlocks) > 0 ? 'ipBlock ' + variables.badBlocks[0] + ' reaches ' + " +
				"(params.spec.network.denyCIDRs.exists(d, cidr(d).containsCIDR(variables.badBlocks[0]) || cidr(variables.badBlocks[0]).containsCIDR(d)) ? " +
				"'addresses the Tenant denies (denied: ' + params.spec.network.denyCIDRs.join(', ') + '; an except must cover them)' : " +
				"'outside the Tenant\\'s allowCIDRs (' + (size(params.spec.network.allowCIDRs) == 0 ? 'none' : params.spec.network.allowCIDRs.join(', ')) + ')') : " +
				"'an egress rule reaches namespaces outside the tenant')",
			fix: "Keep egress inside what the Tenant's spec.network.egress allows (denied CIDRs, the metadata address included, are never reachable); " +
				"ask a cluster admin to add destinations to its allowCIDRs",
		},
		rule{
			name: "network.dns",
			expr: "size(variables.dnsLeaks) == 0",
			problem: "'an egress rule lets pods reach port 53 beyond the tenant\\'s own pods and the cluster DNS (" +
				s.DNSNamespace + " pods labelled " + labels.Set(s.DNSPodLabels).String() + "): another resolver would answer other tenants\\' names'",
			fix: "Give the rule ports that leave out 53 (numbers or ranges, not names), or send it only to the tenant's own pods, " +
				"or to the cluster DNS: namespaceSelector matchLabels kubernetes.io/metadata.name: " + s.DNSNamespace + " and podSelector matchLabels " + labels.Set(s.DNSPodLabels).String(),
		},
	)
}

// ownPeerCEL: peer p is the tenant's own pods (this namespace, or
// namespaces pinned to this tenant), where a resolver is the tenant's own.
func ownPeerCEL(p string) string {
	return "((has(" + p + ".podSelector) && !has(" + p + ".namespaceSelector) && !has(" + p + ".ipBlock)) || " +
		"(has(" + p + ".namespaceSelector) && " + pinnedToCEL(p+".namespaceSelector", "[params.spec.tenant]") + "))"
}

// dnsPeerCEL: peer p selects only cluster DNS pods: the DNS namespace by
// name, and pods bearing every label of the DNS pods (more labels, or
// expressions, only narrow it).
func dnsPeerCEL(p string, s Settings) string {
	out := "(has(" + p + ".namespaceSelector) && has(" + p + ".namespaceSelector.matchLabels) && " +
		p + ".namespaceSelector.matchLabels[?'" + corev1.LabelMetadataName + "'] == optional.of('" + s.DNSNamespace + "') && " +
		"has(" + p + ".podSelector) && has(" + p + ".podSelector.matchLabels)"
	keys := make([]string, 0, len(s.DNSPodLabels))
	for k := range s.DNSPodLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out += " && " + p + ".podSelector.matchLabels[?'" + k + "'] == optional.of('" + s.DNSPodLabels[k] + "')"
	}
	return out + ")"
}

// reaches53CEL: NetworkPolicy port q may be DNS's: TCP or UDP (the default
// protocol is TCP), and any port, a named one (it may name 53 on the
// destination), or a number or range covering 53.
func reaches53CEL(q string) string {
	return "((!has(" + q + ".protocol) || " + q + ".protocol != 'SCTP') && (!has(" + q + ".port) || type(" + q + ".port) == string || " +
		"(" + q + ".port <= 53 && (has(" + q + ".endPort) ? " + q + ".endPort : " + q + ".port) >= 53)))"
}

// clusterOverlapCEL is true when the ipBlock of peer p may match an
// address in the cluster's ranges: it overlaps one of them and its except
// does not cover it. With no ranges known, every ipBlock may.
func clusterOverlapCEL(clusterCIDRs []string) string {
	if len(clusterCIDRs) == 0 {
		return "true"
	}
	return celStrings(clusterCIDRs) + ".exists(c, cidr(c).containsCIDR(p.ipBlock.cidr) || " +
		"(cidr(p.ipBlock.cidr).containsCIDR(c) && !(has(p.ipBlock.except) && p.ipBlock.except.exists(e, cidr(e).containsCIDR(c)))))"
}

func clusterCIDRsText(clusterCIDRs []string) string {
	if len(clusterCIDRs) == 0 {
		return "the cluster\\'s own ranges are not configured, so no ipBlock source can be told apart from them"
	}
	return "it must leave out the cluster\\'s ranges " + strings.Join(clusterCIDRs, ", ")
}

// outsideTenantsCEL is true when the namespace selector sel requires the
// tenant label to be absent: it matches no tenant's namespace.
func outsideTenantsCEL(sel string) string {
	return "(has(" + sel + ".matchExpressions) && " + sel + ".matchExpressions.exists(e, e.key == '" +
		tenancyv1alpha1.TenantLabel + "' && e.operator == 'DoesNotExist'))"
}
