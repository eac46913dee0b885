package render

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The ingress family: which ingress classes and hostnames a tenant's
// Ingresses may use, and no catch-all (rules ingress.*). Its parameters are
// TenantPolicySpec.Network.IngressClasses and Hostnames.

// IngressesPolicy names the policy of the ingress family and its binding.
const IngressesPolicy = "bulkhead-ingresses"

// ingressClassAnnotation named an Ingress's class before
// spec.ingressClassName existed; controllers still honour it.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// ingressParams flattens the tenant's ingress classes and hostname patterns
// into net.
func ingressParams(net *tenancyv1alpha1.NetworkRules, spec *tenancyv1alpha1.TenantSpec) {
	net.IngressClasses = nonNil(spec.Ingress.Classes)
	net.Hostnames = nonNil(spec.Ingress.Hostnames)
}

// ingressesValidation judges the tenant's Ingresses: their class, by field
// or by annotation, their hosts, and no catch-all unless an admin writes it.
func ingressesValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(IngressesPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{rules(createUpdate, "networking.k8s.io", "ingresses")},
		// Controllers still honour the class annotation: a change of it
		// alone must be judged too.
		[]admissionregistrationv1.MatchCondition{{
			Name: "spec-or-class-changed",
			Expression: specChanged.Expression + " || " + annotationCEL("object", ingressClassAnnotation) +
				" != " + annotationCEL("oldObject", ingressClassAnnotation),
		}},
		vars(
			"classes", "(has(object.spec.ingressClassName) ? [object.spec.ingressClassName] : [])"+
				" + (has(object.metadata.annotations) && 'kubernetes.io/ingress.class' in object.metadata.annotations ? "+
				"[object.metadata.annotations['kubernetes.io/ingress.class']] : [])",
			"hosts", "(has(object.spec.rules) ? object.spec.rules.map(r, has(r.host) ? r.host : '') : [])"+
				" + (has(object.spec.tls) ? object.spec.tls.filter(t, has(t.hosts)).map(t, t.hosts).flatten() : [])"+
				" + (has(object.spec.defaultBackend) ? [''] : [])",
			"badHosts", "size(params.spec.network.hostnames) == 0 ? [] : variables.hosts.filter(h, h != '' && "+
				"!params.spec.network.hostnames.exists(p, h == p || (p.startsWith('*.') && h.endsWith(p.substring(1)))))",
			"isAdmin", s.AdminCEL(),
		),
		rule{
			name: "ingress.classes",
			expr: "size(params.spec.network.ingressClasses) == 0 || (size(variables.classes) > 0 && " +
				"variables.classes.all(c, c in params.spec.network.ingressClasses))",
			problem: "'ingress class ' + (size(variables.classes) > 0 ? variables.classes[0] : '(none)') + ' is not allowed; allowed: ' + params.spec.network.ingressClasses.join(', ')",
			fix:     "Set spec.ingressClassName to an allowed class",
		},
		rule{
			name:    "ingress.hostnames",
			expr:    "size(variables.badHosts) == 0",
			problem: "'host ' + variables.badHosts[0] + ' is not the tenant\\'s; allowed: ' + params.spec.network.hostnames.join(', ')",
			fix:     "Give every rule a host matching the tenant's hostname patterns",
		},
		rule{
			// A rule without a host, or a default backend, serves every
			// hostname nobody else claims on its class: on a shared class
			// that is the platform's decision, never a tenant's.
			name:    "ingress.defaultBackend",
			expr:    "variables.isAdmin || !variables.hosts.exists(h, h == '')",
			problem: "'a rule without a host, or a default backend, would serve every hostname nobody else claims'",
			fix:     "Give every rule a host (and drop spec.defaultBackend); a catch-all backend is set up by a cluster admin",
		},
	)
}
