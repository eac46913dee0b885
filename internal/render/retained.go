package render

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// A retained namespace is what deletionPolicy Retain leaves of a deleted
// Tenant's namespace: kept, with its workloads and data, and locked, until a
// cluster admin adopts it into a tenant or releases it. Locked means:
//
//   - the tenant label is gone, so no tenant's policy, selector or
//     NetworkPolicy peer matches it any more, and RetainedLabel names the
//     former tenant instead;
//   - Pod Security is restricted, whatever the tenant had;
//   - RetainedNetworkPolicy denies all ingress and egress of its pods, and
//     is the only NetworkPolicy left there (any other would add to it);
//   - no RoleBinding names anyone but the platform (Identities.Foreign with
//     NoIdentities), so no former owner, member, viewer or ServiceAccount
//     token acts there;
//   - RetainedPolicy admits no new pod or ephemeral container, whoever
//     asks, and no RoleBinding, Role, NetworkPolicy or workload written by
//     anyone but a cluster admin or Bulkhead.
//
// Refusing pods for everyone, controllers included, is what keeps a
// Deployment or CronJob planted earlier from starting anything: its
// ReplicaSet or Job reports the refusal instead. Workload writes by the
// controllers in kube-system pass, so that the refusal lands on the pods,
// where `kubectl describe` shows it, rather than silently on a scale-up.

// RetainedPolicy names the admission policy and binding that lock retained
// namespaces, and the NetworkPolicy that cuts them off.
const RetainedPolicy = "bulkhead-retained"

// RetainedPolicies are the policy that locks retained namespaces and its one
// binding. Neither has parameters: the lock is the same for every namespace,
// and the former tenant's name is read from the namespace's label.
func RetainedPolicies(s Settings) []client.Object {
	exempt := notBulkheadOrAdmin(s)
	controller := controlPlaneCEL()
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(RetainedPolicy),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{
				rules(createOnly, "", "pods"),
				rules([]admissionregistrationv1.OperationType{admissionregistrationv1.Update}, "", "pods/ephemeralcontainers"),
				rules(createUpdate, "rbac.authorization.k8s.io", "rolebindings", "roles"),
				rules(createUpdate, "networking.k8s.io", "networkpolicies"),
				rules(createUpdate, "", "replicationcontrollers"),
				rules(createUpdate, "apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
				rules(createUpdate, "batch", "jobs", "cronjobs"),
			}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{
				Name: "new-pods-or-not-admin",
				Expression: "request.resource.resource == 'pods' || (" + exempt + " && " +
					"(request.resource.group in ['rbac.authorization.k8s.io', 'networking.k8s.io'] || !" + controller + "))",
			}},
			Variables: vars("former", "namespaceObject.metadata.labels['"+tenancyv1alpha1.RetainedLabel+"']"),
			Validations: []admissionregistrationv1.Validation{{
				Expression: "false",
				// The message starts with the tenant, as every denial does,
				// although the tenant is gone: it is the name people know.
				MessageExpression: "'tenant ' + variables.former + ': namespace ' + request.namespace + ' was retained from tenant ' + " +
					"variables.former + ', which was deleted, and is locked: it runs no new pods and takes no RoleBinding, Role, " +
					"NetworkPolicy or workload changes [rule namespaces.retained]. " +
					"A cluster admin adopts it into a tenant (label " + tenancyv1alpha1.TenantLabel + "=<tenant>) " +
					"or releases it (removes the label " + tenancyv1alpha1.RetainedLabel + ")'",
				Reason: ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: policyMeta(RetainedPolicy),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: RetainedPolicy,
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: tenancyv1alpha1.RetainedLabel, Operator: metav1.LabelSelectorOpExists}},
			}},
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return []client.Object{p, b}
}

// RetainedLabels are the labels of the objects Bulkhead keeps in a namespace
// retained from tenant. They carry no tenant label, so no tenant's cleanup
// or pruning ever selects them, and no owner reference: the Tenant is gone,
// and the garbage collector would take them with it.
func RetainedLabels(tenant string) map[string]string {
	return map[string]string{
		tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue,
		tenancyv1alpha1.ConcernLabel:   string(ConcernNamespaces),
		tenancyv1alpha1.RetainedLabel:  tenant,
	}
}

// RetainedNetworkPolicy denies every connection to and from the pods of a
// namespace retained from tenant.
func RetainedNetworkPolicy(namespace, tenant string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: RetainedPolicy, Namespace: namespace, Labels: RetainedLabels(tenant)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}

// RetainPatch is the JSON merge patch that turns a namespace of tenant into
// a retained one: what ReleasePatch drops (the tenant label, the tenant's
// locked labels and annotations), plus RetainedLabel and every Pod Security
// mode at restricted, pinned to the settings' version.
func RetainPatch(current map[string]string, stamped NamespaceMetadata, tenant string, s Settings) map[string]any {
	patch := ReleasePatch(current, stamped)
	labels := patch["metadata"].(map[string]any)["labels"].(map[string]any)
	for k, v := range RetainedNamespaceLabels(tenant, s) {
		labels[k] = v
	}
	return patch
}

// RetainedNamespaceLabels are the labels a namespace retained from tenant
// carries, and keeps while it is retained.
func RetainedNamespaceLabels(tenant string, s Settings) map[string]string {
	labels := map[string]string{tenancyv1alpha1.RetainedLabel: tenant}
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels[psaPrefix+mode] = string(tenancyv1alpha1.SecurityRestricted)
		labels[psaPrefix+mode+"-version"] = s.PodSecurityVersion
	}
	return labels
}

// IsRetainedObject reports whether labels mark an object Bulkhead keeps in
// a retained namespace.
func IsRetainedObject(labels map[string]string) bool {
	return labels[tenancyv1alpha1.ManagedByLabel] == tenancyv1alpha1.ManagedByValue &&
		labels[tenancyv1alpha1.RetainedLabel] != ""
}
