package render

import (
	"maps"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The freeze family: a frozen tenant starts nothing new (rule state). The
// policy is bound only to frozen namespaces, so that it costs nothing in
// the others, by two bindings: one selects StateLabel, which Bulkhead
// stamps on the namespaces of a Tenant whose spec.state is Frozen, the
// other FrozenLabel, with which a cluster admin freezes namespaces
// whatever the Tenant says, Bulkhead down or not (the API server reads
// both from the namespace itself). Its parameters, TenantPolicySpec.Frozen
// and FrozenBy, say who froze the tenant.
//
// Frozen means: no new pods, workloads, Services, Ingresses, Gateways,
// routes, persistent volume claims or resource claims; no scale-up, through
// the object or its scale subresource; no change to a running pod's spec
// (a new image, an ephemeral container) and no exec or attach into it; no
// change to what a Service, Ingress, Gateway or route serves; no claim
// grown. The
// refusal applies to everyone, the control plane's controllers included,
// so that a Deployment, CronJob or HorizontalPodAutoscaler planted before
// the freeze starts nothing either: its ReplicaSet or Job reports the
// refusal. Updates that add nothing, scale-downs and deletes pass, so that
// a tenant can always shrink. Namespaces are the namespace webhook's (see
// package namespace): a frozen tenant's owners create none.

// FreezePolicy names the policy of the freeze family and its binding.
const FreezePolicy = "bulkhead-freeze"

// FreezeByLabelBinding names the binding of the freeze policy to
// namespaces an admin froze by FrozenLabel.
const FreezeByLabelBinding = FreezePolicy + "-by-label"

// FreezePolicies are the freeze policy and its two bindings.
func FreezePolicies() []client.Object {
	binding := func(name, key string, values ...string) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
		frozen := metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpExists}
		if len(values) > 0 {
			frozen = metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: values}
		}
		match := tenantNamespaces()
		match.NamespaceSelector.MatchExpressions = append(match.NamespaceSelector.MatchExpressions, frozen)
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: policyMeta(name),
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        FreezePolicy,
				ParamRef:          tenantParamRef(),
				MatchResources:    match,
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		}
	}
	return []client.Object{
		freezeValidation(),
		binding(FreezePolicy, tenancyv1alpha1.StateLabel, string(tenancyv1alpha1.TenantFrozen)),
		binding(FreezeByLabelBinding, tenancyv1alpha1.FrozenLabel),
	}
}

// FrozenByMutation names the mutating policy that records who froze a
// Tenant, and its binding.
const FrozenByMutation = "bulkhead-frozen-by"

// freezeParams flattens the tenant's state into p.
func freezeParams(p *tenancyv1alpha1.TenantPolicySpec, t *tenancyv1alpha1.Tenant, spec *tenancyv1alpha1.TenantSpec) {
	p.Frozen = spec.State == tenancyv1alpha1.TenantFrozen
	if p.Frozen {
		p.FrozenBy = t.Annotations[tenancyv1alpha1.FrozenByAnnotation]
	}
}

// FrozenKinds are the resources, by API group, that a frozen tenant may
// not create.
var FrozenKinds = map[string][]string{
	"":                          {"pods", "services", "persistentvolumeclaims", "replicationcontrollers"},
	"apps":                      {"deployments", "replicasets", "statefulsets", "daemonsets"},
	"batch":                     {"jobs", "cronjobs"},
	"networking.k8s.io":         {"ingresses"},
	"gateway.networking.k8s.io": {"gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "listenersets"},
	"resource.k8s.io":           {"resourceclaims", "resourceclaimtemplates"},
}

// frozenEdits are the resources whose spec a frozen tenant may not change:
// a pod's (a new image, an ephemeral container, a resize), and those that would
// serve something new (ports, hostnames, routes, listeners). Workloads are
// judged by replicas only: a changed template starts new pods, which are
// refused anyway, while a scale-down must pass.
var frozenEdits = []string{"pods", "services", "ingresses", "gateways", "listenersets", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes"}

// replicasCEL is the replica count of object or oldObject: a workload's
// spec.replicas, or a Scale's (which leaves 0 out).
func replicasCEL(obj string) string {
	return "(has(" + obj + ".spec.replicas) ? " + obj + ".spec.replicas : 0)"
}

// freezeValidation refuses what would start something new in a frozen
// namespace.
func freezeValidation() *admissionregistrationv1.ValidatingAdmissionPolicy {
	var match []admissionregistrationv1.NamedRuleWithOperations
	for _, group := range slices.Sorted(maps.Keys(FrozenKinds)) {
		match = append(match, rules(createOnly, group, FrozenKinds[group]...))
	}
	update := []admissionregistrationv1.OperationType{admissionregistrationv1.Update}
	connect := []admissionregistrationv1.OperationType{admissionregistrationv1.Connect}
	match = append(match,
		rules(update, "", "pods", "pods/ephemeralcontainers", "pods/resize", "services", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale"),
		rules(update, "apps", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
		rules(update, "networking.k8s.io", "ingresses"),
		rules(update, GatewayGroup, FrozenKinds[GatewayGroup]...),
		rules(connect, "", "pods/exec", "pods/attach"),
	)
	edited := "['" + strings.Join(frozenEdits, "', '") + "']"
	scaled := "['replicationcontrollers', 'deployments', 'replicasets', 'statefulsets']"
	label := tenancyv1alpha1.FrozenLabel
	return validatingPolicy(FreezePolicy, match,
		[]admissionregistrationv1.MatchCondition{{
			Name: "adds-something",
			// A pod's spec changes for a new image or an ephemeral
			// container; a claim's resources to grow it; a workload's
			// replicas are judged by their direction.
			Expression: "request.operation in ['CREATE', 'CONNECT'] || " +
				"(request.resource.resource in " + edited + " && object.spec != oldObject.spec) || " +
				"(request.resource.resource == 'persistentvolumeclaims' && has(object.spec.resources) && has(oldObject.spec.resources) && " +
				"object.spec.resources != oldObject.spec.resources) || " +
				"(request.resource.resource in " + scaled + " && " + replicasCEL("object") + " > " + replicasCEL("oldObject") + ")",
		}},
		vars(
			// The namespace's state label or its TenantPolicy, whichever
			// Bulkhead wrote first.
			"byTenant", "(has(params.spec.frozen) && params.spec.frozen) || (has(namespaceObject.metadata.labels) && "+
				"'"+tenancyv1alpha1.StateLabel+"' in namespaceObject.metadata.labels && "+
				"namespaceObject.metadata.labels['"+tenancyv1alpha1.StateLabel+"'] == 'Frozen')",
			"byLabel", "has(namespaceObject.metadata.labels) && '"+label+"' in namespaceObject.metadata.labels",
			"who", "variables.byTenant && has(params.spec.frozenBy) && params.spec.frozenBy != '' ? ' by ' + params.spec.frozenBy : "+
				"(!variables.byTenant && variables.byLabel && namespaceObject.metadata.labels['"+label+"'] != '' ? "+
				"' by ' + namespaceObject.metadata.labels['"+label+"'] : '')",
			"what", "request.operation == 'CREATE' ? 'no new ' + request.kind.kind + ' is admitted' : "+
				"(request.operation == 'CONNECT' ? 'nothing new is run in its pods (exec, attach)' : "+
				"(request.resource.resource in "+scaled+" ? 'nothing is scaled up' : 'no '+request.kind.kind+' is changed'))",
		),
		rule{
			name: "state",
			expr: "!variables.byTenant && !variables.byLabel",
			problem: "(variables.byTenant ? 'the tenant is frozen' : 'namespace ' + request.namespace + ' is frozen (label " + label + ")') + " +
				"variables.who + ': ' + variables.what",
			fix: "What runs keeps running, and deletes and scale-downs still work. A cluster admin unfreezes: sets the Tenant's spec.state to Active, " +
				"and removes the namespace label " + label + " where it was set",
		},
	)
}

// frozenByMutation records on a Tenant who froze it, from the request that
// set spec.state to Frozen, for the Tenant's Frozen condition and the
// denials to name. Only cluster admins write Tenants, and the annotation is
// in Bulkhead's domain: it is informative, not a permission.
func frozenByMutation() (*admissionregistrationv1.MutatingAdmissionPolicy, *admissionregistrationv1.MutatingAdmissionPolicyBinding) {
	p := &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: policyMeta(FrozenByMutation),
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Ignore),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{
				rules(createUpdate, tenancyv1alpha1.GroupVersion.Group, "tenants"),
			}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name: "becomes-frozen",
				Expression: "has(object.spec.state) && object.spec.state == 'Frozen' && (oldObject == null || " +
					"!has(oldObject.spec.state) || oldObject.spec.state != 'Frozen')",
			}},
			Mutations: []admissionregistrationv1.Mutation{apply("Object{metadata: Object.metadata{annotations: {'" +
				tenancyv1alpha1.FrozenByAnnotation + "': request.userInfo.username}}}")},
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
		},
	}
	b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(FrozenByMutation),
		Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
			PolicyName:     FrozenByMutation,
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{}},
		},
	}
	return p, b
}
