package render

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The services family: which Service types a tenant may create, and no
// externalIPs (rules services.*). Its parameter is
// TenantPolicySpec.Network.ServiceTypes.

// ServicesPolicy names the policy of the services family and its binding.
const ServicesPolicy = "bulkhead-services"

// servicesParams flattens the Service types the tenant may create into net.
func servicesParams(net *tenancyv1alpha1.NetworkRules, spec *tenancyv1alpha1.TenantSpec) {
	net.ServiceTypes = []string{}
	for _, typ := range spec.Services.AllowedTypes {
		net.ServiceTypes = append(net.ServiceTypes, string(typ))
	}
}

// servicesValidation judges the tenant's Services: no externalIPs, and only
// the types the Tenant allows.
func servicesValidation() *admissionregistrationv1.ValidatingAdmissionPolicy {
	return validatingPolicy(ServicesPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{rules(createUpdate, "", "services")},
		[]admissionregistrationv1.MatchCondition{specChanged},
		vars("type", "has(object.spec.type) ? object.spec.type : 'ClusterIP'"),
		rule{
			name:    "services.externalIPs",
			expr:    "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
			problem: "'spec.externalIPs are never allowed: they let a Service capture traffic meant for any address (CVE-2020-8554)'",
			fix:     "Remove spec.externalIPs; expose the Service with an allowed type or an Ingress",
		},
		rule{
			name:    "services.allowedTypes",
			expr:    "variables.type in params.spec.network.serviceTypes",
			problem: "'Service type ' + variables.type + ' is not allowed; allowed: ' + params.spec.network.serviceTypes.join(', ')",
			fix:     "Use an allowed type, or ask a cluster admin to add this one to the Tenant's spec.services.allowedTypes",
		},
	)
}
