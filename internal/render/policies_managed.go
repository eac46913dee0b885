package render

import (
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// The managed-objects family: tenants keep off the objects Bulkhead writes
// into their namespaces, and may not pass their own off as Bulkhead's (rule
// managed-objects). It has no parameters: the rule is the same for every
// tenant, and the tenant's name is read from the namespace's label.

// ManagedPolicy names the policy of the managed-objects family and its
// binding.
const ManagedPolicy = "bulkhead-managed"

// managedValidation keeps tenants off the objects Bulkhead renders into
// their namespaces: the owner role may edit RoleBindings and
// NetworkPolicies in general, but not the ones that isolate the tenant. It
// also refuses objects of any kind that a tenant creates, or labels, as
// Bulkhead's: they would be read as Bulkhead's own and keep its controllers
// busy. Outside namespaces it covers the cluster-scoped kinds Bulkhead
// keeps for tenants, the TenantQuotaLedger, the NamespaceLedger and the
// HostnameClaim: no tenant role grants them, and whoever is given them by
// mistake still may not rewrite a tenant's quota account, free its
// namespace slots or take its hostnames. The controllers, the garbage collector, the namespace controller
// and cluster admins pass.
func managedValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	exempt := []string{
		s.NotBulkheadCEL(),
		"!" + controlPlaneCEL(),
	}
	exempt = append(exempt, s.NotAdminCEL()...)
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete}
	all := rules(ops, "*", "*")
	all.Scope = ptr.To(admissionregistrationv1.NamespacedScope)
	ledgers := rules(ops, tenancyv1alpha1.GroupVersion.Group, "tenantquotaledgers", "tenantquotaledgers/status", "namespaceledgers", "hostnameclaims")
	ledgers.Scope = ptr.To(admissionregistrationv1.ClusterScope)
	// The message must not fail to evaluate (it would read "failed
	// expression"): every value is guarded, and a static message backs it.
	// A ledger is outside any namespace and named after its tenant (a
	// HostnameClaim after its hostnames).
	tenant := "(namespaceObject != null ? " + namespaceTenantCEL + " : (oldObject != null ? oldObject.metadata.name : object.metadata.name))"
	// A deletecollection's requests carry no name; the object each deletes
	// has one.
	name := "(has(request.name) && request.name != '' ? request.name : (oldObject != null ? oldObject.metadata.name : '(unnamed)'))"
	const fix = "Change the Tenant instead (a cluster admin can); Bulkhead would restore the object anyway"
	const label = tenancyv1alpha1.ManagedByLabel + "=" + tenancyv1alpha1.ManagedByValue
	oldIsManaged := "(oldObject != null && has(oldObject.metadata.labels) && '" + tenancyv1alpha1.ManagedByLabel + "' in oldObject.metadata.labels && " +
		"oldObject.metadata.labels['" + tenancyv1alpha1.ManagedByLabel + "'] == '" + tenancyv1alpha1.ManagedByValue + "')"
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(ManagedPolicy),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{tenancyv1alpha1.ManagedByLabel: tenancyv1alpha1.ManagedByValue}},
				ResourceRules:  []admissionregistrationv1.NamedRuleWithOperations{all, ledgers},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "not-a-controller-or-admin", Expression: strings.Join(exempt, " && ")}},
			Validations: []admissionregistrationv1.Validation{{
				// Creating, or labelling, an object as Bulkhead's.
				Expression: "request.operation == 'DELETE' || " + oldIsManaged,
				MessageExpression: "'tenant ' + " + tenant + " + ': ' + request.kind.kind + ' ' + " + name + " + ' carries the label " + label +
					", which only Bulkhead sets [rule managed-objects]. Remove the label'",
				Message: "an object labelled " + label + " is Bulkhead's [rule managed-objects]. Remove the label",
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}, {
				// Changing or deleting one of Bulkhead's objects.
				Expression: "request.operation == 'CREATE' || !" + oldIsManaged,
				MessageExpression: "'tenant ' + " + tenant + " + ': ' + request.kind.kind + ' ' + " + name +
					" + ' is managed by Bulkhead [rule managed-objects]. " + fix + "'",
				Message: "this object is managed by Bulkhead [rule managed-objects]. " + fix,
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
}

// CopyLabelPolicy names the policy that keeps the copy label
// (tenancy.bulkhead.dev/copy) off tenants' Secrets and ConfigMaps, and its
// binding.
const CopyLabelPolicy = "bulkhead-copy-label"

// copyLabelValidation refuses a Secret or ConfigMap in a tenant namespace
// that a tenant creates or labels with the copy label: on a source it would
// offer the tenant's data to every tenant a TenantResource naming it
// selects, and on any object it would put the object, whole, in the cache
// Bulkhead keeps of sources and copies. Bulkhead's copies carry it and are
// Bulkhead's (and kept by managed-objects); removing it is allowed. Part of
// the managed-objects rule: no tenant object may pass for Bulkhead's.
func copyLabelValidation(s Settings) *admissionregistrationv1.ValidatingAdmissionPolicy {
	exempt := []string{s.NotBulkheadCEL(), "!" + controlPlaneCEL()}
	exempt = append(exempt, s.NotAdminCEL()...)
	match := rules([]admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}, "", "secrets", "configmaps")
	match.Scope = ptr.To(admissionregistrationv1.NamespacedScope)
	const key = tenancyv1alpha1.CopyLabel
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: policyMeta(CopyLabelPolicy),
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpExists}}},
				ResourceRules:  []admissionregistrationv1.NamedRuleWithOperations{match},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "not-a-controller-or-admin", Expression: strings.Join(exempt, " && ")}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "!has(object.metadata.labels) || !('" + key + "' in object.metadata.labels)",
				MessageExpression: "'tenant ' + " + namespaceTenantCEL + " + ': ' + request.kind.kind + ' ' + object.metadata.name + ' carries the label " + key +
					", which only Bulkhead and cluster admins set: it marks what TenantResources copy into tenants [rule managed-objects]. Remove the label'",
				Message: "the label " + key + " is set only by Bulkhead and cluster admins [rule managed-objects]. Remove the label",
				Reason:  ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
}
