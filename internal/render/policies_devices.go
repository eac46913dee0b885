package render

import (
	"slices"
	"sort"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	resourcev1 "k8s.io/api/resource/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The devices family: which DeviceClasses a tenant may claim devices of
// through dynamic resource allocation, and no administrative access to
// devices (rules devices.*). Its parameters are TenantPolicySpec.Devices.
//
// A class is named in three places, all judged: each request of a
// ResourceClaim or of a ResourceClaimTemplate's claim (exactly, or any
// alternative of firstAvailable), and a pod's extended resources that a
// DeviceClass backs, either by its extendedResourceName or by the implicit
// name deviceclass.resource.kubernetes.io/<class>; the scheduler turns such
// a request into a claim of its own, which no tenant writes. The extended
// resource rule lives in the pods family, with the other pod rules.
//
// adminAccess on a request would show devices already in use by other
// tenants, and Kubernetes admits it only in namespaces labelled
// resource.kubernetes.io/admin-access, a label tenants cannot set (package
// reserved); devices.adminAccess refuses it in tenant namespaces anyway,
// with a reason.

// DevicesPolicy names the policy of the devices family and its binding.
const DevicesPolicy = "bulkhead-devices"

// devicesParams flattens the tenant's device classes into devices, with
// the extended resource names of the cluster's DeviceClasses it may not use
// (extended: extended resource name -> the classes declaring it).
func devicesParams(devices *tenancyv1alpha1.DeviceRules, spec *tenancyv1alpha1.TenantSpec, extended map[string][]string) {
	devices.Classes = nonNil(spec.Devices.Classes)
	devices.AnyClass = spec.Isolation != tenancyv1alpha1.IsolationHard && len(spec.Devices.Classes) == 0
	devices.DeniedExtendedResources = []string{}
	if devices.AnyClass {
		return
	}
	for name, classes := range extended {
		// A name two classes declare is the tenant's only if both are.
		if slices.ContainsFunc(classes, func(c string) bool { return !slices.Contains(devices.Classes, c) }) {
			devices.DeniedExtendedResources = append(devices.DeniedExtendedResources, name)
		}
	}
	sort.Strings(devices.DeniedExtendedResources)
}

// devicesCEL are the variables both device rules read, safe on a
// TenantPolicy written before devices existed (which then allows no class).
func devicesCEL() []string {
	return []string{
		"anyClass", "has(params.spec.devices) && params.spec.devices.anyClass",
		"allowedClasses", "has(params.spec.devices) ? params.spec.devices.classes : []",
	}
}

// devicesValidation judges the tenant's ResourceClaims and
// ResourceClaimTemplates, at resource.k8s.io/v1: a request at another
// version is converted first (matchPolicy Equivalent), so that the older
// shapes of a request cannot slip a class past the rule.
func devicesValidation() *admissionregistrationv1.ValidatingAdmissionPolicy {
	match := rules(createUpdate, resourcev1.GroupName, "resourceclaims", "resourceclaimtemplates")
	match.APIVersions = []string{resourcev1.SchemeGroupVersion.Version}
	return validatingPolicy(DevicesPolicy,
		[]admissionregistrationv1.NamedRuleWithOperations{match},
		[]admissionregistrationv1.MatchCondition{specChanged},
		vars(append(devicesCEL(),
			"devices", "request.resource.resource == 'resourceclaims' ? object.spec : object.spec.spec",
			"requests", "has(variables.devices.devices) && has(variables.devices.devices.requests) ? variables.devices.devices.requests : []",
			"classes", "variables.requests.map(r, has(r.exactly) ? [r.exactly.deviceClassName] : "+
				"(has(r.firstAvailable) ? r.firstAvailable.map(s, s.deviceClassName) : [])).flatten()",
			"badClasses", "variables.anyClass ? [] : variables.classes.filter(c, !(c in variables.allowedClasses))",
			"adminRequests", "variables.requests.filter(r, has(r.exactly) && has(r.exactly.adminAccess) && r.exactly.adminAccess)",
		)...),
		rule{
			name: "devices.classes",
			expr: "size(variables.badClasses) == 0",
			problem: "'DeviceClass ' + variables.badClasses[0] + ' is not allowed; allowed: ' + " +
				"(size(variables.allowedClasses) == 0 ? '(none)' : variables.allowedClasses.join(', '))",
			fix: "Name an allowed class in every request (firstAvailable alternatives included), or ask a cluster admin to add the class to the Tenant's spec.devices.classes",
		},
		rule{
			name:    "devices.adminAccess",
			expr:    "size(variables.adminRequests) == 0",
			problem: "'request ' + variables.adminRequests[0].name + ' asks for adminAccess, which would reach devices in use by other tenants'",
			fix:     "Remove adminAccess; administering devices is for cluster admins, from a namespace outside every tenant",
		},
	)
}

// badDeviceResourcesCEL lists the extended resources a pod's containers
// request of a DeviceClass the tenant may not use. Limits count too: the
// API server copies a limit of an extended resource into a missing request.
func badDeviceResourcesCEL() string {
	prefix := resourcev1.ResourceDeviceClassPrefix
	resources := "variables.containers.map(c, (has(c.resources) && has(c.resources.requests) ? c.resources.requests.map(k, k) : []) + " +
		"(has(c.resources) && has(c.resources.limits) ? c.resources.limits.map(k, k) : [])).flatten()"
	denied := "(has(params.spec.devices) ? params.spec.devices.deniedExtendedResources : [])"
	anyClass := "(has(params.spec.devices) && params.spec.devices.anyClass)"
	allowed := "(has(params.spec.devices) ? params.spec.devices.classes : [])"
	// A tenant that may use any class has nothing denied: no scan.
	return anyClass + " ? [] : " + resources + ".filter(r, r in " + denied + " || (r.startsWith('" + prefix + "') && " +
		"!(r.substring(" + strconv.Itoa(len(prefix)) + ") in " + allowed + ")))"
}

// podDevicesRule refuses a pod, or a workload's pod template, that requests
// the extended resource of a DeviceClass the tenant may not use.
func podDevicesRule() rule {
	allowed := "(has(params.spec.devices) ? params.spec.devices.classes : [])"
	return rule{
		name:    "devices.classes",
		expr:    "size(variables.badDeviceResources) == 0",
		problem: "'extended resource ' + variables.badDeviceResources[0] + ' is backed by a DeviceClass the tenant may not use; allowed classes: ' + (size(" + allowed + ") == 0 ? '(none)' : " + allowed + ".join(', '))",
		fix:     "Request devices of an allowed class, or ask a cluster admin to add the class to the Tenant's spec.devices.classes",
	}
}
