package render

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The gateway family: what a tenant's Gateway API objects may attach to and
// claim (rules gateway.*). Its parameters are
// TenantPolicySpec.Network.GatewayParents, OwnGateways, GatewayClasses and Hostnames (the
// one list of hostname patterns for Ingresses and routes), and
// RBAC.Namespaces, the tenant's own namespaces.
//
// A route or ListenerSet attaches through its parentRefs: to a Gateway of
// the tenant's own namespaces, or to a shared Gateway (and listener) the
// Tenant lists. A route with no hostnames takes every hostname its
// listener serves, a shared listener's wildcard included, and a listener
// with no hostname serves every name: neither may attach to a Gateway that
// is not the tenant's; nor may a TCP or UDP listener, which takes a whole
// port of the shared address whatever hostname it names. Hostnames of routes and listeners match the
// tenant's patterns; that no hostname is served for two tenants, by an
// Ingress or a route, is the hostname webhook's (package ingress), which
// sees every tenant's objects.

// GatewayPolicy names the policy of the gateway family and its binding.
const GatewayPolicy = "bulkhead-gateway"

// GatewayGroup is the Gateway API's group.
const GatewayGroup = "gateway.networking.k8s.io"

// gatewayParams flattens the tenant's Gateway API rules into net.
func gatewayParams(net *tenancyv1alpha1.NetworkRules, spec *tenancyv1alpha1.TenantSpec) {
	net.GatewayParents = []string{}
	for _, p := range spec.Gateway.Parents {
		key := p.Namespace + "/" + p.Name + "/"
		if len(p.SectionNames) == 0 {
			net.GatewayParents = append(net.GatewayParents, key+"*")
		}
		for _, s := range p.SectionNames {
			net.GatewayParents = append(net.GatewayParents, key+s)
		}
	}
	net.OwnGateways = spec.Isolation != tenancyv1alpha1.IsolationHard && spec.Gateway.OwnGateways != tenancyv1alpha1.GatewaysForbidden
	net.GatewayClasses = append([]string{}, spec.Gateway.Classes...)
}

// gatewayValidation judges the tenant's Gateways, ListenerSets and routes
// at the Gateway API's v1 (requests at another version are converted
// first: matchPolicy Equivalent).
func gatewayValidation() *admissionregistrationv1.ValidatingAdmissionPolicy {
	match := rules(createUpdate, GatewayGroup, "gateways", "listenersets", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes")
	match.APIVersions = []string{"v1"}
	// A parentRef's namespace defaults to the object's.
	refNs := "(has(p.namespace) && p.namespace != '' ? p.namespace : request.namespace)"
	own := refNs + " in params.spec.rbac.namespaces"
	isGateway := "(!has(p.kind) || p.kind == 'Gateway') && (!has(p.group) || p.group == '" + GatewayGroup + "')"
	listed := "(" + isGateway + " && (" + refNs + " + '/' + p.name + '/*' in params.spec.network.gatewayParents || " +
		"(has(p.sectionName) && " + refNs + " + '/' + p.name + '/' + p.sectionName in params.spec.network.gatewayParents)))"
	return validatingPolicy(GatewayPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{match},
		[]admissionregistrationv1.MatchCondition{specChanged},
		vars(
			"resource", "request.resource.resource",
			"hostnamed", "variables.resource in ['httproutes', 'grpcroutes', 'tlsroutes']",
			"parentRefs", "variables.resource == 'listenersets' ? [object.spec.parentRef] : "+
				"(variables.resource != 'gateways' && has(object.spec.parentRefs) ? object.spec.parentRefs : [])",
			"shared", "variables.parentRefs.filter(p, !("+own+"))",
			"foreign", "variables.shared.filter(p, !"+listed+").map(p, "+refNs+" + '/' + p.name + (has(p.sectionName) ? ' listener ' + p.sectionName : ''))",
			"listeners", "variables.resource in ['gateways', 'listenersets'] && has(object.spec.listeners) ? object.spec.listeners : []",
			"hostnames", "(variables.hostnamed && has(object.spec.hostnames) ? object.spec.hostnames : []) + "+
				"variables.listeners.filter(l, has(l.hostname)).map(l, l.hostname)",
			"badHostnames", "size(params.spec.network.hostnames) == 0 ? [] : variables.hostnames.filter(h, "+
				"!params.spec.network.hostnames.exists(p, h == p || (p.startsWith('*.') && h.endsWith(p.substring(1)))))",
			"catchAll", "size(variables.shared) > 0 && ((variables.hostnamed && size(variables.hostnames) == 0) || "+
				"(variables.resource == 'listenersets' && variables.listeners.exists(l, !has(l.hostname) || l.hostname == '' || l.protocol in ['TCP', 'UDP'])))",
		),
		rule{
			name:    "gateway.ownGateways",
			expr:    "variables.resource != 'gateways' || params.spec.network.ownGateways",
			problem: "'the tenant may not create Gateways'",
			fix:     "Attach routes to a shared Gateway listed in the Tenant's spec.gateway.parents; a cluster admin decides who owns Gateways",
		},
		rule{
			name: "gateway.classes",
			expr: "variables.resource != 'gateways' || size(params.spec.network.gatewayClasses) == 0 || " +
				"object.spec.gatewayClassName in params.spec.network.gatewayClasses",
			problem: "'GatewayClass ' + object.spec.gatewayClassName + ' is not one the tenant\\'s Gateways may use; allowed: ' + params.spec.network.gatewayClasses.join(', ')",
			fix:     "Name one of the Tenant's spec.gateway.classes in gatewayClassName, or ask a cluster admin to list the class",
		},
		rule{
			// Static addresses would let a Gateway take an address
			// another tenant, or the platform, uses (as Service
			// externalIPs would).
			name:    "gateway.addresses",
			expr:    "variables.resource != 'gateways' || !has(object.spec.addresses) || size(object.spec.addresses) == 0",
			problem: "'spec.addresses would take addresses that may be another tenant\\'s or the platform\\'s'",
			fix:     "Remove spec.addresses and let the Gateway's class assign one",
		},
		rule{
			name: "gateway.parentRefs",
			expr: "size(variables.foreign) == 0",
			problem: "'parent ' + variables.foreign[0] + ' is neither one of the tenant\\'s Gateways nor a shared one it may attach to; allowed: ' + " +
				"(size(params.spec.network.gatewayParents) == 0 ? '(only the tenant\\'s own)' : params.spec.network.gatewayParents.join(', '))",
			fix: "Attach to a Gateway in the tenant's namespaces, or to a shared Gateway and listener the Tenant's spec.gateway.parents lists (naming the listener in sectionName when the Tenant lists listeners)",
		},
		rule{
			name:    "gateway.hostnames",
			expr:    "size(variables.badHostnames) == 0",
			problem: "'hostname ' + variables.badHostnames[0] + ' is not the tenant\\'s; allowed: ' + params.spec.network.hostnames.join(', ')",
			fix:     "Use hostnames matching the tenant's patterns (spec.ingress.hostnames, which governs Ingresses and routes alike)",
		},
		rule{
			// A route without hostnames inherits its listener's hostname or
			// wildcard, and a listener without one serves every name: on a
			// shared Gateway that would take names that are not the
			// tenant's.
			name: "gateway.noHostnames",
			expr: "!variables.catchAll",
			problem: "(variables.resource == 'listenersets' ? 'a listener without a hostname (or for TCP or UDP, which take a whole port)' : 'a route without hostnames') + ' attached to shared Gateway ' + " +
				"variables.shared.map(p, " + refNs + " + '/' + p.name)[0] + ' would serve every hostname of its listener, other tenants\\' included'",
			fix: "List the route's (or listener's) hostnames, from the tenant's own names",
		},
	)
}
